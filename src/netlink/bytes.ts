// Byte order, made explicit at every read: netlink and nlattr headers are in host order, nfnetlink
// values (NFQA_*, CTA_*) in network order (big-endian).
import { endianness } from 'node:os';

/** True on little-endian hosts (x86, arm64): the byte order of nlmsghdr and nlattr fields. */
export const HOST_LE = endianness() === 'LE';

export function align4(n: number): number {
  return (n + 3) & ~3;
}

export function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Lower-case hex with 0x and 8 digits, the form used everywhere a mark is printed. */
export function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}
