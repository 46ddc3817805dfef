#!/usr/bin/env node
// The long differential run of the simulator against the kernel, for humans (CI runs a bounded one in
// test/kernel/sim/differential.test.ts). Needs root and a build (npx tsc -p .).
//   node scripts/sim-differential.mjs [--cases N] [--seed S] [--show K] [--parsers]
// --parsers: the simulator reads the loaded ruleset back through the parsers (iptables-nft-save and
// nft -j, as `trace --live` does) instead of taking the generator's model.
// Prints each disagreement with the iptables/nft text, both paths and the case as JSON (paste it into
// test/unit/sim/regressions.test.ts and test/kernel/sim/regressions.test.ts as a fixed case).
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { TraceLab } from '../dist/src/sim/kernel/lab.js';
import { caseArb, emitIptables, emitNft, labPlan } from '../dist/test/helpers/sim-gen.js';
import { describeFailure, runCase } from '../dist/test/helpers/sim-diff.js';

// Options are checked before anything runs: `--help` or a typo used to start a two-minute run.
const USAGE = 'usage: node scripts/sim-differential.mjs [--cases N] [--seed S] [--show K] [--parsers]   (root, after npx tsc -p .)';
const fail = (msg) => {
  process.stderr.write(`sim-differential: ${msg}\n${USAGE}\n`);
  process.exit(2);
};
let values = {};
try {
  ({ values } = parseArgs({ options: { cases: { type: 'string' }, seed: { type: 'string' }, show: { type: 'string' }, parsers: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
} catch (e) {
  fail(e.message);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const arg = (name, dflt) => {
  const v = values[name];
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) fail(`--${name} must be a non-negative integer, got "${v}"`);
  return Number(v);
};
const n = arg('cases', 500);
const seed = arg('seed', Date.now() % 1e9);
const show = arg('show', 10);
const from = values.parsers ? 'parsers' : 'generator';
if (process.getuid?.() !== 0) fail('needs root (CAP_NET_ADMIN) for its network namespace');
const cases = fc.sample(caseArb, { numRuns: n, seed });
const lab = await TraceLab.create(labPlan());
let packets = 0;
let bad = 0;
let loadErrors = 0;
const t0 = Date.now();
const stop = () => void lab.destroy().then(() => process.exit(130));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
try {
  for (const c of cases) {
    let res;
    try {
      res = await runCase(lab, c, from);
    } catch (e) {
      loadErrors++;
      console.log(`LOAD ERROR: ${e.message.slice(0, 600)}\n${emitIptables(c, 'ip')}${emitIptables(c, 'ip6')}${emitNft(c)}`);
      continue;
    }
    for (const r of res) {
      packets++;
      if (r.differences.length) {
        bad++;
        if (bad <= show) console.log(describeFailure(c, r) + '\n');
      }
    }
  }
} finally {
  await lab.destroy();
}
console.log(`seed ${seed} (model from the ${from}): ${cases.length} rulesets, ${packets} packets, ${bad} disagreements, ${loadErrors} load errors, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(bad || loadErrors ? 1 : 0);
