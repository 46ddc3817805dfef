// Loads the doctor's fixture corpus (test/fixtures/rulesets/<component>/<name>.*) through the ruleset
// parsers. The parsers live in src/ruleset/index.ts; where one is missing from this build, the fixtures
// that need it are reported as not loadable (the tests skip them and say why).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ruleset } from '../../../src/ruleset/model.js';

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

interface Parsers {
  parseIptablesSave?: (text: string, opts: { source: string; family?: 'ip' | 'ip6' }) => Ruleset;
  parseNftJson?: (text: string, opts: { source: string }) => Ruleset;
  parseIpRules?: (text: string, opts: { source: string; family: 'ip' | 'ip6' }) => Ruleset;
  mergeRulesets?: (...r: Ruleset[]) => Ruleset;
}

let cached: Parsers | null | undefined;
export async function loadParsers(): Promise<Parsers | null> {
  if (cached !== undefined) return cached;
  const path = '../../../src/ruleset/index.js';
  try {
    cached = (await import(path)) as Parsers;
  } catch {
    cached = null;
  }
  return cached;
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

/** The fixture's ruleset, or why it cannot be loaded with this build's parsers. */
export async function loadFixture(e: Expect): Promise<{ ruleset: Ruleset; files: string[] } | { missing: string }> {
  const p = await loadParsers();
  if (!p) return { missing: 'src/ruleset/index.ts (the parsers) is not in this build' };
  const dir = e.fixture.split('/')[0];
  const parts: Ruleset[] = [];
  const files: string[] = [];
  for (const input of e.inputs) {
    const rel = `test/fixtures/rulesets/${dir}/${input}`;
    const text = readFileSync(join(CORPUS, dir, input), 'utf8');
    files.push(rel);
    if (input.endsWith('.iptables-save') || input.endsWith('.ip6tables-save')) {
      if (!p.parseIptablesSave) return { missing: 'parseIptablesSave' };
      parts.push(p.parseIptablesSave(text, { source: rel, family: input.endsWith('.ip6tables-save') ? 'ip6' : undefined }));
    } else if (input.endsWith('.nft.json')) {
      if (!p.parseNftJson) return { missing: 'parseNftJson' };
      parts.push(p.parseNftJson(text, { source: rel }));
    } else if (input.endsWith('.ip-rule')) {
      if (!p.parseIpRules) return { missing: 'parseIpRules' };
      parts.push(p.parseIpRules(text, { source: rel, family: 'ip' }));
    }
  }
  if (!p.mergeRulesets) return { missing: 'mergeRulesets' };
  return { ruleset: parts.length === 1 ? parts[0] : p.mergeRulesets(...parts), files };
}
