// One walk of one packet through the hooks of a compiled program. Where the simulator cannot decide
// (an unknown match, a verdict it cannot know), the walk asks `choose`, which answers from a vector of
// choices; trace.ts replays the walk with every vector to show every outcome (see enumerate()).
import type { Action, CtState, Hook } from '../ruleset/model.js';
import { addrEquals, formatAddr, isLoopback, type Addr } from './addr.js';
import { K_FN, NO, UNKNOWN, YES, testMatch, whyUnknown } from './matches.js';
import { netmapAddr } from './nat.js';
import { answerFor, type QueueAnswers } from './options.js';
import { NF_IP_PRI_FIRST, NF_IP_PRI_LAST } from '../ruleset/priorities.js';
import { decideRoute, decisionText, type PolicyRule, type RouteDecision, type RouteEnv, type RouteQuery } from './routing.js';
import { IPPROTO_TCP, PORT_PROTOS, TCP_FLAGS, type PacketSpec } from './packet.js';
import { A_ACCEPT, A_CONTINUE, A_CTMARK, A_DROP, A_GOTO, A_JUMP, A_MARK, A_NAT, A_NOTRACK, A_QUEUE, A_REJECT, A_RESTORE, A_RETURN, A_SAVE, A_TPROXY, A_XT_CT, type CompiledAction, type CompiledChain, type CompiledRule, type Entry, type Program, type RuleRef, codeOf, endRefOf, loopFrom, prepareChain, refOf, ruleAt } from './program.js';
import { formatMark, type CtPhase, type PacketState } from './state.js';

export const DEFAULT_IN = 'eth0';
export const DEFAULT_OUT = 'eth0';
/** nft's jump stack is 16 deep (NFT_JUMP_STACK_SIZE); a model deeper than this is malformed. */
const MAX_DEPTH = 64;
const MAX_RULE_VISITS = 1_000_000;

export interface TraceInput {
  packet: PacketSpec;
  in?: string;
  out?: string;
  mark?: number;
  ctmark?: number;
  ctState?: CtState;
  /** Where the packet enters; default: OUTPUT when its source is local, else PREROUTING. */
  start?: 'prerouting' | 'output';
  queueAnswers?: QueueAnswers;
}

export interface Step {
  hook: Hook;
  priority: number;
  family: string;
  table: string;
  chain: string;
  rule: number | null;
  text: string;
  markBefore: string;
  markAfter: string;
  verdict: string;
  /** What else happened: NAT rewrites, a consumer's answer, why chains were skipped. */
  note?: string;
}

export interface Assumption {
  at: RuleRef;
  hook: Hook;
  reason: string;
  assumed: string;
}

export type Verdict = 'accept' | 'drop' | 'queue' | 'undetermined';

export interface Leg {
  hook: Hook;
  iif?: string;
  oif?: string;
}

export interface Outcome {
  verdict: Verdict;
  decidedBy: RuleRef | null;
  /** How the packet's journey ended. */
  end: 'delivered' | 'forwarded' | 'sent' | 'dropped' | 'queued' | 'stopped';
  mark: number;
  markKnown: number;
  ctmark: number;
  ctmarkKnown: number;
  ct: CtPhase;
  path: Leg[];
  steps: Step[];
  assumptions: Assumption[];
  /** The packet's addresses at the end (after NAT); finalText() writes them out. */
  final: FinalAddrs;
  notes: string[];
  error?: string;
}

export interface FinalAddrs {
  saddr: Addr;
  daddr: Addr;
  /** After MASQUERADE/REDIRECT: one of the node's addresses, not known which. */
  saddrLocal: boolean;
  daddrLocal: boolean;
  /** -1 for protocols without ports. */
  sport: number;
  dport: number;
}

/** The final addresses as text. */
export function finalText(f: FinalAddrs): { saddr: string; daddr: string; sport?: number; dport?: number } {
  return {
    saddr: f.saddrLocal ? '(a local address)' : formatAddr(f.saddr),
    daddr: f.daddrLocal ? '(a local address)' : formatAddr(f.daddr),
    ...(f.sport >= 0 ? { sport: f.sport, dport: f.dport } : {}),
  };
}

const NONE: never[] = [];
const MATCH_CHOICES = ['matches', 'does not match'];
const XT_CT_CHOICES = ['is CT --notrack: the packet stays untracked', 'is not --notrack (a zone, helper or timeout template)'];
const LOCALHOST4: Addr = { v: 4, n: 0x7f000001 };
const LOCALHOST6: Addr = { v: 6, w: [0, 0, 0, 1] };

// Results of a hook entry.
const V_DROP = 0;
const V_ACCEPT = 1;
const V_QUEUE = 3;
const V_STOP = 9;
// Results of a rule / an action.
const R_NOMATCH = 0;
const R_CONT = 1;
const R_NEXT = 2;
const R_ACCEPT = 3;
const R_DROP = 4;
const R_QUEUE = 5;
const R_JUMP = 6;
const R_GOTO = 7;
const R_RETURN = 8;
const R_STOP = 9;
/** The rule stops like a failed match (nft NFT_BREAK); statements before it have run. */
const R_BREAK = 10;

type QueueSpec = { num: number; numTo?: number; bypass: boolean };

interface Frame {
  chain: CompiledChain;
  pos: number;
  wild: Int32Array | null;
  wi: number;
  keyed: Int32Array | null;
  ki: number;
  /** The frame's own list for a key with one rule. */
  one: Int32Array;
  /** The chain's rules and their number, read once when the frame is set (the frame stays in cache). */
  rules: Array<CompiledRule | undefined>;
  n: number;
  /** Gotos taken since the frame's chain was jumped to: more than the table has chains is a loop. */
  gotos: number;
}

const EMPTY = new Int32Array(0);
const TCP_SYN = TCP_FLAGS.syn;
const TCP_ACK = TCP_FLAGS.ack;

export class Runner {
  // Choice replay (see trace.ts nextVector): the walk's choices are used[0..nUsed) with arities[0..nUsed);
  // the first `forced` of them are replayed, the later ones start at 0. Arrays kept from walk to walk.
  readonly used: number[] = [];
  readonly arities: number[] = [];
  nUsed = 0;
  private forced = 0;

  private st!: PacketState;
  private steps: Step[] = [];
  private assumptions: Assumption[] = [];
  private notes: string[] = [];
  private path: Leg[] = [];
  private lastAccept: RuleRef | null = null;
  private decided: RuleRef | null = null;
  private error: string | undefined;
  private priority = 0;
  private label = '';
  private note: string | undefined;
  private jTarget: CompiledChain | undefined;
  private qSpec: QueueSpec | undefined;
  private qRef: RuleRef | undefined;
  private visits = 0;
  /** --out (or the packet's out): where a non-local destination leaves. */
  private outIf: string | undefined;
  /** The devices of the current leg. */
  private iif: string | undefined;
  private oif: string | undefined;
  /** The last routing decision delivers the packet here (its oif is lo). */
  private routeLocal = false;
  /** The packet came back in through lo and keeps its route (no new routing decision). */
  private looped = false;

  /** Frames of the jump stack, reused from walk to walk (batch mode allocates little). */
  private readonly pool: Frame[] = [];
  private depth = 0;

  /**
   * Lean walks (batch mode, which prints verdicts only): no assumptions or reasons are written, only
   * the first point the walk could not decide (firstAt); run() returns the same Outcome object each
   * time, without path, steps, notes or final addresses, overwritten by the next walk.
   */
  lean = false;
  firstAt: RuleRef | null = null;
  private readonly leanOut: Outcome = {
    verdict: 'accept',
    decidedBy: null,
    end: 'delivered',
    mark: 0,
    markKnown: 0,
    ctmark: 0,
    ctmarkKnown: 0,
    ct: 'none',
    path: NONE,
    steps: NONE,
    assumptions: NONE,
    final: { saddr: { v: 4, n: 0 }, daddr: { v: 4, n: 0 }, saddrLocal: false, daddrLocal: false, sport: -1, dport: -1 },
    notes: NONE,
  };

  /** The packet and its circumstances, and whether walks record their steps: set by begin() for each trace. */
  private input!: TraceInput;
  private record = false;

  constructor(private readonly prog: Program) {}

  private choose(labels: readonly string[], at: RuleRef, reason: string): number {
    const k = this.nUsed++;
    let c = 0;
    if (k < this.forced) c = this.used[k];
    else this.used[k] = 0;
    this.arities[k] = labels.length;
    if (this.lean) {
      if (this.firstAt === null) this.firstAt = at;
      return c;
    }
    const a: Assumption = { at, hook: this.st.hook, reason, assumed: labels[c] };
    if (this.assumptions === NONE) this.assumptions = [a];
    else this.assumptions.push(a);
    return c;
  }

  /** The walk's packet state: one object per runner, reset for each walk (outcomes copy what they keep). */
  private readonly state: PacketState = this.newState();

  /** The packet's state at the start of every walk, and where it starts: set by begin(), once per trace. */
  private readonly start0: PacketState = this.newState();
  private startHook: 'prerouting' | 'output' = 'prerouting';
  private inIf0: string | undefined;
  private outIf0: string | undefined;

  private newState(): PacketState {
    return {
      family: 'ip',
      proto: 0,
      saddr: { v: 4, n: 0 },
      daddr: { v: 4, n: 0 },
      saddrUnknown: false,
      daddrUnknown: false,
      sport: -1,
      dport: -1,
      tcpFlags: 0,
      icmpType: -1,
      icmpCode: -1,
      mark: 0,
      markKnown: 0xffffffff,
      ctmark: 0,
      ctmarkKnown: 0xffffffff,
      ct: 'none',
      ctInput: 'new',
      natDst: false,
      natSrc: false,
      dnatApplied: false,
      snatApplied: false,
      hook: 'prerouting',
      iif: undefined,
      oif: undefined,
    };
  }

  /** Sets the packet and its circumstances for the walks of one trace. */
  begin(input: TraceInput, record: boolean): void {
    this.input = input;
    this.record = record;
    const p = input.packet;
    const st = this.start0;
    const ctInput = p.ctState ?? input.ctState ?? 'new';
    let flags = p.tcpFlags;
    if (flags === undefined) flags = ctInput === 'new' ? TCP_SYN : TCP_ACK;
    const ports = PORT_PROTOS.has(p.proto);
    st.family = p.family;
    st.proto = p.proto;
    st.saddr = p.saddr;
    st.daddr = p.daddr;
    st.sport = ports ? (p.sport ?? 0) : -1;
    st.dport = ports ? (p.dport ?? 0) : -1;
    st.tcpFlags = p.proto === IPPROTO_TCP ? flags : 0;
    st.icmpType = p.icmpType ?? -1;
    st.icmpCode = p.icmpCode ?? -1;
    st.mark = (p.mark ?? input.mark ?? 0) >>> 0;
    st.ctInput = ctInput;
    this.inIf0 = p.in ?? input.in;
    this.outIf0 = p.out ?? input.out;
    this.startHook = input.start ?? (this.prog.node.isLocal(p.saddr) ? 'output' : 'prerouting');
  }

  /** The walk's state, reset from start0 (the fields a walk changes, and those begin() sets). */
  private initState(): PacketState {
    const s0 = this.start0;
    const st = this.state;
    st.family = s0.family;
    st.proto = s0.proto;
    st.saddr = s0.saddr;
    st.daddr = s0.daddr;
    st.saddrUnknown = false;
    st.daddrUnknown = false;
    st.sport = s0.sport;
    st.dport = s0.dport;
    st.tcpFlags = s0.tcpFlags;
    st.icmpType = s0.icmpType;
    st.icmpCode = s0.icmpCode;
    st.mark = s0.mark;
    st.markKnown = 0xffffffff;
    st.ctmark = 0;
    st.ctmarkKnown = 0xffffffff;
    st.ct = 'none';
    st.ctInput = s0.ctInput;
    st.natDst = false;
    st.natSrc = false;
    st.dnatApplied = false;
    st.snatApplied = false;
    st.hook = 'prerouting';
    st.iif = undefined;
    st.oif = undefined;
    return st;
  }

  /** The interface a non-local destination leaves by: --out, else the routes, else the default. */
  private outDev(a: Addr, outIf: string | undefined): string {
    return outIf ?? this.prog.node.routeDev(a) ?? DEFAULT_OUT;
  }

  private isLocal(a: Addr, unknownLocal: boolean): boolean {
    return unknownLocal || this.prog.node.isLocal(a);
  }

  /** Walks the packet once, replaying the first `forced` choices of `used`. */
  run(forced: number): Outcome {
    this.forced = forced;
    this.nUsed = 0;
    this.firstAt = null;
    this.steps = this.record ? [] : NONE;
    this.assumptions = NONE;
    this.notes = NONE;
    this.path = this.record ? [] : NONE;
    this.lastAccept = null;
    this.decided = null;
    this.error = undefined;
    this.visits = 0;
    this.depth = 0;
    const st = (this.st = this.initState());
    const inIf = this.inIf0;
    this.outIf = this.outIf0;
    const start = this.startHook;
    let hook: Hook = start;
    this.iif = undefined;
    this.oif = undefined;
    this.routeLocal = false;
    this.looped = false;
    if (start === 'output') {
      // The socket's route lookup, before the OUTPUT hook, with the socket's mark (the starting mark).
      st.hook = 'output';
      this.priority = NF_IP_PRI_FIRST;
      const dev = this.routeNow(true);
      if (dev === V_DROP) return this.finish('drop', 'dropped');
      if (dev === V_STOP) return this.finish('undetermined', 'stopped');
      this.oif = dev as string;
      if (this.routeLocal && this.outIf !== undefined && this.outIf !== 'lo') this.note_(`--out ${this.outIf} ignored: a packet to a local address leaves through lo`);
      if (this.oif !== 'lo' && st.family === 'ip' && isLoopback(st.saddr)) return this.routingDrop(`a packet from ${formatAddr(st.saddr)} cannot leave through ${this.oif}: routing refuses it`);
    } else {
      this.iif = inIf ?? (isLoopback(st.saddr) ? 'lo' : DEFAULT_IN);
    }
    let forwarded = false;
    for (let legs = 0; legs < 8; legs++) {
      st.hook = hook;
      // ip_output() passes skb->dev as the input device of POSTROUTING: a forwarded packet still has its
      // input interface there; a locally generated one has none.
      if (hook === 'forward') forwarded = true;
      st.iif = hook === 'output' || (hook === 'postrouting' && !forwarded) ? undefined : this.iif;
      st.oif = hook === 'prerouting' || hook === 'input' ? undefined : this.oif;
      if (this.record) {
        const leg: Leg = { hook };
        if (st.iif !== undefined) leg.iif = st.iif;
        if (st.oif !== undefined) leg.oif = st.oif;
        this.path.push(leg);
      }
      const r = this.runHook(hook);
      if (r === V_DROP) return this.finish('drop', 'dropped');
      if (r === V_QUEUE) return this.finish('queue', 'queued');
      if (r === V_STOP) return this.finish('undetermined', 'stopped');
      switch (hook) {
        case 'prerouting':
          if (this.iif !== 'lo' && (isLoopback(st.saddr) || (!st.daddrUnknown && isLoopback(st.daddr)))) {
            return this.routingDrop(`a ${isLoopback(st.saddr) ? 'source' : 'destination'} in ${st.family === 'ip' ? '127.0.0.0/8' : '::1'} arriving on ${this.iif} is martian: routing drops it (route_localnet off)`);
          }
          // fib_validate_source: an IPv4 packet from outside whose source is one of the node's addresses
          // is a martian source (IPv6 has no such check).
          if (st.family === 'ip' && this.iif !== 'lo' && !this.looped && this.prog.node.isLocal(st.saddr)) {
            return this.routingDrop(`a source that is one of the node's addresses (${formatAddr(st.saddr)}) arriving on ${this.iif} is martian: routing drops it (accept_local off)`);
          }
          if (this.looped) {
            // Back in through lo: the packet keeps the route it left with (skb_valid_dst), local.
            hook = 'input';
            break;
          }
          {
            // The input routing decision, with the mark as PREROUTING left it.
            this.priority = NF_IP_PRI_LAST;
            const dev = this.routeNow(false);
            if (dev === V_DROP) return this.finish('drop', 'dropped');
            if (dev === V_STOP) return this.finish('undetermined', 'stopped');
            if (this.routeLocal) hook = 'input';
            else {
              hook = 'forward';
              this.oif = dev as string;
            }
          }
          break;
        case 'input':
          return this.finish('accept', 'delivered');
        case 'forward':
          hook = 'postrouting';
          break;
        case 'output':
          hook = 'postrouting';
          break;
        case 'postrouting':
          if (this.oif === 'lo' && this.routeLocal) {
            // Loopback: the same skb comes back in through lo, mark, conntrack entry and route kept.
            hook = 'prerouting';
            this.iif = 'lo';
            this.oif = undefined;
            this.looped = true;
          } else return this.finish('accept', start === 'output' ? 'sent' : 'forwarded');
          break;
        default:
          return this.finish('accept', 'delivered');
      }
    }
    this.error = 'the packet went round more than 8 hooks';
    return this.finish('undetermined', 'stopped');
  }

  private readonly routeQuery: RouteQuery = { daddr: { v: 4, n: 0 }, daddrLocal: false, saddr: { v: 4, n: 0 }, saddrUnknown: false, mark: 0, markKnown: 0, output: false, iif: undefined, proto: 0, sport: -1, dport: -1 };
  private routeEnv: RouteEnv | undefined;

  /** An ip rule as the trace names it. */
  private ruleRef(r: PolicyRule | null): RuleRef {
    const fam = this.st.family;
    return { family: fam, table: '(routing)', chain: fam === 'ip' ? 'ip rule' : 'ip -6 rule', rule: null, text: r ? r.text : 'no rule found a route' };
  }

  /**
   * The routing decision for the packet as it is now: the device it leaves by ('lo' when delivered
   * here, routeLocal set), or V_DROP / V_STOP. Without policy routing (the kernel's default rules) it
   * is the node's addresses, --out, --route and eth0, as before; with it, decideRoute() and a step.
   */
  private routeNow(output: boolean): string | number {
    const st = this.st;
    const routing = this.prog.routing;
    if (!routing[st.family].policy) {
      this.routeLocal = this.isLocal(st.daddr, st.daddrUnknown);
      return this.routeLocal ? 'lo' : this.outDev(st.daddr, this.outIf);
    }
    // One query and one environment per runner, refilled for each decision (batch mode allocates little).
    const q = this.routeQuery;
    q.daddr = st.daddr;
    q.daddrLocal = st.daddrUnknown;
    q.saddr = st.saddr;
    q.saddrUnknown = st.saddrUnknown;
    q.mark = st.mark;
    q.markKnown = st.markKnown;
    q.output = output;
    q.iif = this.iif;
    q.proto = st.proto;
    q.sport = st.sport;
    q.dport = st.dport;
    const env = (this.routeEnv ??= { node: this.prog.node, outIf: undefined, defaultOut: DEFAULT_OUT, decide: (labels, rule, reason) => this.choose(labels, this.ruleRef(rule), reason) });
    env.outIf = this.outIf;
    const d: RouteDecision = decideRoute(routing, st.family, q, env, this.record);
    const ref = this.ruleRef(d.rule);
    if (this.record) {
      const note = `${d.rule ? `ip rule "${d.rule.text}"` : 'no ip rule found a route'}${d.passed.length ? `; before it: ${d.passed.join('; ')}` : ''}`;
      this.pushStep({ ...ref, text: decisionText(d) }, st.mark, st.markKnown, d.kind === 'local' ? 'local' : d.kind === 'dev' ? `dev ${d.dev}` : d.kind === 'drop' ? 'drop' : 'undetermined', note);
    }
    switch (d.kind) {
      case 'local':
        this.routeLocal = true;
        return 'lo';
      case 'dev':
        this.routeLocal = false;
        return d.dev;
      case 'drop':
        this.note_(`routing drops the packet: ${d.why}`);
        this.decided = null;
        return V_DROP;
      case 'unknown':
        this.note_(`routing: ${d.why}`);
        this.decided = ref;
        return V_STOP;
    }
  }

  /**
   * ip_route_me_harder in OUTPUT: routes the packet again after its mark or addresses changed. Later
   * OUTPUT entries keep the old device (the hook state's `out`); POSTROUTING sees the new one.
   */
  private reroute(why: string): number {
    const st = this.st;
    const dev = this.routeNow(true);
    if (dev === V_DROP) {
      this.note_(`${why}; the new route fails, so the hook drops the packet`);
      return V_DROP;
    }
    if (dev === V_STOP) return V_STOP;
    this.oif = dev as string;
    // IPv4 refuses a 127/8 source out of another interface; IPv6 lets ::1 go (checked on the kernel).
    if (this.oif !== 'lo' && st.family === 'ip' && !st.saddrUnknown && isLoopback(st.saddr)) {
      this.note_(why.startsWith('DNAT') ? `after DNAT a packet from ${formatAddr(st.saddr)} would leave through ${this.oif}: the reroute fails and the NAT hook drops it` : `${why}: a packet from ${formatAddr(st.saddr)} would leave through ${this.oif}; the reroute fails and the hook drops it`);
      this.decided = null;
      return V_DROP;
    }
    return V_ACCEPT;
  }

  private note_(text: string): void {
    if (this.notes === NONE) this.notes = [];
    this.notes.push(text);
  }

  /** Dropped by the routing decision between hooks, not by a rule. */
  private routingDrop(why: string): Outcome {
    this.note_(why);
    this.decided = null;
    return this.finish('drop', 'dropped');
  }

  private finish(verdict: Verdict, end: Outcome['end']): Outcome {
    const st = this.st;
    let decidedBy: RuleRef | null;
    if (verdict === 'drop') decidedBy = this.decided;
    else if (verdict === 'queue') decidedBy = this.qRef ?? null;
    else if (verdict === 'accept') decidedBy = this.lastAccept;
    else decidedBy = this.decided;
    if (this.lean) {
      const o = this.leanOut;
      o.verdict = verdict;
      o.decidedBy = decidedBy;
      o.end = end;
      o.mark = st.mark >>> 0;
      o.markKnown = st.markKnown >>> 0;
      o.ctmark = st.ctmark >>> 0;
      o.ctmarkKnown = st.ctmarkKnown >>> 0;
      o.ct = st.ct;
      return o;
    }
    const o: Outcome = {
      verdict,
      decidedBy,
      end,
      mark: st.mark >>> 0,
      markKnown: st.markKnown >>> 0,
      ctmark: st.ctmark >>> 0,
      ctmarkKnown: st.ctmarkKnown >>> 0,
      ct: st.ct,
      path: this.path,
      steps: this.steps,
      assumptions: this.assumptions,
      final: { saddr: st.saddr, daddr: st.daddr, saddrLocal: st.saddrUnknown, daddrLocal: st.daddrUnknown, sport: st.sport, dport: st.dport },
      notes: this.notes,
    };
    if (this.error) o.error = this.error;
    return o;
  }

  private runHook(hook: Hook): number {
    const list: Entry[] = this.prog.entries[this.st.family][hook];
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      this.priority = e.priority;
      let r: number;
      switch (e.kind) {
        case 'conntrack':
          this.attachConntrack();
          continue;
        case 'extra':
          r = this.runExtra(e);
          break;
        case 'chain': {
          const ch = e.chain;
          if (hook === 'output' && ch.base?.type === 'route' && this.prog.routing[this.st.family].policy) {
            // A route chain (iptables mangle OUTPUT): a changed mark or address routes the packet again
            // (ip_route_me_harder); nft only when the chain accepts, legacy iptables also before queueing.
            const st = this.st;
            const mark = st.mark;
            const known = st.markKnown;
            const saddr = st.saddr;
            const daddr = st.daddr;
            r = this.runChain(ch);
            const reroute = r === V_ACCEPT || (r === V_QUEUE && ch.table.src.origin === 'iptables-legacy');
            if (reroute && (st.mark !== mark || st.markKnown !== known || !addrEquals(saddr, st.saddr) || !addrEquals(daddr, st.daddr))) {
              const rr = this.reroute(`${ch.table.name} ${ch.name} changed the ${st.mark !== mark || st.markKnown !== known ? 'mark' : 'addresses'}`);
              if (rr !== V_ACCEPT) return rr;
            }
          } else r = this.runChain(ch);
          break;
        }
        case 'nat': {
          const before = this.st.daddr;
          r = this.runNat(e);
          // nf_nat_ipv4_local_fn: a changed destination is routed again right here; a packet that
          // cannot be routed is dropped here, and later OUTPUT entries see the new device.
          // Later OUTPUT entries still see the old device (the hook state's `out` is fixed for the
          // whole hook); POSTROUTING sees the new one.
          if (r === V_ACCEPT && hook === 'output' && (!addrEquals(before, this.st.daddr) || this.st.daddrUnknown)) {
            const rr = this.reroute('DNAT changed the destination');
            if (rr !== V_ACCEPT) return rr;
          }
          break;
        }
      }
      if (r === V_QUEUE) r = this.queueAnswer();
      if (r === V_ACCEPT) continue;
      return r;
    }
    return V_ACCEPT;
  }

  private attachConntrack(): void {
    const st = this.st;
    if (st.ct !== 'none' || !this.prog.conntrack[st.family]) return;
    if (st.ctInput === 'invalid') st.ct = 'invalid';
    else if (st.ctInput === 'untracked') st.ct = 'untracked';
    else {
      st.ct = 'tracked';
      st.ctmark = (this.input.packet.ctmark ?? this.input.ctmark ?? 0) >>> 0;
      st.ctmarkKnown = 0xffffffff;
      const est = st.ctInput === 'established';
      st.natDst = est;
      st.natSrc = est;
    }
  }


  /** Records a step (only when recording: batch mode formats nothing). */
  private pushStep(ref: RuleRef, markBefore: number, knownBefore: number, verdict: string, note?: string): void {
    if (!this.record) return;
    const s: Step = {
      hook: this.st.hook,
      priority: this.priority,
      family: ref.family,
      table: ref.table,
      chain: ref.chain,
      rule: ref.rule,
      text: ref.text,
      markBefore: formatMark(markBefore, knownBefore),
      markAfter: formatMark(this.st.mark, this.st.markKnown),
      verdict,
    };
    if (note) s.note = note;
    this.steps.push(s);
  }

  // -------------------------------------------------------------------------------------------------
  // Declared hooks, NAT, queues.

  private runExtra(e: Extract<Entry, { kind: 'extra' }>): number {
    const st = this.st;
    const before = st.mark;
    const known = st.markKnown;
    for (const a of e.hook.actions) {
      switch (a.kind) {
        case 'mark':
          st.mark = ((st.mark & ~a.mask) | (a.value & a.mask)) >>> 0;
          st.markKnown = (st.markKnown | a.mask) >>> 0;
          break;
        case 'queue':
          this.pushStep(e.ref, before, known, `queue ${a.num}${a.bypass ? ' bypass' : ''}`);
          this.qSpec = { num: a.num, bypass: a.bypass };
          this.qRef = e.ref;
          return V_QUEUE;
        case 'accept':
          this.pushStep(e.ref, before, known, 'accept');
          this.lastAccept = e.ref;
          return V_ACCEPT;
        case 'drop':
          this.pushStep(e.ref, before, known, 'drop');
          this.decided = e.ref;
          return V_DROP;
      }
    }
    this.pushStep(e.ref, before, known, 'accept');
    return V_ACCEPT;
  }

  private runNat(e: Extract<Entry, { kind: 'nat' }>): number {
    const st = this.st;
    if (e.chains.length === 0) {
      // A NAT hook without chains: the kernel only sets up the null binding.
      if (st.ct === 'tracked') {
        if (e.manip === 'dst') st.natDst = true;
        else st.natSrc = true;
      }
      return V_ACCEPT;
    }
    const skipRef = (): RuleRef => ({ family: e.chains[0].table.family, table: e.chains.map((c) => c.table.name).filter((n, i, a) => a.indexOf(n) === i).join(','), chain: e.chains.map((c) => c.name).join(','), rule: null, text: 'nat chains not traversed' });
    if (st.ct !== 'tracked') {
      if (this.record) this.pushStep(skipRef(), st.mark, st.markKnown, 'skip', `no conntrack entry (${st.ct === 'none' ? 'none yet' : st.ct}): NAT chains do not run`);
      return V_ACCEPT;
    }
    const done = e.manip === 'dst' ? st.natDst : st.natSrc;
    if (done) {
      if (this.record)
        this.pushStep(
        skipRef(),
        st.mark,
        st.markKnown,
        'skip',
        st.ctInput === 'established' ? 'established connection: NAT chains see only the first packet of a connection' : "the connection's NAT binding was set up before (on the way out, for loopback)",
      );
      return V_ACCEPT;
    }
    for (const chain of e.chains) {
      const r = this.runChain(chain);
      if (r !== V_ACCEPT) return r;
      if (e.manip === 'dst' ? st.natDst : st.natSrc) break;
    }
    // No rule set up a binding: the kernel sets up a null binding, later NAT chains of this manip skip.
    if (e.manip === 'dst') st.natDst = true;
    else st.natSrc = true;
    return V_ACCEPT;
  }

  private queueAnswer(): number {
    const spec = this.qSpec as QueueSpec;
    const ref = this.qRef as RuleRef;
    const answers = this.input.queueAnswers;
    let q = spec.num;
    if (spec.numTo !== undefined && spec.numTo > spec.num) {
      const distinct: Array<{ q: number; ans: ReturnType<typeof answerFor> }> = [];
      for (let n = spec.num; n <= Math.min(spec.numTo, spec.num + 1024); n++) {
        const ans = answerFor(answers, n);
        if (!distinct.some((d) => d.ans === ans)) distinct.push({ q: n, ans });
      }
      if (distinct.length > 1) {
        const c = this.choose(
          distinct.map((d) => `queue ${d.q}`),
          ref,
          `queues ${spec.num}-${spec.numTo} are balanced by a hash of the flow and their consumers answer differently`,
        );
        q = distinct[c].q;
      }
    }
    const ans = answerFor(answers, q);
    const st = this.st;
    const before = st.mark;
    const known = st.markKnown;
    const consumer: RuleRef = { family: ref.family, table: `(queue ${q})`, chain: 'consumer', rule: null, text: '' };
    if (!ans) {
      if (spec.bypass) {
        consumer.text = `no consumer on queue ${q}; bypass: the packet goes on`;
        this.pushStep(consumer, before, known, 'accept');
        this.lastAccept = ref;
        return V_ACCEPT;
      }
      consumer.text = `no consumer on queue ${q} and no bypass: the kernel drops the packet`;
      this.pushStep(consumer, before, known, 'drop');
      this.decided = ref;
      return V_DROP;
    }
    consumer.text = `consumer answers ${ans.text}`;
    if (ans.verdict === 'drop') {
      this.pushStep(consumer, before, known, 'drop');
      this.decided = ref;
      return V_DROP;
    }
    if (ans.verdict === 'hold') {
      this.pushStep(consumer, before, known, 'queue', 'the packet waits in the queue');
      return V_QUEUE;
    }
    if (ans.mark) {
      const { value, mask } = ans.mark;
      st.mark = ((st.mark & ~mask) | (value & mask)) >>> 0;
      st.markKnown = (st.markKnown | mask) >>> 0;
    }
    if (ans.ctmark && st.ct === 'tracked') {
      const { value, mask } = ans.ctmark;
      st.ctmark = ((st.ctmark & ~mask) ^ value) >>> 0;
      st.ctmarkKnown = (st.ctmarkKnown | mask) >>> 0;
    }
    this.pushStep(consumer, before, known, 'accept', 'NF_ACCEPT: the packet continues with the next hook entry; later rules of the queueing chain do not run');
    this.lastAccept = ref;
    // nf_reinject -> nf_reroute: in OUTPUT, a mark the consumer changed routes the packet again.
    if (st.hook === 'output' && this.prog.routing[st.family].policy && (st.mark !== before || st.markKnown !== known)) return this.reroute('the queue consumer changed the mark');
    return V_ACCEPT;
  }

  // -------------------------------------------------------------------------------------------------
  // Chains and rules.

  /** The next frame of the pool, set to the start of a chain. */
  private frame(chain: CompiledChain): Frame {
    let f = this.pool[this.depth];
    if (!f) this.pool[this.depth] = f = { chain, pos: 0, wild: null, wi: 0, keyed: null, ki: 0, one: new Int32Array(1), rules: [], n: 0, gotos: 0 };
    this.depth++;
    f.chain = chain;
    f.pos = 0;
    f.gotos = 0;
    f.wild = null;
    f.wi = 0;
    f.keyed = null;
    f.ki = 0;
    if (!chain.prepared) prepareChain(chain);
    const rules = chain.rules;
    f.rules = rules;
    f.n = rules.length;
    const idx = chain.index;
    if (idx) {
      const st = this.st;
      let keyed: Int32Array | number | undefined | null = null;
      if (idx.field === 'dport') keyed = idx.byKey.get(st.dport);
      else if (!st.daddrUnknown) {
        const d = st.daddr;
        keyed = idx.byKey.get(d.v === 4 ? d.n : `${d.w[0]}:${d.w[1]}:${d.w[2]}:${d.w[3]}`);
      }
      if (keyed !== null) {
        f.wild = idx.wild;
        if (typeof keyed === 'number') {
          f.one[0] = keyed;
          f.keyed = f.one;
        } else f.keyed = keyed ?? EMPTY;
      }
    }
    return f;
  }

  /** The next rule position of a frame, or -1 at the end. */
  private next(f: Frame): number {
    if (f.wild === null) return f.pos < f.n ? f.pos++ : -1;
    const keyed = f.keyed as Int32Array;
    const a = f.wi < f.wild.length ? f.wild[f.wi] : 0x7fffffff;
    const b = f.ki < keyed.length ? keyed[f.ki] : 0x7fffffff;
    if (a === 0x7fffffff && b === 0x7fffffff) return -1;
    if (a < b) {
      f.wi++;
      return a;
    }
    f.ki++;
    return b;
  }

  private runChain(base: CompiledChain): number {
    // The jump stack is the frame pool from `bottom` to `depth - 1`; the top frame is the current chain.
    const bottom = this.depth;
    let f = this.frame(base);
    try {
      for (;;) {
        const pos = this.next(f);
        let r: number;
        let rule: CompiledRule | undefined;
        if (pos < 0) r = R_RETURN;
        else {
          rule = f.rules[pos] ?? ruleAt(f.chain, pos);
          if (++this.visits > MAX_RULE_VISITS) {
            this.error = `more than ${MAX_RULE_VISITS} rule evaluations: a loop in the ruleset?`;
            this.decided = refOf(rule);
            return V_STOP;
          }
          r = this.evalRule(rule);
        }
        switch (r) {
          case R_NOMATCH:
          case R_CONT:
            continue;
          case R_ACCEPT:
            this.lastAccept = refOf(rule as CompiledRule);
            return V_ACCEPT;
          case R_DROP:
            this.decided = refOf(rule as CompiledRule);
            return V_DROP;
          case R_QUEUE:
            this.qRef = refOf(rule as CompiledRule);
            return V_QUEUE;
          case R_JUMP: {
            const target = this.jTarget as CompiledChain;
            if (this.depth - bottom >= MAX_DEPTH || this.depth - bottom > target.table.src.chains.length) {
              this.error = this.loopError(target) ?? `jumps nest deeper than ${MAX_DEPTH} chains`;
              this.decided = refOf(rule as CompiledRule);
              return V_STOP;
            }
            // A jump to an empty chain returns at once (kube-proxy's KUBE-PROXY-FIREWALL and filter
            // KUBE-SERVICES, every forwarded packet): no frame, unless the return is a step to show.
            if (!this.record && target.prepared && target.rules.length === 0) continue;
            f = this.frame(target);
            continue;
          }
          case R_GOTO: {
            // The current frame is replaced: the goto'd chain returns to the caller's caller.
            const target = this.jTarget as CompiledChain;
            const gotos = f.gotos + 1;
            if (gotos > target.table.src.chains.length) {
              this.error = this.loopError(target) ?? `more gotos in a row than table ${target.table.family} ${target.table.name} has chains`;
              this.decided = refOf(rule as CompiledRule);
              return V_STOP;
            }
            this.depth--;
            f = this.frame(target);
            f.gotos = gotos;
            continue;
          }
          case R_RETURN: {
            if (this.depth - 1 > bottom) {
              if (pos < 0 && this.record) this.pushStep(endRefOf(f.chain), this.st.mark, this.st.markKnown, 'return');
              this.depth--;
              f = this.pool[this.depth - 1];
              continue;
            }
            // Back at the base chain's level: its policy decides.
            const pref = base.policyRef as RuleRef;
            const policy = base.base?.policy ?? 'accept';
            this.pushStep(pref, this.st.mark, this.st.markKnown, policy);
            if (policy === 'drop') {
              this.decided = pref;
              return V_DROP;
            }
            return V_ACCEPT;
          }
          case R_STOP:
            this.decided = refOf(rule as CompiledRule);
            return V_STOP;
        }
      }
    } finally {
      this.depth = bottom;
    }
  }

  /** What a walk that went round and round is told: the loop, which the kernel would not load. */
  private loopError(from: CompiledChain): string | undefined {
    const loop = loopFrom(from);
    return loop && `jump/goto loop ${loop.join(' -> ')} in table ${from.table.family} ${from.table.name}: the kernel refuses to load this ruleset ("Too many links")`;
  }

  private evalRule(rule: CompiledRule): number {
    const st = this.st;
    let i = 0;
    if (rule.k !== K_FN) {
      // The first match, from the rule's own copy of it: most rules end here, having read nothing else.
      const t = testMatch(rule, st);
      if (t === NO) return R_NOMATCH;
      if (t === YES) i = 1;
    }
    const markBefore = st.mark;
    const knownBefore = st.markKnown;
    const code = rule.code ?? codeOf(rule);
    const n = code.length;
    while (i < n) {
      const x = code[i];
      if (x.isMatch) {
        const t = testMatch(x, st);
        if (t === YES) {
          i++;
          continue;
        }
        let no = t === NO;
        let j = i + 1;
        if (!no) {
          // Unknown: a later match of the same run may still rule the rule out; else follow both ways.
          const lean = this.lean;
          let reason = lean ? '' : whyUnknown(x, st);
          for (; j < n; j++) {
            const y = code[j];
            if (!y.isMatch) break;
            const t2 = testMatch(y, st);
            if (t2 === NO) {
              no = true;
              break;
            }
            if (t2 === UNKNOWN && !lean) reason += '; ' + whyUnknown(y, st);
          }
          if (!no) no = this.choose(MATCH_CHOICES, refOf(rule), reason) === 1;
        }
        if (no) {
          if (this.record && (st.mark !== markBefore || st.markKnown !== knownBefore)) {
            this.pushStep(refOf(rule), markBefore, knownBefore, 'no match', 'statements before the failing match ran');
          }
          return R_NOMATCH;
        }
        i = j;
        continue;
      }
      this.note = undefined;
      const r = this.applyAction(x, rule);
      i++;
      if (r === R_NEXT) continue;
      if (r === R_BREAK) {
        if (this.record && (st.mark !== markBefore || st.markKnown !== knownBefore)) {
          this.pushStep(refOf(rule), markBefore, knownBefore, 'no match', 'the rule stopped reading a ct mark the packet has no entry for');
        }
        return R_NOMATCH;
      }
      if (this.record) this.pushStep(refOf(rule), markBefore, knownBefore, this.label, this.note);
      return r;
    }
    if (this.record) this.pushStep(refOf(rule), markBefore, knownBefore, 'continue');
    return R_CONT;
  }

  /** A verdict the simulator cannot know: follow each possibility. */
  private unknownVerdict(rule: CompiledRule, options: Array<'continue' | 'accept' | 'drop'>, reason: string): number {
    const c = options[this.choose(options.map((o) => (o === 'continue' ? 'goes on (not terminal)' : o)), refOf(rule), reason)];
    this.label = c;
    this.note = `assumed: ${c}`;
    return c === 'continue' ? R_CONT : c === 'accept' ? R_ACCEPT : R_DROP;
  }

  private applyAction(ca: CompiledAction, rule: CompiledRule): number {
    const st = this.st;
    switch (ca.op) {
      case A_MARK:
        st.mark = ((st.mark & ca.and) ^ ca.xor) >>> 0;
        st.markKnown = (~ca.and | st.markKnown) >>> 0;
        return R_NEXT;
      case A_ACCEPT:
        this.label = 'accept';
        return R_ACCEPT;
      case A_DROP:
        this.label = 'drop';
        return R_DROP;
      case A_REJECT:
        this.label = 'reject';
        return R_DROP;
      case A_CONTINUE:
        this.label = 'continue';
        return R_CONT;
      case A_RETURN:
        this.label = 'return';
        return R_RETURN;
      case A_JUMP:
      case A_GOTO: {
        const a = ca.action as Extract<Action, { kind: 'jump' | 'goto' }>;
        if (!ca.target) return this.unknownVerdict(rule, ['continue', 'accept', 'drop'], `chain "${a.chain}" is not declared in table ${rule.chain.table.name}`);
        this.jTarget = ca.target;
        if (this.record) this.label = `${a.kind} ${a.chain}`;
        return ca.op === A_JUMP ? R_JUMP : R_GOTO;
      }
      case A_QUEUE: {
        const a = ca.action as Extract<Action, { kind: 'queue' }>;
        this.qSpec = { num: a.num, numTo: a.numTo, bypass: a.bypass };
        this.label = `queue ${a.num}${a.numTo !== undefined && a.numTo !== a.num ? `-${a.numTo}` : ''}${a.bypass ? ' bypass' : ''}`;
        return R_QUEUE;
      }
      case A_CTMARK:
        // nft reads the ct mark first (unless it sets it whole); without an entry the rule stops there.
        if (st.ct !== 'tracked' && ca.and !== 0 && rule.chain.table.nftExprs) return R_BREAK;
        if (st.ct === 'tracked') {
          st.ctmark = ((st.ctmark & ca.and) ^ ca.xor) >>> 0;
          st.ctmarkKnown = (~ca.and | st.ctmarkKnown) >>> 0;
        }
        return R_NEXT;
      case A_SAVE:
        if (st.ct === 'tracked') {
          // ct = (ct & ~ctmask) ^ (mark & nfmask)
          st.ctmark = ((st.ctmark & ~ca.xor) ^ (st.mark & ca.and)) >>> 0;
          st.ctmarkKnown = ((ca.xor | st.ctmarkKnown) & (~ca.and | st.markKnown)) >>> 0;
        }
        return R_NEXT;
      case A_RESTORE:
        if (st.ct !== 'tracked' && rule.chain.table.nftExprs) return R_BREAK;
        if (st.ct === 'tracked') {
          // mark = (mark & ~nfmask) ^ (ct & ctmask)
          st.mark = ((st.mark & ~ca.and) ^ (st.ctmark & ca.xor)) >>> 0;
          st.markKnown = ((ca.and | st.markKnown) & (~ca.xor | st.ctmarkKnown)) >>> 0;
        }
        return R_NEXT;
      case A_NOTRACK:
        if (st.ct === 'none') st.ct = 'untracked';
        return R_NEXT;
      case A_XT_CT:
        // Only a packet without a conntrack entry can be left untracked (xt_ct_target).
        if (st.ct === 'none' && this.choose(XT_CT_CHOICES, refOf(rule), 'nft -j does not show the options of an xt target CT: it may be CT --notrack') === 0) st.ct = 'untracked';
        return R_NEXT;
      case A_NAT:
        return this.applyNat(ca);
      case A_TPROXY: {
        const a = ca.action as Extract<Action, { kind: 'tproxy' }>;
        const c = this.choose(['a transparent socket takes it', 'no transparent socket: dropped'], refOf(rule), `TPROXY accepts only if a transparent socket listens${a.port !== undefined ? ` on port ${a.port}` : ''}`);
        if (c === 1) {
          this.label = 'drop';
          return R_DROP;
        }
        if (a.mark) {
          st.mark = ((st.mark & ~a.mark.mask) ^ a.mark.value) >>> 0;
          st.markKnown = (st.markKnown | a.mark.mask) >>> 0;
        }
        this.label = 'accept';
        return R_ACCEPT;
      }
      default: {
        const a = ca.action as Extract<Action, { kind: 'other' }>;
        if (a.terminal === false) {
          if (ca.writesMark) st.markKnown = 0;
          if (ca.writesCtmark && st.ct === 'tracked') st.ctmarkKnown = 0;
          return R_NEXT;
        }
        return this.unknownVerdict(rule, a.terminal === true ? ['accept', 'drop'] : ['continue', 'accept', 'drop'], `the simulator does not know the verdict of "${a.text || a.name}"`);
      }
    }
  }

  private localOf(iface: string | undefined): Addr | undefined {
    return iface === undefined ? undefined : this.prog.node.primaryOn(iface, this.st.family === 'ip' ? 4 : 6);
  }

  private applyNat(ca: CompiledAction): number {
    const st = this.st;
    // The kind from the compiled action: a walk reads no object of the model (they are far apart in memory).
    const kind = ca.kind as 'snat' | 'dnat' | 'masquerade' | 'redirect' | 'netmap';
    const to = ca.nat ?? { addrRange: false, portRange: false };
    const dst = st.hook === 'prerouting' || st.hook === 'output';
    const before = this.record ? this.natEnd(dst) : '';
    let why: string | undefined;
    // The new address (undefined: keep it), whether it becomes "a local address, not known which", the new port.
    let addr: Addr | undefined;
    let unknown = false;
    switch (kind) {
      case 'dnat':
      case 'snat':
        if (to.addr) addr = to.addr;
        else if (to.unreadable) unknown = true;
        break;
      case 'redirect':
        if (st.hook === 'output') addr = st.family === 'ip' ? LOCALHOST4 : LOCALHOST6;
        else if (!(addr = this.localOf(st.iif))) {
          unknown = true;
          why = `the primary address of ${st.iif ?? 'the input interface'}`;
        }
        break;
      case 'masquerade':
        if (!(addr = this.localOf(st.oif))) {
          unknown = true;
          why = `the primary address of ${st.oif ?? 'the output interface'}`;
        }
        break;
      case 'netmap':
        if (to.prefix) addr = netmapAddr(dst ? st.daddr : st.saddr, to.prefix);
        else unknown = true;
        break;
    }
    if (addr && addr.v !== (st.family === 'ip' ? 4 : 6)) {
      // An inet table's `dnat ip to` does nothing to an IPv6 packet, and the rule goes on
      // (nft_nat_inet_eval evaluates only the NAT of the packet's family).
      return R_NEXT;
    }
    const port = kind === 'netmap' || st.sport < 0 ? undefined : to.port;
    let changed: boolean;
    if (dst) {
      changed = unknown || (addr !== undefined && !addrEquals(addr, st.daddr)) || (port !== undefined && port !== st.dport);
      if (addr) st.daddr = addr;
      st.daddrUnknown = unknown || (st.daddrUnknown && !addr);
      if (port !== undefined) st.dport = port;
      st.natDst = true;
      if (changed) st.dnatApplied = true;
    } else {
      changed = unknown || (addr !== undefined && !addrEquals(addr, st.saddr)) || (port !== undefined && port !== st.sport);
      if (addr) st.saddr = addr;
      st.saddrUnknown = unknown || (st.saddrUnknown && !addr);
      if (port !== undefined) st.sport = port;
      st.natSrc = true;
      if (changed) st.snatApplied = true;
    }
    this.label = 'accept';
    if (this.record) {
      const notes = [why, to.addrRange || to.portRange ? 'a range: the kernel picks one by hash, the simulator takes the first' : undefined, to.unreadable ? `could not read "${to.unreadable}"` : undefined].filter(Boolean);
      this.note = `${kind}: ${dst ? 'destination' : 'source'} ${before} -> ${this.natEnd(dst)}${notes.length ? ` (${notes.join('; ')})` : ''}`;
    }
    return R_ACCEPT;
  }

  /** One side of the packet's addresses, as text (for NAT notes). */
  private natEnd(dst: boolean): string {
    const st = this.st;
    const unknown = dst ? st.daddrUnknown : st.saddrUnknown;
    const port = dst ? st.dport : st.sport;
    return `${unknown ? '(local)' : formatAddr(dst ? st.daddr : st.saddr)}${st.sport >= 0 ? `:${port}` : ''}`;
}
}
