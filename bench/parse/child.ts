// One cold parse in a fresh process: prints {"ms", "cpuMs", "maxRssMB", "rules", "problems"} as JSON.
import { readFileSync } from 'node:fs';
import { parseIptablesSave } from '../../src/ruleset/index.js';

const file = process.argv[2];
const text = readFileSync(file, 'utf8');
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const r = parseIptablesSave(text, { source: file });
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const c1 = process.cpuUsage(c0);
const cpuMs = (c1.user + c1.system) / 1000;
const rules = r.tables.reduce((s, t) => s + t.chains.reduce((c, ch) => c + ch.rules.length, 0), 0);
process.stdout.write(JSON.stringify({ ms, cpuMs, maxRssMB: process.resourceUsage().maxRSS / 1024, rules, problems: r.problems.length }) + '\n');
