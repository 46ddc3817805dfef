// Routing conflicts: a mark one component writes before the routing decision, read by another's
// `ip rule fwmark` (Calico's scratch0 bit 0x80000 against Tailscale's bypass rule 5210).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, hex8 } from '../../../src/marks/index.js';
import type { IpRule } from '../../../src/ruleset/model.js';
import { A, M, ipRule, ipt, rule, ruleset } from './build.js';

function tailscaleRules(): IpRule[] {
  const fw = { value: 0x80000, mask: 0xff0000 };
  return [
    ipRule(5210, 'from all fwmark 0x80000/0xff0000 lookup main', fw, 'main'),
    ipRule(5230, 'from all fwmark 0x80000/0xff0000 lookup default', fw, 'default'),
    { ...ipRule(5250, 'from all fwmark 0x80000/0xff0000 unreachable', fw, 'main'), table: undefined, action: 'unreachable' },
    ipRule(5270, 'from all lookup 52', undefined, '52'),
  ];
}

/** Calico's raw PREROUTING: clear its bits, then scratch0 on workload packets (felix/rules/static.go). */
function calicoRaw(chainName = 'PREROUTING') {
  return ipt('raw', {
    [chainName]: [rule('-m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING', [A.jump('cali-PREROUTING')], 'cali:6gwbT8clXdHdC1b1')],
    'cali-PREROUTING': [
      rule('-m comment --comment "cali:DQ6LK2guiBRMyrLK" -j MARK --set-xmark 0x0/0x1b0000', [A.setXmark(0, 0x1b0000)], 'cali:DQ6LK2guiBRMyrLK'),
      rule('-i cali+ -m comment --comment "cali:o0awFTLnSamXVVNW" -j MARK --set-xmark 0x80000/0x80000', [A.setXmark(0x80000, 0x80000)], 'cali:o0awFTLnSamXVVNW'),
      rule('-m comment --comment "cali:aJ7XamFJS43rOYyJ" -m mark --mark 0x80000/0x80000 -j cali-rpf-skip', [M.mark(0x80000, 0x80000), A.jump('cali-rpf-skip')], 'cali:aJ7XamFJS43rOYyJ'),
    ],
    'cali-rpf-skip': [],
  });
}

test("Calico's scratch0 bit set in raw PREROUTING is Tailscale's bypass mark: one worded routing conflict", () => {
  const r = analyze(ruleset([calicoRaw()], tailscaleRules()));
  const c = r.conflicts.filter((x) => x.kind === 'routing');
  assert.equal(c.length, 1, r.conflicts.map((x) => `${x.kind}: ${x.consequence}`).join('\n'));
  assert.deepEqual(c[0].parties, ['Calico (iptables)', 'Tailscale']);
  assert.equal(hex8(c[0].mask), '0x00080000');
  assert.equal(
    c[0].consequence,
    'cali-PREROUTING in raw PREROUTING sets bit 19 (0x00080000) of the mark (`-i cali+ -m comment --comment "cali:o0awFTLnSamXVVNW" -j MARK --set-xmark 0x80000/0x80000`), ' +
      "Calico (iptables)'s scratch0 bit (marks workload packets for the RPF check), before the routing decision. " +
      "Tailscale reads that bit as its bypass mark 0x80000 (tailscaled's own sockets, policy routing): " +
      'ip rule pref 5210 (`from all fwmark 0x80000/0xff0000 lookup main`) routes them by table main; ' +
      'if that table has no route, ip rule pref 5230 (`from all fwmark 0x80000/0xff0000 lookup default`) routes them by table default; ' +
      'if that table has no route, ip rule pref 5250 (`from all fwmark 0x80000/0xff0000 unreachable`) drops them (unreachable), ' +
      "so those packets never reach Tailscale's pref 5270 (`from all lookup 52`).",
  );
  // Evidence: the writing rule first, then the three ip rules that read the bit.
  assert.deepEqual(c[0].evidence.map((e) => `${e.table} ${e.chain}`), ['raw cali-PREROUTING', 'ip rule pref 5210', 'ip rule pref 5230', 'ip rule pref 5250']);
  assert.match(c[0].evidence[0].text, /--set-xmark 0x80000\/0x80000/);
});

test('no routing conflict when the write comes after the routing decision, or only clears', () => {
  // The same chain reached from FORWARD: packets are routed already.
  const fwd = ipt('filter', {
    FORWARD: [rule('-m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD', [A.jump('cali-FORWARD')], 'cali:wUHhoiAYhphO9Mso')],
    'cali-FORWARD': [rule('-m comment --comment "cali:o0awFTLnSamXVVNW" -j MARK --set-xmark 0x80000/0x80000', [A.setXmark(0x80000, 0x80000)], 'cali:o0awFTLnSamXVVNW')],
  });
  assert.deepEqual(analyze(ruleset([fwd], tailscaleRules())).conflicts.filter((x) => x.kind === 'routing'), []);
  // Only the clear (0x1b0000 to 0): a packet without the bit still has none.
  const clearOnly = ipt('raw', {
    PREROUTING: [rule('-m comment --comment "cali:DQ6LK2guiBRMyrLK" -j MARK --set-xmark 0x0/0x1b0000', [A.setXmark(0, 0x1b0000)], 'cali:DQ6LK2guiBRMyrLK')],
  });
  assert.deepEqual(analyze(ruleset([clearOnly], tailscaleRules())).conflicts.filter((x) => x.kind === 'routing'), []);
});

test('a write that stops a "fwmark 0/M" rule matching is a routing conflict too (the rule no longer matches them)', () => {
  const rules = [ipRule(5270, 'from all fwmark 0x0/0x80000 lookup 52', { value: 0, mask: 0x80000 }, '52')];
  const r = analyze(ruleset([calicoRaw('OUTPUT')], rules));
  const c = r.conflicts.filter((x) => x.kind === 'routing');
  assert.equal(c.length, 1);
  assert.match(c[0].consequence, /ip rule pref 5270 \(`from all fwmark 0x0\/0x80000 lookup 52`\) no longer matches them\.$/);
  assert.match(c[0].consequence, /^cali-PREROUTING in raw OUTPUT sets bit 19/);
});

test('owners that give a bit one meaning do not conflict on it (AWS primary-ENI bit 0x80, written by Cilium)', () => {
  const cilium = ipt('mangle', {
    PREROUTING: [rule('-m comment --comment "cilium: primary ENI" -j CONNMARK --set-xmark 0x80/0x80', [A.ctSetXmark(0x80, 0x80)], 'cilium: primary ENI'),
      rule('-m comment --comment "cilium: primary ENI" -j MARK --set-xmark 0x80/0x80', [A.setXmark(0x80, 0x80)], 'cilium: primary ENI')],
  });
  const aws = [ipRule(1024, 'from all fwmark 0x80/0x80 lookup main', { value: 0x80, mask: 0x80 }, 'main')];
  const r = analyze(ruleset([cilium], aws));
  assert.ok(r.owners.some((o) => o.name === 'AWS VPC CNI'), r.owners.map((o) => o.name).join());
  assert.deepEqual(r.conflicts.filter((x) => x.kind === 'routing'), []);
});
