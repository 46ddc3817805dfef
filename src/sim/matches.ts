// Matches of the ruleset model, compiled into small tri-state tests: 0 no, 1 yes, 2 unknown. Unknown
// is an answer, not a failure: an uninterpreted module, a set whose contents are not in the ruleset,
// mark bits written by something the simulator does not read. The runner then follows both outcomes.
import { table } from '../util/table.js';
import type { Match, NamedSet } from '../ruleset/model.js';
import { inPrefix, isLimitedBroadcast, isMulticast, isUnspecified, parseAddr, parsePrefix, type Addr, type Prefix } from './addr.js';
import { PORT_PROTOS, PROTO_NUMBERS } from './packet.js';
import type { PacketState } from './state.js';

export const NO = 0;
export const YES = 1;
export const UNKNOWN = 2;
export type Tri = 0 | 1 | 2;

// Kinds of compiled match that testMatch() evaluates inline from the object's own fields: one small
// object per match keeps a rule's data on few cache lines (a 120,000-rule ruleset does not fit in cache).
export const K_FN = 0;
export const K_PROTO = 1;
export const K_ADDR4 = 2;
export const K_PORT = 3;
export const K_MARK = 4;
export const K_CTMARK = 5;
export const K_IFNAME = 6;
/** Never decidable (an uninterpreted module such as `-m statistic`, a set without contents). */
export const K_UNKNOWN = 7;
export const K_CTSTATE = 8;

// K_CTSTATE: the states a conntrack match asks for, as bits of CompiledMatch.a.
const CS_NEW = 1;
const CS_ESTABLISHED = 2;
const CS_RELATED = 4;
const CS_INVALID = 8;
const CS_UNTRACKED = 16;
const CS_SNAT = 32;
const CS_DNAT = 64;
const CS_BITS: Readonly<Record<string, number>> = table({ new: CS_NEW, established: CS_ESTABLISHED, related: CS_RELATED, invalid: CS_INVALID, untracked: CS_UNTRACKED, snat: CS_SNAT, dnat: CS_DNAT });

export interface CompiledMatch extends InlineFields {
  isMatch: true;
  expr: Match;
  /** K_FN only (inline kinds need no closure: compiling 120,000 rules allocates less). */
  test: ((s: PacketState) => Tri) | undefined;
  /** Why a K_FN test answered unknown, when it can; whyUnknown() reads it. */
  why: ((s: PacketState) => string) | undefined;
  /** K_UNKNOWN: the reason, written on first need. */
  reason: string;
}

function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 132 || proto === 136 || proto === 33;
}

/** The fields testMatch reads for an inline kind (a CompiledMatch, or a rule's copy of its first match). */
export type InlineMatch = InlineFields & { test?: CompiledMatch['test'] };

/** Evaluates a compiled match: 0 no, 1 yes, 2 unknown. */
export function testMatch(m: InlineMatch, s: PacketState): Tri {
  switch (m.k) {
    case K_PROTO:
      return (s.proto === m.a) !== m.inv ? YES : NO;
    case K_ADDR4: {
      const a = m.src ? s.saddr : s.daddr;
      // An IPv4 address match implies IPv4 (nft's `meta nfproto ipv4` dependency): no match, inverted or not.
      if (a.v !== 4) return NO;
      if (m.src ? s.saddrUnknown : s.daddrUnknown) return UNKNOWN;
      return ((a.n & m.b) === m.a) !== m.inv ? YES : NO;
    }
    case K_PORT: {
      if ((m.c >= 0 && m.c !== s.proto) || !hasPorts(s.proto)) return NO;
      const p = m.src ? s.sport : s.dport;
      return (p >= m.a && p <= m.b) !== m.inv ? YES : NO;
    }
    case K_MARK:
      return inv(maskedEquals(s.mark, s.markKnown, m.b, m.a), m.inv);
    case K_CTMARK:
      return s.ct !== 'tracked' ? NO : inv(maskedEquals(s.ctmark, s.ctmarkKnown, m.b, m.a), m.inv);
    case K_IFNAME:
      return ((m.src ? s.iif : s.oif) === m.name) !== m.inv ? YES : NO;
    case K_UNKNOWN:
      return UNKNOWN;
    case K_CTSTATE: {
      const want = m.a;
      let hit: boolean;
      let unknown = false;
      if (s.ct === 'none' || s.ct === 'invalid') hit = (want & CS_INVALID) !== 0;
      else if (s.ct === 'untracked') hit = (want & CS_UNTRACKED) !== 0;
      else {
        const input = s.ctInput;
        hit = (want & (input === 'new' ? CS_NEW : input === 'established' ? CS_ESTABLISHED : input === 'related' ? CS_RELATED : (CS_BITS[input] ?? 0))) !== 0;
        if (!hit && (want & (CS_SNAT | CS_DNAT)) !== 0) {
          if (input === 'new') hit = ((want & CS_DNAT) !== 0 && s.dnatApplied) || ((want & CS_SNAT) !== 0 && s.snatApplied);
          else unknown = true; // whether an older connection was NATed is not an input
        }
      }
      if (hit) return m.inv ? NO : YES;
      return unknown ? UNKNOWN : m.inv ? YES : NO;
    }
    default:
      return (m.test as (s: PacketState) => Tri)(s);
  }
}

/** Why a match answered unknown (called only then: the texts are built on demand). */
export function whyUnknown(m: CompiledMatch, s: PacketState): string {
  switch (m.k) {
    case K_ADDR4:
      return addrUnknownWhy(m.src);
    case K_MARK:
      return `mark bits 0x${((m.b & ~s.markKnown) >>> 0).toString(16)} are not known here (written by a statement the simulator does not interpret)`;
    case K_CTMARK:
      return `ctmark bits 0x${((m.b & ~s.ctmarkKnown) >>> 0).toString(16)} are not known here`;
    case K_CTSTATE:
      return 'whether this existing connection was NATed (ct status snat/dnat) is not known';
    case K_UNKNOWN:
      if (m.reason === '') {
        const e = m.expr;
        if (e.key === 'other') {
          const what = !e.text ? e.module : e.text.includes(e.module) ? e.text : `${e.module} ${e.text}`;
          m.reason = `the simulator does not interpret "${e.invert ? '! ' : ''}${what}"`;
        }
      }
      return m.reason;
    default:
      return m.why ? m.why(s) : '';
  }
}

function addrUnknownWhy(src: boolean): string {
  return `the ${src ? 'source' : 'destination'} address after NAT is one of the node's own, not known which`;
}

/** The compiled form with every field set (one object shape for all kinds). */
function cm(expr: Match, k: number, test?: CompiledMatch['test'], why?: CompiledMatch['why']): CompiledMatch {
  return { isMatch: true, k, inv: !!expr.invert, a: 0, b: 0, c: -1, src: false, name: '', expr, test, why, reason: '' };
}

/** The fields of an inline kind (what testMatch reads), written into a match or a rule. */
export interface InlineFields {
  /** K_*: how testMatch evaluates it; K_FN: through `test`. */
  k: number;
  inv: boolean;
  /**
   * Parameters by kind: protocol; net and mask; low and high port and protocol (-1: any); value and mask;
   * ct states. 32-bit values are kept as signed (| 0): small integers sit in the object, where a number
   * of 2^31 or more would be a separate heap number to fetch.
   */
  a: number;
  b: number;
  c: number;
  /** Source side (saddr, sport) or input side (iif). */
  src: boolean;
  name: string;
}

/**
 * Writes the inline form of `m` into `into` and returns true, or returns false (k = K_FN) when `m` needs
 * a closure. Allocates nothing that lives on: a rule's first match is read this way when the rule is
 * first reached, and the rest of the rule is compiled only if that match does not rule it out.
 */
export function setInline(m: Match, into: InlineFields): boolean {
  let k = K_FN;
  let a = 0;
  let b = 0;
  let c = -1;
  let src = false;
  let name = '';
  switch (m.key) {
    case 'proto':
      if (m.protos.length === 1 && m.protos[0] !== 0) {
        k = K_PROTO;
        a = m.protos[0];
      }
      break;
    case 'saddr':
    case 'daddr':
      if (m.cidrs.length === 1) {
        const p = parsePrefix(m.cidrs[0]);
        if (p && p.v === 4) {
          k = K_ADDR4;
          a = p.net | 0;
          b = p.mask | 0;
          src = m.key === 'saddr';
        }
      }
      break;
    case 'iif':
    case 'oif':
      if (m.names.length === 1 && !m.names[0].endsWith('+') && m.names[0] !== '') {
        k = K_IFNAME;
        src = m.key === 'iif';
        name = m.names[0];
      }
      break;
    case 'sport':
    case 'dport':
      if (m.ranges.length === 1) {
        k = K_PORT;
        a = m.ranges[0][0];
        b = m.ranges[0][1];
        c = m.proto ?? -1;
        src = m.key === 'sport';
      }
      break;
    case 'mark':
    case 'ctmark':
      k = m.key === 'mark' ? K_MARK : K_CTMARK;
      a = m.value | 0;
      b = m.mask | 0;
      break;
    case 'ctstate':
      k = K_CTSTATE;
      for (const st of m.states) a |= CS_BITS[st] ?? 0;
      break;
    case 'other':
      k = K_UNKNOWN;
      break;
    default:
      break;
  }
  into.k = k;
  into.inv = k !== K_FN && !!m.invert;
  into.a = a;
  into.b = b;
  into.c = c;
  into.src = src;
  into.name = name;
  return k !== K_FN;
}

/** What matches need to know about the node. */
export interface NodeView {
  isLocal(a: Addr): boolean;
  /** The interface a local address is on: a name, undefined when not known, null when not local. */
  localIface(a: Addr): string | undefined | null;
  isSubnetBroadcast(a: Addr): boolean;
  /** The first local address of this IP version on an interface (what MASQUERADE/REDIRECT use). */
  primaryOn(iface: string, v: 4 | 6): Addr | undefined;
  /** The interface the routes send this destination out of (longest prefix), when routes were given. */
  routeDev(a: Addr): string | undefined;
}

function inv(r: Tri, invert: boolean | undefined): Tri {
  return r === UNKNOWN || !invert ? r : ((1 - r) as Tri);
}

/** (value & mask) == want over a value of which only `known` bits are known. */
function maskedEquals(value: number, known: number, mask: number, want: number): Tri {
  if ((want & ~mask) !== 0) return NO; // the kernel compares (v & mask) == want: never true
  if ((mask & ~known) === 0) return ((value & mask) >>> 0) === want >>> 0 ? YES : NO;
  const k = mask & known;
  return ((value & k) >>> 0) !== ((want & k) >>> 0) ? NO : UNKNOWN;
}

function ifaceMatches(dev: string, names: string[]): boolean {
  for (const n of names) {
    if (n.endsWith('+') ? dev.startsWith(n.slice(0, -1)) : dev === n) return true;
  }
  return false;
}

// addrtype: the RTN_* types as iptables names them.
const ADDRTYPE_BITS: Readonly<Record<string, number>> = table({
  UNSPEC: 1 << 0,
  UNICAST: 1 << 1,
  LOCAL: 1 << 2,
  BROADCAST: 1 << 3,
  ANYCAST: 1 << 4,
  MULTICAST: 1 << 5,
  BLACKHOLE: 1 << 6,
  UNREACHABLE: 1 << 7,
  PROHIBIT: 1 << 8,
  THROW: 1 << 9,
  NAT: 1 << 10,
  XRESOLVE: 1 << 11,
});

function typeMask(names: string[] | undefined): number {
  let m = 0;
  for (const n of names ?? []) m |= ADDRTYPE_BITS[n.toUpperCase()] ?? 0;
  return m;
}

/**
 * The address types of `a` as xt_addrtype computes them (IPv4: inet_dev_addr_type on the local table,
 * one type; IPv6: UNICAST plus LOCAL for the node's own). `dev` restricts LOCAL to addresses on that
 * interface (--limit-iface-in/out). Returns -1 when it cannot be known.
 */
function addrTypes(node: NodeView, a: Addr, unknownLocal: boolean, dev: string | undefined, limit: boolean): number {
  if (a.v === 4) {
    if (!unknownLocal && (isUnspecified(a) || isLimitedBroadcast(a) || (a.n >>> 24) === 0)) return ADDRTYPE_BITS.BROADCAST;
    if (!unknownLocal && isMulticast(a)) return ADDRTYPE_BITS.MULTICAST;
    const local = unknownLocal || node.isLocal(a);
    if (local) {
      if (!limit) return ADDRTYPE_BITS.LOCAL;
      if (unknownLocal || dev === undefined) return -1;
      const on = node.localIface(a);
      if (on === undefined) return -1;
      return on === dev ? ADDRTYPE_BITS.LOCAL : ADDRTYPE_BITS.UNICAST;
    }
    if (node.isSubnetBroadcast(a)) return ADDRTYPE_BITS.BROADCAST;
    return ADDRTYPE_BITS.UNICAST;
  }
  if (!unknownLocal && isUnspecified(a)) return ADDRTYPE_BITS.UNSPEC;
  if (!unknownLocal && isMulticast(a)) return ADDRTYPE_BITS.MULTICAST;
  const local = unknownLocal || node.isLocal(a);
  if (local && limit) {
    if (unknownLocal || dev === undefined) return -1;
    const on = node.localIface(a);
    if (on === undefined) return -1;
    if (on !== dev) return ADDRTYPE_BITS.UNICAST;
  }
  return ADDRTYPE_BITS.UNICAST | (local ? ADDRTYPE_BITS.LOCAL : 0);
}

// ---------------------------------------------------------------------------------------------------
// Named sets with known contents.

type SetField = { kind: 'addr'; dir: 'src' | 'dst' } | { kind: 'port'; dir: 'src' | 'dst' } | { kind: 'proto' } | { kind: 'mark' };
type FieldValue = { kind: 'prefix'; p: Prefix } | { kind: 'addrRange'; lo: Addr; hi: Addr } | { kind: 'num'; lo: number; hi: number };

function addrCmp(a: Addr, b: Addr): number {
  if (a.v === 4 && b.v === 4) return a.n - b.n;
  if (a.v === 6 && b.v === 6) {
    for (let i = 0; i < 4; i++) if (a.w[i] !== b.w[i]) return a.w[i] - b.w[i];
    return 0;
  }
  return a.v - b.v;
}

function parseNum(text: string, names?: Record<string, number>): number | undefined {
  const t = text.trim().toLowerCase();
  if (/^(0x[0-9a-f]+|\d+)$/.test(t)) return Number(t);
  return names?.[t];
}

function parseFieldValue(field: SetField, text: string): FieldValue | undefined {
  const t = text.trim();
  if (field.kind === 'addr') {
    const dash = t.indexOf('-');
    if (dash > 0) {
      const lo = parseAddr(t.slice(0, dash).trim());
      const hi = parseAddr(t.slice(dash + 1).trim());
      return lo && hi ? { kind: 'addrRange', lo, hi } : undefined;
    }
    const p = parsePrefix(t);
    return p ? { kind: 'prefix', p } : undefined;
  }
  const names = field.kind === 'proto' ? PROTO_NUMBERS : undefined;
  const dash = t.indexOf('-', 1);
  const lo = parseNum(dash > 0 ? t.slice(0, dash) : t, names);
  const hi = dash > 0 ? parseNum(t.slice(dash + 1), names) : lo;
  return lo === undefined || hi === undefined ? undefined : { kind: 'num', lo, hi };
}

/** A set lookup that cannot happen for this packet: no match, inverted or not. */
const NO_LOOKUP = 3 as const;

/** A membership test for a set whose key type and elements the simulator reads; undefined otherwise. */
function compileSetLookup(set: NamedSet, dirs: Array<'src' | 'dst'>): ((s: PacketState) => Tri | typeof NO_LOOKUP) | undefined {
  if (!set.elements) return undefined;
  const types = set.keyType.split('.').map((x) => x.trim());
  const addrVersion = types.includes('ipv4_addr') ? 4 : types.includes('ipv6_addr') ? 6 : 0;
  const fields: SetField[] = [];
  for (let i = 0; i < types.length; i++) {
    const dir = dirs[i] ?? dirs[dirs.length - 1] ?? 'dst';
    switch (types[i]) {
      case 'ipv4_addr':
      case 'ipv6_addr':
        fields.push({ kind: 'addr', dir });
        break;
      case 'inet_service':
        fields.push({ kind: 'port', dir });
        break;
      case 'inet_proto':
        fields.push({ kind: 'proto' });
        break;
      case 'mark':
        fields.push({ kind: 'mark' });
        break;
      default:
        return undefined;
    }
  }
  const elems: FieldValue[][] = [];
  for (const e of set.elements) {
    const parts = e.key.split(' . ');
    if (parts.length !== fields.length) return undefined;
    const vals: FieldValue[] = [];
    for (let i = 0; i < parts.length; i++) {
      const v = parseFieldValue(fields[i], parts[i]);
      if (!v) return undefined;
      vals.push(v);
    }
    elems.push(vals);
  }
  return (s) => {
    let unknown = false;
    // A lookup keyed by the other IP version's addresses does not happen (nfproto dependency).
    if (addrVersion && (s.family === 'ip' ? 4 : 6) !== addrVersion) return NO_LOOKUP;
    for (const vals of elems) {
      let all: Tri = YES;
      for (let i = 0; i < fields.length && all !== NO; i++) {
        const f = fields[i];
        const v = vals[i];
        let r: Tri = NO;
        if (f.kind === 'addr') {
          const a = f.dir === 'src' ? s.saddr : s.daddr;
          if (f.dir === 'src' ? s.saddrUnknown : s.daddrUnknown) r = UNKNOWN;
          else if (v.kind === 'prefix') r = inPrefix(a, v.p) ? YES : NO;
          else if (v.kind === 'addrRange') r = addrCmp(a, v.lo) >= 0 && addrCmp(a, v.hi) <= 0 ? YES : NO;
        } else if (v.kind === 'num') {
          if (f.kind === 'port') {
            const p = f.dir === 'src' ? s.sport : s.dport;
            r = p >= v.lo && p <= v.hi ? YES : NO;
          } else if (f.kind === 'proto') r = s.proto >= v.lo && s.proto <= v.hi ? YES : NO;
          else if (v.lo === v.hi) r = maskedEquals(s.mark, s.markKnown, 0xffffffff, v.lo >>> 0);
          else r = s.markKnown >>> 0 === 0xffffffff ? (s.mark >>> 0 >= v.lo && s.mark >>> 0 <= v.hi ? YES : NO) : UNKNOWN;
        }
        if (r === NO) all = NO;
        else if (r === UNKNOWN) all = UNKNOWN;
      }
      if (all === YES) return YES;
      if (all === UNKNOWN) unknown = true;
    }
    return unknown ? UNKNOWN : NO;
  };
}

// ---------------------------------------------------------------------------------------------------

/** A human label for a match, for reasons and notes. */
export function describeMatch(m: Match): string {
  const not = m.invert ? '! ' : '';
  switch (m.key) {
    case 'other':
      return `${not}${m.text || m.module}`;
    case 'set':
      return `${not}set ${m.name} (${m.dirs.join(',')})`;
    case 'mark':
    case 'ctmark':
      return `${not}${m.key} 0x${m.value.toString(16)}/0x${(m.mask >>> 0).toString(16)}`;
    default:
      return `${not}${m.key}`;
  }
}

/** Compiles one match. `sets`: the named sets of the rule's table. */
export function compileMatch(m: Match, node: NodeView, sets: Map<string, NamedSet>): CompiledMatch {
  const x = cm(m, K_FN);
  if (setInline(m, x)) return x;
  switch (m.key) {
    case 'proto': {
      const any = m.protos.includes(0);
      const protos = new Set(m.protos);
      return cm(m, K_FN, (s: PacketState): Tri => inv(any || protos.has(s.proto) ? YES : NO, m.invert));
    }
    case 'saddr':
    case 'daddr': {
      const src = m.key === 'saddr';
      const prefixes: Prefix[] = [];
      const bad: string[] = [];
      for (const c of m.cidrs) {
        const p = parsePrefix(c);
        if (p) prefixes.push(p);
        else bad.push(c);
      }
      const r = cm(
        m,
        K_FN,
        (s) => {
          const a = src ? s.saddr : s.daddr;
          // Prefixes of the other IP version only: the match implies that version (nft's nfproto dependency).
          if (bad.length === 0 && !prefixes.some((p) => p.v === a.v)) return NO;
          if (src ? s.saddrUnknown : s.daddrUnknown) return UNKNOWN;
          for (const p of prefixes) if (inPrefix(a, p)) return inv(YES, m.invert);
          return bad.length ? UNKNOWN : inv(NO, m.invert);
        },
        (s) => ((src ? s.saddrUnknown : s.daddrUnknown) ? addrUnknownWhy(src) : `cannot read address "${bad.join(', ')}"`),
      );
      r.src = src;
      return r;
    }
    case 'iif':
    case 'oif': {
      const input = m.key === 'iif';
      // No such device at this hook: the kernel compares an empty name (nft_meta_store_ifname,
      // ip_packet_match), so `! -i eth0` / `iifname != "eth0"` match in OUTPUT and POSTROUTING.
      const r = cm(m, K_FN, (s: PacketState): Tri => inv(ifaceMatches((input ? s.iif : s.oif) ?? '', m.names) ? YES : NO, m.invert));
      r.src = input;
      return r;
    }
    case 'sport':
    case 'dport': {
      const src = m.key === 'sport';
      const ranges = m.ranges;
      const r = cm(m, K_FN, (s: PacketState): Tri => {
        if (m.proto !== undefined && m.proto !== s.proto) return NO;
        if (!PORT_PROTOS.has(s.proto)) return NO;
        const p = src ? s.sport : s.dport;
        for (const [lo, hi] of ranges) if (p >= lo && p <= hi) return inv(YES, m.invert);
        return inv(NO, m.invert);
      });
      r.src = src;
      return r;
    }
    case 'tcpflags':
      return cm(m, K_FN, (s) => (s.proto !== 6 ? NO : inv((s.tcpFlags & m.mask) === m.comp ? YES : NO, m.invert)));
    case 'icmp': {
      const proto = m.family === 'ip' ? 1 : 58;
      return cm(m, K_FN, (s) => {
        if (s.proto !== proto) return NO;
        const ok = (m.icmpType === undefined || m.icmpType === s.icmpType) && (m.code === undefined || m.code === s.icmpCode);
        return inv(ok ? YES : NO, m.invert);
      });
    }
    case 'mark':
    case 'ctmark':
    case 'ctstate':
      return x; // not reached: setInline takes these kinds whole
    case 'ctdir':
      return cm(
        m,
        K_FN,
        (s) => {
          if (s.ct !== 'tracked') return NO;
          if (s.ctInput !== 'new') return UNKNOWN;
          return inv(m.dir === 'original' ? YES : NO, m.invert);
        },
        () => 'the direction of an existing connection is not an input of the trace',
      );
    case 'addrtype': {
      const srcMask = typeMask(m.src);
      const dstMask = typeMask(m.dst);
      return cm(
        m,
        K_FN,
        (s) => {
          let unknown = false;
          let ok = true;
          const dev = m.limitIfaceIn ? s.iif : m.limitIfaceOut ? s.oif : undefined;
          const limit = !!(m.limitIfaceIn || m.limitIfaceOut);
          if (m.src && m.src.length) {
            const t = addrTypes(node, s.saddr, s.saddrUnknown, dev, limit);
            if (t < 0) unknown = true;
            else ok = ok && ((t & srcMask) !== 0) !== !!m.srcInvert;
          }
          if (m.dst && m.dst.length) {
            const t = addrTypes(node, s.daddr, s.daddrUnknown, dev, limit);
            if (t < 0) unknown = true;
            else ok = ok && ((t & dstMask) !== 0) !== !!m.dstInvert;
          }
          if (!ok) return inv(NO, m.invert);
          return unknown ? UNKNOWN : inv(YES, m.invert);
        },
        () => 'addrtype with --limit-iface needs the interface of the local address (give --local ADDR@IFACE)',
      );
    }
    case 'set': {
      const set = sets.get(m.name);
      const lookup = set ? compileSetLookup(set, m.dirs) : undefined;
      if (!lookup) {
        const r = cm(m, K_UNKNOWN);
        r.reason = set ? `the simulator cannot read the elements of set "${m.name}" (type ${set.keyType})` : `the contents of set "${m.name}" are not in the ruleset (an ipset?)`;
        return r;
      }
      const why = `an address of set "${m.name}" is not known after NAT`;
      return cm(
        m,
        K_FN,
        (s) => {
          const r = lookup(s);
          return r === NO_LOOKUP ? NO : inv(r, m.invert);
        },
        () => why,
      );
    }
    case 'other':
      // Not reached: setInline makes it K_UNKNOWN, whose reason whyUnknown writes when first asked.
      return x;
  }
}
