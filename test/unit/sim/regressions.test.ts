// The simulator against the kernel's recorded answers for every disagreement the differential test
// found (test/helpers/sim-regressions.ts; test/kernel/sim/regressions.test.ts re-checks the kernel).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RuleRef } from '../../../src/sim/trace.js';
import { formatMark } from '../../../src/sim/state.js';
import { simulate, simulatorFor } from '../../helpers/sim-diff.js';
import { REGRESSIONS } from '../../helpers/sim-regressions.js';

function refKey(r: RuleRef | null): string | null {
  if (!r) return null;
  return `${r.family} ${r.table} ${r.chain} ${r.rule === null ? r.text : `rule ${r.rule}`}`;
}

for (const reg of REGRESSIONS) {
  test(`regression ${reg.name}: ${reg.fact}`, () => {
    const sim = simulatorFor(reg.case);
    reg.case.packets.forEach((p, i) => {
      const r = simulate(sim, reg.case, p, 30000 + i);
      const want = reg.kernel[i];
      assert.deepEqual({ verdict: r.verdict, decidedBy: refKey(r.decidedBy), mark: formatMark(r.mark, r.markKnown) }, want, `packet ${i + 1} (${p.kind} ${p.proto})`);
    });
  });
}
