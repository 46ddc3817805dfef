// Internet checksums (RFC 1071) for packets a verdict rewrites: the kernel does not recompute L3/L4
// checksums of an NFQA_PAYLOAD replacement, so a rewritten packet must carry correct ones.

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPV6_EXT = new Set([0, 43, 60]); // hop-by-hop, routing, destination options

/** One's-complement sum of bytes [start, end), added to `sum` (not folded). */
function sum16(b: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >> 8;
  b[at + 1] = v & 0xff;
}

/** Recomputes the IPv4 header checksum in place. */
export function fixIpv4HeaderChecksum(pkt: Uint8Array): void {
  const ihl = (pkt[0] & 0x0f) * 4;
  put16(pkt, 10, 0);
  put16(pkt, 10, fold(sum16(pkt, 0, ihl)));
}

function fixL4(pkt: Uint8Array, l4: number, end: number, proto: number, pseudo: number): boolean {
  const at = proto === IPPROTO_TCP ? l4 + 16 : l4 + 6;
  if (at + 2 > end) return false;
  put16(pkt, at, 0);
  let c = fold(sum16(pkt, l4, end, pseudo + proto + (end - l4)));
  if (proto === IPPROTO_UDP && c === 0) c = 0xffff; // 0 means "no checksum" for UDP
  put16(pkt, at, c);
  return true;
}

/**
 * Fixes the IPv4 header checksum and the TCP or UDP checksum of an IPv4 or IPv6 packet in place, after
 * setting the IP length fields to the buffer's length. Returns false (and changes no L4 checksum) for
 * packets it cannot handle: fragments, other protocols, truncated headers.
 */
export function fixChecksums(pkt: Uint8Array): boolean {
  if (pkt.length < 1) return false;
  const version = pkt[0] >> 4;
  if (version === 4) {
    const ihl = (pkt[0] & 0x0f) * 4;
    if (ihl < 20 || pkt.length < ihl) return false;
    put16(pkt, 2, pkt.length);
    fixIpv4HeaderChecksum(pkt);
    const fragment = ((pkt[6] << 8) | pkt[7]) & 0x3fff; // MF flag or offset
    const proto = pkt[9];
    if (fragment !== 0 || (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP)) return false;
    if (proto === IPPROTO_UDP && pkt.length >= ihl + 8) put16(pkt, ihl + 4, pkt.length - ihl);
    return fixL4(pkt, ihl, pkt.length, proto, sum16(pkt, 12, 20));
  }
  if (version === 6) {
    if (pkt.length < 40) return false;
    put16(pkt, 4, pkt.length - 40);
    let next = pkt[6];
    let off = 40;
    while (IPV6_EXT.has(next)) {
      if (off + 8 > pkt.length) return false;
      const len = (pkt[off + 1] + 1) * 8;
      next = pkt[off];
      off += len;
    }
    if (next !== IPPROTO_TCP && next !== IPPROTO_UDP) return false;
    if (off > pkt.length) return false;
    if (next === IPPROTO_UDP && pkt.length >= off + 8) put16(pkt, off + 4, pkt.length - off);
    return fixL4(pkt, off, pkt.length, next, sum16(pkt, 8, 40));
  }
  return false;
}
