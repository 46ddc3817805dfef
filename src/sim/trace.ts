// The simulator's public face: compile a ruleset once, trace packets through it. A trace follows every
// outcome the simulator cannot rule out (tri-state): when all of them agree, the verdict is theirs;
// when they differ, the verdict is "undetermined" and names the rule that made it so.
import type { Hook, IpRule, Ruleset } from '../ruleset/model.js';
import type { ExtraHook, LocalAddress, RouteSpec } from './options.js';
import { formatPacketSpec, type PacketSpec } from './packet.js';
import { compileProgram, type ConntrackMode, type Program, type RuleRef } from './program.js';
import { Runner, finalText, type Assumption, type Outcome, type Step, type TraceInput, type Verdict } from './run.js';
import { formatMark } from './state.js';

export type { Assumption, Outcome, Step, TraceInput, Verdict } from './run.js';
export { finalText } from './run.js';
export type { RuleRef } from './program.js';

export interface SimulatorOptions {
  /** Hooks registered by something outside the ruleset (--hook). */
  hooks?: readonly ExtraHook[];
  /** The node's own addresses (127.0.0.0/8 and ::1 are always local). */
  locals?: readonly LocalAddress[];
  /** Which interface destinations leave by (default: --out, else eth0). */
  routes?: readonly RouteSpec[];
  /** Whether conntrack runs: 'auto' (default) when a rule uses it. */
  conntrack?: ConntrackMode;
  /**
   * Policy routing rules (`ip rule`): which table a packet with a given mark uses. Default none: the
   * kernel's three default rules (local, main, default), where the mark changes nothing.
   */
  ipRules?: readonly IpRule[];
  /** The routes of every table are in `routes` (read live): a table without routes does not exist. */
  allTablesKnown?: boolean;
}

export interface TraceOptions {
  /** At most this many outcomes are followed (default 64); more make the result truncated. */
  maxOutcomes?: number;
  /** Record the steps (default true); batch mode turns it off for speed. */
  recordSteps?: boolean;
}

export interface TraceResult {
  packet: PacketSpec;
  verdict: Verdict;
  /** The rule that decided; for "undetermined" the first rule the simulator could not decide. */
  decidedBy: RuleRef | null;
  mark: number;
  markKnown: number;
  /** The steps of the first outcome. */
  steps: Step[];
  outcomes: Outcome[];
  /** More outcomes exist than were followed. */
  truncated: boolean;
  /** Each point the simulator could not decide, once. */
  undeterminedBy: Array<{ at: RuleRef; reason: string }>;
  notes: string[];
}

function sameRef(a: RuleRef | null, b: RuleRef | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return a.family === b.family && a.table === b.table && a.chain === b.chain && a.rule === b.rule && a.text === b.text;
}

/** What outcomes must share for their trace to have one verdict. */
type OutcomeKey = Pick<Outcome, 'verdict' | 'decidedBy' | 'mark' | 'markKnown'>;

function sameOutcome(a: OutcomeKey, b: OutcomeKey): boolean {
  return a.verdict === b.verdict && sameRef(a.decidedBy, b.decidedBy) && a.mark === b.mark && a.markKnown === b.markKnown;
}

/**
 * After a walk, sets the runner's next choice vector (depth first): it keeps the choices before the last
 * one that has an alternative left, and takes that alternative. Returns how many choices the next walk
 * replays (run's `forced`), or -1 when every vector has been walked.
 */
function nextVector(runner: Runner): number {
  const used = runner.used;
  const ar = runner.arities;
  let k = runner.nUsed - 1;
  while (k >= 0 && used[k] >= ar[k] - 1) k--;
  if (k < 0) return -1;
  used[k]++;
  return k + 1;
}

/** Replays the walk with every choice vector, up to `max` outcomes, into `outcomes`; returns whether more exist. */
function enumerate(runner: Runner, max: number, outcomes: Outcome[]): boolean {
  let forced = 0;
  for (;;) {
    outcomes.push(runner.run(forced));
    forced = nextVector(runner);
    if (forced < 0) return false;
    if (outcomes.length >= max) return true;
  }
}

/** What batch mode prints of a trace: the combined verdict, the rule, the mark, how many outcomes. */
export interface TraceSummary {
  verdict: Verdict;
  /** As TraceResult.decidedBy. */
  decidedBy: RuleRef | null;
  mark: number;
  markKnown: number;
  /** The number of outcomes followed. */
  outcomes: number;
  truncated: boolean;
}

export class Simulator {
  readonly program: Program;

  constructor(ruleset: Ruleset, opts: SimulatorOptions = {}) {
    this.program = compileProgram(ruleset, opts.hooks ?? [], opts.locals ?? [], opts.routes ?? [], opts.conntrack ?? 'auto', { ipRules: opts.ipRules ?? [], allTablesKnown: opts.allTablesKnown ?? false });
  }

  private runner: Runner | undefined;

  /**
   * The verdict, deciding rule and mark of trace() without anything else (batch mode): the same walks
   * in lean mode, which allocate nothing per walk, combined as trace() combines them.
   */
  summarize(input: TraceInput, maxOutcomes = 64): TraceSummary {
    const runner = this.runnerFor(input, false);
    runner.lean = true;
    const max = Math.max(1, maxOutcomes);
    let n = 0;
    let forced = 0;
    let truncated = false;
    // The first outcome (copied: a lean walk's outcome is overwritten by the next), whether all outcomes
    // are the same as it, the mark bits they agree on, and the first point any of them could not decide
    // (trace()'s undeterminedBy[0]).
    const first: OutcomeKey = { verdict: 'accept', decidedBy: null, mark: 0, markKnown: 0 };
    /** The bits of the mark known in every outcome and equal to the first's. */
    let agreed = 0;
    let same = true;
    let firstAt: RuleRef | null = null;
    try {
      for (;;) {
        const o = runner.run(forced);
        if (n++ === 0) {
          first.verdict = o.verdict;
          first.decidedBy = o.decidedBy;
          first.mark = o.mark;
          first.markKnown = o.markKnown;
          agreed = o.markKnown;
        } else {
          if (same && !sameOutcome(o, first)) same = false;
          agreed &= o.markKnown & ~(o.mark ^ first.mark);
        }
        if (firstAt === null) firstAt = runner.firstAt;
        forced = nextVector(runner);
        if (forced < 0) break;
        if (n >= max) {
          truncated = true;
          break;
        }
      }
    } finally {
      runner.lean = false;
    }
    const { verdict, decidedBy, mark, markKnown } = first;
    if (n === 1 && verdict !== 'undetermined') return { verdict, decidedBy, mark, markKnown, outcomes: 1, truncated: false };
    const agree = !truncated && verdict !== 'undetermined' && same;
    return { verdict: agree ? verdict : 'undetermined', decidedBy: agree ? decidedBy : (firstAt ?? decidedBy), mark, markKnown: agreed >>> 0, outcomes: n, truncated };
  }

  private runnerFor(input: TraceInput, record: boolean): Runner {
    const runner = this.runner ?? (this.runner = new Runner(this.program));
    runner.begin(input, record);
    return runner;
  }

  /**
   * A connection state or ct mark the caller gave, for a family whose conntrack does not run (no rule
   * takes a reference on it): the packet gets no entry, so they are not used. Said, not silently dropped.
   */
  private ignoredCtNote(input: TraceInput): string | undefined {
    const p = input.packet;
    const fam = p.saddr.v === 4 ? 'ip' : 'ip6';
    if (this.program.conntrack[fam]) return undefined;
    const state = p.ctState ?? input.ctState ?? 'new';
    const ctmark = (p.ctmark ?? input.ctmark ?? 0) >>> 0;
    if ((state === 'new' || state === 'untracked') && ctmark === 0) return undefined;
    const given = [state !== 'new' && state !== 'untracked' ? `ct state ${state}` : '', ctmark ? `ctmark ${formatMark(ctmark, 0xffffffff)}` : ''].filter(Boolean).join(' and ');
    return `${given} not used: no ${fam === 'ip' ? 'IPv4' : 'IPv6'} rule uses conntrack, so it does not run and the packet has no entry; add --conntrack on if something else on the node uses it`;
  }

  trace(input: TraceInput, opts: TraceOptions = {}): TraceResult {
    const record = opts.recordSteps !== false;
    const runner = this.runnerFor(input, record);
    const outcomes: Outcome[] = [];
    const truncated = enumerate(runner, Math.max(1, opts.maxOutcomes ?? 64), outcomes);
    const first = outcomes[0];
    const ctNote = this.ignoredCtNote(input);
    if (outcomes.length === 1 && first.verdict !== 'undetermined') {
      // The common case: nothing to combine.
      return {
        packet: input.packet,
        verdict: first.verdict,
        decidedBy: first.decidedBy,
        mark: first.mark,
        markKnown: first.markKnown,
        steps: first.steps,
        outcomes,
        truncated: false,
        undeterminedBy: [],
        notes: first.notes.length || ctNote ? [...this.program.notes, ...first.notes, ...(ctNote ? [ctNote] : [])] : this.program.notes,
      };
    }
    const agree = !truncated && first.verdict !== 'undetermined' && outcomes.every((o) => sameOutcome(o, first));
    const undeterminedBy: TraceResult['undeterminedBy'] = [];
    for (const o of outcomes) {
      for (const a of o.assumptions) {
        if (!undeterminedBy.some((u) => sameRef(u.at, a.at) && u.reason === a.reason)) undeterminedBy.push({ at: a.at, reason: a.reason });
      }
      // A walk that stopped (a loop in the ruleset, too many hooks): where, and why.
      if (o.error && o.decidedBy && !undeterminedBy.some((u) => sameRef(u.at, o.decidedBy) && u.reason === o.error)) undeterminedBy.push({ at: o.decidedBy, reason: o.error });
    }
    let markKnown = first.markKnown;
    for (const o of outcomes) markKnown &= o.markKnown & ~(o.mark ^ first.mark);
    const notes = [...this.program.notes];
    for (const o of outcomes) for (const n of o.notes) if (!notes.includes(n)) notes.push(n);
    if (ctNote) notes.push(ctNote);
    if (truncated) notes.push(`more than ${outcomes.length} outcomes; only the first ${outcomes.length} were followed`);
    return {
      packet: input.packet,
      verdict: agree ? first.verdict : 'undetermined',
      decidedBy: agree ? first.decidedBy : (undeterminedBy[0]?.at ?? first.decidedBy),
      mark: first.mark,
      markKnown: markKnown >>> 0,
      steps: first.steps,
      outcomes,
      truncated,
      undeterminedBy,
      notes,
    };
  }
}

/** Where the walk starts for this packet (for display). */
export function startHook(r: TraceResult): Hook {
  return r.outcomes[0].path[0]?.hook ?? 'prerouting';
}

/** The --json shape: the fields first, then what explains undetermined results. */
export function traceJson(r: TraceResult): Record<string, unknown> {
  const ref = (x: RuleRef | null) => (x === null ? null : { family: x.family, table: x.table, chain: x.chain, rule: x.rule, text: x.text });
  const steps = (s: Step[]) =>
    s.map((x) => ({
      hook: x.hook,
      priority: x.priority,
      table: x.table,
      chain: x.chain,
      rule: x.rule,
      text: x.text,
      markBefore: x.markBefore,
      markAfter: x.markAfter,
      verdict: x.verdict,
      family: x.family,
      ...(x.note ? { note: x.note } : {}),
    }));
  const out: Record<string, unknown> = {
    verdict: r.verdict,
    decidedBy: ref(r.decidedBy),
    mark: formatMark(r.mark, r.markKnown),
    steps: steps(r.steps),
    packet: formatPacketSpec(r.packet),
    path: r.outcomes[0].path,
    ctmark: formatMark(r.outcomes[0].ctmark, r.outcomes[0].ctmarkKnown),
    final: finalText(r.outcomes[0].final),
    notes: r.notes,
  };
  if (r.outcomes.length > 1 || r.verdict === 'undetermined') {
    out.undeterminedBy = r.undeterminedBy.map((u) => ({ ...ref(u.at), reason: u.reason }));
    out.outcomes = r.outcomes.map((o) => ({
      verdict: o.verdict,
      decidedBy: ref(o.decidedBy),
      mark: formatMark(o.mark, o.markKnown),
      assumptions: o.assumptions.map((a) => ({ ...ref(a.at), hook: a.hook, reason: a.reason, assumed: a.assumed })),
      path: o.path,
      ...(o.error ? { error: o.error } : {}),
      steps: steps(o.steps),
    }));
    out.truncated = r.truncated;
  }
  return out;
}
