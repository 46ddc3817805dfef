// Sentences of the report: where a rule sits, what it does, and what changing a bit does to a packet.
import { hex8 } from './bits.js';
import type { Effect, Entry, Reader } from './types.js';

/** "filter INPUT and OUTPUT", "nat PREROUTING", "inet firewalld filter_INPUT" (entries grouped by table). */
export function entriesPhrase(entries: readonly Entry[]): string {
  if (entries.length === 0) return 'no base chain (never reached)';
  const byTable = new Map<string, string[]>();
  for (const e of entries) {
    if (e.hook === 'routing') return 'the routing decision';
    const i = e.label.lastIndexOf(' ');
    const table = e.label.slice(0, i);
    const chain = e.label.slice(i + 1);
    const list = byTable.get(table) ?? [];
    if (!list.includes(chain)) list.push(chain);
    byTable.set(table, list);
  }
  return [...byTable].map(([t, cs]) => `${t} ${joinAnd(cs)}`).join('; ');
}

export function joinAnd(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** An ip rule whose action drops what it matches (its effect's target is the action, not a table). */
export function routingDrop(e: Effect): boolean {
  return e.target === 'unreachable' || e.target === 'blackhole' || e.target === 'prohibit';
}

/** Third person: "drops", "masquerades", "sends to KUBE-SVC-X". */
export function effectVerb(e: Effect): string {
  switch (e.kind) {
    case 'drop':
      return 'drops';
    case 'reject':
      return 'rejects';
    case 'accept':
      return 'accepts';
    case 'return':
      return 'returns early';
    case 'masquerade':
      return 'masquerades';
    case 'snat':
      return 'source-NATs';
    case 'dnat':
      return 'destination-NATs';
    case 'redirect':
      return 'redirects';
    case 'jump':
    case 'goto':
      return `sends to ${e.target}`;
    case 'tproxy':
      return 'diverts to a transparent proxy';
    case 'queue':
      return `queues to userspace (queue ${e.target})`;
    case 'notrack':
      return 'exempts from conntrack';
    case 'mark':
      if (e.target === 'connmark-save') return 'saves into the connmark the mark of';
      if (e.target === 'connmark-restore') return 'restores the connmark into the mark of';
      return e.target === 'ctmark' ? 'rewrites the connmark of' : 'rewrites the mark of';
    case 'routing':
      return routingDrop(e) ? `drops (${e.target})` : `routes by table ${e.target}`;
    case 'other':
      return `applies ${e.target}`;
  }
}

/** Infinitive for "an inspector setting it would ...": "drop all queued traffic". */
function effectOnQueued(e: Effect): string {
  switch (e.kind) {
    case 'drop':
      return 'drop all queued traffic';
    case 'reject':
      return 'reject all queued traffic';
    case 'accept':
      return 'accept queued packets there, skipping the rules after it';
    case 'return':
      return 'make queued packets return early, skipping the rest of the chain';
    case 'masquerade':
      return 'masquerade queued packets';
    case 'snat':
      return 'source-NAT queued packets';
    case 'dnat':
      return 'destination-NAT queued packets';
    case 'redirect':
      return 'redirect queued packets';
    case 'jump':
    case 'goto':
      return `send queued packets into ${e.target}`;
    case 'tproxy':
      return 'divert queued packets to a transparent proxy';
    case 'queue':
      return `queue them again (queue ${e.target})`;
    case 'notrack':
      return 'exempt queued packets from conntrack';
    case 'mark':
      if (e.target === 'connmark-save') return 'save the mark of queued packets into the connmark (restored on the rest of their connection)';
      if (e.target === 'connmark-restore') return 'overwrite the mark of queued packets with the connmark';
      return 'change the marks written there';
    case 'routing':
      return routingDrop(e) ? `drop queued packets as ${e.target}` : `route queued packets by table ${e.target}`;
    case 'other':
      return `trigger ${e.target}`;
  }
}

/** Where a reader sits: "KUBE-FIREWALL in filter INPUT and OUTPUT", "ip rule pref 5210". */
export function readerWhere(r: Reader): string {
  if (r.effect.kind === 'routing') return `${r.ref.table} ${r.ref.chain}`;
  return chainWhere(r.ref, r.entries);
}

/** "mangle INPUT" for a base chain, "KUBE-FIREWALL in filter INPUT and OUTPUT" for a chain jumped to. */
export function chainWhere(ref: { table: string; chain: string }, entries: readonly Entry[]): string {
  const self = `${ref.table} ${ref.chain}`;
  if (entries.length === 1 && entries[0].label === self) return self;
  if (entries.length === 0) return `${ref.chain} in ${ref.table} (reached from no base chain)`;
  return `${ref.chain} in ${entriesPhrase(entries)}`;
}

/** Whether the reader's match holds for a packet whose bits `bits` are all 1 (or all 0), others as they must be. */
export function matchesWith(r: Reader, bits: number, on: boolean): boolean | undefined {
  const b = r.mask & bits;
  if (b === 0) return undefined;
  const wanted = (r.value & b) >>> 0;
  const got = on ? b : 0;
  const eq = wanted === got;
  return r.invert ? !eq : eq;
}

/** "drops any packet carrying it", "returns early for packets without it", "routes by table 52 packets with mark & 0xff0000 == 0x80000". */
export function readerSentence(r: Reader, bits: number): string {
  const verb = effectVerb(r.effect);
  const b = r.mask & bits;
  let which: string;
  if (r.mask === b && !r.invert && r.value === b) which = 'any packet carrying it';
  else if (r.mask === b && r.invert && r.value === b) which = 'any packet without it';
  else if (r.mask === b && !r.invert && r.value === 0) which = 'any packet without it';
  else which = `packets whose mark & ${hex8(r.mask)} ${r.invert ? '!=' : '=='} ${hex8(r.value)}`;
  if (r.effect.kind === 'routing') return `${readerWhere(r)} ${verb} ${which}`;
  return `${readerWhere(r)} ${verb} ${which}`;
}

/**
 * What setting (on=true) or clearing (on=false) the bits does to a packet this reader sees: its effect
 * starts applying, or stops applying (then what the rest of the chain does).
 */
export function changeOutcome(r: Reader, bits: number, on: boolean): string | undefined {
  const before = matchesWith(r, bits, !on);
  const after = matchesWith(r, bits, on);
  if (after === undefined || before === after) return undefined;
  return outcomeText(r, after);
}

/**
 * What a packet whose mark is exactly `value` (no other bit) meets at this reader, against a packet with
 * no mark: its effect starts or stops applying; undefined when the answer is the same.
 */
export function valueOutcome(r: Reader, value: number): string | undefined {
  const after = readerMatches(r, value >>> 0);
  return after === readerMatches(r, 0) ? undefined : outcomeText(r, after);
}

/** Whether the reader's match (mark & mask == value, or its inverse) holds for a packet with this mark. */
export function readerMatches(r: Reader, mark: number): boolean {
  return (((mark & r.mask) >>> 0) === r.value >>> 0) !== r.invert;
}

/** "drop all queued traffic (where)" when the reader's effect starts applying, "stop ..." when it stops. */
function outcomeText(r: Reader, after: boolean): string {
  const where = readerWhere(r);
  if (after) return `${effectOnQueued(r.effect)} (${where})`;
  if (r.effect.kind === 'return' && r.fallthrough?.length) {
    return `stop returning early, so the rest of ${r.ref.chain} applies to queued packets (${joinAnd(r.fallthrough.map(effectName))}) (${where})`;
  }
  if (r.effect.kind === 'routing') return `stop ${routingDrop(r.effect) ? `dropping queued packets as ${r.effect.target}` : `routing queued packets by table ${r.effect.target}`} (${where})`;
  return `stop ${gerund(r.effect)} queued packets (${where})`;
}

function effectName(e: Effect): string {
  if (e.kind === 'jump' || e.kind === 'goto') return `${e.kind} ${e.target}`;
  if (e.kind === 'other') return e.target ?? 'other';
  return e.kind === 'mark' ? 'MARK' : e.kind.toUpperCase();
}

function gerund(e: Effect): string {
  switch (e.kind) {
    case 'drop':
      return 'dropping';
    case 'reject':
      return 'rejecting';
    case 'accept':
      return 'accepting';
    case 'masquerade':
      return 'masquerading';
    case 'snat':
      return 'source-NATing';
    case 'dnat':
      return 'destination-NATing';
    case 'jump':
    case 'goto':
      return `sending into ${e.target}`;
    case 'tproxy':
      return 'diverting to the transparent proxy';
    case 'mark':
      return 'rewriting the mark of';
    default:
      return `applying ${effectName(e)} to`;
  }
}
