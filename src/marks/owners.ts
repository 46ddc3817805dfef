// Owners: catalog components found on this node (and "unattributed" chains that touch marks), with the
// bits they use (read or written by their rules) plus the ranges their catalog entry reserves.
import { ALL, bitsOf, popcount } from './bits.js';
import { UNATTRIBUTED, type Facts } from './facts.js';
import type { ComponentEntry, MarkUse, Owner, RuleRef, Space } from './types.js';

/** Evidence kept per owner in the report (the count says how many there were). */
export const EVIDENCE_LIMIT = 50;

export interface OwnerInfo extends Owner {
  entry?: ComponentEntry;
  /** Bits its rules actually read or write, per space (reserved ranges excluded). */
  used: { mark: number; ctmark: number };
}

export function spaceMask(o: Owner, space: Space): number {
  return space === 'mark' ? o.mask : o.ctmask;
}

/** Bits a reader depends on: its mask, except for whole-word comparisons, which own only their value's bits. */
export function readerBits(mask: number, value: number): number {
  return mask === ALL ? value : mask;
}

export function buildOwners(facts: Facts, catalog: readonly ComponentEntry[]): OwnerInfo[] {
  const byId = new Map<string, OwnerInfo>();
  const refs = new Map<string, Set<RuleRef>>();
  const get = (id: string): OwnerInfo => {
    let o = byId.get(id);
    if (!o) {
      const entry = catalog.find((e) => e.id === id);
      const name = entry ? entry.name : `unattributed (${id.slice(UNATTRIBUTED.length).replace('/', ' ')})`;
      o = {
        id,
        name,
        family: entry ? entry.family : id,
        mask: 0,
        ctmask: 0,
        reservedOnly: { mark: 0, ctmask: 0 },
        evidence: [],
        evidenceCount: 0,
        ruleCount: facts.ruleCounts.get(id) ?? 0,
        sources: entry ? entry.sources : [],
        entry,
        used: { mark: 0, ctmark: 0 },
      };
      byId.set(id, o);
      refs.set(id, new Set());
    }
    return o;
  };
  const cite = (o: OwnerInfo, ref: RuleRef): void => {
    const set = refs.get(o.id)!;
    if (set.has(ref)) return;
    set.add(ref);
    o.evidenceCount++;
    if (o.evidence.length < EVIDENCE_LIMIT) o.evidence.push(ref);
  };
  // A rule several components write identically counts for each of them.
  const ownersOf = (x: { owner: string; coOwners?: string[] }): string[] => (x.coOwners ? [x.owner, ...x.coOwners] : [x.owner]);
  for (const r of facts.readers) {
    for (const id of ownersOf(r)) {
      const o = get(id);
      o.used[r.space] |= readerBits(r.mask, r.value);
      cite(o, r.ref);
    }
  }
  for (const w of facts.writers) {
    for (const id of ownersOf(w)) {
      const o = get(id);
      o.used[w.space] |= w.full ? w.sets : w.touches;
      cite(o, w.ref);
    }
  }
  for (const q of facts.queues) for (const id of ownersOf(q)) cite(get(id), q.ref);
  for (const id of facts.ruleCounts.keys()) get(id);
  for (const o of byId.values()) {
    o.used.mark >>>= 0;
    o.used.ctmark >>>= 0;
    let resMark = 0;
    let resCt = 0;
    for (const u of o.entry?.uses ?? []) {
      if (!u.reserved) continue;
      if (u.space === 'mark') resMark |= u.mask;
      else resCt |= u.mask;
    }
    o.mask = (o.used.mark | resMark) >>> 0;
    o.ctmask = (o.used.ctmark | resCt) >>> 0;
    o.reservedOnly = { mark: (resMark & ~o.used.mark) >>> 0, ctmask: (resCt & ~o.used.ctmark) >>> 0 };
    if (o.evidence.length === 0) {
      const first = facts.firstRule.get(o.id);
      if (first) {
        o.evidence.push(first);
        o.evidenceCount = 1;
      }
    }
  }
  const order = new Map(catalog.map((e, i) => [e.id, i]));
  return [...byId.values()].sort((a, b) => (order.get(a.id) ?? 1e6) - (order.get(b.id) ?? 1e6) || a.id.localeCompare(b.id));
}

/** The catalog use that best describes one bit of an owner: the narrowest use covering it. */
export function useOf(o: OwnerInfo, space: Space, bitNo: number): MarkUse | undefined {
  let best: MarkUse | undefined;
  for (const u of o.entry?.uses ?? []) {
    if (u.space !== space || !((u.mask >>> bitNo) & 1)) continue;
    if (!best || popcount(u.mask) < popcount(best.mask)) best = u;
  }
  return best;
}

/** Meaning key of a bit for an owner: shared keys make agreement; unknown uses mean "its own". */
export function meaningOf(o: OwnerInfo, space: Space, bitNo: number): string {
  return useOf(o, space, bitNo)?.meaning ?? `own:${o.id}`;
}

/** Names of the owner's uses of these bits: "drop bit (--iptables-drop-bit 15)". */
export function useNames(o: OwnerInfo, space: Space, mask: number): string[] {
  const names: string[] = [];
  for (const b of bitsOf(mask)) {
    const u = useOf(o, space, b);
    const n = u ? u.name : `${space === 'mark' ? 'mark' : 'connmark'} bits its rules use`;
    if (!names.includes(n)) names.push(n);
  }
  return names;
}
