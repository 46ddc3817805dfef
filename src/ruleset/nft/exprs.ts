// nft JSON expressions (libnftables-json(5)) to the model's semantics. Matches on payload, meta, ct, fib;
// mark arithmetic normalised to (x & and) ^ xor whatever the operators; verdicts, queue, nat, tproxy.
// What does not map is kept as `other` with its JSON, never dropped.
import { table } from '../../util/table.js';
import type { Action, CtState, Match } from '../model.js';
import { parseProto, parseIpv4, parseIpv6, ipv4Text, ipv6Text } from '../iptables/values.js';

type J = unknown;
type Obj = Record<string, J>;

const isObj = (x: J): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const U32 = 0xffffffff;

/** Compact nft-like text of an expression, for `other` and Rule.text. */
export function exprText(x: J): string {
  if (x === null || x === undefined) return '';
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  if (Array.isArray(x)) return `{ ${x.map(exprText).join(', ')} }`;
  const o = x as Obj;
  const keys = Object.keys(o);
  if (keys.length !== 1) return JSON.stringify(o);
  const k = keys[0];
  const v = o[k];
  switch (k) {
    case 'payload':
      return isObj(v) ? (v.protocol !== undefined ? `${v.protocol} ${v.field}` : `@${v.base},${v.offset},${v.len}`) : JSON.stringify(x);
    case 'meta':
      return isObj(v) ? `meta ${v.key}` : 'meta';
    case 'ct':
      return isObj(v) ? `ct ${v.dir ? `${v.dir} ` : ''}${v.key}` : 'ct';
    case 'fib':
      return isObj(v) ? `fib ${Array.isArray(v.flags) ? v.flags.join(' . ') : v.flags} ${v.result}` : 'fib';
    case 'socket':
      return isObj(v) ? `socket ${v.key}` : 'socket';
    case 'prefix':
      return isObj(v) ? `${v.addr}/${v.len}` : '';
    case 'range':
      return Array.isArray(v) ? `${exprText(v[0])}-${exprText(v[1])}` : '';
    case 'set':
      return Array.isArray(v) ? `{ ${v.map(exprText).join(', ')} }` : exprText(v);
    case 'concat':
      return Array.isArray(v) ? v.map(exprText).join(' . ') : '';
    case '&':
    case '|':
    case '^':
    case '<<':
    case '>>':
      // A JSON array inside a bitwise expression is the OR of its flags.
      return Array.isArray(v) ? `${exprText(v[0])} ${k} ${Array.isArray(v[1]) ? `(${v[1].map(exprText).join(' | ')})` : exprText(v[1])}` : '';
    case 'match': {
      if (!isObj(v)) return '';
      // nft omits == except after a bitwise expression, where it is needed to read the rule.
      // On a bitmask (ct state, ct status, tcp flags) a bare value is a flag test, so nft writes `==` for an
      // exact comparison with one value (`ct state == new`).
      const bitmask = isObj(v.left) && ((isObj(v.left.ct) && (v.left.ct.key === 'state' || v.left.ct.key === 'status')) || (isObj(v.left.payload) && v.left.payload.field === 'flags'));
      const exactOne = v.op === '==' && bitmask && (typeof v.right === 'string' || typeof v.right === 'number');
      const op = (v.op === '==' || v.op === 'in') && !exactOne && !(isObj(v.left) && ('&' in v.left || '|' in v.left)) ? '' : `${v.op} `;
      // A JSON array on the right is a list of flags, not a set: a flag test (`in`, `!`) as nft lists it
      // (`ct state established,new`), or their OR compared as one value (`==`, `!=`).
      const right = Array.isArray(v.right) ? v.right.map(exprText).join(v.op === 'in' || v.op === '!' ? ',' : ' | ') : exprText(v.right);
      return `${exprText(v.left)} ${op}${right}`;
    }
    case 'mangle':
      return isObj(v) ? `${exprText(v.key)} set ${exprText(v.value)}` : '';
    case 'accept':
    case 'drop':
    case 'continue':
    case 'return':
    case 'notrack':
      return k;
    case 'jump':
    case 'goto':
      return isObj(v) ? `${k} ${v.target}` : k;
    case 'counter':
      return 'counter';
    case 'xt':
      return isObj(v) ? `xt ${v.type} ${v.name}` : 'xt';
    case 'elem':
      return isObj(v) ? exprText(v.val) : '';
    default:
      return v === null ? k : `${k} ${isObj(v) ? Object.entries(v).map(([a, b]) => `${a} ${exprText(b)}`).join(' ') : exprText(v)}`;
  }
}

function num(x: J): number | undefined {
  if (typeof x === 'number' && Number.isInteger(x)) return x >>> 0 === x ? x : x >= 0 ? x : undefined;
  if (typeof x === 'string' && /^(0x[0-9a-fA-F]+|\d+)$/.test(x)) return Number(x);
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Mark arithmetic: an expression over one source (meta mark, ct mark, or none) as (src & and) ^ xor.

type Affine = { src: 'meta' | 'ct' | 'none'; and: number; xor: number };

function affine(x: J): Affine | undefined {
  const n = num(x);
  if (n !== undefined) return { src: 'none', and: 0, xor: n >>> 0 };
  if (!isObj(x)) return undefined;
  if (isObj(x.meta) && x.meta.key === 'mark') return { src: 'meta', and: U32, xor: 0 };
  if (isObj(x.ct) && x.ct.key === 'mark' && x.ct.dir === undefined) return { src: 'ct', and: U32, xor: 0 };
  for (const op of ['&', '|', '^'] as const) {
    const args = x[op];
    if (!Array.isArray(args) || args.length !== 2) continue;
    const a = affine(args[0]);
    const c = num(args[1]);
    if (!a || c === undefined) return undefined;
    if (op === '&') return { src: a.src, and: (a.and & c) >>> 0, xor: (a.xor & c) >>> 0 };
    if (op === '^') return { src: a.src, and: a.and, xor: (a.xor ^ c) >>> 0 };
    // (v | c): bits of c become 1, others stay.
    return { src: a.src, and: (a.and & ~c) >>> 0, xor: ((a.xor & ~c) | c) >>> 0 };
  }
  return undefined;
}

/** `meta mark set ...` / `ct mark set ...` as a model action, when it has one. */
function mangleAction(dst: 'meta' | 'ct', value: J): Action | undefined {
  const a = affine(value);
  if (!a) return undefined;
  if (a.src === 'none' || a.src === dst) return { type: 'action', kind: dst === 'meta' ? 'mark' : 'ctmark', and: a.src === 'none' ? 0 : a.and, xor: a.xor };
  if (a.xor !== 0) return undefined;
  // ct mark set meta mark & M: ct = (ct & ~ctmask) ^ (skb & nfmask) with ctmask all ones.
  if (dst === 'ct') return { type: 'action', kind: 'connmark-save', nfmask: a.and, ctmask: U32 };
  return { type: 'action', kind: 'connmark-restore', nfmask: U32, ctmask: a.and };
}

// ---------------------------------------------------------------------------------------------------
// Matches

const TCP_FLAGS: Readonly<Record<string, number>> = table({ fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32, ecn: 64, cwr: 128 });
const ICMP_TYPES: Readonly<Record<string, number>> = table({
  'echo-reply': 0, 'destination-unreachable': 3, 'source-quench': 4, redirect: 5, 'echo-request': 8, 'router-advertisement': 9,
  'router-solicitation': 10, 'time-exceeded': 11, 'parameter-problem': 12, 'timestamp-request': 13, 'timestamp-reply': 14,
  'info-request': 15, 'info-reply': 16, 'address-mask-request': 17, 'address-mask-reply': 18,
});
const ICMPV6_TYPES: Readonly<Record<string, number>> = table({
  'destination-unreachable': 1, 'packet-too-big': 2, 'time-exceeded': 3, 'parameter-problem': 4, 'echo-request': 128,
  'echo-reply': 129, 'mld-listener-query': 130, 'mld-listener-report': 131, 'mld-listener-done': 132, 'mld-listener-reduction': 132,
  'nd-router-solicit': 133, 'nd-router-advert': 134, 'nd-neighbor-solicit': 135, 'nd-neighbor-advert': 136, 'nd-redirect': 137,
  'router-renumbering': 138, 'ind-neighbor-solicit': 141, 'ind-neighbor-advert': 142, 'mld2-listener-report': 143,
});

/** The right-hand side as a list of values (a literal, an anonymous set, an array). */
function values(right: J): J[] {
  if (Array.isArray(right)) return right;
  if (isObj(right) && Array.isArray(right.set)) return right.set;
  return [right];
}

function cidrOf(v: J, family: 'ip' | 'ip6'): string | undefined {
  if (typeof v === 'string') {
    if (family === 'ip' && parseIpv4(v) !== undefined) return `${ipv4Text(parseIpv4(v)!)}/32`;
    if (family === 'ip6' && parseIpv6(v)) return `${ipv6Text(parseIpv6(v)!)}/128`;
    return undefined;
  }
  if (isObj(v) && isObj(v.prefix) && typeof v.prefix.addr === 'string' && typeof v.prefix.len === 'number') {
    const a = family === 'ip' ? parseIpv4(v.prefix.addr) : undefined;
    if (a !== undefined) return `${ipv4Text(a)}/${v.prefix.len}`;
    const g = family === 'ip6' ? parseIpv6(v.prefix.addr) : undefined;
    if (g) return `${ipv6Text(g)}/${v.prefix.len}`;
  }
  return undefined;
}

/** An address range `{"range": [lo, hi]}` as the CIDRs that cover exactly it (the model lists prefixes). */
function rangeCidrs(v: J, family: 'ip' | 'ip6'): string[] | undefined {
  if (!isObj(v) || !Array.isArray(v.range) || typeof v.range[0] !== 'string' || typeof v.range[1] !== 'string') return undefined;
  const bits = family === 'ip' ? 32 : 128;
  const big = (t: string): bigint | undefined => {
    if (family === 'ip') {
      const a = parseIpv4(t);
      return a === undefined ? undefined : BigInt(a >>> 0);
    }
    const g = parseIpv6(t);
    return g ? g.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n) : undefined;
  };
  const text = (n: bigint): string => {
    if (family === 'ip') return ipv4Text(Number(n));
    const g: number[] = [];
    for (let i = 7; i >= 0; i--) g.push(Number((n >> BigInt(16 * i)) & 0xffffn));
    return ipv6Text(g);
  };
  let lo = big(v.range[0]);
  const hi = big(v.range[1]);
  if (lo === undefined || hi === undefined || lo > hi) return undefined;
  const out: string[] = [];
  while (lo <= hi) {
    // The largest block that starts at lo (aligned) and ends within hi.
    let len = bits;
    while (len > 0) {
      const size = 1n << BigInt(bits - len + 1);
      if (lo % size !== 0n || lo + size - 1n > hi) break;
      len--;
    }
    out.push(`${text(lo)}/${len}`);
    lo += 1n << BigInt(bits - len);
  }
  return out;
}

function portRange(v: J): [number, number] | undefined {
  const n = num(v);
  if (n !== undefined && n <= 65535) return [n, n];
  if (isObj(v) && Array.isArray(v.range)) {
    const a = num(v.range[0]);
    const b = num(v.range[1]);
    if (a !== undefined && b !== undefined && a <= b && b <= 65535) return [a, b];
  }
  return undefined;
}

function all<T>(vs: J[], f: (v: J) => T | undefined): T[] | undefined {
  const out: T[] = [];
  for (const v of vs) {
    const r = f(v);
    if (r === undefined) return undefined;
    out.push(r);
  }
  return out;
}

const PORT_PROTOS: Readonly<Record<string, number | undefined>> = table({ tcp: 6, udp: 17, udplite: 136, sctp: 132, dccp: 33, th: undefined });

/** One `match` statement as model matches (several when a list must be split), or undefined. */
export function matchExprs(m: Obj, tableFamily: string): Match[] | undefined {
  const op = m.op;
  const left = m.left;
  const right = m.right;
  // ct state and ct status are bitmasks: each operator has its own meaning there (see ctBitmaskMatch).
  const ctb = ctBitmaskOf(left);
  if (ctb) return ctBitmaskMatch(ctb.key, ctb.mask, op, right);
  let invert = false;
  if (op === '!=') invert = true;
  else if (op !== '==' && op !== 'in') return undefined;
  const inv = <T extends Match>(x: T): T => (invert ? { ...x, invert: true } : x);
  if (!isObj(left)) return undefined;

  // Named set lookups: `ip saddr @allowed`.
  if (typeof right === 'string' && right.startsWith('@')) {
    const dirs: Array<'src' | 'dst'> = [];
    const fields = isObj(left) && Array.isArray(left.concat) ? left.concat : [left];
    for (const f of fields) {
      if (isObj(f) && isObj(f.payload) && typeof f.payload.field === 'string') dirs.push(/^(saddr|sport)$/.test(f.payload.field) ? 'src' : 'dst');
      else return [inv({ type: 'match', key: 'other', module: 'nft', text: `${exprText(left)} ${right}` })];
    }
    return [inv({ type: 'match', key: 'set', name: right.slice(1), dirs })];
  }

  // Marks: `meta mark 0x1`, `meta mark & 0xff00 == 0x100`, same for ct mark.
  const bit = Array.isArray(left['&']) ? (left['&'] as J[]) : undefined;
  const base = bit ? bit[0] : left;
  // tcp flags & (syn | ack) == syn
  if (bit && isObj(base) && isObj(base.payload) && base.payload.protocol === 'tcp' && base.payload.field === 'flags') {
    const flagMask = flagsOf(bit[1]);
    const comp = flagsOf(right);
    if (flagMask === undefined || comp === undefined) return undefined;
    return [inv({ type: 'match', key: 'tcpflags', mask: flagMask, comp })];
  }
  const mask = bit ? num(bit[1]) : U32;
  if (isObj(base) && mask !== undefined) {
    const isMeta = isObj(base.meta) && base.meta.key === 'mark';
    const isCt = isObj(base.ct) && base.ct.key === 'mark' && base.ct.dir === undefined;
    if (isMeta || isCt) {
      const v = num(right);
      if (v === undefined) return undefined;
      return [inv({ type: 'match', key: isMeta ? 'mark' : 'ctmark', value: v >>> 0, mask: mask >>> 0 })];
    }
  }
  if (bit) return undefined;

  if (isObj(left.payload)) {
    const proto = left.payload.protocol;
    const field = left.payload.field;
    if ((proto === 'ip' || proto === 'ip6') && (field === 'saddr' || field === 'daddr')) {
      const lists = all(values(right), (v) => {
        const c = cidrOf(v, proto);
        return c !== undefined ? [c] : rangeCidrs(v, proto);
      });
      return lists ? [inv({ type: 'match', key: field, cidrs: lists.flat() })] : undefined;
    }
    if ((proto === 'ip' && field === 'protocol') || (proto === 'ip6' && field === 'nexthdr')) {
      const protos = all(values(right), (v) => (typeof v === 'string' ? parseProto(v) : num(v)));
      return protos ? [inv({ type: 'match', key: 'proto', protos })] : undefined;
    }
    if (typeof proto === 'string' && proto in PORT_PROTOS && (field === 'sport' || field === 'dport')) {
      const ranges = all(values(right), portRange);
      if (!ranges) return undefined;
      const p = PORT_PROTOS[proto];
      const mm: Match = p === undefined ? { type: 'match', key: field, ranges } : { type: 'match', key: field, proto: p, ranges };
      return [inv(mm)];
    }
    if ((proto === 'icmp' || proto === 'icmpv6') && field === 'type') {
      const vs = values(right);
      if (vs.length !== 1 || invert) return undefined;
      const t = typeof vs[0] === 'string' ? (proto === 'icmp' ? ICMP_TYPES : ICMPV6_TYPES)[vs[0]] : num(vs[0]);
      if (t === undefined) return undefined;
      return [{ type: 'match', key: 'icmp', family: proto === 'icmp' ? 'ip' : 'ip6', icmpType: t }];
    }
    return undefined;
  }
  if (isObj(left.meta)) {
    const key = left.meta.key;
    if (key === 'iifname' || key === 'oifname' || key === 'iif' || key === 'oif') {
      // nft's wildcard "eth*" is iptables' "eth+": the model uses the latter.
      const names = all(values(right), (v) => (typeof v === 'string' ? v.replace(/\*$/, '+') : undefined));
      return names ? [inv({ type: 'match', key: key.startsWith('i') ? 'iif' : 'oif', names })] : undefined;
    }
    if (key === 'l4proto' || key === 'protocol') {
      if (key === 'protocol') return undefined; // ethertype, not the L4 protocol
      const protos = all(values(right), (v) => (typeof v === 'string' ? parseProto(v) : num(v)));
      return protos ? [inv({ type: 'match', key: 'proto', protos })] : undefined;
    }
    return undefined;
  }
  if (isObj(left.ct) && left.ct.dir === undefined) {
    const key = left.ct.key;
    if (key === 'direction') {
      const vs = values(right);
      if (vs.length !== 1 || (vs[0] !== 'original' && vs[0] !== 'reply')) return undefined;
      return [inv({ type: 'match', key: 'ctdir', dir: vs[0] })];
    }
    return undefined;
  }
  if (isObj(left.fib) && left.fib.result === 'type') {
    const flags = Array.isArray(left.fib.flags) ? left.fib.flags : [left.fib.flags];
    const types = all(values(right), (v) => (typeof v === 'string' ? v.toUpperCase() : undefined));
    if (!types) return undefined;
    const m2: Match = { type: 'match', key: 'addrtype' };
    if (flags.includes('saddr')) m2.src = types;
    else if (flags.includes('daddr')) m2.dst = types;
    else return undefined;
    if (flags.includes('iif')) m2.limitIfaceIn = true;
    if (flags.includes('oif')) m2.limitIfaceOut = true;
    if (invert) {
      if (m2.src) m2.srcInvert = true;
      else m2.dstInvert = true;
    }
    return [m2];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// ct state and ct status. nft compiles each form differently (nft --debug=netlink, nft 1.0.6):
//   ct state new,established     {"op": "in", right: [..]}          (state & 0xa) != 0    flag test
//   ct state ! new,established   {"op": "!", ...}                   (state & 0xa) == 0
//   ct state == new|established  {"op": "==", right: {"|": [..]}}   state == 0xa          exact value
//   ct state != new,established  {"op": "!=", right: {"|": [..]}}   state != 0xa          exact value
//   ct state != { new, est... }  {"op": "!=", right: {"set": [..]}} negated set lookup
// (a JSON array with == or != is the OR of its flags too). The kernel's ct state always holds exactly
// one bit (nft_ct_get_eval: the ctinfo bit, else untracked or invalid), so each form is a set of states:
// evaluated here state by state. An exact value with two flags never equals it: `ct state != new,
// established` holds for every packet, `== new|established` for none.

const CT_STATE_BITS: ReadonlyArray<readonly [CtState, number]> = [['invalid', 1], ['established', 2], ['related', 4], ['new', 8], ['untracked', 64]];
const CT_STATE_VALUES: Readonly<Record<string, number>> = table({ invalid: 1, established: 2, related: 4, new: 8, untracked: 64 });
/** include/uapi/linux/netfilter/nf_conntrack_common.h, enum ip_conntrack_status, as nft names them. */
const CT_STATUS_VALUES: Readonly<Record<string, number>> = table({ expected: 1, 'seen-reply': 2, assured: 4, confirmed: 8, snat: 16, dnat: 32, dying: 512 });
const IPS_SRC_NAT = 16;
const IPS_DST_NAT = 32;
/** A conntrack entry is attached: the states nft and xt_conntrack give a packet that has one. */
const TRACKED: CtState[] = ['established', 'related', 'new'];

/** `ct state`, `ct status`, or either under `&`: the key and the mask (all ones without `&`). */
function ctBitmaskOf(left: J): { key: 'state' | 'status'; mask: number } | undefined {
  const keyOf = (x: J): 'state' | 'status' | undefined => (isObj(x) && isObj(x.ct) && x.ct.dir === undefined && (x.ct.key === 'state' || x.ct.key === 'status') ? x.ct.key : undefined);
  const direct = keyOf(left);
  if (direct) return { key: direct, mask: U32 };
  if (!isObj(left) || !Array.isArray(left['&']) || left['&'].length !== 2) return undefined;
  const key = keyOf(left['&'][0]);
  if (!key) return undefined;
  const mask = ctFlags(key, left['&'][1]);
  // A mask nft does not write is still a mask: an unreadable one leaves the match uninterpreted.
  return mask === undefined ? undefined : { key, mask };
}

/** A flag value: a name, a number, a list or an `|` of them (OR-ed), or undefined. */
function ctFlags(key: 'state' | 'status', x: J): number | undefined {
  if (typeof x === 'string') return (key === 'state' ? CT_STATE_VALUES : CT_STATUS_VALUES)[x];
  const n = num(x);
  if (n !== undefined) return n;
  const list = Array.isArray(x) ? x : isObj(x) && Array.isArray(x['|']) ? x['|'] : undefined;
  if (!list) return undefined;
  let v = 0;
  for (const e of list) {
    const f = ctFlags(key, e);
    if (f === undefined) return undefined;
    v = (v | f) >>> 0;
  }
  return v;
}

/** Flag names in the order the rule lists them (for a stable, readable states list). */
function ctNames(x: J): string[] {
  if (typeof x === 'string') return [x];
  const list = Array.isArray(x) ? x : isObj(x) && Array.isArray(x['|']) ? x['|'] : isObj(x) && Array.isArray(x.set) ? x.set : [];
  return list.flatMap(ctNames);
}

/**
 * The test a match applies to the (masked) value, before a negating operator: `!` and `!=` negate it.
 * undefined: an operator or value this parser does not read.
 */
function ctTest(key: 'state' | 'status', op: J, right: J): { test: (x: number) => boolean; negate: boolean } | undefined {
  if (isObj(right) && Array.isArray(right.set)) {
    if (op !== '==' && op !== '!=' && op !== 'in') return undefined;
    const elems = all(right.set, (e) => ctFlags(key, e));
    return elems ? { test: (x) => elems.includes(x), negate: op === '!=' } : undefined;
  }
  const v = ctFlags(key, right);
  if (v === undefined) return undefined;
  switch (op) {
    case 'in':
    case '!':
      return { test: (x) => (x & v) !== 0, negate: op === '!' };
    case '==':
    case '!=':
      return { test: (x) => x >>> 0 === v, negate: op === '!=' };
    default:
      return undefined;
  }
}

function ctBitmaskMatch(key: 'state' | 'status', mask: number, op: J, right: J): Match[] | undefined {
  const t = ctTest(key, op, right);
  if (!t) return undefined;
  if (key === 'state') {
    const hold = CT_STATE_BITS.filter(([, bit]) => t.test((bit & mask) >>> 0)).map(([s]) => s);
    const listed = ctNames(right).filter((n): n is CtState => hold.includes(n as CtState));
    const states = [...new Set([...listed, ...hold])];
    return [t.negate ? { type: 'match', key: 'ctstate', states, invert: true } : { type: 'match', key: 'ctstate', states }];
  }
  // ct status: the model knows two of its bits (as xt_conntrack's SNAT and DNAT states). A test that
  // reads other bits stays uninterpreted; nft's ct status needs an entry (without one the rule does not
  // match, negated or not), which the model says with the tracked states.
  if ((mask & ~(IPS_SRC_NAT | IPS_DST_NAT)) !== 0 && !(op === 'in' || op === '!')) return undefined;
  const v = ctFlags(key, right);
  if (op === 'in' || op === '!') {
    if (v === undefined || ((v & mask) & ~(IPS_SRC_NAT | IPS_DST_NAT)) !== 0) return undefined;
  }
  // Truth over the four combinations of the two bits (the others are 0 after the mask, or not tested).
  const f = (s: boolean, d: boolean): boolean => t.test(((s ? IPS_SRC_NAT : 0) | (d ? IPS_DST_NAT : 0)) & mask) !== t.negate;
  const tt = [f(false, false), f(false, true), f(true, false), f(true, true)].map((b) => (b ? '1' : '0')).join('');
  const tracked: Match = { type: 'match', key: 'ctstate', states: [...TRACKED] };
  const nat = (ss: CtState[], invert = false): Match => (invert ? { type: 'match', key: 'ctstate', states: ss, invert: true } : { type: 'match', key: 'ctstate', states: ss });
  // Index: (snat, dnat) = 00, 01, 10, 11.
  switch (tt) {
    case '0000':
      return [nat([])];
    case '1111':
      return [tracked];
    case '0111':
      return [nat(ordered(right, ['snat', 'dnat']))];
    case '0101':
      return [nat(['dnat'])];
    case '0011':
      return [nat(['snat'])];
    case '0001':
      return [nat(['snat']), nat(['dnat'])];
    case '1000':
      return [tracked, nat(ordered(right, ['snat', 'dnat']), true)];
    case '1010':
      return [tracked, nat(['dnat'], true)];
    case '1100':
      return [tracked, nat(['snat'], true)];
    default:
      return undefined;
  }
}

/** `names` in the order the rule lists them. */
function ordered(right: J, names: CtState[]): CtState[] {
  const listed = ctNames(right).filter((n): n is CtState => names.includes(n as CtState));
  return [...new Set([...listed, ...names])];
}

function flagsOf(x: J): number | undefined {
  const vs = Array.isArray(x) ? x : isObj(x) && Array.isArray(x.set) ? x.set : [x];
  let m = 0;
  for (const v of vs) {
    if (typeof v === 'string' && TCP_FLAGS[v] !== undefined) m |= TCP_FLAGS[v];
    else if (typeof v === 'number') m |= v;
    else if (isObj(v) && Array.isArray(v['|'])) {
      const f = flagsOf(v['|']);
      if (f === undefined) return undefined;
      m |= f;
    } else return undefined;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------------
// Statements

function natTo(v: Obj): string | undefined {
  const addr = v.addr;
  let s = '';
  if (typeof addr === 'string') s += addr;
  else if (isObj(addr) && Array.isArray(addr.range)) s += `${addr.range[0]}-${addr.range[1]}`;
  else if (addr !== undefined) return undefined;
  const port = v.port;
  if (port !== undefined) {
    const r = portRange(port);
    if (!r) return undefined;
    const p = r[0] === r[1] ? `${r[0]}` : `${r[0]}-${r[1]}`;
    // An IPv6 address (or range) takes brackets before a port, as iptables writes --to-destination.
    if (s.includes(':')) s = `[${s}]`;
    s += s === '' ? p : `:${p}`;
  }
  return s;
}

function natFlags(v: Obj): string[] {
  const f = v.flags;
  const list = Array.isArray(f) ? f : typeof f === 'string' ? [f] : [];
  return list.map((x) => (x === 'fully-random' ? 'random-fully' : String(x)));
}

/** One statement as model actions; undefined when it has no model form (the caller keeps it as other). */
export function statementActions(s: Obj): Action[] | undefined {
  const keys = Object.keys(s);
  if (keys.length !== 1) return undefined;
  const k = keys[0];
  const v = s[k];
  switch (k) {
    case 'accept':
    case 'drop':
    case 'continue':
    case 'return':
      return [{ type: 'action', kind: k }];
    case 'jump':
    case 'goto':
      return isObj(v) && typeof v.target === 'string' ? [{ type: 'action', kind: k, chain: v.target }] : undefined;
    case 'notrack':
      return [{ type: 'action', kind: 'notrack' }];
    case 'queue': {
      if (!isObj(v)) return [{ type: 'action', kind: 'queue', num: 0, bypass: false, fanout: false }];
      const flags = Array.isArray(v.flags) ? v.flags : typeof v.flags === 'string' ? [v.flags] : [];
      const bypass = flags.includes('bypass');
      const fanout = flags.includes('fanout');
      const n = num(v.num);
      if (v.num === undefined || n !== undefined) return [{ type: 'action', kind: 'queue', num: n ?? 0, bypass, fanout }];
      const r = portRange(v.num);
      if (!r) return undefined;
      return [r[0] === r[1] ? { type: 'action', kind: 'queue', num: r[0], bypass, fanout } : { type: 'action', kind: 'queue', num: r[0], numTo: r[1], bypass, fanout }];
    }
    case 'mangle': {
      if (!isObj(v) || !isObj(v.key)) return undefined;
      const dst = isObj(v.key.meta) && v.key.meta.key === 'mark' ? 'meta' : isObj(v.key.ct) && v.key.ct.key === 'mark' && v.key.ct.dir === undefined ? 'ct' : undefined;
      if (!dst) return undefined;
      const a = mangleAction(dst, v.value);
      return a ? [a] : undefined;
    }
    case 'reject': {
      const a: Action = { type: 'action', kind: 'reject' };
      if (isObj(v) && (v.type !== undefined || v.expr !== undefined)) a.with = [v.type, v.expr].filter((x) => x !== undefined).map(String).join(' ');
      return [a];
    }
    case 'snat':
    case 'dnat':
    case 'masquerade':
    case 'redirect': {
      const a: Action = { type: 'action', kind: k };
      if (isObj(v)) {
        const to = natTo(v);
        if (to === undefined) return undefined;
        if (to !== '') a.to = to;
        const f = natFlags(v);
        if (f.length) a.flags = f;
      }
      return [a];
    }
    case 'tproxy': {
      if (!isObj(v)) return undefined;
      const a: Action = { type: 'action', kind: 'tproxy' };
      const p = num(v.port);
      if (p !== undefined) a.port = p;
      if (typeof v.addr === 'string') a.addr = v.addr;
      return [a];
    }
    default:
      return undefined;
  }
}

/** Statements with no effect on the verdict or the packet (they still count as `other`, not terminal). */
export const PASSIVE_STATEMENTS = new Set(['log', 'limit', 'quota', 'counter', 'meter', 'dup', 'set', 'ct helper', 'ct timeout', 'ct expectation', 'synproxy', 'flow', 'secmark']);
