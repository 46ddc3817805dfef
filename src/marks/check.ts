// The stable API the daemon calls at start-up, before it binds a queue with a mark mask:
//
//   const { ok, conflicts, explanation } = checkMask(ruleset, 0x0f000000);
//   if (!ok) refuse to start (or warn) with `explanation`.
//
// `ok` is true when no owner, reserved range, reader or whole-word writer on this node collides with the
// mask. Conflicts that do not involve the mask (two CNIs disagreeing, an NFQUEUE rule already present)
// are not the inspector's business and are left out; `analyze` reports them. `opts.ctmask`: also check
// the connection-mark bits the inspector owns. Rules whose comment starts with "nfqguard" (the daemon's
// own steering rules) belong to the NFQUEUE-consumer entry and never count as a collision.
import type { Ruleset } from '../ruleset/model.js';
import { analyze, type AnalyzeOptions } from './analyze.js';
import { describeBits, hex8, popcount } from './bits.js';
import { CATALOG } from './catalog.js';
import { wellKnownUse } from './suggest.js';
import type { Conflict } from './types.js';

export interface MaskCheck {
  ok: boolean;
  mask: number;
  conflicts: Conflict[];
  /** One paragraph per conflict; or why the mask is safe, with well-known components that would collide. */
  explanation: string;
  /** A free mask of the same width, when the checked one is not safe (null when none exists). */
  alternative: number | null;
}

export function checkMask(ruleset: Ruleset, mask: number, opts: Omit<AnalyzeOptions, 'mask' | 'need'> = {}): MaskCheck {
  const m = mask >>> 0;
  if (m === 0) throw new RangeError('checkMask: the mask must have at least one bit');
  const width = popcount(m);
  const report = analyze(ruleset, { ...opts, mask: m, need: width });
  const conflicts = report.conflicts.filter((c) => c.kind === 'inspector');
  const ok = conflicts.length === 0;
  let explanation: string;
  if (ok) {
    const known = wellKnownUse(opts.catalog ?? CATALOG);
    const fams = new Set<string>();
    for (let b = 0; b < 32; b++) if ((m >>> b) & 1) for (const f of known[b]) fams.add(f);
    explanation = `${hex8(m)} is free on this node: no owner, reserved range or reader uses ${describeBits(m)}.`;
    if (fams.size) explanation += ` Installed later, these components would use some of its bits: ${[...fams].sort().join(', ')}.`;
  } else {
    explanation = conflicts.map((c) => `${c.parties.join(' vs ')}: ${c.consequence}`).join('\n');
  }
  return { ok, mask: m, conflicts, explanation, alternative: ok ? m : report.suggestion.mask };
}
