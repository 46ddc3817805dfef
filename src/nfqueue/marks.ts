// Mark ownership: the point of the project. The kernel replaces the packet's whole 32-bit mark with a
// verdict's NFQA_MARK (there is no mask attribute), so the bits a consumer does not own must be
// carried over in userspace: out = (in & ~mask) | (bits & mask).
import { hex32 } from '../netlink/bytes.js';

export class MarkOwnershipError extends Error {
  readonly code = 'ERR_MARK_NOT_OWNED';
  constructor(
    readonly requested: number,
    readonly mask: number,
    what = 'mark',
  ) {
    const outside = (requested & ~mask) >>> 0;
    super(
      `${what} ${hex32(requested)} sets bits ${hex32(outside)} outside the owned mask ${hex32(mask)}; ` +
        `ask only for bits inside the mask, or open the queue with a mask that owns them (check with \`nfqguard doctor --mask\`)`,
    );
    this.name = 'MarkOwnershipError';
  }
}

/** Throws MarkOwnershipError when `bits` has any bit outside `mask`. */
export function checkOwned(bits: number, mask: number, what = 'mark'): void {
  if ((bits & ~mask) !== 0) throw new MarkOwnershipError(bits >>> 0, mask >>> 0, what);
}

/** The full mark to hand to the kernel: the packet's own bits outside the mask, ours inside. */
export function mergeMark(packetMark: number, bits: number, mask: number): number {
  return ((packetMark & ~mask) | (bits & mask)) >>> 0;
}

/** Parses 0x-hex, 0b-binary or decimal 32-bit values as users write them; undefined if not one. */
export function parseMark(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (!/^(0x[0-9a-f]+|0b[01]+|[0-9]+)$/.test(t)) return undefined;
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) return undefined;
  return n >>> 0;
}
