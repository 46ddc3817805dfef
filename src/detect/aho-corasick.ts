// Aho-Corasick multi-pattern automaton over bytes (Aho & Corasick 1975), built as a dense DFA: one
// Int32Array row of 256 next states per state, so scanning is one table load per input byte and
// allocates nothing. Patterns are stored case-folded (ASCII A-Z -> a-z) and the input is folded while
// scanning; a case-sensitive pattern is confirmed against its original bytes by the caller (see
// confirm()). Memory: 1 KiB per state, i.e. about 1 KiB per pattern byte in the worst case.

/** ASCII case folding table: byte -> lowercase byte. */
export const FOLD = new Uint8Array(256).map((_, i) => (i >= 0x41 && i <= 0x5a ? i + 0x20 : i));

export class AhoCorasick {
  /** next[state * 256 + byte]: the DFA's transitions. State 0 is the root. */
  readonly next: Int32Array;
  /** Pattern ids reported in state s: outIds[outStart[s] .. outStart[s + 1]). */
  readonly outStart: Int32Array;
  readonly outIds: Int32Array;
  /** Folded length of each pattern, to find where a hit starts. */
  readonly lengths: Int32Array;
  readonly states: number;

  /** Builds the automaton. Empty patterns are rejected (they would match everywhere). */
  constructor(patterns: readonly Uint8Array[]) {
    const goto: Array<Map<number, number>> = [new Map()];
    const outs: number[][] = [[]];
    this.lengths = new Int32Array(patterns.length);
    patterns.forEach((p, id) => {
      if (p.length === 0) throw new RangeError(`pattern ${id} is empty`);
      this.lengths[id] = p.length;
      let s = 0;
      for (const raw of p) {
        const c = FOLD[raw];
        let t = goto[s].get(c);
        if (t === undefined) {
          t = goto.length;
          goto.push(new Map());
          outs.push([]);
          goto[s].set(c, t);
        }
        s = t;
      }
      outs[s].push(id);
    });
    const n = goto.length;
    this.states = n;
    const next = new Int32Array(n * 256);
    const fail = new Int32Array(n);
    // Breadth-first: a state's failure target is always shallower, so its row is complete when needed.
    const queue: number[] = [];
    for (let c = 0; c < 256; c++) {
      const t = goto[0].get(c);
      if (t !== undefined) {
        next[c] = t;
        fail[t] = 0;
        queue.push(t);
      }
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi];
      // Inherit the reports of the failure state (its patterns are suffixes of ours).
      if (outs[fail[s]].length > 0) outs[s] = outs[s].concat(outs[fail[s]]);
      const row = s * 256;
      const frow = fail[s] * 256;
      for (let c = 0; c < 256; c++) {
        const t = goto[s].get(c);
        if (t === undefined) {
          next[row + c] = next[frow + c];
        } else {
          next[row + c] = t;
          fail[t] = next[frow + c];
          queue.push(t);
        }
      }
    }
    this.next = next;
    this.outStart = new Int32Array(n + 1);
    let total = 0;
    for (let s = 0; s < n; s++) {
      this.outStart[s] = total;
      total += outs[s].length;
    }
    this.outStart[n] = total;
    this.outIds = new Int32Array(total);
    for (let s = 0; s < n; s++) this.outIds.set(outs[s], this.outStart[s]);
  }

  /** Every (pattern id, start offset) hit in b[start, end), in order of end position. For tests and tools. */
  findAll(b: Uint8Array, start = 0, end = b.length): Array<[number, number]> {
    const hits: Array<[number, number]> = [];
    let s = 0;
    for (let i = start; i < end; i++) {
      s = this.next[(s << 8) | FOLD[b[i]]];
      for (let k = this.outStart[s]; k < this.outStart[s + 1]; k++) {
        const id = this.outIds[k];
        hits.push([id, i + 1 - this.lengths[id]]);
      }
    }
    return hits;
  }
}

/** Whether `pattern` occurs exactly (case-sensitive) at b[at]. */
export function confirm(b: Uint8Array, at: number, pattern: Uint8Array): boolean {
  if (at < 0 || at + pattern.length > b.length) return false;
  for (let i = 0; i < pattern.length; i++) if (b[at + i] !== pattern[i]) return false;
  return true;
}
