// Splits an iptables-save line into arguments the way iptables-restore does (xshared.c add_param_to_argv):
// blanks separate, double quotes group, and inside quotes a backslash makes the next character literal.
// Tokens live in reused parallel arrays (value, start, end) because a 100k-rule file has millions of them.

export class TokenLine {
  /** Argument values, quotes and escapes removed. */
  v: string[] = [];
  /** 0-based start and end offsets of each token (raw text = line.slice(start, end)); see startOf/endOf. */
  start: number[] = [];
  end: number[] = [];
  n = 0;
  /** 0-based offset of an unterminated quote, or -1. */
  openQuote = -1;
  line = '';
  /**
   * Set when the line was split natively on single spaces (no quotes, tabs or double blanks): offsets are
   * then the running sum of token lengths, computed only when asked (for a problem or Rule.text).
   */
  simple = false;

  startOf(i: number): number {
    if (!this.simple) return this.start[i];
    let off = 0;
    for (let k = 0; k < i; k++) off += this.v[k].length + 1;
    return off;
  }

  endOf(i: number): number {
    return this.simple ? this.startOf(i) + this.v[i].length : this.end[i];
  }

  raw(i: number): string {
    return this.simple ? this.v[i] : this.line.slice(this.start[i], this.end[i]);
  }

  /** 1-based column of token i (or of the line end when i is past the last token). */
  col(i: number): number {
    return (i < this.n ? this.startOf(i) : this.line.length) + 1;
  }
}

function push(t: TokenLine, v: string, s: number, e: number): void {
  const i = t.n++;
  t.v[i] = v;
  t.start[i] = s;
  t.end[i] = e;
}

/** Tokenizes `line` into `t` (which is reset). `singleQuotes`: also group '...' as a shell would. */
export function tokenize(line: string, t: TokenLine, singleQuotes = false): void {
  t.n = 0;
  t.openQuote = -1;
  t.line = line;
  t.simple = false;
  const len = line.length;
  // Fast path: no quotes, no tabs, single blanks between tokens (iptables-save's own output): one native
  // split, offsets computed later only if needed.
  if (line.indexOf('"') < 0 && line.indexOf('\t') < 0 && (!singleQuotes || line.indexOf("'") < 0) && line.indexOf('  ') < 0 && line.charCodeAt(0) !== 32 && line.charCodeAt(len - 1) !== 32 && len > 0) {
    t.v = line.split(' ');
    t.n = t.v.length;
    t.simple = true;
    return;
  }
  if (t.v.length > 64) t.v = [];
  let i = 0;
  while (i < len) {
    let c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    const s = i;
    // The value is built from slices of plain runs (a char-by-char string would cost millions of
    // allocations on a ruleset where every rule has a quoted comment).
    let v = '';
    let run = i;
    let quote = 0; // 34 (") or 39 (') while inside quotes
    for (; i < len; i++) {
      c = line.charCodeAt(i);
      if (quote !== 0) {
        if (quote === 34 && c === 92 && i + 1 < len) {
          v += line.slice(run, i);
          i++;
          run = i; // the escaped character starts the next run
        } else if (c === quote) {
          v += line.slice(run, i);
          run = i + 1;
          quote = 0;
        }
      } else if (c === 34 || (singleQuotes && c === 39)) {
        v += line.slice(run, i);
        run = i + 1;
        quote = c;
        t.openQuote = i;
      } else if (c === 32 || c === 9 || c === 13) {
        break;
      }
    }
    v += line.slice(run, i);
    if (quote === 0) t.openQuote = -1;
    push(t, v, s, i);
  }
}

/** The quoting iptables-save applies to free-text values (xtables_save_string). */
export function saveString(value: string): string {
  if (value.length > 0 && /^[A-Za-z0-9_-]+$/.test(value)) return value;
  return '"' + value.replace(/["\\']/g, (m) => '\\' + m) + '"';
}
