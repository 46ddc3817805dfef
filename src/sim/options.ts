// What a trace needs besides the ruleset and the packet, parsed from the command's option texts:
// the queue consumer's answers, hooks declared by the user (a kernel module's nf_hook_ops), and the
// node's local addresses. Parsers throw OptionError; the command turns it into a usage error.
import { table } from '../util/table.js';
import type { Hook } from '../ruleset/model.js';
import {
  NF_IP_PRI_CONNTRACK,
  NF_IP_PRI_CONNTRACK_CONFIRM,
  NF_IP_PRI_CONNTRACK_DEFRAG,
  NF_IP_PRI_CONNTRACK_HELPER,
  NF_IP_PRI_FILTER,
  NF_IP_PRI_FIRST,
  NF_IP_PRI_LAST,
  NF_IP_PRI_MANGLE,
  NF_IP_PRI_NAT_DST,
  NF_IP_PRI_NAT_SRC,
  NF_IP_PRI_RAW,
  NF_IP_PRI_RAW_BEFORE_DEFRAG,
  NF_IP_PRI_SECURITY,
  NF_IP_PRI_SELINUX_FIRST,
  NF_IP_PRI_SELINUX_LAST,
  parseNftPriority,
} from '../ruleset/priorities.js';
import { parseAddr, parsePrefix, type Addr, type Prefix } from './addr.js';

export class OptionError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'OptionError';
  }
}

function parseU32Text(text: string, what: string): number {
  const t = text.trim().toLowerCase();
  const n = /^(0x[0-9a-f]+|[0-9]+)$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new OptionError(`${what} must be a 32-bit number such as 0x8000, got "${text}"`);
  return n >>> 0;
}

/** 'V' (mask 0xffffffff) or 'V/M'. */
export function parseMarkValue(text: string, what: string): { value: number; mask: number } {
  const [v, m] = text.split('/');
  const value = parseU32Text(v, what);
  const mask = m === undefined ? 0xffffffff : parseU32Text(m, `${what} mask`);
  return { value, mask };
}

// ---------------------------------------------------------------------------------------------------
// Queue answers.

/**
 * What the queue consumer answers. `mark` as the kernel applies NFQA_MARK: with mask 0xffffffff it
 * replaces the whole mark (the seed's nfq_set_verdict2); with a narrower mask the consumer kept the
 * other bits itself (nfqguard's mark ownership): mark = (mark & ~mask) | (value & mask).
 * `hold`: the packet stays in the queue; the trace ends with verdict "queue".
 */
export interface QueueAnswer {
  verdict: 'accept' | 'drop' | 'hold';
  mark?: { value: number; mask: number };
  /** NFQA_CT CTA_MARK/CTA_MARK_MASK: ctmark = (ctmark & ~mask) ^ value. */
  ctmark?: { value: number; mask: number };
  text: string;
}

/** Answers per queue number; `all` for every queue not named. A queue with no answer has no consumer. */
export interface QueueAnswers {
  all?: QueueAnswer;
  byQueue: Map<number, QueueAnswer>;
}

export const QUEUE_VERDICT_SYNTAX = '[QUEUE:]accept[,mark=V[/M]][,ctmark=V[/M]] | [QUEUE:]drop | [QUEUE:]hold | [QUEUE:]none';

/** Parses one --queue-verdict value into answers (repeatable: later values for the same queue win). */
export function addQueueVerdict(answers: QueueAnswers, text: string): QueueAnswers {
  let rest = text.trim();
  let queue: number | undefined;
  const q = /^(\d{1,5}):(.*)$/.exec(rest);
  if (q) {
    queue = Number(q[1]);
    if (queue > 65535) throw new OptionError(`queue number must be 0-65535, got ${q[1]}`);
    rest = q[2];
  }
  const parts = rest.split(',').map((p) => p.trim());
  const verdict = parts[0].toLowerCase();
  if (verdict === 'none') {
    if (queue === undefined) answers.all = undefined;
    else answers.byQueue.delete(queue);
    return answers;
  }
  if (verdict !== 'accept' && verdict !== 'drop' && verdict !== 'hold') {
    throw new OptionError(`--queue-verdict "${text}": the verdict must be accept, drop, hold or none`, `syntax: ${QUEUE_VERDICT_SYNTAX}`);
  }
  const ans: QueueAnswer = { verdict, text: rest };
  for (const p of parts.slice(1)) {
    const kv = /^(mark|ctmark)=(.+)$/i.exec(p);
    if (!kv) throw new OptionError(`--queue-verdict "${text}": unexpected "${p}"`, `syntax: ${QUEUE_VERDICT_SYNTAX}`);
    if (verdict !== 'accept') throw new OptionError(`--queue-verdict "${text}": only accept carries a mark`);
    const key = kv[1].toLowerCase() as 'mark' | 'ctmark';
    ans[key] = parseMarkValue(kv[2], `--queue-verdict ${key}`);
  }
  if (queue === undefined) answers.all = ans;
  else answers.byQueue.set(queue, ans);
  return answers;
}

export function answerFor(answers: QueueAnswers | undefined, queue: number): QueueAnswer | undefined {
  if (!answers) return undefined;
  return answers.byQueue.get(queue) ?? answers.all;
}

// ---------------------------------------------------------------------------------------------------
// Declared hooks: functions registered with nf_register_net_hook by something that is not in the
// ruleset (the seed's kernel module).

export type ExtraAction =
  | { kind: 'mark'; value: number; mask: number }
  | { kind: 'queue'; num: number; bypass: boolean }
  | { kind: 'accept' }
  | { kind: 'drop' };

export interface ExtraHook {
  /** 'inet' registers for both IPv4 and IPv6. */
  family: 'ip' | 'ip6' | 'inet';
  hook: Hook;
  priority: number;
  /** As written, e.g. 'FIRST+1'. */
  priorityText: string;
  actions: ExtraAction[];
  /** The option as written. */
  text: string;
}

const NF_PRIORITIES: Readonly<Record<string, number>> = table({
  first: NF_IP_PRI_FIRST,
  raw_before_defrag: NF_IP_PRI_RAW_BEFORE_DEFRAG,
  conntrack_defrag: NF_IP_PRI_CONNTRACK_DEFRAG,
  selinux_first: NF_IP_PRI_SELINUX_FIRST,
  conntrack: NF_IP_PRI_CONNTRACK,
  nat_dst: NF_IP_PRI_NAT_DST,
  nat_src: NF_IP_PRI_NAT_SRC,
  selinux_last: NF_IP_PRI_SELINUX_LAST,
  conntrack_helper: NF_IP_PRI_CONNTRACK_HELPER,
  conntrack_confirm: NF_IP_PRI_CONNTRACK_CONFIRM,
  last: NF_IP_PRI_LAST,
  raw: NF_IP_PRI_RAW,
  mangle: NF_IP_PRI_MANGLE,
  filter: NF_IP_PRI_FILTER,
  security: NF_IP_PRI_SECURITY,
});

/** 'FIRST', 'FIRST+1', 'NF_IP_PRI_MANGLE-1', 'mangle + 1', 'dstnat', '-150'. */
export function parseHookPriority(text: string): number | undefined {
  const t = text.trim();
  if (/^[+-]?\d+$/.test(t)) {
    const n = Number(t);
    return n >= NF_IP_PRI_FIRST && n <= NF_IP_PRI_LAST ? n : undefined;
  }
  const m = /^(?:nf_ip_pri_)?([a-z_]+)\s*(?:([+-])\s*(\d+))?$/i.exec(t);
  if (m) {
    const base = NF_PRIORITIES[m[1].toLowerCase()];
    if (base !== undefined) {
      const n = base + (m[3] === undefined ? 0 : Number(m[3]) * (m[2] === '-' ? -1 : 1));
      return n >= NF_IP_PRI_FIRST && n <= NF_IP_PRI_LAST ? n : undefined;
    }
  }
  return parseNftPriority(t.toLowerCase());
}

const HOOKS: Hook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];
export const HOOK_SYNTAX = '[ip|ip6|inet:]HOOK:PRIORITY:ACTION[,ACTION...]  (HOOK: prerouting|input|forward|output|postrouting; PRIORITY: FIRST, FIRST+1, mangle-1, -150...; ACTION: queue=N, bypass, clear-mark, mark=V[/M], accept, drop)';

/** Parses --hook, e.g. 'input:FIRST:queue=80' or 'input:FIRST+1:clear-mark'. */
export function parseExtraHook(text: string): ExtraHook {
  const bad = (why: string): never => {
    throw new OptionError(`--hook "${text}": ${why}`, `syntax: ${HOOK_SYNTAX}`);
  };
  const fields = text.split(':');
  let family: ExtraHook['family'] = 'inet';
  if (fields[0] === 'ip' || fields[0] === 'ip6' || fields[0] === 'inet') family = fields.shift() as ExtraHook['family'];
  if (fields.length !== 3) bad('expected HOOK:PRIORITY:ACTION');
  const hook = fields[0].toLowerCase() as Hook;
  if (!HOOKS.includes(hook)) bad(`unknown hook "${fields[0]}"`);
  const priority = parseHookPriority(fields[1]);
  if (priority === undefined) bad(`"${fields[1]}" is not a priority`);
  const actions: ExtraAction[] = [];
  let queue: { kind: 'queue'; num: number; bypass: boolean } | undefined;
  let bypass = false;
  for (const raw of fields[2].split(',')) {
    const a = raw.trim().toLowerCase();
    let m: RegExpExecArray | null;
    if ((m = /^queue=(\d{1,5})$/.exec(a))) {
      const num = Number(m[1]);
      if (num > 65535) bad('queue number must be 0-65535');
      queue = { kind: 'queue', num, bypass: false };
      actions.push(queue);
    } else if (a === 'bypass') bypass = true;
    else if (a === 'clear-mark') actions.push({ kind: 'mark', value: 0, mask: 0xffffffff });
    else if ((m = /^mark=(.+)$/.exec(a))) {
      try {
        actions.push({ kind: 'mark', ...parseMarkValue(m[1], 'mark') });
      } catch (e) {
        bad((e as Error).message);
      }
    } else if (a === 'accept' || a === 'drop') actions.push({ kind: a });
    else bad(`unknown action "${raw}"`);
  }
  if (bypass) {
    if (!queue) bad('bypass needs queue=N');
    else queue.bypass = true;
  }
  const verdicts = actions.filter((a) => a.kind !== 'mark');
  if (verdicts.length > 1) bad('at most one of queue=N, accept, drop');
  if (verdicts.length === 1 && actions[actions.length - 1] !== verdicts[0]) bad('the verdict (queue=N, accept, drop) comes last');
  return { family, hook, priority: priority as number, priorityText: fields[1], actions, text };
}

// ---------------------------------------------------------------------------------------------------
// Local addresses.

export interface LocalAddress {
  addr: Addr;
  /** The interface the address is on, when known (needed by addrtype --limit-iface-*). */
  iface?: string;
  /** The subnet's broadcast address (IPv4 with a prefix length), which addrtype calls BROADCAST. */
  broadcast?: Addr;
  text: string;
}

/** 'ADDR', 'ADDR/LEN', 'ADDR@IFACE', 'ADDR/LEN@IFACE'. */
export function parseLocalAddress(text: string): LocalAddress {
  const [addrPart, iface] = text.split('@');
  const slash = addrPart.indexOf('/');
  const addr = parseAddr(slash < 0 ? addrPart : addrPart.slice(0, slash));
  if (!addr) throw new OptionError(`--local "${text}": not an IPv4 or IPv6 address`, 'syntax: ADDR[/LEN][@IFACE], e.g. 10.0.0.2/24@eth0');
  const out: LocalAddress = { addr, text };
  if (iface !== undefined) {
    if (!/^[A-Za-z0-9_.:+-]{1,15}$/.test(iface)) throw new OptionError(`--local "${text}": "${iface}" is not an interface name`);
    out.iface = iface;
  }
  if (slash >= 0) {
    const p = parsePrefix(addrPart);
    if (!p) throw new OptionError(`--local "${text}": bad prefix length`);
    if (p.v === 4 && p.len <= 30) out.broadcast = { v: 4, n: (p.net | ~p.mask) >>> 0 };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Routes: which interface a destination leaves by (only the choice of interface is modelled), per
// routing table (`ip rule` picks the table; see routing.ts).

/** unicast: leaves by `dev`; local: delivered here; throw: the table says "ask the next rule". */
export type RouteType = 'unicast' | 'local' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';
export const ROUTE_TYPES: readonly RouteType[] = ['unicast', 'local', 'blackhole', 'unreachable', 'prohibit', 'throw'];

export interface RouteSpec {
  prefix: Prefix;
  /** The device of a unicast route. */
  dev: string;
  /** 'main' unless given; 254/253/255 are written main/default/local. */
  table?: string;
  /** Default unicast. */
  type?: RouteType;
  text: string;
}

/** The kernel's names for its reserved table numbers (ip route prints names for these). */
export function tableName(t: string): string {
  return t === '254' ? 'main' : t === '253' ? 'default' : t === '255' ? 'local' : t;
}

export const ROUTE_SYNTAX = 'CIDR@DEV[,table=T] or CIDR@TYPE[,table=T] (TYPE: local, blackhole, unreachable, prohibit, throw; CIDR may be default or default6)';

/** 'CIDR@DEV', e.g. '10.1.0.0/16@eth1' or 'default@eth0'; ',table=51820' puts it in another table. */
export function parseRoute(text: string): RouteSpec {
  const [head, ...opts] = text.split(',');
  const [p, dev, extra] = head.split('@');
  if (!dev || extra !== undefined || !/^[A-Za-z0-9_.:+-]{1,15}$/.test(dev)) throw new OptionError(`--route "${text}": expected CIDR@DEV`, `e.g. --route 10.1.0.0/16@eth1 --route default@eth0 --route default@wg0,table=51820; syntax: ${ROUTE_SYNTAX}`);
  const prefixText = p === 'default' ? '0.0.0.0/0' : p === 'default6' ? '::/0' : p;
  const prefix = parsePrefix(prefixText);
  if (!prefix) throw new OptionError(`--route "${text}": "${p}" is not a prefix`);
  const out: RouteSpec = { prefix, dev, text };
  if ((ROUTE_TYPES as readonly string[]).includes(dev) && dev !== 'unicast') out.type = dev as RouteType;
  for (const o of opts) {
    const m = /^table=([A-Za-z0-9_.-]{1,64})$/.exec(o.trim());
    if (!m) throw new OptionError(`--route "${text}": unexpected "${o}"`, `syntax: ${ROUTE_SYNTAX}`);
    const t = tableName(m[1]);
    if (t === 'local') throw new OptionError(`--route "${text}": the local table is the node's own addresses; give them with --local`);
    if (t !== 'main') out.table = t;
  }
  return out;
}
