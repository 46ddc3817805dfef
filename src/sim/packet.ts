// The packet a trace follows, written as one line:
//   tcp 10.0.0.1:40240 > 127.0.0.1:80
//   udp [fd00::1]:5353 > [fd00::2]:53
//   icmp 10.0.0.1 > 10.0.0.2 echo-request
//   tcp 10.0.0.1:40240 > 10.96.0.10:443 syn,ack in eth0 mark 0x4000 ctmark 0x1 ct established
// The words after the addresses are optional: TCP flags, ICMP type/code, and per-packet values that
// otherwise come from the command's options (interfaces, marks, conntrack state).
import { table } from '../util/table.js';
import type { CtState } from '../ruleset/model.js';
import { endpointScan, formatAddr, parseIPv4, parseIPv6, scanIpv4Port, type Addr } from './addr.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

export const PROTO_NUMBERS: Readonly<Record<string, number>> = table({
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  'ipv6-icmp': 58,
  sctp: 132,
  udplite: 136,
  dccp: 33,
});

/** Protocols whose header starts with a 16-bit source and destination port. */
export const PORT_PROTOS = new Set([6, 17, 33, 132, 136]);

export const TCP_FLAGS: Readonly<Record<string, number>> = table({ fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10, urg: 0x20, ece: 0x40, cwr: 0x80 });

const ICMP_TYPES: Readonly<Record<string, number>> = table({
  'echo-reply': 0,
  'destination-unreachable': 3,
  'source-quench': 4,
  redirect: 5,
  'echo-request': 8,
  'router-advertisement': 9,
  'router-solicitation': 10,
  'time-exceeded': 11,
  'parameter-problem': 12,
  'timestamp-request': 13,
  'timestamp-reply': 14,
});

const ICMPV6_TYPES: Readonly<Record<string, number>> = table({
  'destination-unreachable': 1,
  'packet-too-big': 2,
  'time-exceeded': 3,
  'parameter-problem': 4,
  'echo-request': 128,
  'echo-reply': 129,
  'nd-router-solicit': 133,
  'nd-router-advert': 134,
  'nd-neighbor-solicit': 135,
  'nd-neighbor-advert': 136,
});

export const CT_STATES: readonly CtState[] = ['new', 'established', 'related', 'invalid', 'untracked'];

export interface PacketSpec {
  family: 'ip' | 'ip6';
  proto: number;
  saddr: Addr;
  daddr: Addr;
  sport?: number;
  dport?: number;
  /** TCP flags; when absent the simulator uses SYN for a new connection and ACK otherwise. */
  tcpFlags?: number;
  icmpType?: number;
  icmpCode?: number;
  // Per-packet values that override the command's options.
  in?: string;
  out?: string;
  mark?: number;
  ctmark?: number;
  ctState?: CtState;
}

/** A spec that does not parse: the message and the 1-based column of the offending word. */
export class PacketSpecError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
    this.name = 'PacketSpecError';
  }
}

interface Token {
  text: string;
  col: number;
}

/** A blank between words: space, tab, LF, VT, FF, CR (the characters below 127 that String.prototype.trim removes). */
export function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Words separated by blanks; '>' is a word of its own even when it touches its neighbours. */
function tokenize(line: string): Token[] {
  const out: Token[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (isBlank(c)) {
      i++;
      continue;
    }
    if (c === 62) {
      out.push({ text: '>', col: i + 1 });
      i++;
      continue;
    }
    const start = i;
    while (i < n) {
      const d = line.charCodeAt(i);
      if (isBlank(d) || d === 62) break;
      i++;
    }
    out.push({ text: line.slice(start, i), col: start + 1 });
  }
  return out;
}

function parseU32Word(t: Token, what: string): number {
  const s = t.text.toLowerCase();
  const n = /^(0x[0-9a-f]+|[0-9]+)$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new PacketSpecError(`${what} must be a 32-bit number such as 0x8000, got "${t.text}"`, t.col);
  return n >>> 0;
}

function parsePort(text: string, col: number): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57 || i >= 5) return portError(text, col);
    n = n * 10 + (c - 48);
  }
  return text.length === 0 || n > 65535 ? portError(text, col) : n;
}

function portError(text: string, col: number): never {
  throw new PacketSpecError(`port must be 0-65535, got "${text}"`, col);
}

/** 'A', 'A:PORT', '[V6]:PORT', 'V6'. */
function parseEndpoint(t: Token, wantPort: boolean): { addr: Addr; port?: number } {
  const s = t.text;
  let addrText = s;
  let portText: string | undefined;
  let portCol = t.col;
  if (s.charCodeAt(0) === 91 /* [ */) {
    const close = s.indexOf(']');
    if (close < 0 || (close + 1 < s.length && s.charCodeAt(close + 1) !== 58)) throw new PacketSpecError(`"${s}": write IPv6 with a port as [addr]:port`, t.col);
    addrText = s.slice(1, close);
    if (close + 1 < s.length) portText = s.slice(close + 2);
    portCol = t.col + close + 2;
  } else {
    const i = s.indexOf(':');
    if (i >= 0 && s.indexOf(':', i + 1) < 0) {
      addrText = s.slice(0, i);
      portText = s.slice(i + 1);
      portCol = t.col + i + 1;
    }
  }
  const v4 = parseIPv4(addrText);
  const v6 = v4 === undefined ? parseIPv6(addrText) : undefined;
  if (v4 === undefined && v6 === undefined) throw new PacketSpecError(`"${addrText}" is not an IPv4 or IPv6 address (write IPv6 with a port as [addr]:port)`, t.col);
  const addr: Addr = v4 !== undefined ? { v: 4, n: v4 } : { v: 6, w: v6 as [number, number, number, number] };
  if (portText === undefined || portText === '') {
    if (wantPort) throw new PacketSpecError(`"${s}" needs a port, e.g. ${v4 !== undefined ? `${addrText}:80` : `[${addrText}]:80`}`, t.col);
    return { addr };
  }
  if (!wantPort) throw new PacketSpecError(`this protocol has no ports, got "${s}"`, portCol);
  return { addr, port: parsePort(portText, portCol) };
}

// The fast path: the common line (tcp/udp/icmp, IPv4 endpoints, then only in/out words) read by
// character codes, with no tokens or substrings but the interface names. Anything else, and every
// error, goes to the full parser below, which is the definition: for what it accepts, the fast path
// gives the same spec.

/** Where the word starting at `i` ends (a blank, '>' or `to`). */
function wordEnd(line: string, i: number, to: number): number {
  while (i < to) {
    const c = line.charCodeAt(i);
    if (isBlank(c) || c === 62) break;
    i++;
  }
  return i;
}

function skipBlanks(line: string, i: number, to: number): number {
  while (i < to && isBlank(line.charCodeAt(i))) i++;
  return i;
}

/** Lower-case letters of line[a, b) equal `word` (which is lower case). */
function wordIs(line: string, a: number, b: number, word: string): boolean {
  if (b - a !== word.length) return false;
  for (let i = 0; i < word.length; i++) if ((line.charCodeAt(a + i) | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/** An IPv4 endpoint in line[a, b), with a port (0-65535) if and only if `wantPort`: true with endpointScan set. */
function fastEndpoint(line: string, a: number, b: number, wantPort: boolean): boolean {
  return scanIpv4Port(line, a, b) && (endpointScan.port >= 0) === wantPort && endpointScan.port <= 65535;
}

function isIfaceChar(c: number): boolean {
  // [A-Za-z0-9_.@:+-]
  return (c >= 48 && c <= 58) || (c >= 64 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 43 || c === 45;
}

/**
 * The fast path on text[from, to) (a line of a file read whole, without cutting it out), or undefined:
 * then parsePacketSpec(text.slice(from, to)) decides, and reports any error.
 */
export function fastPacketSpecAt(line: string, from: number, to: number): PacketSpec | undefined {
  let i = skipBlanks(line, from, to);
  let e = wordEnd(line, i, to);
  const proto = wordIs(line, i, e, 'tcp') ? IPPROTO_TCP : wordIs(line, i, e, 'udp') ? IPPROTO_UDP : wordIs(line, i, e, 'icmp') ? IPPROTO_ICMP : 0;
  if (proto === 0) return undefined;
  const wantPort = proto !== IPPROTO_ICMP;
  i = skipBlanks(line, e, to);
  e = wordEnd(line, i, to);
  if (!fastEndpoint(line, i, e, wantPort)) return undefined;
  const saddr = endpointScan.addr;
  const sport = endpointScan.port;
  i = skipBlanks(line, e, to);
  if (i >= to || line.charCodeAt(i) !== 62) return undefined;
  i = skipBlanks(line, i + 1, to);
  e = wordEnd(line, i, to);
  if (!fastEndpoint(line, i, e, wantPort)) return undefined;
  const spec: PacketSpec = { family: 'ip', proto, saddr: { v: 4, n: saddr }, daddr: { v: 4, n: endpointScan.addr } };
  if (wantPort) {
    spec.sport = sport;
    spec.dport = endpointScan.port;
  }
  for (;;) {
    i = skipBlanks(line, e, to);
    if (i >= to) break;
    e = wordEnd(line, i, to);
    const w = wordIs(line, i, e, 'in') ? 'in' : wordIs(line, i, e, 'out') ? 'out' : undefined;
    if (w === undefined) return undefined;
    i = skipBlanks(line, e, to);
    e = wordEnd(line, i, to);
    if (e === i || e - i > 15) return undefined;
    for (let j = i; j < e; j++) if (!isIfaceChar(line.charCodeAt(j))) return undefined;
    spec[w] = line.slice(i, e);
  }
  if (proto === IPPROTO_ICMP) {
    spec.icmpType = 8;
    spec.icmpCode = 0;
  }
  return spec;
}

/** Parses one packet line. Throws PacketSpecError with the column of the problem. */
export function parsePacketSpec(line: string): PacketSpec {
  return fastPacketSpecAt(line, 0, line.length) ?? parseSpec(line);
}

/** The full parser alone (what the fast path must agree with; exported for its test). */
export function parseSpec(line: string): PacketSpec {
  const toks = tokenize(line);
  if (toks.length === 0) throw new PacketSpecError('empty packet spec; write e.g. "tcp 10.0.0.1:40240 > 127.0.0.1:80"', 1);
  const protoTok = toks[0];
  const pname = protoTok.text.toLowerCase();
  let proto = PROTO_NUMBERS[pname];
  if (proto === undefined) {
    if (/^\d{1,3}$/.test(pname) && Number(pname) <= 255) proto = Number(pname);
    else throw new PacketSpecError(`unknown protocol "${protoTok.text}" (tcp, udp, icmp, icmpv6, sctp, or a number)`, protoTok.col);
  }
  const wantPort = PORT_PROTOS.has(proto);
  if (toks.length < 4) throw new PacketSpecError('expected "PROTO SRC > DST"', (toks[toks.length - 1]?.col ?? 1) + (toks[toks.length - 1]?.text.length ?? 0));
  const src = parseEndpoint(toks[1], wantPort);
  if (toks[2].text !== '>') throw new PacketSpecError(`expected ">" between source and destination, got "${toks[2].text}"`, toks[2].col);
  const dst = parseEndpoint(toks[3], wantPort);
  if (src.addr.v !== dst.addr.v) throw new PacketSpecError('source and destination must both be IPv4 or both IPv6', toks[3].col);
  const family = src.addr.v === 4 ? 'ip' : 'ip6';
  if (proto === 58 && family === 'ip') throw new PacketSpecError('icmpv6 needs IPv6 addresses', protoTok.col);
  if (proto === 1 && family === 'ip6') proto = 58; // "icmp" between IPv6 addresses means ICMPv6
  const spec: PacketSpec = { family, proto, saddr: src.addr, daddr: dst.addr };
  if (src.port !== undefined) spec.sport = src.port;
  if (dst.port !== undefined) spec.dport = dst.port;

  const isIcmp = proto === 1 || proto === 58;
  const icmpNames = proto === 1 ? ICMP_TYPES : ICMPV6_TYPES;
  for (let i = 4; i < toks.length; i++) {
    const t = toks[i];
    const w = t.text.toLowerCase();
    const needArg = (): Token => {
      const a = toks[i + 1];
      if (!a) throw new PacketSpecError(`"${t.text}" needs a value`, t.col + t.text.length);
      i++;
      return a;
    };
    if (w === 'in' || w === 'out') {
      const a = needArg();
      if (!/^[A-Za-z0-9_.@:+-]{1,15}$/.test(a.text)) throw new PacketSpecError(`"${a.text}" is not an interface name`, a.col);
      spec[w] = a.text;
    } else if (w === 'mark' || w === 'ctmark') {
      spec[w] = parseU32Word(needArg(), w);
    } else if (w === 'ct' || w === 'ctstate') {
      const a = needArg();
      const st = a.text.toLowerCase() as CtState;
      if (!CT_STATES.includes(st)) throw new PacketSpecError(`ct state must be one of ${CT_STATES.join(', ')}, got "${a.text}"`, a.col);
      spec.ctState = st;
    } else if (proto === 6 && (w === 'flags' || w.split(',').every((f) => f in TCP_FLAGS))) {
      const a = w === 'flags' ? needArg() : t;
      let flags = 0;
      if (/^(0x[0-9a-f]{1,2}|\d{1,3})$/i.test(a.text) && Number(a.text) <= 0xff) {
        spec.tcpFlags = Number(a.text);
        continue;
      }
      for (const f of a.text.toLowerCase().split(',')) {
        const bit = TCP_FLAGS[f];
        if (bit === undefined) throw new PacketSpecError(`unknown TCP flag "${f}" (fin, syn, rst, psh, ack, urg, ece, cwr)`, a.col);
        flags |= bit;
      }
      spec.tcpFlags = flags;
    } else if (isIcmp && (w === 'type' || w === 'code')) {
      const a = needArg();
      const n = /^\d{1,3}$/.test(a.text) ? Number(a.text) : (icmpNames[a.text.toLowerCase()] ?? NaN);
      if (!(n >= 0 && n <= 255)) throw new PacketSpecError(`ICMP ${w} must be 0-255${w === 'type' ? ' or a name such as echo-request' : ''}, got "${a.text}"`, a.col);
      if (w === 'type') spec.icmpType = n;
      else spec.icmpCode = n;
    } else if (isIcmp && icmpNames[w] !== undefined) {
      spec.icmpType = icmpNames[w];
    } else {
      throw new PacketSpecError(`unexpected "${t.text}" (after the addresses: TCP flags, ICMP type, in/out IFACE, mark V, ctmark V, ct STATE)`, t.col);
    }
  }
  if (isIcmp) {
    spec.icmpType ??= proto === 1 ? 8 : 128;
    spec.icmpCode ??= 0;
  }
  return spec;
}

const PROTO_NAMES: string[] = [];
for (const [name, n] of Object.entries(PROTO_NUMBERS)) PROTO_NAMES[n] ??= name;

export function protoName(proto: number): string {
  return PROTO_NAMES[proto] ?? String(proto);
}

export function tcpFlagsText(flags: number): string {
  return Object.entries(TCP_FLAGS)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([n]) => n)
    .join(',');
}

/** The spec back as one line (addresses and ports; the words the parser takes). */
export function formatPacketSpec(p: PacketSpec): string {
  const ep = (a: Addr, port?: number): string => (port === undefined ? formatAddr(a) : a.v === 6 ? `[${formatAddr(a)}]:${port}` : `${formatAddr(a)}:${port}`);
  let s = `${protoName(p.proto)} ${ep(p.saddr, p.sport)} > ${ep(p.daddr, p.dport)}`;
  if (p.tcpFlags !== undefined) s += ` ${tcpFlagsText(p.tcpFlags) || 'flags 0'}`;
  if (p.icmpType !== undefined) s += ` type ${p.icmpType}`;
  if (p.icmpCode) s += ` code ${p.icmpCode}`;
  return s;
}
