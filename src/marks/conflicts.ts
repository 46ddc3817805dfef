// Conflicts, each with its consequence in words and the rules that prove it:
// - overlap: two owners of different families use the same bits with different meanings;
// - clobber: a write that changes bits other owners use (unmasked set-mark or restore-mark, clears);
// - exact-reader: a whole-word comparison that any bit set by another owner breaks;
// - routing: a write before the routing decision that changes another owner's `ip rule fwmark` answer;
// - queue: every NFQUEUE rule (its consumer's verdict replaces the whole mark);
// - inspector: each owner, reader or whole-word writer that the planned inspector mask collides with.
import { table } from '../util/table.js';
import { ALL, bitsOf, describeBits, hex8 } from './bits.js';
import { ownedBy, type Facts } from './facts.js';
import { meaningOf, spaceMask, useNames, type OwnerInfo } from './owners.js';
import { chainWhere, changeOutcome, joinAnd, readerMatches, readerSentence, routingDrop, valueOutcome } from './phrases.js';
import type { Conflict, Effect, Entry, QueueSite, Reader, RuleRef, Space, Writer } from './types.js';

const EVIDENCE_PER_CONFLICT = 12;
const SENTENCES_PER_PARTY = 3;

interface Ctx {
  owners: OwnerInfo[];
  byId: Map<string, OwnerInfo>;
  facts: Facts;
}

export function makeCtx(owners: OwnerInfo[], facts: Facts): Ctx {
  return { owners, byId: new Map(owners.map((o) => [o.id, o])), facts };
}

function possessive(name: string): string {
  return name.endsWith('s') ? `${name}'` : `${name}'s`;
}

function isAre(mask: number): string {
  return bitsOf(mask).length === 1 ? 'is' : 'are';
}

function uniqueRefs(refs: RuleRef[]): RuleRef[] {
  const seen = new Set<RuleRef>();
  const out: RuleRef[] = [];
  for (const r of refs) {
    if (seen.has(r)) continue;
    seen.add(r);
    out.push(r);
    if (out.length >= EVIDENCE_PER_CONFLICT) break;
  }
  return out;
}

function readersOn(ctx: Ctx, space: Space, bits: number, ownerId?: string): Reader[] {
  return ctx.facts.readers.filter((r) => r.space === space && (r.mask & bits) !== 0 && (ownerId === undefined || ownedBy(r, ownerId)));
}

function writersOn(ctx: Ctx, space: Space, bits: number, ownerId?: string): Writer[] {
  return ctx.facts.writers.filter((w) => w.space === space && (w.touches & bits) !== 0 && (ownerId === undefined || ownedBy(w, ownerId)));
}

function ownerSentences(ctx: Ctx, o: OwnerInfo, space: Space, bits: number): string {
  const uses = useNames(o, space, bits);
  const reserved = (space === 'mark' ? o.reservedOnly.mark : o.reservedOnly.ctmask) & bits;
  const said = uniqueStrings(readersOn(ctx, space, bits, o.id).map((r) => readerSentence(r, bits))).slice(0, SENTENCES_PER_PARTY);
  const writes = uniqueStrings(writersOn(ctx, space, bits, o.id).map((w) => `${chainWhere(w.ref, w.entries)} writes ${describeBits(w.touches & bits)}`)).slice(0, SENTENCES_PER_PARTY);
  let s = `${possessive(o.name)} ${joinAnd(uses)}`;
  const facts = [...said, ...writes];
  if (facts.length) s += `: ${facts.join('; ')}`;
  if (reserved === bits) s += ' (reserved; no rule here uses it yet)';
  return s;
}

/** Pairs of owners (different families) using the same bits with different meanings. */
export function overlapConflicts(ctx: Ctx): Conflict[] {
  const out: Conflict[] = [];
  const list = ctx.owners.filter((o) => o.family !== 'nfqueue');
  for (const space of ['mark', 'ctmark'] as const) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i];
        const b = list[j];
        if (a.family === b.family) continue;
        const ov = (spaceMask(a, space) & spaceMask(b, space)) >>> 0;
        if (!ov) continue;
        let bits = 0;
        for (const n of bitsOf(ov)) if (meaningOf(a, space, n) !== meaningOf(b, space, n)) bits |= 1 << n;
        bits >>>= 0;
        if (!bits) continue;
        const what = space === 'mark' ? 'mark' : 'connmark';
        const effects = [crossEffect(ctx, a, b, space, bits), crossEffect(ctx, b, a, space, bits)].filter((x) => x);
        const consequence =
          `${describeBits(bits)} of the ${what} ${isAre(bits)} used by both, with different meanings. ` +
          `${ownerSentences(ctx, a, space, bits)}. ${ownerSentences(ctx, b, space, bits)}. ` +
          (effects.length ? effects.join(' ') : `A packet one of them marks is taken by the other as its own signal.`);
        const evidence = uniqueRefs([...a.evidence, ...b.evidence].filter((r) => refTouches(ctx, r, space, bits)));
        out.push({ kind: 'overlap', space, mask: bits, parties: [a.name, b.name], consequence, evidence });
      }
    }
  }
  return out;
}

/**
 * What `reader`'s rules do to the packets `marker` marks: for each value it is known to put on the
 * overlapping bits (its rules' masked sets, its catalog signature such as wg-quick's fwmark 51820 set by
 * the WireGuard socket), the outcomes of `reader`'s matches that a packet with that value and no other
 * bit meets, against one with no mark.
 */
function crossEffect(ctx: Ctx, marker: OwnerInfo, reader: OwnerInfo, space: Space, bits: number): string {
  const values = new Set<number>();
  for (const w of ctx.facts.writers) {
    if (w.space === space && (w.kind === 'set' || w.kind === 'tproxy') && !w.full && ownedBy(w, marker.id) && (w.sets & bits) !== 0) values.add((w.sets & bits) >>> 0);
  }
  for (const sig of marker.entry?.identify.marks ?? []) {
    if (sig.space === space && sig.value !== undefined && sig.mask === ALL && (sig.value & bits) !== 0) values.add((sig.value & bits) >>> 0);
  }
  const parts: string[] = [];
  for (const v of values) {
    const outcomes = uniqueStrings(readersOn(ctx, space, bits, reader.id).map((r) => valueOutcome(r, v))).slice(0, SENTENCES_PER_PARTY);
    if (outcomes.length) parts.push(`on packets ${marker.name} marks with ${describeBits(v)}, ${possessive(reader.name)} rules would ${joinAnd(outcomes).replace(/queued packets|all queued traffic|queued traffic/g, 'those packets')}`);
  }
  return parts.length ? parts.map((p) => p[0].toUpperCase() + p.slice(1)).join('. ') + '.' : '';
}

function refTouches(ctx: Ctx, ref: RuleRef, space: Space, bits: number): boolean {
  return (
    ctx.facts.readers.some((r) => r.ref === ref && r.space === space && ((r.mask === ALL ? r.value : r.mask) & bits) !== 0) ||
    ctx.facts.writers.some((w) => w.ref === ref && w.space === space && (w.touches & bits) !== 0)
  );
}

function writeDescription(w: Writer): string {
  const where = chainWhere(w.ref, w.entries);
  const what = w.space === 'mark' ? 'mark' : 'connmark';
  switch (w.kind) {
    case 'restore':
      return w.full ? `${where} restores the whole connmark into the mark (no mask)` : `${where} restores ${describeBits(w.touches)} of the connmark into the mark`;
    case 'save':
      return w.full ? `${where} saves the whole mark into the connmark (no mask)` : `${where} saves ${describeBits(w.touches)} of the mark into the connmark`;
    case 'tproxy':
      return w.full ? `${where} sets the whole ${what} to ${hex8(w.sets)} with TPROXY (--tproxy-mark mask 0xffffffff)` : `${where} sets the ${what} to ${hex8(w.sets)}/${hex8(w.touches)} with TPROXY`;
    case 'set':
      if (w.full) return `${where} sets the whole ${what} to ${hex8(w.sets)} (no mask)`;
      return `${where} writes ${describeBits(w.touches)} of the ${what}`;
  }
}

/** Writes that change bits other owners use: unmasked set/restore, and clears of others' bits. */
export function clobberConflicts(ctx: Ctx): Conflict[] {
  const out: Conflict[] = [];
  for (const w of ctx.facts.writers) {
    const me = ctx.byId.get(w.owner);
    if (!me) continue;
    const hit: Array<{ o: OwnerInfo; bits: number }> = [];
    for (const o of ctx.owners) {
      if (o.id === me.id || o.family === me.family || o.family === 'nfqueue') continue;
      const ov = (spaceMask(o, w.space) & w.touches) >>> 0;
      if (!ov) continue;
      let bits = 0;
      // A masked write clobbers only what it clears (setting another's bit is the overlap conflict).
      for (const n of bitsOf(w.full ? ov : ov & w.clears)) if (w.full || meaningOf(me, w.space, n) !== meaningOf(o, w.space, n)) bits |= 1 << n;
      bits >>>= 0;
      if (bits) hit.push({ o, bits });
    }
    if (!hit.length) continue;
    const mask = hit.reduce((m, h) => (m | h.bits) >>> 0, 0);
    const parts = hit.map(({ o, bits }) => {
      const set = (w.sets & bits) >>> 0;
      const cleared = (bits & ~w.sets) >>> 0;
      const pieces: string[] = [];
      if (cleared) pieces.push(`erases ${possessive(o.name)} ${joinAnd(useNames(o, w.space, cleared))} (${describeBits(cleared)})`);
      if (set) {
        const outcomes = readersOn(ctx, w.space, set, o.id).map((r) => changeOutcome(r, set, true)).filter((s): s is string => !!s).slice(0, SENTENCES_PER_PARTY);
        pieces.push(`sets ${possessive(o.name)} ${joinAnd(useNames(o, w.space, set))} (${describeBits(set)})${outcomes.length ? `, which would ${joinAnd(outcomes).replace(/queued packets|all queued traffic|queued traffic/g, 'those packets')}` : ''}`);
      }
      return pieces.join(' and ');
    });
    const consequence = `${writeDescription(w)}: on every packet it matches it ${joinAnd(parts)}.`;
    const evidence = uniqueRefs([w.ref, ...hit.flatMap(({ o, bits }) => o.evidence.filter((r) => refTouches(ctx, r, w.space, bits)))]);
    out.push({ kind: 'clobber', space: w.space, mask, parties: [me.name, ...hit.map((h) => h.o.name)], consequence, evidence });
  }
  return out;
}

/** Whole-word comparisons (mask 0xffffffff) that another owner's writes break. */
export function exactReaderConflicts(ctx: Ctx): Conflict[] {
  const out: Conflict[] = [];
  for (const r of ctx.facts.readers) {
    if (r.mask !== ALL) continue;
    const me = ctx.byId.get(r.owner);
    if (!me) continue;
    const hit: Array<{ o: OwnerInfo; bits: number }> = [];
    for (const o of ctx.owners) {
      if (o.family === me.family || o.family === 'nfqueue') continue;
      const sets = ctx.facts.writers.filter((w) => ownedBy(w, o.id) && w.space === r.space).reduce((m, w) => m | w.sets, 0);
      const bits = (sets & ~r.value) >>> 0;
      if (bits) hit.push({ o, bits });
    }
    if (!hit.length) continue;
    const mask = hit.reduce((m, h) => (m | h.bits) >>> 0, 0);
    const outcome = changeOutcome(r, mask, true)?.replace(/queued packets|all queued traffic|queued traffic/g, 'those packets');
    const consequence =
      `${chainWhere(r.ref, r.entries)} compares the whole ${r.space === 'mark' ? 'mark' : 'connmark'} with ${hex8(r.value)} (\`${r.ref.text}\`): ` +
      `any other bit on the packet changes the answer, and ${joinAnd(hit.map((h) => `${h.o.name} sets ${describeBits(h.bits)}`))}` +
      (outcome ? `; such a packet would ${outcome}.` : '.');
    out.push({ kind: 'exact-reader', space: r.space, mask, parties: [me.name, ...hit.map((h) => h.o.name)], consequence, evidence: uniqueRefs([r.ref, ...hit.flatMap((h) => h.o.evidence)]) });
  }
  return out;
}

const BEFORE_ROUTING = new Set(['ingress', 'prerouting', 'output']);

/** "routes them by table main", "drops them (unreachable)". */
function routingAction(e: Effect): string {
  const target = e.target;
  if (routingDrop(e)) return `drops them (${target})`;
  if (target === 'goto' || target === 'nop' || target === 'other') return `applies its ${target} action to them`;
  return `routes them by table ${target ?? 'main'}`;
}

/**
 * A component's policy routing read by another's mark: a masked write, before the routing decision, that
 * makes another family's `ip rule ... fwmark` match a packet it would not (or stop matching one it
 * would), e.g. Calico's scratch0 bit 0x80000, set in raw PREROUTING on workload packets, is Tailscale's
 * bypass mark: ip rule 5210 routes them by table main as if tailscaled had sent them. One conflict per
 * writing rule and reading owner, with the rules that read it and those of the owner they pass over.
 */
export function routingConflicts(ctx: Ctx): Conflict[] {
  const out: Conflict[] = [];
  const routing = ctx.facts.readers.filter((r) => r.effect.kind === 'routing' && r.space === 'mark');
  if (!routing.length) return out;
  for (const w of ctx.facts.writers) {
    if (w.space !== 'mark' || (w.kind !== 'set' && w.kind !== 'tproxy') || w.full) continue;
    const me = ctx.byId.get(w.owner);
    if (!me || me.family === 'nfqueue') continue;
    const early = w.entries.filter((e) => BEFORE_ROUTING.has(e.hook));
    if (!early.length) continue;
    // Per reading owner, the rules whose answer the write changes for a packet that had none of these bits.
    const byOwner = new Map<string, { o: OwnerInfo; on: Reader[]; off: Reader[]; bits: number }>();
    for (const r of routing) {
      const o = ctx.byId.get(r.owner);
      if (!o || o.family === me.family || o.family === 'nfqueue') continue;
      if (!early.some((e) => familiesMeet(e.family, r.entries[0]?.family ?? r.ref.family))) continue;
      const bits = (w.sets & r.mask) >>> 0;
      const touched = (w.touches & r.mask) >>> 0;
      if (!touched) continue;
      const before = readerMatches(r, 0);
      const after = readerMatches(r, bits);
      if (before === after) continue;
      // Bits both use with one meaning (the AWS primary-ENI bit 0x80) are an agreement, not a conflict.
      if (bitsOf(touched).every((n) => meaningOf(me, 'mark', n) === meaningOf(o, 'mark', n))) continue;
      const g = byOwner.get(o.id) ?? { o, on: [], off: [], bits: 0 };
      (after ? g.on : g.off).push(r);
      g.bits = (g.bits | touched) >>> 0;
      byOwner.set(o.id, g);
    }
    for (const { o, on, off, bits } of byOwner.values()) {
      const first = Math.min(...[...on, ...off].map((r) => ipPriority(ctx, r)));
      const readers = [...on, ...off];
      const family = readers[0].ref.family;
      const setText = (w.sets & bits) >>> 0 ? `sets ${describeBits((w.sets & bits) >>> 0)}` : `clears ${describeBits(bits)}`;
      let s = `${chainWhere(w.ref, w.entries)} ${setText} of the mark (\`${w.ref.text}\`), ${possessive(me.name)} ${joinAnd(useNames(me, 'mark', bits))}, before the routing decision. `;
      s += `${o.name} reads ${bitsOf(bits).length === 1 ? 'that bit' : 'those bits'} as its ${joinAnd(useNames(o, 'mark', bits))}: `;
      // The rules that now match, in the order the kernel tries them: a lookup that finds no route goes on.
      on.sort((a, b) => ipPriority(ctx, a) - ipPriority(ctx, b));
      const said = on.map((r, i) => `${i ? 'if that table has no route, ' : ''}${r.ref.table} ${r.ref.chain} (\`${r.ref.text}\`) ${routingAction(r.effect)}`);
      if (off.length) said.push(`${joinAnd(off.map((r) => `${r.ref.table} ${r.ref.chain} (\`${r.ref.text}\`)`))} no longer ${off.length === 1 ? 'matches' : 'match'} them`);
      s += said.join('; ');
      // The owner's rules after the first one that now answers: what those packets no longer reach.
      const passed = ctx.facts.ipRules.filter((x) => x.owner === o.id && x.family === family && x.priority > first && !readers.some((r) => r.ref === x.ref));
      if (passed.length && on.length) {
        const list = joinAnd(passed.slice(0, 4).map((x) => `${x.ref.chain} (\`${x.ref.text}\`)`));
        s += on.some((r) => routingDrop(r.effect))
          ? `, so those packets never reach ${possessive(o.name)} ${list}`
          : `, ahead of ${possessive(o.name)} ${list}, which those packets reach only when the tables before have no route for them`;
      }
      s += '.';
      out.push({ kind: 'routing', space: 'mark', mask: bits, parties: [me.name, o.name], consequence: s, evidence: uniqueRefs([w.ref, ...readers.map((r) => r.ref)]) });
    }
  }
  return out;
}

function ipPriority(ctx: Ctx, r: Reader): number {
  return ctx.facts.ipRules.find((x) => x.ref === r.ref)?.priority ?? 0;
}

// Hook order on the three packet paths (in: prerouting -> input; forward: prerouting -> forward ->
// postrouting; out: output -> postrouting). The routing decision follows prerouting and output.
const LATER: Readonly<Record<string, string[]>> = table({
  ingress: ['prerouting', 'input', 'forward', 'postrouting', 'routing'],
  prerouting: ['input', 'forward', 'postrouting', 'routing'],
  input: [],
  forward: ['postrouting'],
  output: ['postrouting', 'routing'],
  postrouting: ['egress'],
  egress: [],
});

function familiesMeet(a: string, b: string): boolean {
  return a === b || a === 'inet' || b === 'inet' || b === 'routing';
}

function runsAfter(later: Entry, q: Entry): boolean {
  if (later.hook === 'routing') return familiesMeet(q.family, later.family) && (q.hook === 'prerouting' || q.hook === 'output');
  if (!familiesMeet(later.family, q.family)) return false;
  if (later.label === q.label) return false; // rules after a queue rule in its own chain never run
  if (LATER[q.hook]?.includes(later.hook)) return true;
  return later.hook === q.hook && later.priority >= q.priority;
}

function runsBefore(earlier: Entry, q: Entry): boolean {
  if (!familiesMeet(earlier.family, q.family)) return false;
  if (earlier.label === q.label) return true; // conservatively: earlier rules of the same chain
  if (LATER[earlier.hook]?.includes(q.hook)) return true;
  return earlier.hook === q.hook && earlier.priority < q.priority;
}

/** Every NFQUEUE rule: the bits that ride on queued packets and who depends on them after the verdict. */
export function queueConflicts(ctx: Ctx): Conflict[] {
  return ctx.facts.queues.map((q) => queueConflict(ctx, q));
}

function queueConflict(ctx: Ctx, q: QueueSite): Conflict {
  const after = ctx.facts.readers.filter((r) => r.space === 'mark' && r.entries.some((e) => q.entries.some((qe) => runsAfter(e, qe))));
  const before = ctx.facts.writers.filter((w) => w.space === 'mark' && w.entries.some((e) => q.entries.some((qe) => runsBefore(e, qe))));
  const riding = before.reduce((m, w) => (m | w.sets) >>> 0, 0);
  const depends = after.reduce((m, r) => (m | (r.mask === ALL ? r.value : r.mask)) >>> 0, 0);
  const where = chainWhere(q.ref, q.entries);
  const nums = q.numTo !== undefined ? `${q.num}-${q.numTo}` : String(q.num);
  const parts: string[] = [
    `queue ${nums} in ${where}${q.bypass ? '' : ' has no bypass flag: while no consumer is bound its packets are dropped'}; the consumer's verdict replaces the whole mark (NFQA_MARK has no mask)`,
  ];
  const ridingByOwner = groupByOwner(ctx, before.filter((w) => w.sets), (w) => w.sets);
  if (ridingByOwner.length) parts.push(`packets reaching it may carry ${joinAnd(ridingByOwner.map(([o, m]) => `${possessive(o)} ${describeBits(m)}`))}`);
  if (after.length) {
    const sentences = after.slice(0, 6).map((r) => readerSentence(r, r.mask === ALL ? r.value || ALL : r.mask));
    parts.push(`after the verdict ${joinAnd(sentences)}${after.length > 6 ? ` (and ${after.length - 6} more)` : ''}`);
    parts.push('a verdict that does not keep these bits (mark_out = (mark_in & ~mask) | (bits & mask)) erases them, and one that sets them triggers those rules');
  } else {
    parts.push('nothing on this node reads the mark after it');
  }
  const parties = [`NFQUEUE consumer (queue ${nums})`, ...new Set(after.flatMap((r) => [r.owner, ...(r.coOwners ?? [])]).map((id) => ctx.byId.get(id)?.name ?? id))];
  return { kind: 'queue', space: 'mark', mask: (riding | depends) >>> 0, parties, consequence: parts.join('; ') + '.', evidence: uniqueRefs([q.ref, ...after.map((r) => r.ref), ...before.map((w) => w.ref)]) };
}

function groupByOwner<T extends { owner: string; coOwners?: string[] }>(ctx: Ctx, items: T[], bits: (t: T) => number): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const it of items) {
    const name = joinAnd([it.owner, ...(it.coOwners ?? [])].map((id) => ctx.byId.get(id)?.name ?? id));
    m.set(name, ((m.get(name) ?? 0) | bits(it)) >>> 0);
  }
  return [...m];
}

/** Owners whose bits of one space the inspector's mask collides with, bit group by bit group, in words. */
function ownerCollisions(ctx: Ctx, space: Space, mask: number, inspector: string): Conflict[] {
  const out: Conflict[] = [];
  for (const o of ctx.owners) {
    if (o.family === 'nfqueue') continue;
    const ov = (spaceMask(o, space) & mask) >>> 0;
    if (!ov) continue;
    // Group the overlapping bits by what the owner calls them.
    const groups = new Map<string, number>();
    for (const n of bitsOf(ov)) {
      const name = useNames(o, space, (1 << n) >>> 0)[0];
      groups.set(name, ((groups.get(name) ?? 0) | (1 << n)) >>> 0);
    }
    const sentences: string[] = [];
    for (const [name, bits] of groups) {
      let s = `${describeBits(bits)} ${isAre(bits)} ${possessive(o.name)} ${name}`;
      const readers = readersOn(ctx, space, bits, o.id);
      const facts = readers.slice(0, SENTENCES_PER_PARTY).map((r) => readerSentence(r, bits));
      if (facts.length) s += `: ${facts.join('; ')}`;
      // The owner's own readers first: theirs is the meaning the sentence names.
      const allReaders = [...readers, ...readersOn(ctx, space, bits).filter((r) => !ownedBy(r, o.id))];
      const setting = uniqueStrings(allReaders.map((r) => changeOutcome(r, bits, true)));
      // Clearing matters only where some rule that packets reach sets the bit.
      const someoneSets = ctx.facts.writers.some((w) => w.space === space && w.entries.length > 0 && (w.sets & bits) !== 0);
      const clearing = someoneSets ? uniqueStrings(allReaders.map((r) => changeOutcome(r, bits, false))) : [];
      if (setting.length) s += `; an inspector setting it would ${joinAnd(setting.slice(0, 4))}`;
      if (clearing.length) s += `; an inspector clearing it would ${joinAnd(clearing.slice(0, 4))}`;
      const writers = writersOn(ctx, space, bits, o.id).filter((w) => w.entries.length > 0);
      if (writers.length) s += `; ${o.name} also writes it (${joinAnd(uniqueStrings(writers.map((w) => w.ref.chain)).slice(0, 3))}), overwriting the inspector's value`;
      if (((space === 'mark' ? o.reservedOnly.mark : o.reservedOnly.ctmask) & bits) === bits) s += `; no rule on this node uses it yet, but ${o.name} reserves it and may start using it at any time`;
      sentences.push(s);
    }
    out.push({ kind: 'inspector', space, mask: ov, parties: [inspector, o.name], consequence: sentences.join('. ') + '.', evidence: uniqueRefs(o.evidence.filter((r) => refTouches(ctx, r, space, ov))) });
  }
  return out;
}

/** What the planned inspector mask (and connmark mask) collides with, owner by owner, in words. */
export function inspectorConflicts(ctx: Ctx, mask: number, ctmask = 0): Conflict[] {
  const inspector = `inspector (${hex8(mask)})`;
  const out = ownerCollisions(ctx, 'mark', mask, inspector);
  if (ctmask) out.push(...ownerCollisions(ctx, 'ctmark', ctmask, `inspector connmark (${hex8(ctmask)})`));
  for (const w of ctx.facts.writers) {
    if (w.space !== 'mark' || !w.full) continue;
    const name = ctx.byId.get(w.owner)?.name ?? w.owner;
    if (ctx.byId.get(w.owner)?.family === 'nfqueue') continue;
    out.push({
      kind: 'inspector',
      space: 'mark',
      mask,
      parties: [inspector, name],
      consequence: `${writeDescription(w)}: it rewrites the inspector's bits (${describeBits(mask)}) on every packet it matches.`,
      evidence: [w.ref],
    });
  }
  for (const r of ctx.facts.readers) {
    if (r.space !== 'mark' || r.mask !== ALL) continue;
    const outcome = changeOutcome(r, mask & ~r.value, true);
    if (!outcome) continue;
    const name = ctx.byId.get(r.owner)?.name ?? r.owner;
    out.push({
      kind: 'inspector',
      space: 'mark',
      mask,
      parties: [inspector, name],
      consequence: `${chainWhere(r.ref, r.entries)} compares the whole mark with ${hex8(r.value)}: an inspector setting any of its bits would ${outcome}.`,
      evidence: [r.ref],
    });
  }
  return out;
}

function uniqueStrings(items: Array<string | undefined>): string[] {
  return [...new Set(items.filter((s): s is string => !!s))];
}
