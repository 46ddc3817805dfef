// The detection engine: rules compiled into matchers, evaluated per packet without allocating on the
// common path. All payload patterns of all rules go into one Aho-Corasick automaton scanned once per
// packet; a rule with content becomes a candidate only when every one of its patterns was seen at an
// allowed offset. Candidates and content-less rules are then checked in file order against the
// header fields and, lazily (parsed at most once per packet), HTTP, TLS SNI and DNS fields.
//
// Semantics: rules are tried in order; `log` rules report and go on; the first matching rule with
// another action decides the verdict. No match: accept, mark untouched.
import { table } from '../util/table.js';
import { hex32 } from '../netlink/bytes.js';
import { extractDnsQueryName } from '../packet/dns.js';
import {
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  type PacketHeaders,
} from '../packet/headers.js';
import { headerValue, parseHttpRequest, type HttpRequest } from '../packet/http.js';
import { extractSni } from '../packet/tls.js';
import { AhoCorasick, confirm } from './aho-corasick.js';
import { cidrHas4, cidrHas6, parseCidr, type Cidr } from '../util/ip.js';
import { RuleCompileError, type Action, type ContentSpec, type PortSpec, type RuleSpec, type TextSpec } from './rules.js';

/** Netfilter hooks (enum nf_inet_hooks), as PacketView.hook reports them. */
export const NF_INET_PRE_ROUTING = 0;
export const NF_INET_LOCAL_IN = 1;
export const NF_INET_FORWARD = 2;
export const NF_INET_LOCAL_OUT = 3;
export const NF_INET_POST_ROUTING = 4;

/** What the daemon hands the queue for a rule's action (a Decision of src/nfqueue/verdict.ts). */
export interface RuleDecision {
  verdict: 'accept' | 'drop' | 'repeat';
  mark?: number;
  ctMark?: number;
  ctMarkMask?: number;
}

export interface CompiledRule {
  index: number;
  id: string;
  action: Action;
  log: boolean;
  decision: Readonly<RuleDecision>;
  /** Bit per content item; the rule is a candidate when all are seen. 0 for rules without content. */
  contentMask: number;
  checks: Array<(h: PacketHeaders, ctx: L7Context, hook: number) => boolean>;
}

export interface EngineOptions {
  /** Owned packet-mark bits; `mark` actions must stay inside. */
  markMask: number;
  /** Owned ctmark bit(s) a `bypass` action sets (0: bypass actions are refused). */
  bypassCtMark: number;
  /**
   * Owned packet-mark bit for kernels whose verdicts cannot change the ctmark (NFQA_CT needs
   * CONFIG_NETFILTER_NETLINK_GLUE_CT): a bypass verdict is then NF_REPEAT with this bit, and the
   * steering chain turns the bit into the ctmark bit before the packet reaches the queue again.
   */
  bypassMark?: number;
  /** Path prefix for errors (where the rules sit in the config). */
  path?: Array<string | number>;
}

/** Per-packet outcome, reused between packets: read it before the next evaluate(). */
export class EngineResult {
  /** Index of the rule that decided, or -1 (no match: accept). */
  decided = -1;
  /** Indices of matched rules that report an event (log rules, and the deciding rule if it logs). */
  readonly logged: Int32Array;
  loggedCount = 0;
  constructor(rules: number) {
    this.logged = new Int32Array(Math.max(1, rules));
  }
}

/** L7 fields of the current packet, parsed on first use. */
export class L7Context {
  private h: PacketHeaders | null = null;
  private httpDone = false;
  private httpVal: HttpRequest | null = null;
  private sniDone = false;
  private sniVal: string | null = null;
  private dnsDone = false;
  private dnsVal: string | null = null;

  reset(h: PacketHeaders): void {
    this.h = h;
    this.httpDone = this.sniDone = this.dnsDone = false;
    this.httpVal = null;
    this.sniVal = null;
    this.dnsVal = null;
  }
  http(): HttpRequest | null {
    if (!this.httpDone) {
      this.httpDone = true;
      const h = this.h;
      if (h && h.protocol === IPPROTO_TCP && h.payloadLength > 0) this.httpVal = parseHttpRequest(h.payload);
    }
    return this.httpVal;
  }
  sni(): string | null {
    if (!this.sniDone) {
      this.sniDone = true;
      const h = this.h;
      if (h && h.protocol === IPPROTO_TCP && h.payloadLength > 0) this.sniVal = extractSni(h.payload);
    }
    return this.sniVal;
  }
  dns(): string | null {
    if (!this.dnsDone) {
      this.dnsDone = true;
      const h = this.h;
      if (h && h.payloadLength > 0) {
        if (h.protocol === IPPROTO_UDP) this.dnsVal = extractDnsQueryName(h.payload);
        else if (h.protocol === IPPROTO_TCP) this.dnsVal = extractDnsQueryName(h.payload, true);
      }
    }
    return this.dnsVal;
  }
}

interface ContentItem {
  rule: number;
  bit: number;
  /** Original bytes when the match is case-sensitive (confirmed after the folded automaton hit). */
  exact: Uint8Array | null;
  offset: number;
  /** Last allowed end position (exclusive), or Infinity. */
  endLimit: number;
}

const PROTOCOLS: Readonly<Record<string, number>> = table({ tcp: IPPROTO_TCP, udp: IPPROTO_UDP, icmp: IPPROTO_ICMP, icmpv6: IPPROTO_ICMPV6, sctp: IPPROTO_SCTP });
const TCP_FLAG_BITS: Readonly<Record<string, number>> = table({
  fin: TCP_FIN,
  syn: TCP_SYN,
  rst: TCP_RST,
  psh: TCP_PSH,
  ack: TCP_ACK,
  urg: TCP_URG,
  ece: TCP_ECE,
  cwr: TCP_CWR,
});

export class Engine {
  readonly rules: CompiledRule[];
  private readonly ac: AhoCorasick | null;
  /** Content items per automaton pattern id. */
  private readonly items: ContentItem[][];
  private readonly contentFree: Int32Array;
  private readonly stamp: Int32Array;
  private readonly seen: Int32Array;
  private readonly candidates: Int32Array;
  private candidateCount = 0;
  private generation = 0;
  private readonly ctx = new L7Context();
  readonly result: EngineResult;

  constructor(specs: readonly RuleSpec[], opts: EngineOptions) {
    const base = opts.path ?? ['rules'];
    const patterns: Uint8Array[] = [];
    const patternIds = new Map<string, number>();
    this.items = [];
    this.rules = specs.map((spec, index) => {
      const at = [...base, index];
      const rule = compileRule(spec, index, at, opts);
      (spec.match.content ?? []).forEach((c, k) => {
        if (k >= 31) throw new RuleCompileError([...at, 'match', 'content', k], 'a rule can have at most 31 content items', 'split the rule in two');
        const bytes = contentBytes(c, [...at, 'match', 'content', k]);
        const key = Buffer.from(bytes.map((b) => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b))).toString('hex');
        let pid = patternIds.get(key);
        if (pid === undefined) {
          pid = patterns.length;
          patternIds.set(key, pid);
          patterns.push(bytes);
          this.items.push([]);
        }
        const offset = c.offset ?? 0;
        this.items[pid].push({
          rule: index,
          bit: 1 << k,
          exact: c.nocase ? null : bytes,
          offset,
          endLimit: c.depth === undefined ? Infinity : offset + c.depth,
        });
        rule.contentMask |= 1 << k;
      });
      return rule;
    });
    this.ac = patterns.length > 0 ? new AhoCorasick(patterns) : null;
    this.contentFree = Int32Array.from(this.rules.filter((r) => r.contentMask === 0).map((r) => r.index));
    this.stamp = new Int32Array(this.rules.length);
    this.seen = new Int32Array(this.rules.length);
    this.candidates = new Int32Array(this.rules.length);
    this.result = new EngineResult(this.rules.length);
  }

  /** L7 fields of the packet last evaluated (parsed on first use). */
  get context(): L7Context {
    return this.ctx;
  }

  /** Number of distinct payload patterns and automaton states (for the plan and the bench). */
  get automaton(): { patterns: number; states: number } {
    return { patterns: this.items.length, states: this.ac?.states ?? 0 };
  }

  /** Evaluates one parsed packet seen at netfilter hook `hook`. The result object is reused. */
  evaluate(h: PacketHeaders, hook: number): EngineResult {
    const res = this.result;
    res.decided = -1;
    res.loggedCount = 0;
    this.ctx.reset(h);
    this.candidateCount = 0;
    if (this.ac !== null && h.payloadLength > 0) this.scan(h);
    // Walk content-free rules and candidates together in rule order.
    const free = this.contentFree;
    const cand = this.candidates;
    const nc = this.candidateCount;
    if (nc > 1) insertionSort(cand, nc);
    let i = 0;
    let j = 0;
    while (i < free.length || j < nc) {
      let r: number;
      if (j >= nc || (i < free.length && free[i] < cand[j])) r = free[i++];
      else r = cand[j++];
      const rule = this.rules[r];
      if (!this.check(rule, h, hook)) continue;
      if (rule.log) res.logged[res.loggedCount++] = r;
      if (rule.action !== 'log') {
        res.decided = r;
        break;
      }
    }
    return res;
  }

  private check(rule: CompiledRule, h: PacketHeaders, hook: number): boolean {
    const checks = rule.checks;
    for (let k = 0; k < checks.length; k++) if (!checks[k](h, this.ctx, hook)) return false;
    return true;
  }

  private scan(h: PacketHeaders): void {
    const ac = this.ac as AhoCorasick;
    const next = ac.next;
    const outStart = ac.outStart;
    const outIds = ac.outIds;
    const lengths = ac.lengths;
    const b = h.bytes;
    const base = h.payloadOffset;
    const end = base + h.payloadLength;
    const gen = ++this.generation;
    let s = 0;
    for (let i = base; i < end; i++) {
      const c = b[i];
      s = next[(s << 8) | (c >= 0x41 && c <= 0x5a ? c + 0x20 : c)];
      const o0 = outStart[s];
      const o1 = outStart[s + 1];
      for (let k = o0; k < o1; k++) {
        const pid = outIds[k];
        const startAbs = i + 1 - lengths[pid];
        const start = startAbs - base;
        const stop = i + 1 - base;
        const list = this.items[pid];
        for (let m = 0; m < list.length; m++) {
          const it = list[m];
          if (start < it.offset || stop > it.endLimit) continue;
          if (it.exact !== null && !confirm(b, startAbs, it.exact)) continue;
          this.markSeen(it.rule, it.bit, gen);
        }
      }
    }
  }

  private markSeen(rule: number, bit: number, gen: number): void {
    if (this.stamp[rule] !== gen) {
      this.stamp[rule] = gen;
      this.seen[rule] = 0;
    }
    const before = this.seen[rule];
    if ((before & bit) !== 0) return;
    const now = before | bit;
    this.seen[rule] = now;
    if (now === this.rules[rule].contentMask) this.candidates[this.candidateCount++] = rule;
  }
}

function insertionSort(a: Int32Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= 0 && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

/** The bytes a content item stands for. */
export function contentBytes(c: ContentSpec, path: Array<string | number>): Uint8Array {
  if ((c.text === undefined) === (c.hex === undefined)) {
    throw new RuleCompileError(path, 'a content item needs exactly one of `text` or `hex`', 'e.g. { text: "evil" } or { hex: "de ad be ef" }');
  }
  let bytes: Uint8Array;
  if (c.text !== undefined) {
    bytes = new TextEncoder().encode(c.text);
  } else {
    const h = (c.hex as string).replace(/[\s|:]/g, '');
    if (!/^([0-9a-fA-F]{2})+$/.test(h)) {
      throw new RuleCompileError([...path, 'hex'], `hex content "${c.hex}" is not an even number of hex digits`, 'write bytes as pairs of hex digits, spaces allowed: "de ad be ef"');
    }
    bytes = Uint8Array.from(Buffer.from(h, 'hex'));
  }
  if (bytes.length === 0) throw new RuleCompileError(path, 'content is empty', 'give at least one byte to look for');
  if (c.depth !== undefined && c.depth < bytes.length) {
    throw new RuleCompileError([...path, 'depth'], `depth ${c.depth} is shorter than the pattern (${bytes.length} bytes): it can never match`, `use depth >= ${bytes.length}`);
  }
  return bytes;
}

/** Combinations that can never match (a rule that silently never fires is worse than an error). */
function neverMatches(m: RuleSpec['match'], mp: Array<string | number>): void {
  const proto = m.protocol === undefined ? undefined : typeof m.protocol === 'number' ? m.protocol : PROTOCOLS[m.protocol];
  const needTcp: Array<[keyof RuleSpec['match'], string]> = [
    ['tcp_flags', 'TCP flags'],
    ['http', 'HTTP requests'],
    ['tls_sni', 'TLS ClientHellos'],
  ];
  for (const [key, what] of needTcp) {
    if (m[key] !== undefined && proto !== undefined && proto !== IPPROTO_TCP) {
      throw new RuleCompileError([...mp, key], `${what} travel over TCP, but this rule matches protocol ${String(m.protocol)}: it can never match`, 'set protocol: tcp, or leave protocol out');
    }
  }
  if (m.dns_name !== undefined && proto !== undefined && proto !== IPPROTO_UDP && proto !== IPPROTO_TCP) {
    throw new RuleCompileError([...mp, 'dns_name'], `DNS queries travel over UDP or TCP, but this rule matches protocol ${String(m.protocol)}: it can never match`, 'set protocol: udp, or leave protocol out');
  }
  if (m.family !== undefined) {
    const v = m.family === 'ipv4' ? 4 : 6;
    for (const key of ['src', 'dst'] as const) {
      const list = m[key];
      if (list === undefined || list.length === 0) continue;
      const fams = list.map((t) => parseCidr(t)?.family);
      if (fams.every((f) => f !== undefined && f !== v)) {
        throw new RuleCompileError([...mp, key], `family is ${m.family} but every ${key} address is IPv${v === 4 ? 6 : 4}: the rule can never match`, `use ${m.family} addresses, or change family`);
      }
    }
  }
}

function compileRule(spec: RuleSpec, index: number, at: Array<string | number>, opts: EngineOptions): CompiledRule {
  const m = spec.match;
  const checks: CompiledRule['checks'] = [];
  const mp = [...at, 'match'];
  neverMatches(m, mp);
  if (m.family !== undefined) {
    const v = m.family === 'ipv4' ? 4 : 6;
    checks.push((h) => h.version === v);
  }
  if (m.protocol !== undefined) {
    const p = typeof m.protocol === 'number' ? m.protocol : PROTOCOLS[m.protocol];
    if (p === undefined) throw new RuleCompileError([...mp, 'protocol'], `unknown protocol "${m.protocol}"`, 'use tcp, udp, icmp, icmpv6, sctp or a protocol number');
    checks.push((h) => h.protocol === p);
  }
  if (m.direction !== undefined) {
    const d = m.direction;
    const ok =
      d === 'in'
        ? (hook: number) => hook === NF_INET_PRE_ROUTING || hook === NF_INET_LOCAL_IN
        : d === 'out'
          ? (hook: number) => hook === NF_INET_LOCAL_OUT || hook === NF_INET_POST_ROUTING
          : (hook: number) => hook === NF_INET_FORWARD;
    checks.push((_h, _c, hook) => ok(hook));
  }
  if (m.src_port !== undefined) {
    const r = portRanges(m.src_port, [...mp, 'src_port']);
    checks.push((h) => inRanges(r, h.sport));
  }
  if (m.dst_port !== undefined) {
    const r = portRanges(m.dst_port, [...mp, 'dst_port']);
    checks.push((h) => inRanges(r, h.dport));
  }
  if (m.src !== undefined) {
    const cs = cidrs(m.src, [...mp, 'src']);
    checks.push((h) => addrIn(cs, h, true));
  }
  if (m.dst !== undefined) {
    const cs = cidrs(m.dst, [...mp, 'dst']);
    checks.push((h) => addrIn(cs, h, false));
  }
  if (m.tcp_flags !== undefined) {
    const { set, clear } = tcpFlags(m.tcp_flags, [...mp, 'tcp_flags']);
    const care = set | clear;
    checks.push((h) => h.protocol === IPPROTO_TCP && h.l4Offset >= 0 && (h.tcpFlags & care) === set);
  }
  if (m.http !== undefined) {
    const hp = [...mp, 'http'];
    const methods = m.http.method === undefined ? null : (Array.isArray(m.http.method) ? m.http.method : [m.http.method]).map((x) => x.toUpperCase());
    const host = m.http.host === undefined ? null : textMatcher(m.http.host, [...hp, 'host'], true);
    const path = m.http.path === undefined ? null : textMatcher(m.http.path, [...hp, 'path'], false);
    const headers = (m.http.header ?? []).map((hd, k) => ({
      name: hd.name.toLowerCase(),
      value: hd.value === undefined ? null : textMatcher(hd.value, [...hp, 'header', k, 'value'], false),
    }));
    checks.push((_h, ctx) => {
      const req = ctx.http();
      if (req === null) return false;
      if (methods !== null && !methods.includes(req.method)) return false;
      if (host !== null && (req.host === undefined || !host(req.host))) return false;
      if (path !== null && !path(req.path)) return false;
      for (const hd of headers) {
        const v = headerValue(req, hd.name);
        if (v === undefined || (hd.value !== null && !hd.value(v))) return false;
      }
      return true;
    });
  }
  if (m.tls_sni !== undefined) {
    const sni = textMatcher(m.tls_sni, [...mp, 'tls_sni'], true);
    checks.push((_h, ctx) => {
      const s = ctx.sni();
      return s !== null && sni(s);
    });
  }
  if (m.dns_name !== undefined) {
    const dn = textMatcher(m.dns_name, [...mp, 'dns_name'], true);
    checks.push((_h, ctx) => {
      const s = ctx.dns();
      return s !== null && dn(s);
    });
  }
  return {
    index,
    id: spec.id,
    action: spec.action,
    log: spec.log ?? spec.action !== 'accept',
    decision: Object.freeze(decisionFor(spec, at, opts)),
    contentMask: 0,
    checks,
  };
}

function decisionFor(spec: RuleSpec, at: Array<string | number>, opts: EngineOptions): RuleDecision {
  switch (spec.action) {
    case 'accept':
    case 'log':
      return { verdict: 'accept' };
    case 'drop':
      return { verdict: 'drop' };
    case 'mark': {
      if (spec.mark === undefined) throw new RuleCompileError([...at, 'action'], 'action mark needs `mark: BITS`', `e.g. mark: ${hex32(lowestBit(opts.markMask))}`);
      if ((spec.mark & ~opts.markMask) !== 0 || spec.mark === 0) {
        throw new RuleCompileError(
          [...at, 'mark'],
          `mark ${hex32(spec.mark)} sets bits ${hex32(spec.mark & ~opts.markMask)} outside the owned mark mask ${hex32(opts.markMask)}`,
          opts.markMask === 0 ? 'own some mark bits first (mark.mask), checked with `nfqguard doctor --mask`' : `use bits inside ${hex32(opts.markMask)}`,
        );
      }
      return { verdict: 'accept', mark: spec.mark >>> 0 };
    }
    case 'bypass':
      if (opts.bypassCtMark === 0) {
        throw new RuleCompileError([...at, 'action'], 'action bypass needs an owned ctmark bit', 'set mark.bypass_ctmark, e.g. 0x01000000, checked with `nfqguard doctor --mask`');
      }
      if (opts.bypassMark) return { verdict: 'repeat', mark: opts.bypassMark >>> 0, ctMark: opts.bypassCtMark >>> 0, ctMarkMask: opts.bypassCtMark >>> 0 };
      return { verdict: 'accept', ctMark: opts.bypassCtMark >>> 0, ctMarkMask: opts.bypassCtMark >>> 0 };
  }
}

function lowestBit(mask: number): number {
  return (mask & -mask) >>> 0 || 0x00100000;
}

type Ranges = Int32Array; // pairs [lo, hi]

function portRanges(spec: PortSpec, path: Array<string | number>): Ranges {
  const list = Array.isArray(spec) ? spec : [spec];
  const out: number[] = [];
  list.forEach((p, k) => {
    const here = Array.isArray(spec) ? [...path, k] : path;
    const t = String(p).trim();
    const m = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(t);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || lo > 65535 || hi > 65535 || lo > hi) {
      throw new RuleCompileError(here, `"${t}" is not a port or port range`, 'write a port (443) or a range (8000-8080) from 0 to 65535');
    }
    out.push(lo, hi);
  });
  return Int32Array.from(out);
}

function inRanges(r: Ranges, port: number): boolean {
  for (let i = 0; i < r.length; i += 2) if (port >= r[i] && port <= r[i + 1]) return true;
  return false;
}

function cidrs(list: string[], path: Array<string | number>): Cidr[] {
  return list.map((t, k) => {
    const c = parseCidr(t);
    if (c === null) throw new RuleCompileError([...path, k], `"${t}" is not an IP address or CIDR`, 'write e.g. 10.0.0.0/8, 192.0.2.7 or fd00::/8');
    return c;
  });
}

function addrIn(cs: Cidr[], h: PacketHeaders, src: boolean): boolean {
  if (h.version === 4) {
    const a = src ? h.src4 : h.dst4;
    for (let i = 0; i < cs.length; i++) if (cidrHas4(cs[i], a)) return true;
  } else if (h.version === 6) {
    const w = src ? h.src6 : h.dst6;
    for (let i = 0; i < cs.length; i++) if (cidrHas6(cs[i], w)) return true;
  }
  return false;
}

function tcpFlags(spec: string, path: Array<string | number>): { set: number; clear: number } {
  let set = 0;
  let clear = 0;
  for (const raw of spec.split(',')) {
    const t = raw.trim().toLowerCase();
    if (t === '') continue;
    const neg = t.startsWith('!');
    const bit = TCP_FLAG_BITS[neg ? t.slice(1) : t];
    if (bit === undefined) throw new RuleCompileError(path, `unknown TCP flag "${raw.trim()}"`, `use ${Object.keys(TCP_FLAG_BITS).join(', ')}, "!" in front for "must be clear": "syn,!ack"`);
    if (neg) clear |= bit;
    else set |= bit;
  }
  if ((set & clear) !== 0) throw new RuleCompileError(path, `tcp_flags "${spec}" asks for a flag to be both set and clear`, 'name each flag once');
  if ((set | clear) === 0) throw new RuleCompileError(path, 'tcp_flags is empty', 'e.g. "syn,!ack"');
  return { set, clear };
}

/**
 * A string test. Plain strings match exactly; for domain fields ("dns", "sni", "host") a leading "*."
 * matches any subdomain, and comparison ignores case.
 */
export function textMatcher(spec: TextSpec, path: Array<string | number>, domain: boolean): (s: string) => boolean {
  if (typeof spec === 'string') {
    if (domain) {
      const t = spec.toLowerCase().replace(/\.$/, '');
      if (t.startsWith('*.')) {
        const suffix = t.slice(1);
        return (s) => s.endsWith(suffix) && s.length > suffix.length;
      }
      return (s) => s === t;
    }
    return (s) => s === spec;
  }
  const keys = (['equals', 'prefix', 'suffix', 'contains'] as const).filter((k) => spec[k] !== undefined);
  if (keys.length !== 1) {
    throw new RuleCompileError(path, `a text match needs exactly one of equals, prefix, suffix, contains (got ${keys.length})`, 'e.g. { prefix: "/admin" }');
  }
  const key = keys[0];
  const nocase = spec.nocase ?? domain;
  const want = nocase ? (spec[key] as string).toLowerCase() : (spec[key] as string);
  const norm = nocase ? (s: string) => s.toLowerCase() : (s: string) => s;
  switch (key) {
    case 'equals':
      return (s) => norm(s) === want;
    case 'prefix':
      return (s) => norm(s).startsWith(want);
    case 'suffix':
      return (s) => norm(s).endsWith(want);
    case 'contains':
      return (s) => norm(s).includes(want);
  }
}
