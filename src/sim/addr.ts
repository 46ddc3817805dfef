// IP addresses and prefixes as numbers, so that matching a rule costs a few integer operations.
// IPv4: one unsigned 32-bit number. IPv6: four big-endian 32-bit words. The text forms are the project's
// (src/util/ip.ts: inet_ntop's form when printing).
import { groupsToWords, ipv4Scan, ipv4Text, ipv6Text, parseIpv4, parseIpv6, scanIpv4, wordsToGroups } from '../util/ip.js';

export type Addr = { v: 4; n: number } | { v: 6; w: readonly [number, number, number, number] };

export type Prefix = { v: 4; net: number; mask: number; len: number } | { v: 6; net: number[]; mask: number[]; len: number };

/** What scanIpv4Port() read last (a field, so that a scan allocates nothing): the address, and the port or -1. */
export const endpointScan = { addr: 0, port: -1 };

/**
 * Exactly 'A.B.C.D' or 'A.B.C.D:PORT' (1 to 5 digits, not checked against 65535) in text[from, to), read
 * by character codes: true with endpointScan set, false for anything else. The fast paths of packet specs
 * and of NAT targets (kube-proxy's 30,000 DNAT targets) read their endpoints with it.
 */
export function scanIpv4Port(text: string, from: number, to: number): boolean {
  const i = scanIpv4(text, from, to);
  if (i < 0) return false;
  endpointScan.addr = ipv4Scan.value;
  endpointScan.port = -1;
  if (i === to) return true;
  if (text.charCodeAt(i) !== 58 || i + 1 === to || to - i - 1 > 5) return false;
  let port = 0;
  for (let j = i + 1; j < to; j++) {
    const c = text.charCodeAt(j);
    if (c < 48 || c > 57) return false;
    port = port * 10 + (c - 48);
  }
  endpointScan.port = port;
  return true;
}

export function parseIPv4(text: string): number | undefined {
  const n = parseIpv4(text);
  return n === undefined ? undefined : n >>> 0;
}

/** Parses an IPv6 address (with ::, an embedded IPv4 tail, a %zone); undefined if it is not one. */
export function parseIPv6(text: string): [number, number, number, number] | undefined {
  const pct = text.indexOf('%');
  const g = parseIpv6(pct >= 0 ? text.slice(0, pct) : text);
  if (!g) return undefined;
  const w = groupsToWords(g);
  return [w[0], w[1], w[2], w[3]];
}

export function parseAddr(text: string): Addr | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { v: 4, n: v4 };
  const v6 = parseIPv6(text);
  if (v6 !== undefined) return { v: 6, w: v6 };
  return undefined;
}

function maskWords(len: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, len - i * 32));
    out.push(bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
  }
  return out;
}

/** Number of leading one bits of a contiguous mask, or undefined when it is not contiguous. */
function maskLen(mask: number): number | undefined {
  let len = 0;
  while (len < 32 && (mask & (0x80000000 >>> len)) !== 0) len++;
  return ((mask << len) >>> 0) === 0 || len === 32 ? len : undefined;
}

/**
 * Parses '10.0.0.0/8', '10.0.0.1', '10.0.0.0/255.0.0.0', '::1/128', 'fd00::/8'. Host bits are cleared,
 * as the kernel does when it compares. Undefined if it is not a prefix.
 */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const lenText = slash < 0 ? undefined : text.slice(slash + 1);
  const a = parseAddr(addrText);
  if (!a) return undefined;
  if (a.v === 4) {
    let len = 32;
    if (lenText !== undefined) {
      if (/^\d{1,2}$/.test(lenText)) len = Number(lenText);
      else {
        const m = parseIPv4(lenText);
        const l = m === undefined ? undefined : maskLen(m);
        if (l === undefined) return undefined;
        len = l;
      }
      if (len > 32) return undefined;
    }
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return { v: 4, net: (a.n & mask) >>> 0, mask, len };
  }
  let len = 128;
  if (lenText !== undefined) {
    if (!/^\d{1,3}$/.test(lenText)) return undefined;
    len = Number(lenText);
    if (len > 128) return undefined;
  }
  const mask = maskWords(len);
  return { v: 6, net: a.w.map((w, i) => (w & mask[i]) >>> 0), mask, len };
}

export function inPrefix(a: Addr, p: Prefix): boolean {
  if (a.v === 4) return p.v === 4 && ((a.n & p.mask) >>> 0) === p.net;
  if (p.v !== 6) return false;
  const w = a.w;
  return ((w[0] & p.mask[0]) >>> 0) === p.net[0] && ((w[1] & p.mask[1]) >>> 0) === p.net[1] && ((w[2] & p.mask[2]) >>> 0) === p.net[2] && ((w[3] & p.mask[3]) >>> 0) === p.net[3];
}

export function addrEquals(a: Addr, b: Addr): boolean {
  if (a.v === 4) return b.v === 4 && a.n === b.n;
  return b.v === 6 && a.w[0] === b.w[0] && a.w[1] === b.w[1] && a.w[2] === b.w[2] && a.w[3] === b.w[3];
}

/** A string key for hash lookups (dispatch indexes, local-address sets). */
export function addrKey(a: Addr): string | number {
  return a.v === 4 ? a.n : `${a.w[0]}:${a.w[1]}:${a.w[2]}:${a.w[3]}`;
}

export function formatAddr(a: Addr): string {
  return a.v === 4 ? ipv4Text(a.n) : ipv6Text(wordsToGroups(a.w));
}

export const LOOPBACK_V4: Prefix = parsePrefix('127.0.0.0/8') as Prefix;
export const LOOPBACK_V6: Prefix = parsePrefix('::1/128') as Prefix;
const MULTICAST_V4 = parsePrefix('224.0.0.0/4') as Prefix;
const MULTICAST_V6 = parsePrefix('ff00::/8') as Prefix;

export function isLoopback(a: Addr): boolean {
  return inPrefix(a, a.v === 4 ? LOOPBACK_V4 : LOOPBACK_V6);
}

export function isMulticast(a: Addr): boolean {
  return inPrefix(a, a.v === 4 ? MULTICAST_V4 : MULTICAST_V6);
}

export function isUnspecified(a: Addr): boolean {
  return a.v === 4 ? a.n === 0 : a.w.every((w) => w === 0);
}

export function isLimitedBroadcast(a: Addr): boolean {
  return a.v === 4 && a.n === 0xffffffff;
}
