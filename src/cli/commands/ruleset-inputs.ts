// Reading the rulesets the doctor analyses: files (iptables-save, nft JSON, ip rule output; `-` is
// stdin) or the live node, through the parsers of src/ruleset. Unreadable files are usage errors
// (exit 2); problems inside a file are kept in ruleset.problems and the analysis goes on.
import { mergeRulesets, parseIpRules, parseIptablesSave, parseNftJson, type Ruleset } from '../../ruleset/index.js';
import { readLiveRuleset } from '../../ruleset/live.js';
import { readTextArg } from '../input.js';
import { UsageError, type Io } from '../io.js';

export type RulesetInput =
  | { kind: 'iptables-save'; file: string; family?: 'ip' | 'ip6' }
  | { kind: 'nft-json'; file: string }
  | { kind: 'ip-rules'; file: string; family: 'ip' | 'ip6' };

/**
 * wrongFiles: files from which nothing was read (no table, no ip rule) but whose lines the parser could not
 * read: nft JSON given as iptables-save and the like. Taken for an empty node they would say "all bits free".
 */
export async function loadRulesetInputs(io: Io, inputs: RulesetInput[] | { live: true; netns?: string }): Promise<{ ruleset: Ruleset; sources: string[]; warnings: string[]; wrongFiles: string[] }> {
  if (!Array.isArray(inputs)) {
    if (process.getuid?.() !== 0) throw new UsageError('--live reads iptables, nft and ip rule, which needs root', 'run it as root: sudo nfqguard doctor --live');
    const live = await readLiveRuleset({ signal: io.signal, netns: inputs.netns });
    return { ruleset: live.ruleset, sources: [inputs.netns ? `live (netns ${inputs.netns})` : 'live'], warnings: live.warnings, wrongFiles: [] };
  }
  const parts: Ruleset[] = [];
  const wrongFiles: string[] = [];
  for (const input of inputs) {
    const text = await readTextArg(io, input.file, { hint: 'check the path; `-` reads standard input' });
    const source = input.file === '-' ? '<stdin>' : input.file;
    const part =
      input.kind === 'iptables-save'
        ? parseIptablesSave(text, { source, family: input.family })
        : input.kind === 'nft-json'
          ? parseNftJson(text, { source })
          : parseIpRules(text, { source, family: input.family });
    parts.push(part);
    if (part.tables.length === 0 && part.ipRules.length === 0 && part.problems.length > 0) wrongFiles.push(`${input.file} (given as --${input.kind})`);
  }
  return { ruleset: mergeRulesets(...parts), sources: inputs.map((i) => i.file), warnings: [], wrongFiles };
}
