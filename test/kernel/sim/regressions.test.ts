// Every fixed disagreement, run again through the real kernel: the kernel still answers what the
// unit tests hold the simulator to, and the simulator's whole path agrees with the kernel's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TraceLab } from '../../../src/sim/kernel/lab.js';
import { kernelSkipReason } from '../../helpers/kernel.js';
import { describeFailure, runCase } from '../../helpers/sim-diff.js';
import { labPlan } from '../../helpers/sim-gen.js';
import { REGRESSIONS } from '../../helpers/sim-regressions.js';

test('regression cases agree with the kernel', { skip: kernelSkipReason() ?? false, timeout: 120_000 }, async () => {
  const lab = await TraceLab.create(labPlan());
  try {
    for (const reg of REGRESSIONS) {
      const results = await runCase(lab, reg.case);
      results.forEach((r, i) => {
        const d = r.kernel.decidedBy;
        const kernelAnswer = { verdict: r.kernel.verdict === 'lost' ? 'drop' : r.kernel.verdict, decidedBy: d ? `${d.family} ${d.table} ${d.chain} ${d.rule === null ? d.text : `rule ${d.rule}`}` : null, mark: r.kernel.mark };
        assert.deepEqual(kernelAnswer, reg.kernel[i], `${reg.name}: the kernel's answer changed`);
        assert.deepEqual(r.differences, [], `${reg.name}:\n${describeFailure(reg.case, r)}`);
      });
    }
  } finally {
    await lab.destroy();
  }
});
