// Before `run` installs anything: does anything on the live node already use the mark bits this
// daemon would own? The doctor answers (src/marks, the same analysis as `nfqguard doctor --live
// --mask`): `run` asks a MaskPreflight and refuses to start on a conflict (unless --force). The seam
// stays an interface so that tests can plug in their own.
import { hex8 } from '../marks/index.js';
import { hex32 } from '../netlink/bytes.js';
import { checkMask } from '../marks/check.js';
import type { Ruleset } from '../ruleset/model.js';
import { readLiveRuleset, unreadableSources } from '../ruleset/live.js';

export interface MaskConflict {
  /** The overlapping bits. */
  bits: number;
  /** Which mask: the packet mark or the connection mark. */
  kind: 'mark' | 'ctmark';
  /** Where the other user is (a rule, a component). */
  where: string;
  /** Why this is a problem, for a human. */
  explanation: string;
}

/** One line per conflict, as `run` refuses with it and `run --check` lists it. */
export function describeConflict(c: MaskConflict): string {
  return `${c.kind} bits ${hex32(c.bits)} at ${c.where}: ${c.explanation}`;
}

export interface PreflightInput {
  markMask: number;
  ctMarkMask: number;
  /** Instance name: our own rules (comment nfqguard:NAME:...) are not conflicts. */
  name: string;
}

export interface PreflightResult {
  conflicts: MaskConflict[];
  /**
   * Parts of the node's ruleset that could not be read (tool and error, with the fix): the check is blind
   * to them, so `run` refuses to start as on a conflict. Empty when everything was read.
   */
  unreadable?: string[];
  /** What was checked, e.g. "nfqguard doctor". */
  checker: string;
  notes: string[];
}

export interface MaskPreflight {
  check(input: PreflightInput): Promise<PreflightResult>;
}

/**
 * The doctor's verdict on the owned masks for a ruleset, as preflight conflicts, plus a free mask of
 * the same width when there is one. Pure. Rules whose comment starts with `nfqguard` are the doctor's
 * "NFQUEUE consumer" entry and never collide with the inspector's own mask.
 */
export function maskConflicts(ruleset: Ruleset, input: PreflightInput): { conflicts: MaskConflict[]; notes: string[] } {
  if (input.markMask === 0) {
    return { conflicts: [], notes: input.ctMarkMask === 0 ? [] : ['no packet-mark bits owned: the connection-mark bits were not checked'] };
  }
  const r = checkMask(ruleset, input.markMask, { ctmask: input.ctMarkMask });
  const conflicts = r.conflicts.map((c) => {
    const ev = c.evidence[0];
    return {
      bits: c.mask >>> 0,
      kind: c.space,
      where: ev ? `${ev.source}:${ev.line} (${ev.family} ${ev.table} ${ev.chain}) ${c.parties.join(', ')}` : c.parties.join(', '),
      explanation: c.consequence,
    } satisfies MaskConflict;
  });
  const notes = r.ok ? [r.explanation] : r.alternative !== null && r.alternative !== undefined ? [`a free mask of the same width on this node: ${hex8(r.alternative)}`] : [];
  return { conflicts, notes };
}

/** Reads the live node (iptables legacy and nft, nft native, ip rules) and asks the doctor. */
export const doctorPreflight: MaskPreflight = {
  async check(input) {
    const live = await readLiveRuleset();
    const { conflicts, notes } = maskConflicts(live.ruleset, input);
    const unreadable = unreadableSources(live.ruleset);
    return { conflicts, unreadable, checker: 'nfqguard doctor', notes: [...live.warnings, ...notes] };
  },
};
