// The free-mask suggestion: N contiguous bits that no owner, reserved range, reader or writer on this
// node uses, preferring bits that fewer well-known components reserve (so the mask stays safe when one
// of them is installed later).
import { ALL, contiguous } from './bits.js';
import type { ComponentEntry, Suggestion } from './types.js';

/** Per bit: the component families of the catalog that use it (whether or not they are on this node). */
export function wellKnownUse(catalog: readonly ComponentEntry[]): string[][] {
  const out: string[][] = Array.from({ length: 32 }, () => []);
  for (const e of catalog) {
    for (const u of e.uses) {
      if (u.space !== 'mark') continue;
      for (let b = 0; b < 32; b++) if ((u.mask >>> b) & 1 && !out[b].includes(e.family)) out[b].push(e.family);
    }
  }
  return out;
}

export function suggestMask(used: number, need: number, catalog: readonly ComponentEntry[]): Suggestion {
  const free = ~used >>> 0;
  const known = wellKnownUse(catalog);
  let best: { mask: number; score: number; low: number } | undefined;
  for (let low = 0; low + need <= 32; low++) {
    const m = contiguous(low, need);
    if ((m & free) >>> 0 !== m) continue;
    let score = 0;
    for (let b = low; b < low + need; b++) score += known[b].length;
    // Lowest score wins; on a tie the lower bits (clear of the ranges CNIs allocate from the top).
    if (!best || score < best.score) best = { mask: m, score, low };
  }
  if (!best) {
    let run = 0;
    let longest = 0;
    for (let b = 0; b < 32; b++) {
      run = (free >>> b) & 1 ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    return {
      mask: null,
      need,
      reservedElsewhereBy: [],
      reason: free === 0 ? 'no bit of the mark is free on this node' : `no ${need} contiguous free bits; the longest free run is ${longest} bit${longest === 1 ? '' : 's'}`,
    };
  }
  const by = new Set<string>();
  for (let b = best.low; b < best.low + need; b++) for (const f of known[b]) by.add(f);
  return {
    mask: best.mask,
    need,
    reservedElsewhereBy: [...by].sort(),
    reason:
      by.size === 0
        ? `${need} contiguous bits no owner, reserved range or reader uses here, and no well-known component reserves`
        : `${need} contiguous bits no owner, reserved range or reader uses here; of the free runs, the one fewest well-known components use (${[...by].sort().join(', ')} would collide if installed later)`,
  };
}

export { ALL };
