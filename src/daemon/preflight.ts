// Before `run` installs anything: does anything on the live node already use the mark bits this
// daemon would own? The full answer belongs to the doctor (src/marks, `nfqguard doctor --live --mask`);
// this module is the seam: `run` asks a MaskPreflight and refuses to start on a conflict (unless
// --force). Until the doctor is merged, interimPreflight scans iptables-save output for the mark bits
// that rules match or set (a subset of what the doctor checks: no nft native rules, no ip rules, no
// component catalogue).
import { readFile } from 'node:fs/promises';
import { run } from '../lab/exec.js';
import { which } from '../util/tools.js';
import { hex32 } from '../netlink/bytes.js';

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

export interface PreflightInput {
  markMask: number;
  ctMarkMask: number;
  /** Instance name: our own rules (comment nfqguard:NAME:...) are not conflicts. */
  name: string;
}

export interface PreflightResult {
  conflicts: MaskConflict[];
  /** What was checked, e.g. "interim iptables scan" or "nfqguard doctor". */
  checker: string;
  notes: string[];
}

export interface MaskPreflight {
  check(input: PreflightInput): Promise<PreflightResult>;
}

const MARK_OPT = /--(mark|set-xmark|set-mark|or-mark|xor-mark)\s+(0x[0-9a-fA-F]+|\d+)(?:\/(0x[0-9a-fA-F]+|\d+))?/g;

/** Mark bits each rule of an iptables-save text uses, split by packet mark and connmark. Pure. */
export function markUsage(save: string, name: string): Array<{ kind: 'mark' | 'ctmark'; bits: number; rule: string; table: string }> {
  const out: Array<{ kind: 'mark' | 'ctmark'; bits: number; rule: string; table: string }> = [];
  let table = '';
  for (const raw of save.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1);
    if (!line.startsWith('-A ') || line.includes(`nfqguard:${name}:`)) continue;
    const ct = /-m connmark|-j CONNMARK/.test(line);
    for (const m of line.matchAll(MARK_OPT)) {
      const value = Number(m[2]) >>> 0;
      // A mask given: those bits. None: the value's own bits (a simplification the doctor refines).
      const bits = m[3] !== undefined ? Number(m[3]) >>> 0 : value;
      if (bits !== 0) out.push({ kind: ct ? 'ctmark' : 'mark', bits, rule: line, table });
    }
  }
  return out;
}

export function conflictsIn(save: string, input: PreflightInput, source: string): MaskConflict[] {
  const out: MaskConflict[] = [];
  for (const u of markUsage(save, input.name)) {
    const mask = u.kind === 'mark' ? input.markMask : input.ctMarkMask;
    const overlap = (u.bits & mask) >>> 0;
    if (overlap === 0) continue;
    out.push({
      bits: overlap,
      kind: u.kind,
      where: `${source} ${u.table}: ${u.rule}`,
      explanation:
        `this rule uses ${u.kind} bits ${hex32(u.bits)}, and ${hex32(overlap)} of them are in the mask nfqguard would own (${hex32(mask)}): ` +
        `verdicts setting those bits would change what this rule sees (the seed's outage was bit 0x00008000 and KUBE-FIREWALL). ` +
        `Pick free bits (nfqguard doctor suggests some) or run with --force if you know the bits are yours.`,
    });
  }
  return out;
}

/** Legacy tables exist in this namespace (read from /proc: iptables-legacy-save would create them). */
async function legacyPresent(family: 4 | 6): Promise<boolean> {
  try {
    return (await readFile(family === 4 ? '/proc/net/ip_tables_names' : '/proc/net/ip6_tables_names', 'utf8')).trim().length > 0;
  } catch {
    return false;
  }
}

/** The stand-in until the doctor lands: scans iptables-save (nft and legacy flavours, IPv4 and IPv6). */
export const interimPreflight: MaskPreflight = {
  async check(input) {
    const notes = ['interim check: iptables rules only; `nfqguard doctor` (src/marks) is not merged yet and will replace this'];
    const conflicts: MaskConflict[] = [];
    for (const tool of ['iptables-save', 'ip6tables-save', 'iptables-legacy-save', 'ip6tables-legacy-save']) {
      if (!(await which(tool))) continue;
      if (tool.includes('legacy') && !(await legacyPresent(tool.startsWith('ip6') ? 6 : 4))) continue;
      const r = await run(tool, [], { timeoutMs: 10_000 });
      if (r.code !== 0) {
        notes.push(`${tool} failed: ${r.stderr.trim().split('\n')[0]}`);
        continue;
      }
      conflicts.push(...conflictsIn(r.stdout, input, tool));
    }
    return { conflicts, checker: 'interim iptables scan', notes };
  },
};
