import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, checkMask, hex8 } from '../../../src/marks/index.js';
import { A, M, ipRule, ipt, kubeNode, nft, rule, ruleset } from './build.js';

function owner(report: ReturnType<typeof analyze>, name: string) {
  const o = report.owners.find((x) => x.name === name);
  assert.ok(o, `owner ${name} in ${report.owners.map((x) => x.name).join(', ')}`);
  return o;
}

test('the seed node: kubelet owns 0x8000 and shares 0x4000 with kube-proxy, no conflict, a free suggestion', () => {
  const r = analyze(ruleset(kubeNode()));
  // kubelet before v1.28 writes KUBE-MARK-MASQ and KUBE-POSTROUTING as kube-proxy does: both own bit 14.
  assert.equal(hex8(owner(r, 'kubelet').mask), '0x0000c000');
  assert.equal(hex8(owner(r, 'kube-proxy (iptables)').mask), '0x00004000');
  assert.deepEqual(r.conflicts, []);
  assert.equal(r.bits[15].owners.join(), 'kubelet');
  assert.equal(r.bits[14].owners.join(), 'kubelet,kube-proxy (iptables)');
  assert.equal(r.bits[15].readers, 1);
  assert.equal(r.bits[15].writers, 1);
  assert.equal(r.bits[14].writers, 2); // --or-mark and --xor-mark
  assert.ok(r.suggestion.mask !== null);
  assert.equal((r.suggestion.mask! & 0xc000) >>> 0, 0);
  assert.equal(r.free & 0xc000, 0);
});

test('--mask 0x8000 on the seed node: the issue\'s sentence, word for word', () => {
  const r = analyze(ruleset(kubeNode()), { mask: 0x8000 });
  const c = r.conflicts.filter((x) => x.kind === 'inspector');
  assert.equal(c.length, 1);
  assert.deepEqual(c[0].parties, ['inspector (0x00008000)', 'kubelet']);
  assert.match(c[0].consequence, /^bit 15 \(0x00008000\) is kubelet's drop bit \(--iptables-drop-bit 15\): KUBE-FIREWALL in filter INPUT and OUTPUT drops any packet carrying it; an inspector setting it would drop all queued traffic/);
  assert.ok(c[0].evidence.some((e) => e.chain === 'KUBE-FIREWALL' && e.source === 'test.rules' && e.line > 0));
});

test('--mask 0x4000: kube-proxy\'s (and old kubelet\'s) masquerade bit, setting and clearing both matter', () => {
  const r = analyze(ruleset(kubeNode()), { mask: 0x4000 });
  const insp = r.conflicts.filter((x) => x.kind === 'inspector');
  assert.deepEqual(insp.map((x) => x.parties[1]).sort(), ['kube-proxy (iptables)', 'kubelet']);
  assert.match(insp.find((x) => x.parties[1] === 'kubelet')!.consequence, /^bit 14 \(0x00004000\) is kubelet's masquerade bit \(--iptables-masquerade-bit 14\): KUBE-POSTROUTING in nat POSTROUTING returns early any packet without it/);
  const c = insp.find((x) => x.parties[1] === 'kube-proxy (iptables)')!;
  assert.match(c.consequence, /kube-proxy \(iptables\)'s masquerade bit/);
  assert.match(c.consequence, /setting it would accept queued packets there/);
  assert.match(c.consequence, /stop returning early, so the rest of KUBE-POSTROUTING applies to queued packets \(MARK and MASQUERADE\)/);
  assert.match(c.consequence, /clearing it would/);
});

test('wg-quick fwmark 51820 (0xca6c) collides with 0x8000 and 0x4000 (kubernetes#113659)', () => {
  const wg = ipt('mangle', {
    PREROUTING: [rule('-p udp -m comment --comment "wg-quick(8) rule for wg0" -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff', [A.restore()], 'wg-quick(8) rule for wg0')],
    POSTROUTING: [rule('-p udp -m mark --mark 0xca6c -m comment --comment "wg-quick(8) rule for wg0" -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff', [M.mark(0xca6c), A.save()], 'wg-quick(8) rule for wg0')],
  });
  const r = analyze(ruleset([...kubeNode(), wg], [ipRule(32764, 'not from all fwmark 0xca6c lookup 51820', { value: 0xca6c, mask: 0xffffffff }, '51820', true)]));
  assert.equal(hex8(owner(r, 'wg-quick').mask), '0x0000ca6c');
  const overlaps = r.conflicts.filter((c) => c.kind === 'overlap' && c.parties.includes('wg-quick'));
  const withKubelet = overlaps.find((c) => c.parties.includes('kubelet'))!;
  const withProxy = overlaps.find((c) => c.parties.includes('kube-proxy (iptables)'))!;
  assert.equal(hex8(withKubelet.mask), '0x0000c000');
  assert.equal(hex8(withProxy.mask), '0x00004000');
  assert.match(withKubelet.consequence, /KUBE-FIREWALL in filter INPUT and OUTPUT drops any packet carrying it/);
  // The unmasked restore writes all 32 bits: a clobber of kubelet's and kube-proxy's bits.
  const clobber = r.conflicts.find((c) => c.kind === 'clobber' && c.parties[0] === 'wg-quick')!;
  assert.match(clobber.consequence, /restores the whole connmark into the mark \(no mask\)/);
  assert.ok(clobber.parties.includes('kubelet') && clobber.parties.includes('kube-proxy (iptables)'));
});

test('Calico and Tailscale both claim bits 16-23', () => {
  const t = [
    ipt('filter', {
      FORWARD: [rule('-m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD', [A.jump('cali-FORWARD')], 'cali:wUHhoiAYhphO9Mso'), rule('-j ts-forward', [A.jump('ts-forward')])],
      'cali-FORWARD': [rule('-m comment --comment "cali:vjrMJCRpqwy5oRoX" -j MARK --set-xmark 0x0/0xe0000', [A.setXmark(0, 0xe0000)], 'cali:vjrMJCRpqwy5oRoX')],
      'ts-forward': [
        rule('-i tailscale0 -j MARK --set-xmark 0x40000/0xff0000', [A.setXmark(0x40000, 0xff0000)]),
        rule('-m mark --mark 0x40000/0xff0000 -j ACCEPT', [M.mark(0x40000, 0xff0000), A.accept]),
      ],
    }),
  ];
  const r = analyze(ruleset(t));
  assert.equal(hex8(owner(r, 'Calico (iptables)').mask), '0xffff0000');
  assert.equal(hex8(owner(r, 'Calico (iptables)').reservedOnly.mark), '0xfff10000');
  assert.equal(hex8(owner(r, 'Tailscale').mask), '0x00ff0000');
  const ov = r.conflicts.find((c) => c.kind === 'overlap')!;
  assert.equal(hex8(ov.mask), '0x00ff0000');
  // Calico's clear of 0xe0000 erases Tailscale's subnet-route mark (tailscale#4917).
  const cl = r.conflicts.find((c) => c.kind === 'clobber' && c.parties[0] === 'Calico (iptables)')!;
  assert.match(cl.consequence, /erases Tailscale's/);
  assert.equal(r.suggestion.mask !== null && (r.suggestion.mask & 0xffff0000) >>> 0, 0);
});

test('an unmasked set-mark with no other owner is no conflict; with one it is a clobber', () => {
  const alone = ipt('mangle', { PREROUTING: [rule('-p tcp --dport 80 -j MARK --set-mark 0x1', [M.dport(80), A.setMark(1)])] });
  const r1 = analyze(ruleset([alone]));
  assert.equal(r1.conflicts.length, 0);
  assert.equal(r1.owners[0].name, 'unattributed (mangle PREROUTING)');
  assert.equal(hex8(r1.owners[0].mask), '0x00000001');
  assert.deepEqual(r1.unattributed, [{ table: 'mangle', chain: 'PREROUTING', family: 'ip', rules: 1, markRules: 1 }]);
  const r2 = analyze(ruleset([...kubeNode(), alone]));
  const c = r2.conflicts.find((x) => x.kind === 'clobber')!;
  assert.match(c.consequence, /sets the whole mark to 0x00000001 \(no mask\): on every packet it matches it erases kubelet's masquerade bit \(--iptables-masquerade-bit 14\) and drop bit \(--iptables-drop-bit 15\)/);
});

test('an NFQUEUE rule is flagged with the bits that ride on it and who reads them after', () => {
  const q = ipt('mangle', { INPUT: [rule('-p tcp --dport 80 -j NFQUEUE --queue-num 80', [M.dport(80), A.queue(80, false)])] });
  const r = analyze(ruleset([...kubeNode(), q]));
  const c = r.conflicts.find((x) => x.kind === 'queue')!;
  assert.ok(c);
  assert.match(c.consequence, /queue 80 in mangle INPUT has no bypass flag/);
  assert.match(c.consequence, /KUBE-FIREWALL in filter INPUT and OUTPUT drops any packet carrying it/);
  assert.match(c.consequence, /packets reaching it may carry kube-proxy \(iptables\) and kubelet's bit 14 \(0x00004000\)/);
  assert.ok(c.parties.includes('kubelet'));
  assert.ok(!c.parties.includes('kube-proxy (iptables)'), 'KUBE-FORWARD is on the forward path, not after INPUT');
  assert.equal(hex8(c.mask), '0x0000c000');
});

test('a whole-word comparison (flannel nft `meta mark 0x4000 return`) is broken by other owners\' bits', () => {
  const fl = nft('ip', 'flannel-ipv4', [{ name: 'postrtg', hook: 'postrouting', priority: 100, rules: [rule('meta mark 0x00004000 return', [M.mark(0x4000), A.ret]), rule('masquerade', [A.masq])] }]);
  const ts = ipt('filter', { FORWARD: [rule('-j ts-forward', [A.jump('ts-forward')])], 'ts-forward': [rule('-i tailscale0 -j MARK --set-xmark 0x40000/0xff0000', [A.setXmark(0x40000, 0xff0000)])] });
  const r = analyze(ruleset([fl, ts]));
  assert.equal(hex8(owner(r, 'flannel').mask), '0x00004000');
  const c = r.conflicts.find((x) => x.kind === 'exact-reader')!;
  assert.ok(c, JSON.stringify(r.conflicts.map((x) => x.kind)));
  assert.deepEqual(c.parties, ['flannel', 'Tailscale']);
  assert.match(c.consequence, /compares the whole mark with 0x00004000/);
  assert.match(c.consequence, /stop returning early, so the rest of postrtg applies to those packets \(MASQUERADE\)/);
});

test('Cilium reserves every bit: no suggestion, and the reason says so', () => {
  const c = ipt('filter', { OUTPUT: [rule('-m comment --comment "cilium-feeder: CILIUM_OUTPUT" -j CILIUM_OUTPUT', [A.jump('CILIUM_OUTPUT')], 'cilium-feeder: CILIUM_OUTPUT')], CILIUM_OUTPUT: [] });
  const r = analyze(ruleset([...kubeNode(), c]));
  assert.equal(hex8(owner(r, 'Cilium').mask), '0xffffffff');
  assert.equal(r.suggestion.mask, null);
  assert.equal(r.free, 0);
  assert.match(r.suggestion.reason, /no bit of the mark is free/);
  // Cilium's 0x4000 and 0x8000 mean what kube-proxy and kubelet mean: those bits are no conflict.
  for (const x of r.conflicts.filter((k) => k.kind === 'overlap')) assert.equal(x.mask & 0xc000, 0, x.consequence);
});

test('checkMask: the daemon\'s start-up check', () => {
  const rs = ruleset(kubeNode());
  const bad = checkMask(rs, 0x0000c000);
  assert.equal(bad.ok, false);
  assert.equal(bad.conflicts.length, 2);
  assert.match(bad.explanation, /kubelet's drop bit/);
  assert.ok(bad.alternative !== null && (bad.alternative & 0xc000) === 0);
  const good = checkMask(rs, bad.alternative!);
  assert.equal(good.ok, true, good.explanation);
  assert.match(good.explanation, /is free on this node/);
  assert.throws(() => checkMask(rs, 0), RangeError);
});

test('ip rule fwmark readers: a routing-table dependency with its priority as evidence', () => {
  const r = analyze(ruleset([], [ipRule(5210, '5210: from all fwmark 0x80000/0xff0000 lookup main', { value: 0x80000, mask: 0xff0000 }, 'main')]));
  const o = owner(r, 'Tailscale');
  assert.equal(hex8(o.mask), '0x00ff0000');
  assert.equal(o.evidence[0].table, 'ip rule');
  const chk = checkMask(ruleset([], [ipRule(5210, '5210: from all fwmark 0x80000/0xff0000 lookup main', { value: 0x80000, mask: 0xff0000 }, 'main')]), 0x80000);
  assert.match(chk.explanation, /ip rule pref 5210 routes by table main packets whose mark & 0x00ff0000 == 0x00080000; an inspector setting it would route queued packets by table main/);
});

test('checkMask with a connmark mask: AWS VPC CNI\'s primary-ENI connmark 0x80', () => {
  const aws = ipt('mangle', {
    PREROUTING: [rule('-i eth0 -m comment --comment "AWS, primary ENI" -j CONNMARK --set-xmark 0x80/0x80', [A.ctSetXmark(0x80, 0x80)], 'AWS, primary ENI')],
  });
  const rs = ruleset([aws]);
  const ok = checkMask(rs, 0x0f000000, { ctmask: 0x00000100 });
  assert.equal(ok.ok, true, ok.explanation);
  const bad = checkMask(rs, 0x0f000000, { ctmask: 0x00000080 });
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.conflicts.map((c) => [c.space, hex8(c.mask), c.parties[1]]), [['ctmark', '0x00000080', 'AWS VPC CNI']]);
  assert.match(bad.conflicts[0].consequence, /AWS VPC CNI's primary-ENI connmark/);
});

test('the daemon\'s own rules (comment nfqguard...) never collide with its mask', () => {
  const own = ipt('mangle', { INPUT: [rule('-p tcp --dport 80 -m comment --comment "nfqguard:default:steer" -j MARK --set-xmark 0x1000000/0x1000000', [M.dport(80), A.setXmark(0x1000000, 0x1000000)], 'nfqguard:default:steer')] });
  const c = checkMask(ruleset([...kubeNode(), own]), 0x0f000000);
  assert.equal(c.ok, true, c.explanation);
});
