// One cold parse in a fresh process: prints {"ms", "maxRssMB", "rules", "problems"} as JSON.
import { readFileSync } from 'node:fs';
import { parseIptablesSave } from '../../src/ruleset/index.js';

const file = process.argv[2];
const text = readFileSync(file, 'utf8');
const t0 = process.hrtime.bigint();
const r = parseIptablesSave(text, { source: file });
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const rules = r.tables.reduce((s, t) => s + t.chains.reduce((c, ch) => c + ch.rules.length, 0), 0);
process.stdout.write(JSON.stringify({ ms, maxRssMB: process.resourceUsage().maxRSS / 1024, rules, problems: r.problems.length }) + '\n');
