// The simulator against the kernel on generated rulesets (test/helpers/sim-gen.ts): for every packet,
// the same verdict, the same deciding rule, the same final mark, and the same path step by step.
// Bounded for CI (NFQGUARD_SIM_DIFF_RUNS rulesets, default 90 from the generator's model and 30 read
// back through the parsers, about 300 packets); scripts/sim-differential.mjs is the long run. A failure
// prints the shrunk case; it becomes a fixed case in test/helpers/sim-regressions.ts.
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { TraceLab } from '../../../src/sim/kernel/lab.js';
import { kernelSkipReason } from '../../helpers/kernel.js';
import { describeFailure, runCase, type ModelSource } from '../../helpers/sim-diff.js';
import { caseArb, labPlan } from '../../helpers/sim-gen.js';

const skip = kernelSkipReason();
const runs = Number(process.env.NFQGUARD_SIM_DIFF_RUNS ?? 90);
const seed = process.env.NFQGUARD_SIM_DIFF_SEED === undefined ? undefined : Number(process.env.NFQGUARD_SIM_DIFF_SEED);
let lab: TraceLab | undefined;

before(async () => {
  if (!skip) lab = await TraceLab.create(labPlan());
});

after(async () => {
  await lab?.destroy();
});

function property(from: ModelSource) {
  return fc.asyncProperty(caseArb, async (c) => {
    const results = await runCase(lab as TraceLab, c, from);
    const bad = results.filter((r) => r.differences.length);
    if (bad.length) throw new Error(bad.map((r) => describeFailure(c, r)).join('\n\n'));
  });
}

test(`simulator = kernel on ${runs} generated rulesets`, { skip: skip ?? false, timeout: 600_000 }, async () => {
  await fc.assert(property('generator'), { numRuns: runs, ...(seed !== undefined ? { seed } : {}), endOnFailure: false });
});

test(`parsers + simulator = kernel on ${Math.ceil(runs / 3)} generated rulesets read back as --live reads them`, { skip: skip ?? false, timeout: 600_000 }, async () => {
  await fc.assert(property('parsers'), { numRuns: Math.ceil(runs / 3), ...(seed !== undefined ? { seed } : {}), endOnFailure: false });
});
