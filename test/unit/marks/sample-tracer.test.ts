import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/marks/index.js';
import { simulatorTracer } from '../../../src/marks/sample-tracer.js';
import { expectations, loadFixture } from './corpus.js';
import { mergeRulesets, parseIpRules, parseIptablesSave } from '../../../src/ruleset/index.js';

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

test("the samples are routed by the node's ip rules: a bit an ip rule reads shows in the trace", () => {
  const rs = mergeRulesets(
    parseIptablesSave(SEED, { source: 'seed.rules' }),
    parseIpRules('0:\tfrom all lookup local\n5250:\tfrom all fwmark 0x80000/0xff0000 unreachable\n32766:\tfrom all lookup main\n', { source: 'ip.rules', family: 'ip' }),
  );
  const report = analyze(rs, { mask: 0x80000, tracer: simulatorTracer(rs) });
  const c = report.conflicts.find((x) => x.kind === 'inspector' && x.parties.includes('Tailscale'));
  assert.ok(c, 'Tailscale owns 0x80000 through its ip rule');
  const out = (c.traces ?? []).find((t) => t.packet.startsWith('tcp 198.51.100.1:40240'));
  assert.ok(out, 'an OUTPUT sample was traced');
  assert.match(out.verdict, /^drop by the routing decision \(5250 fwmark 0x80000\/0xff0000 -> ip rule 5250 is unreachable\)$/);
  assert.ok(out.steps.some((s) => /^output .*\(routing\) ip rule/.test(s)), out.steps.join('\n'));
  // Without the bit the same packet is routed by main and leaves: the rule reads the inspector's bit.
  const clean = simulatorTracer(rs)({ hook: 'output', family: 'ip', mark: 0, description: 'no bits' });
  assert.equal(clean?.verdict, 'accept');
});

test('a table the ip rules name without routes in the input is taken to route the sample, and the evidence says so (wg-quick 51820)', () => {
  const e = expectations().find((x) => x.fixture === 'mixes/wg-quick+kubelet+kube-proxy')!;
  const rs = loadFixture(e).ruleset;
  const report = analyze(rs, { mask: 0x8000, ctmask: 0x4000, tracer: simulatorTracer(rs) });
  const kubelet = report.conflicts.find((c) => c.kind === 'inspector' && c.space === 'mark' && c.parties.includes('kubelet'))!;
  const out = kubelet.traces!.find((t) => t.packet.startsWith('tcp 198.51.100.1:40240'))!;
  // wg-quick's "not fwmark 0xca6c lookup 51820" sends the sample to table 51820; the trace goes on to OUTPUT.
  assert.equal(out.packet, 'tcp 198.51.100.1:40240 > 203.0.113.20:80 with mark 0x00008000 (table 51820 taken to route it out eth0: its routes are not in the input)');
  assert.match(out.verdict, /^drop by filter KUBE-FIREWALL rule \d+$/);
  assert.ok(out.steps.some((s) => /routing: 32765 not fwmark 0xca6c -> table 51820: default dev eth0/.test(s)), out.steps.join('\n'));
  // The INPUT sample is local: no table of wg-quick's is used, and nothing is said about one.
  const input = kubelet.traces!.find((t) => t.packet.startsWith('tcp 192.0.2.10:40240 > 198.51.100.1'))!;
  assert.ok(!input.packet.includes('taken to route'), input.packet);
  // A connmark conflict gets no packet trace (its bits are not on the packet mark).
  const ct = report.conflicts.filter((c) => c.kind === 'inspector' && c.space === 'ctmark');
  assert.ok(ct.length > 0);
  for (const c of ct) assert.equal(c.traces, undefined);
});
