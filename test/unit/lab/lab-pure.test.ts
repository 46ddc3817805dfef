// The pure parts of `nfqguard lab`: the rules each scenario loads, the observer chains and the report
// rendering. The kernel test (test/kernel/cli.test.ts) runs the whole lab.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clearMarkScript, observerScript, probePort, rulesFor, type LabReport } from '../../../src/lab/lab.js';
import { SCENARIOS } from '../../../src/lab/scenarios.js';
import { renderLab } from '../../../src/cli/commands/lab.js';

test('every scenario steers the lab port to the lab queue; only scenario 6 with --queue-bypass', () => {
  for (const s of SCENARIOS) {
    const text = rulesFor(s, 8080, 7);
    const steer = text.split('\n').filter((l) => l.includes('-j NFQUEUE'));
    assert.deepEqual(steer, [`-A INPUT -p tcp -m tcp --dport 8080 -j NFQUEUE --queue-num 7${s.number === 6 ? ' --queue-bypass' : ''}`], s.name);
    assert.match(text, /-A KUBE-FIREWALL .*-m mark --mark 0x8000\/0x8000 -j DROP/);
    assert.match(text, /-A INPUT -p tcp -m tcp --dport 8080 -j KUBE-FIREWALL/);
    assert.equal(text.includes('--set-xmark 0x8000/0x8000'), s.number === 4 || s.number === 5, `${s.name}: KUBE-MARK-DROP-style premark`);
    assert.equal(text.includes('--set-xmark 0x4000/0x4000'), s.number === 5, `${s.name}: 0x4000 premark`);
  }
});

test("the seed's fix clears the mark at mangle + 1; the observers sit at mangle - 1 and mangle + 1", () => {
  assert.match(clearMarkScript(80), /hook input priority mangle \+ 1;[^}]*tcp dport 80 meta mark set 0x0/);
  const obs = observerScript(80);
  assert.match(obs, /chain before_verdict \{\s*type filter hook input priority mangle - 1;/);
  assert.match(obs, /chain after_verdict \{\s*type filter hook input priority mangle \+ 1;/);
});

test('the trace probe port is never the lab port', () => {
  for (const port of [1, 7, 9, 80, 8080, 65535]) {
    assert.notEqual(probePort(port), port);
    assert.match(observerScript(port), new RegExp(`tcp dport \\{ ${probePort(port)}, ${port} \\}`));
  }
});

test('the report: one table row per request, FAIL and the problem for a scenario that misbehaved', () => {
  const report: LabReport = {
    ok: false,
    port: 80,
    queue: 80,
    durationMs: 2100,
    scenarios: [
      {
        number: 5,
        name: 'owned-mask',
        title: 'nfqguard',
        expected: '200',
        observed: '200',
        ok: true,
        markBefore: '0x00004000',
        markAfter: '0x00104000',
        expectedMarkBefore: '0x00004000',
        expectedMarkAfter: '0x00104000',
        consumer: { markIn: '0x00004000', markOut: '0x00104000' },
        droppedBy: null,
        explanation: 'only the owned bits change',
      },
      {
        number: 5,
        name: 'owned-mask/premarked-drop',
        title: 'nfqguard',
        expected: 'timeout',
        observed: '200',
        ok: false,
        markBefore: '0x00008000',
        markAfter: null,
        expectedMarkBefore: '0x00008000',
        expectedMarkAfter: '0x00108000',
        consumer: null,
        droppedBy: null,
        explanation: 'the drop bit survives',
        problem: 'expected timeout, observed 200',
      },
    ],
  };
  const out = renderLab(report);
  assert.match(out, /^5\s+owned-mask\s+200\s+200\s+0x00004000\s+0x00104000\s+ok$/m);
  assert.match(out, /^5\s+owned-mask\/premarked-drop\s+timeout\s+200\s+0x00008000\s+-\s+FAIL$/m);
  assert.match(out, /PROBLEM: expected timeout, observed 200/);
  assert.match(out, /consumer got mark 0x00004000, answered 0x00104000/);
  assert.match(out, /Some scenarios did not behave as expected \(2\.1 s\)/);
  assert.equal(out.match(/^5\. nfqguard$/gm)?.length, 1, 'the scenario title once');
});
