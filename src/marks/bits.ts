// 32-bit mask helpers. Marks are unsigned 32-bit values; JavaScript bit operators work on signed 32-bit
// integers, so every result goes through `>>> 0`.

export const ALL = 0xffffffff;

/** A mask as the doctor prints it everywhere: 0x followed by 8 lowercase hex digits. */
export function hex8(mask: number): string {
  return '0x' + (mask >>> 0).toString(16).padStart(8, '0');
}

export function popcount(mask: number): number {
  let m = mask >>> 0;
  let n = 0;
  while (m) {
    m &= m - 1;
    n++;
  }
  return n;
}

/** The bit numbers (0 = least significant) set in a mask, ascending. */
export function bitsOf(mask: number): number[] {
  const out: number[] = [];
  const m = mask >>> 0;
  for (let b = 0; b < 32; b++) if ((m >>> b) & 1) out.push(b);
  return out;
}

export function bit(n: number): number {
  return (1 << n) >>> 0;
}

/** N contiguous bits starting at bit `low`. */
export function contiguous(low: number, n: number): number {
  if (n >= 32) return ALL;
  return (((2 ** n - 1) * 2 ** low) >>> 0);
}

/** "bit 15 (0x00008000)", "bits 16-23 (0x00ff0000)", "bits 14, 15 (0x0000c000)", "bits 16, 17, 19-23 (0x00fb0000)". */
export function describeBits(mask: number): string {
  const bits = bitsOf(mask);
  if (bits.length === 0) return 'no bits';
  if (bits.length === 1) return `bit ${bits[0]} (${hex8(mask)})`;
  // Runs of three or more bits read as a range.
  const parts: string[] = [];
  for (let i = 0; i < bits.length; ) {
    let j = i;
    while (j + 1 < bits.length && bits[j + 1] === bits[j] + 1) j++;
    if (j - i >= 2 || (i === 0 && j === bits.length - 1)) parts.push(`${bits[i]}-${bits[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(bits[k]));
    i = j + 1;
  }
  return `bits ${parts.join(', ')} (${hex8(mask)})`;
}
