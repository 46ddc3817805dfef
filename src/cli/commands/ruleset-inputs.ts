// Reading the rulesets a command analyses: files (iptables-save, nft JSON, ip rule output; `-` is
// stdin) or the live node, through the parsers of src/ruleset. Unreadable files are usage errors
// (exit 2); problems inside a file are kept in ruleset.problems and the analysis goes on.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Ruleset } from '../../ruleset/model.js';
import { UsageError, type Io } from '../io.js';

export type RulesetInput =
  | { kind: 'iptables-save'; file: string; family?: 'ip' | 'ip6' }
  | { kind: 'nft-json'; file: string }
  | { kind: 'ip-rules'; file: string; family: 'ip' | 'ip6' };

interface Parsers {
  parseIptablesSave(text: string, opts: { source: string; family?: 'ip' | 'ip6' }): Ruleset;
  parseNftJson(text: string, opts: { source: string }): Ruleset;
  parseIpRules(text: string, opts: { source: string; family: 'ip' | 'ip6' }): Ruleset;
  mergeRulesets(...rulesets: Ruleset[]): Ruleset;
  readLiveRuleset(): Promise<Ruleset>;
}

// The parsers are written on another branch; until they are merged this module loads them lazily so
// that the doctor builds and its analysis is usable from code.
async function parsers(): Promise<Parsers> {
  const path = '../../ruleset/index.js';
  try {
    return (await import(path)) as Parsers;
  } catch {
    throw new UsageError('this build has no ruleset parsers (src/ruleset/index.ts)', 'build nfqguard from a tree that includes the parsers');
  }
}

async function readInput(io: Io, file: string): Promise<string> {
  if (file === '-') {
    if (!io.readStdin) throw new UsageError('standard input is not available here');
    return io.readStdin();
  }
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the path; `-` reads standard input');
  }
}

export async function loadRulesetInputs(io: Io, inputs: RulesetInput[] | 'live'): Promise<{ ruleset: Ruleset; sources: string[] }> {
  const p = await parsers();
  if (inputs === 'live') return { ruleset: await p.readLiveRuleset(), sources: ['live'] };
  const parts: Ruleset[] = [];
  for (const input of inputs) {
    const text = await readInput(io, input.file);
    const source = input.file === '-' ? '<stdin>' : input.file;
    if (input.kind === 'iptables-save') parts.push(p.parseIptablesSave(text, { source, family: input.family }));
    else if (input.kind === 'nft-json') parts.push(p.parseNftJson(text, { source }));
    else parts.push(p.parseIpRules(text, { source, family: input.family }));
  }
  return { ruleset: parts.length === 1 ? parts[0] : p.mergeRulesets(...parts), sources: inputs.map((i) => i.file) };
}
