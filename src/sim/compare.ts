// The kernel's trace, read as a trace of the simulator: which rules the packet hit, the verdict, the
// rule that decided and the final mark; then the differences between the two. Pure: the kernel's
// events (src/sim/kernel/nftrace.ts) and a description of what was loaded go in.
import type { RuleRef } from './program.js';
import type { Leg, Outcome, Step, Verdict } from './run.js';
import { hex8 } from './state.js';
import type { TraceResult } from './trace.js';

/** Our own tables in the namespace: the trace switch and the end-of-hook observers. */
export const TRACE_TABLE = 'nfqguard_trace';
export const OBSERVER_TABLE = 'nfqguard_obs';
/** Declared hooks (--hook) are replayed as chains h0, h1... of this table. */
export const HOOKS_TABLE = 'nfqguard_hooks';
export const OBS_INPUT_CHAIN = 'in_last';
export const OBS_POSTROUTING_CHAIN = 'post_last';

/** A kernel trace event (src/sim/kernel/nftrace.ts decodes them from NFT_MSG_TRACE). */
export interface KEvent {
  /** The table's family. */
  family: string;
  table: string;
  chain: string;
  type: 'rule' | 'policy' | 'return' | 'other';
  /** Rule events: the rule's handle (none for the end-of-chain sentinel). */
  handle?: number;
  /** accept, drop, queue, continue, jump, goto, return, break, repeat, stolen, stop. */
  verdict?: string;
  /** Target chain of jump/goto. */
  target?: string;
  /** NF_QUEUE verdicts: the queue number, and whether the rule has bypass. */
  queue?: number;
  bypass?: boolean;
  policy?: string;
  /** skb->mark; the kernel leaves the attribute out when it is 0. */
  mark: number;
  /** Devices: only in the first event of each chain invocation. */
  iif?: number;
  oif?: number;
}

/** What the comparison needs to know about what was loaded into the namespace. */
export interface KernelView {
  /** `${family} ${table} ${chain} ${handle}` -> 1-based index of the rule in its chain. */
  ruleIndex: Map<string, number>;
  /** `${family} ${table} ${chain}` -> hook, for base chains. */
  chainHook: Map<string, string>;
  /** `${family} ${table} ${chain}` of every chain the kernel has. */
  chains?: Set<string>;
  /** `${family} ${chain}` of HOOKS_TABLE chains -> the declared hook they stand for. */
  hookRefs: Map<string, RuleRef>;
  /** The rule's text from the ruleset, for display. */
  ruleText?: (family: string, table: string, chain: string, index: number) => string | undefined;
  /** Interface index -> name. */
  ifname: (ifindex: number) => string | undefined;
  /** The queues a consumer listens on (the others drop, or let a bypass rule's packet go on). */
  queueConsumers?: ReadonlySet<number>;
  /** What the consumers answered since the packet was sent (its verdicts: the mark it came back with). */
  queueAnswers?: () => ReadonlyArray<{ queue: number; verdict: 'accept' | 'drop'; mark: number }>;
}

/** One comparable step: a rule that matched (its verdict), a policy, or a declared hook. */
export interface PathItem {
  hook?: string;
  family: string;
  table: string;
  chain: string;
  rule: number | null;
  text: string;
  verdict: string;
  mark: string;
}

export interface KernelOutcome {
  /** 'lost': the packet vanished without a rule or policy dropping it (routing, a queue without consumer...). */
  verdict: 'accept' | 'drop' | 'lost';
  decidedBy: RuleRef | null;
  mark: string;
  items: PathItem[];
  /** The interfaces the packet was seen on, in order (from the events' iif/oif). */
  interfaces: string[];
  notes: string[];
}

function key(...parts: Array<string | number>): string {
  return parts.join(' ');
}

function normVerdict(v: string): string {
  if (v === 'reject') return 'drop';
  if (v.startsWith('queue')) return 'queue';
  return v;
}

/** Reads a kernel trace as the simulator's path, verdict, deciding rule and final mark. */
export function kernelOutcome(events: readonly KEvent[], view: KernelView): KernelOutcome {
  const items: PathItem[] = [];
  const notes: string[] = [];
  const interfaces: string[] = [];
  let hook: string | undefined;
  let lastAccept: RuleRef | null = null;
  let last: { ref: RuleRef | null; verdict: string; mark: number; event?: KEvent } | undefined;
  let finalObserved: KEvent | undefined;
  /** The mark of the latest event of any table (our trace rule's included): a packet lost before any
   * chain of the ruleset still says what mark it had. */
  let seenMark: number | undefined;
  const seenIf = (i: number | undefined, dir: string): void => {
    if (!i) return;
    const name = `${dir} ${view.ifname(i) ?? `if${i}`}`;
    if (!interfaces.includes(name)) interfaces.push(name);
  };
  // The kernel puts the devices only in the first event of each chain invocation.
  let curOif: number | undefined;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const base = view.chainHook.get(key(e.family, e.table, e.chain));
    if (base) hook = base;
    if (e.iif !== undefined || e.oif !== undefined) curOif = e.oif;
    seenIf(e.iif, 'in');
    seenIf(e.oif, 'out');
    seenMark = e.mark;
    if (e.table === TRACE_TABLE) continue;
    if (e.table === OBSERVER_TABLE) {
      if (e.type !== 'policy') continue;
      const loop = curOif !== undefined && view.ifname(curOif) === 'lo';
      if (e.chain === OBS_INPUT_CHAIN || (e.chain === OBS_POSTROUTING_CHAIN && !loop)) finalObserved = e;
      continue;
    }
    if (e.table === HOOKS_TABLE) {
      const ref = view.hookRefs.get(key(e.family, e.chain));
      if (!ref) continue;
      let verdict: string | undefined;
      if (e.type === 'policy') verdict = e.policy ?? 'accept';
      else if (e.type === 'rule' && e.verdict && e.verdict !== 'continue') verdict = normVerdict(e.verdict);
      if (!verdict) continue;
      items.push({ hook, family: ref.family, table: ref.table, chain: ref.chain, rule: null, text: ref.text, verdict, mark: hex8(e.mark) });
      last = { ref, verdict, mark: e.mark, event: e };
      if (e.type === 'rule' && (verdict === 'accept' || verdict === 'queue')) lastAccept = ref;
      continue;
    }
    if (e.type === 'rule' && e.handle === undefined) continue; // the end-of-chain sentinel (implicit return)
    if (e.type === 'rule') {
      const index = e.handle === undefined ? undefined : view.ruleIndex.get(key(e.family, e.table, e.chain, e.handle));
      const text = index === undefined ? `handle ${e.handle}` : (view.ruleText?.(e.family, e.table, e.chain, index) ?? `rule ${index}`);
      const ref: RuleRef = { family: e.family, table: e.table, chain: e.chain, rule: index ?? null, text };
      let verdict = e.verdict ?? '?';
      if ((verdict === 'jump' || verdict === 'goto') && e.target) verdict = `${verdict} ${e.target}`;
      items.push({ hook, family: e.family, table: e.table, chain: e.chain, rule: ref.rule, text, verdict: normVerdict(verdict), mark: hex8(e.mark) });
      last = { ref, verdict: normVerdict(verdict), mark: e.mark, event: e };
      if (verdict === 'accept' || verdict === 'queue') lastAccept = ref;
    } else if (e.type === 'policy') {
      const policy = e.policy ?? '?';
      const ref: RuleRef = { family: e.family, table: e.table, chain: e.chain, rule: null, text: `policy ${policy}` };
      items.push({ hook, family: e.family, table: e.table, chain: e.chain, rule: null, text: ref.text, verdict: policy, mark: hex8(e.mark) });
      last = { ref, verdict: policy, mark: e.mark };
    }
  }
  if (finalObserved) {
    return { verdict: 'accept', decidedBy: lastAccept, mark: hex8(finalObserved.mark), items, interfaces, notes };
  }
  if (last && last.verdict === 'drop') return { verdict: 'drop', decidedBy: last.ref, mark: hex8(last.mark), items, interfaces, notes };
  const q = last?.event;
  if (last && last.verdict === 'queue' && q?.bypass && q.queue !== undefined && view.queueConsumers && !view.queueConsumers.has(q.queue)) {
    // No consumer and bypass: the packet went on, and vanished without another traced step.
    notes.push(`queue ${q.queue} has no consumer and the rule has bypass: the packet went on and vanished after (dropped by routing or by something outside the ruleset)`);
    return { verdict: 'lost', decidedBy: null, mark: hex8(last.mark), items, interfaces, notes };
  }
  const answer = last && last.verdict === 'queue' && q?.queue !== undefined ? view.queueAnswers?.().findLast((a) => a.queue === q.queue) : undefined;
  if (last && answer?.verdict === 'accept') {
    // The consumer accepted it: it came back with the answer's mark and vanished before another chain.
    notes.push(`queue ${answer.queue}'s consumer accepted it (mark ${hex8(answer.mark)}); it vanished after, without another traced step (dropped by routing or by something outside the ruleset)`);
    return { verdict: 'lost', decidedBy: null, mark: hex8(answer.mark), items, interfaces, notes };
  }
  if (last && last.verdict === 'queue') {
    notes.push(answer ? `queue ${answer.queue}'s consumer dropped it` : 'the packet was queued and never came back: no consumer and no bypass, or the consumer dropped it');
    return { verdict: 'drop', decidedBy: last.ref, mark: hex8(last.mark), items, interfaces, notes };
  }
  notes.push(events.length === 0 ? 'the kernel traced nothing: the packet never reached a traced chain' : 'the packet vanished after its last traced step (dropped by routing or by something outside the ruleset)');
  return { verdict: 'lost', decidedBy: null, mark: last ? hex8(last.mark) : seenMark !== undefined ? hex8(seenMark) : '-', items, interfaces, notes };
}

/** The simulator's steps as comparable items. */
export function simItems(steps: readonly Step[]): PathItem[] {
  const out: PathItem[] = [];
  for (const s of steps) {
    const isHook = s.table === '(hook)';
    const isRule = s.rule !== null && s.verdict !== 'no match';
    const isPolicy = s.rule === null && s.text.startsWith('policy ');
    if (!isHook && !isRule && !isPolicy) continue;
    out.push({ hook: s.hook, family: s.family, table: s.table, chain: s.chain, rule: s.rule, text: s.text, verdict: normVerdict(s.verdict), mark: s.markAfter });
  }
  return out;
}

/** The devices of a simulated path as the kernel's trace lists them: 'in X' / 'out X', first seen first. */
export function simInterfaces(path: readonly Leg[]): string[] {
  const out: string[] = [];
  for (const l of path) {
    for (const x of [l.iif !== undefined ? `in ${l.iif}` : undefined, l.oif !== undefined ? `out ${l.oif}` : undefined]) {
      if (x !== undefined && !out.includes(x)) out.push(x);
    }
  }
  return out;
}

function refText(r: RuleRef | null): string {
  if (!r) return 'nothing';
  return `${r.family} ${r.table} ${r.chain} ${r.rule === null ? r.text : `rule ${r.rule}`}`;
}

function sameRef(a: RuleRef | null, b: RuleRef | null): boolean {
  if (!a || !b) return a === b;
  return a.family === b.family && a.table === b.table && a.chain === b.chain && a.rule === b.rule && (a.rule !== null || a.text === b.text);
}

function itemText(i: PathItem): string {
  return `${i.family} ${i.table} ${i.chain} ${i.rule === null ? i.text : `#${i.rule}`} -> ${i.verdict} (mark ${i.mark})`;
}

/**
 * Differences between one simulated outcome and the kernel's. Empty when they agree. A policy-accept
 * step in a chain the kernel does not have (a model that declares built-in chains iptables-nft never
 * created) changes nothing and is left out of the path comparison.
 */
export function compareOutcome(sim: Pick<Outcome, 'verdict' | 'decidedBy' | 'steps'> & { mark: string; path?: readonly Leg[] }, k: KernelOutcome, kernelChains?: Set<string>): string[] {
  const diffs: string[] = [];
  // A packet the kernel lost without a rule is what the simulator calls a drop by routing (no rule).
  const kv: Verdict = k.verdict === 'lost' ? 'drop' : k.verdict;
  if (sim.verdict !== kv) diffs.push(`verdict: simulator ${sim.verdict}, kernel ${k.verdict}`);
  if (!sameRef(sim.decidedBy, k.decidedBy)) diffs.push(`decided by: simulator ${refText(sim.decidedBy)}, kernel ${refText(k.decidedBy)}`);
  // '-': the kernel traced nothing (a packet routing refused before any hook), so it has no mark to say.
  if (sim.mark !== k.mark && k.mark !== '-') diffs.push(`final mark: simulator ${sim.mark}, kernel ${k.mark}`);
  // The devices (where routing sent the packet), when the kernel saw any.
  if (sim.path && k.interfaces.length) {
    const si = simInterfaces(sim.path).join(' -> ');
    const ki = k.interfaces.join(' -> ');
    if (si !== ki) diffs.push(`interfaces: simulator ${si || '-'}, kernel ${ki}`);
  }
  const a = simItems(sim.steps).filter((i) => !(kernelChains && i.table !== '(hook)' && !kernelChains.has(key(i.family, i.table, i.chain)) && i.rule === null && i.verdict === 'accept'));
  const b = k.items;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    const same = x && y && x.family === y.family && x.table === y.table && x.chain === y.chain && x.rule === y.rule && x.verdict === y.verdict && x.mark === y.mark;
    if (!same) {
      diffs.push(`path step ${i + 1}: simulator ${x ? itemText(x) : '(ends)'}, kernel ${y ? itemText(y) : '(ends)'}`);
      break;
    }
  }
  return diffs;
}

/** Compares a trace with the kernel: the differences, and which simulated outcome the kernel took. */
export function compareTrace(r: TraceResult, k: KernelOutcome, formatMark: (m: number, known: number) => string, kernelChains?: Set<string>): { differences: string[]; matchedOutcome: number | null } {
  const diffsOf = (o: Outcome): string[] => compareOutcome({ ...o, mark: formatMark(o.mark, o.markKnown) }, k, kernelChains);
  if (r.outcomes.length === 1) {
    const d = diffsOf(r.outcomes[0]);
    return { differences: d, matchedOutcome: d.length ? null : 0 };
  }
  for (let i = 0; i < r.outcomes.length; i++) if (diffsOf(r.outcomes[i]).length === 0) return { differences: [], matchedOutcome: i };
  return { differences: ['the kernel took none of the outcomes the simulator found', ...diffsOf(r.outcomes[0])], matchedOutcome: null };
}
