// Attribution that needs the whole ruleset: chains kubelet and kube-proxy both write (KUBE-MARK-MASQ,
// KUBE-POSTROUTING, KUBE-FIREWALL) and Calico's eBPF mode, told apart by the marks its rules test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, hex8 } from '../../../src/marks/index.js';
import { A, M, ipt, nft, rule, ruleset } from './build.js';

const owners = (r: ReturnType<typeof analyze>) => Object.fromEntries(r.owners.map((o) => [o.name, hex8(o.mask)]));

// kube-proxy's and kubelet's shared chains, as both write them.
function shared() {
  return [
    ipt('filter', {
      INPUT: [rule('-j KUBE-FIREWALL', [A.jump('KUBE-FIREWALL')])],
      OUTPUT: [rule('-j KUBE-FIREWALL', [A.jump('KUBE-FIREWALL')])],
      'KUBE-FIREWALL': [rule('! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -j DROP', [A.drop], 'block incoming localnet connections')],
    }),
    ipt('nat', {
      POSTROUTING: [rule('-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING', [A.jump('KUBE-POSTROUTING')], 'kubernetes postrouting rules')],
      'KUBE-MARK-MASQ': [rule('-j MARK --or-mark 0x4000', [A.orMark(0x4000)])],
      'KUBE-POSTROUTING': [rule('-m mark ! --mark 0x4000/0x4000 -j RETURN', [M.mark(0x4000, 0x4000, true), A.ret]), rule('-j MARK --xor-mark 0x4000', [A.xorMark(0x4000)])],
    }),
  ];
}

test('shared chains with kube-proxy\'s own chains only: kube-proxy\'s, no kubelet (kube-proxy v1.27+ writes KUBE-FIREWALL too)', () => {
  const proxy = ipt('nat', { 'KUBE-SERVICES': [rule('-j KUBE-NODEPORTS', [A.jump('KUBE-NODEPORTS')])], 'KUBE-NODEPORTS': [] });
  const r = analyze(ruleset([...shared(), proxy]));
  assert.deepEqual(owners(r), { 'kube-proxy (iptables)': '0x00004000' });
  const kp = r.owners[0];
  assert.ok(kp.evidence.some((e) => e.chain === 'KUBE-POSTROUTING'));
  assert.equal(kp.ruleCount, 8); // seven shared rules and its own KUBE-SERVICES rule
});

test('shared chains with kubelet\'s own (an empty KUBE-IPTABLES-HINT is enough): kubelet\'s, with the bits they use', () => {
  const kubelet = ipt('mangle', { 'KUBE-IPTABLES-HINT': [] });
  const r = analyze(ruleset([...shared(), kubelet], []), { mask: 0x4000 });
  assert.deepEqual(owners(r), { kubelet: '0x00004000' });
  const c = r.conflicts.find((x) => x.kind === 'inspector')!;
  assert.match(c.consequence, /^bit 14 \(0x00004000\) is kubelet's masquerade bit \(--iptables-masquerade-bit 14\): KUBE-POSTROUTING in nat POSTROUTING returns early any packet without it/);
});

test('kubelet v1.28+ (hint, canary, KUBE-FIREWALL localnet rule): present, owning no bit, and the drop bit is free', () => {
  const t = [
    ipt('mangle', { 'KUBE-IPTABLES-HINT': [], 'KUBE-KUBELET-CANARY': [] }),
    ipt('filter', {
      INPUT: [rule('-j KUBE-FIREWALL', [A.jump('KUBE-FIREWALL')])],
      'KUBE-FIREWALL': [rule('! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -j DROP', [A.drop], 'block incoming localnet connections')],
    }),
  ];
  const r = analyze(ruleset(t), { mask: 0x8000 });
  assert.deepEqual(owners(r), { kubelet: '0x00000000' });
  assert.deepEqual(r.conflicts, []);
});

test('both present: each owns the shared bits, and the facts are counted once', () => {
  const t = [...shared(), ipt('mangle', { 'KUBE-IPTABLES-HINT': [], 'KUBE-PROXY-CANARY': [] })];
  const r = analyze(ruleset(t));
  assert.deepEqual(owners(r), { kubelet: '0x00004000', 'kube-proxy (iptables)': '0x00004000' });
  assert.equal(r.bits[14].writers, 2);
  assert.equal(r.bits[14].readers, 1);
  assert.deepEqual(r.bits[14].owners, ['kubelet', 'kube-proxy (iptables)']);
});

test('neither present: the shared rules are named for both ("either")', () => {
  const r = analyze(ruleset(shared()));
  assert.deepEqual(owners(r), { kubelet: '0x00004000', 'kube-proxy (iptables)': '0x00004000' });
});

test('Calico: its rules are Calico (iptables) until one tests the eBPF programs\' SEEN mark, then all are Calico (eBPF)', () => {
  const normal = () =>
    ipt('filter', {
      INPUT: [rule('-m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT', [A.jump('cali-INPUT')], 'cali:Cz_u1IQiXIMmKD4c')],
      'cali-INPUT': [rule('-m comment --comment "cali:eyx2leKMZ98ckPa-" -j MARK --set-xmark 0x0/0x1b0000', [A.setXmark(0, 0x1b0000)], 'cali:eyx2leKMZ98ckPa-')],
    });
  assert.deepEqual(owners(analyze(ruleset([normal()]))), { 'Calico (iptables)': '0xffff0000' });
  const bpf = ipt('raw', {
    OUTPUT: [
      rule('-m comment --comment "cali:CD7jZCSqPP_KjGsd" -m mark --mark 0x10000/0x10000 -j MARK --set-xmark 0x3000000/0xffffffff', [M.mark(0x10000, 0x10000), A.setXmark(0x3000000)], 'cali:CD7jZCSqPP_KjGsd'),
    ],
  });
  const r = analyze(ruleset([normal(), bpf]));
  assert.deepEqual(owners(r), { 'Calico (eBPF)': '0xffff0000' });
  assert.equal(r.owners[0].ruleCount, 3);
  // An IPVS endpoint-style value without the SEEN bit does not switch the mode.
  const other = ipt('mangle', { 'cali-x': [rule('-m mark --mark 0x2000000/0xffe00000 -j ACCEPT', [M.mark(0x2000000, 0xffe00000), A.accept])] });
  assert.deepEqual(owners(analyze(ruleset([normal(), other]))), { 'Calico (iptables)': '0xffff0000' });
});

test('Calico nftables: "cali:<id>;" comments in table ip calico are Calico (nftables), not (iptables)', () => {
  const t = nft('ip', 'calico', [
    { name: 'filter-INPUT', hook: 'input', priority: 0, rules: [rule('counter jump filter-cali-INPUT comment "cali:H0S9z2pOh43UL0cc;"', [A.jump('filter-cali-INPUT')], 'cali:H0S9z2pOh43UL0cc;')] },
    { name: 'filter-cali-INPUT', rules: [rule('meta mark & 0x10000 == 0x10000 counter accept', [M.mark(0x10000, 0x10000), A.accept], 'cali:y9q5TVbyVOp08Pbf; Host endpoint policy accepted packet.')] },
  ]);
  assert.deepEqual(owners(analyze(ruleset([t]))), { 'Calico (nftables)': '0xffff0000' });
});

test('felix\'s "arp calico-arp" table goes to whichever Calico mode the node runs', () => {
  const arp = () =>
    nft('arp', 'calico-arp', [
      { name: 'filter-OUTPUT', hook: 'output', priority: 0, rules: [rule('counter jump filter-cali-arp-dispatch', [A.jump('filter-cali-arp-dispatch')], 'cali:xP2bQ0hYl8fJtQ3e;')] },
      { name: 'filter-cali-arp-dispatch', rules: [] },
    ]);
  const iptMode = ipt('filter', { INPUT: [rule('-m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT', [A.jump('cali-INPUT')], 'cali:Cz_u1IQiXIMmKD4c')], 'cali-INPUT': [] });
  const nftMode = nft('ip', 'calico', [{ name: 'filter-INPUT', hook: 'input', priority: 0, rules: [rule('counter jump filter-cali-INPUT', [A.jump('filter-cali-INPUT')], 'cali:H0S9z2pOh43UL0cc;')] }, { name: 'filter-cali-INPUT', rules: [] }]);
  const names = (r: ReturnType<typeof analyze>) => r.owners.map((o) => `${o.name} ${o.ruleCount}`);
  assert.deepEqual(names(analyze(ruleset([iptMode, arp()]))), ['Calico (iptables) 2']);
  assert.deepEqual(names(analyze(ruleset([nftMode, arp()]))), ['Calico (nftables) 2']);
});
