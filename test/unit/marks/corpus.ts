// Loads the doctor's fixture corpus (test/fixtures/rulesets/<component>/<name>.*) through the ruleset
// parsers, each file under its path relative to the project (so evidence reads test/fixtures/...:LINE).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeRulesets, parseIpRules, parseIptablesSave, parseNftJson, type Ruleset } from '../../../src/ruleset/index.js';

export const CORPUS = join(process.cwd(), 'test/fixtures/rulesets');

export interface Expect {
  fixture: string;
  inputs: string[];
  owners: Record<string, string>;
  ctOwners: Record<string, string>;
  conflicts: Array<{ kind: string; parties: string[]; mask: string }>;
  suggestion: 'free' | null;
  note?: string;
}

export function expectations(): Expect[] {
  const out: Expect[] = [];
  for (const dir of readdirSync(CORPUS, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(CORPUS, dir.name))) {
      if (f.endsWith('.expect.json')) out.push(JSON.parse(readFileSync(join(CORPUS, dir.name, f), 'utf8')) as Expect);
    }
  }
  return out.sort((a, b) => a.fixture.localeCompare(b.fixture));
}

/** The fixture's ruleset: every captured file of it, parsed and merged. */
export function loadFixture(e: Expect): { ruleset: Ruleset; files: string[] } {
  const dir = e.fixture.split('/')[0];
  const parts: Ruleset[] = [];
  const files: string[] = [];
  for (const input of e.inputs) {
    const rel = `test/fixtures/rulesets/${dir}/${input}`;
    const text = readFileSync(join(CORPUS, dir, input), 'utf8');
    files.push(rel);
    if (input.endsWith('.iptables-save') || input.endsWith('.ip6tables-save')) {
      parts.push(parseIptablesSave(text, { source: rel, family: input.endsWith('.ip6tables-save') ? 'ip6' : undefined }));
    } else if (input.endsWith('.nft.json')) parts.push(parseNftJson(text, { source: rel }));
    else if (input.endsWith('.ip-rule')) parts.push(parseIpRules(text, { source: rel, family: 'ip' }));
    else throw new Error(`${rel}: unknown input kind`);
  }
  return { ruleset: mergeRulesets(...parts), files };
}
