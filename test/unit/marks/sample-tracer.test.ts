import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/marks/index.js';
import { simulatorTracer } from '../../../src/marks/sample-tracer.js';
import { parseIptablesSave } from '../../../src/ruleset/index.js';

// The seed's node: the inspector's NFQUEUE rule and kubelet's KUBE-FIREWALL.
const SEED = `*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 80 -j NFQUEUE --queue-num 80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
-A INPUT -j KUBE-FIREWALL
-A OUTPUT -j KUBE-FIREWALL
-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP
COMMIT
`;

test("the doctor's evidence for mask 0x8000: the simulator shows KUBE-FIREWALL dropping the sample packets", () => {
  const rs = parseIptablesSave(SEED, { source: 'seed.rules' });
  const report = analyze(rs, { mask: 0x8000, tracer: simulatorTracer(rs) });
  const mine = report.conflicts.filter((c) => c.kind === 'inspector');
  assert.equal(mine.length, 1);
  const traces = mine[0].traces ?? [];
  const byPath = new Map(traces.map((t) => [t.packet.split(' with ')[0], t]));
  assert.match(byPath.get('tcp 192.0.2.10:40240 > 198.51.100.1:80')?.verdict ?? '', /^drop by filter KUBE-FIREWALL rule 1$/, 'INPUT: after the queue');
  assert.match(byPath.get('tcp 198.51.100.1:40240 > 203.0.113.20:80')?.verdict ?? '', /^drop by filter KUBE-FIREWALL rule 1$/, 'OUTPUT');
  assert.equal(byPath.get('tcp 192.0.2.10:40240 > 203.0.113.20:80')?.verdict, 'accept', 'FORWARD has no KUBE-FIREWALL here');
  assert.ok(traces[0].steps.some((s) => /consumer answers accept,mark=0x8000\/0x8000/.test(s)), 'the queue answer is part of the trace');
});

test('a free mask gets no inspector conflict and no trace', () => {
  const rs = parseIptablesSave(SEED, { source: 'seed.rules' });
  let calls = 0;
  const tracer = simulatorTracer(rs);
  const report = analyze(rs, {
    mask: 0x0f000000,
    tracer: (s) => {
      calls++;
      return tracer(s);
    },
  });
  assert.equal(report.conflicts.filter((c) => c.kind === 'inspector').length, 0);
  assert.equal(calls, 0);
});
