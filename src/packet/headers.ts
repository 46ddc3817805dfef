// IPv4/IPv6/TCP/UDP/ICMP header views over the packet bytes an NFQUEUE message carries (from the
// network header on). One PacketHeaders object is reused for every packet: parse() fills plain number
// fields and allocates nothing, so the detection hot path stays allocation-free. Never throws: any
// input, however short or hostile, yields a status code and fields that stay inside the buffer.

import { ipv4Text, ipv6Text, wordsToGroups } from '../util/ip.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_SCTP = 132;

/** TCP flag bits as in the header's 13th byte. */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

/** Outcome of parse(). PARSE_OK also covers packets without an L4 header (non-first fragments, unknown protocols). */
export const PARSE_OK = 0;
export const PARSE_EMPTY = 1;
export const PARSE_BAD_VERSION = 2;
export const PARSE_TRUNCATED_L3 = 3;
export const PARSE_TRUNCATED_L4 = 4;

// IPv6 extension headers walked to find the upper-layer protocol (RFC 8200 section 4).
const IPV6_HOPOPTS = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_DSTOPTS = 60;
const IPV6_AH = 51;
const IPV6_MAX_EXT = 8;

export class PacketHeaders {
  /** 4, 6, or 0 when the version is unknown. */
  version = 0;
  status = PARSE_EMPTY;
  /** Upper-layer protocol (IPv6: after extension headers), -1 when unknown. */
  protocol = -1;
  /** IPv4 addresses as unsigned 32-bit numbers. */
  src4 = 0;
  dst4 = 0;
  /** IPv6 addresses as four big-endian 32-bit words (reused arrays). */
  readonly src6 = new Uint32Array(4);
  readonly dst6 = new Uint32Array(4);
  ttl = 0;
  /** Length the IP header claims for the whole packet (may exceed what was copied). */
  ipLength = 0;
  /** True for a fragment that is not the first: it has no L4 header. */
  laterFragment = false;
  /** Offset of the L4 header, -1 when there is none. */
  l4Offset = -1;
  sport = -1;
  dport = -1;
  tcpFlags = 0;
  icmpType = -1;
  icmpCode = -1;
  /** Application payload (after TCP/UDP headers) as [payloadOffset, payloadOffset + payloadLength). */
  payloadOffset = 0;
  payloadLength = 0;
  private buf: Uint8Array = new Uint8Array(0);

  get bytes(): Uint8Array {
    return this.buf;
  }

  /** The application payload as a view (no copy). */
  get payload(): Uint8Array {
    return this.buf.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  private reset(buf: Uint8Array): void {
    this.buf = buf;
    this.version = 0;
    this.protocol = -1;
    this.src4 = 0;
    this.dst4 = 0;
    this.ttl = 0;
    this.ipLength = 0;
    this.laterFragment = false;
    this.l4Offset = -1;
    this.sport = -1;
    this.dport = -1;
    this.tcpFlags = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.payloadOffset = 0;
    this.payloadLength = 0;
  }

  /** Parses the packet in `buf` (starting at the network header). Returns and stores a PARSE_* status. */
  parse(buf: Uint8Array): number {
    this.reset(buf);
    const n = buf.length;
    if (n === 0) return (this.status = PARSE_EMPTY);
    const v = buf[0] >> 4;
    if (v === 4) return (this.status = this.parse4(buf, n));
    if (v === 6) return (this.status = this.parse6(buf, n));
    return (this.status = PARSE_BAD_VERSION);
  }

  private parse4(b: Uint8Array, n: number): number {
    this.version = 4;
    if (n < 20) return PARSE_TRUNCATED_L3;
    const ihl = (b[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > n) return PARSE_TRUNCATED_L3;
    this.ipLength = (b[2] << 8) | b[3];
    const fragOff = ((b[6] & 0x1f) << 8) | b[7];
    this.laterFragment = fragOff !== 0;
    this.ttl = b[8];
    this.protocol = b[9];
    this.src4 = ((b[12] << 24) | (b[13] << 16) | (b[14] << 8) | b[15]) >>> 0;
    this.dst4 = ((b[16] << 24) | (b[17] << 16) | (b[18] << 8) | b[19]) >>> 0;
    // The copied bytes may be cut short (copy range) or padded: trust the smaller of the two ends.
    const end = this.ipLength >= ihl ? Math.min(n, this.ipLength) : n;
    if (this.laterFragment) return PARSE_OK;
    return this.parseL4(b, ihl, end);
  }

  private parse6(b: Uint8Array, n: number): number {
    this.version = 6;
    if (n < 40) return PARSE_TRUNCATED_L3;
    this.ipLength = 40 + ((b[4] << 8) | b[5]);
    this.ttl = b[7];
    for (let i = 0; i < 4; i++) {
      const s = 8 + i * 4;
      const d = 24 + i * 4;
      this.src6[i] = ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0;
      this.dst6[i] = ((b[d] << 24) | (b[d + 1] << 16) | (b[d + 2] << 8) | b[d + 3]) >>> 0;
    }
    const end = Math.min(n, this.ipLength);
    let next = b[6];
    let off = 40;
    for (let i = 0; i < IPV6_MAX_EXT; i++) {
      if (next === IPV6_HOPOPTS || next === IPV6_ROUTING || next === IPV6_DSTOPTS) {
        if (off + 2 > end) return (this.protocol = next), PARSE_TRUNCATED_L3;
        const hdrLen = (b[off + 1] + 1) * 8;
        next = b[off];
        off += hdrLen;
      } else if (next === IPV6_FRAGMENT) {
        if (off + 8 > end) return (this.protocol = next), PARSE_TRUNCATED_L3;
        const fragOff = ((b[off + 2] << 8) | b[off + 3]) >> 3;
        next = b[off];
        off += 8;
        if (fragOff !== 0) {
          this.laterFragment = true;
          this.protocol = next;
          return PARSE_OK;
        }
      } else if (next === IPV6_AH) {
        if (off + 2 > end) return (this.protocol = next), PARSE_TRUNCATED_L3;
        const hdrLen = (b[off + 1] + 2) * 4;
        next = b[off];
        off += hdrLen;
      } else {
        break;
      }
    }
    this.protocol = next;
    if (off > end) return PARSE_TRUNCATED_L3;
    return this.parseL4(b, off, end);
  }

  private parseL4(b: Uint8Array, off: number, end: number): number {
    const p = this.protocol;
    if (p === IPPROTO_TCP) {
      if (off + 20 > end) return PARSE_TRUNCATED_L4;
      this.l4Offset = off;
      this.sport = (b[off] << 8) | b[off + 1];
      this.dport = (b[off + 2] << 8) | b[off + 3];
      this.tcpFlags = b[off + 13];
      const doff = (b[off + 12] >> 4) * 4;
      if (doff < 20 || off + doff > end) return PARSE_TRUNCATED_L4;
      this.payloadOffset = off + doff;
      this.payloadLength = end - this.payloadOffset;
      return PARSE_OK;
    }
    if (p === IPPROTO_UDP || p === IPPROTO_SCTP) {
      const hl = p === IPPROTO_UDP ? 8 : 12;
      if (off + hl > end) return PARSE_TRUNCATED_L4;
      this.l4Offset = off;
      this.sport = (b[off] << 8) | b[off + 1];
      this.dport = (b[off + 2] << 8) | b[off + 3];
      this.payloadOffset = off + hl;
      this.payloadLength = end - this.payloadOffset;
      return PARSE_OK;
    }
    if (p === IPPROTO_ICMP || p === IPPROTO_ICMPV6) {
      if (off + 4 > end) return PARSE_TRUNCATED_L4;
      this.l4Offset = off;
      this.icmpType = b[off];
      this.icmpCode = b[off + 1];
      this.payloadOffset = Math.min(off + 8, end);
      this.payloadLength = end - this.payloadOffset;
      return PARSE_OK;
    }
    // Unknown upper layer: the rest is its payload.
    this.payloadOffset = off;
    this.payloadLength = end - off;
    return PARSE_OK;
  }

  srcAddress(): string {
    return this.version === 4 ? ipv4Text(this.src4) : this.version === 6 ? ipv6Text(wordsToGroups(this.src6)) : '';
  }

  dstAddress(): string {
    return this.version === 4 ? ipv4Text(this.dst4) : this.version === 6 ? ipv6Text(wordsToGroups(this.dst6)) : '';
  }
}


export function protocolName(p: number): string {
  switch (p) {
    case IPPROTO_TCP:
      return 'tcp';
    case IPPROTO_UDP:
      return 'udp';
    case IPPROTO_ICMP:
      return 'icmp';
    case IPPROTO_ICMPV6:
      return 'icmpv6';
    case IPPROTO_SCTP:
      return 'sctp';
    default:
      return String(p);
  }
}
