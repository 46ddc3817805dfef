// The kernel's trace, read: NFT_MSG_TRACE messages (built here with the project's netlink writer from
// the attribute layout of include/uapi/linux/netfilter/nf_tables.h) and their reading as a path,
// verdict, deciding rule and final mark.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageWriter } from '../../../src/netlink/writer.js';
import { HOOKS_TABLE, OBSERVER_TABLE, TRACE_TABLE, compareOutcome, kernelOutcome, type KEvent, type KernelView } from '../../../src/sim/compare.js';
import {
  NFNL_SUBSYS_NFTABLES,
  NFTA_TRACE_CHAIN,
  NFTA_TRACE_ID,
  NFTA_TRACE_IIF,
  NFTA_TRACE_MARK,
  NFTA_TRACE_NETWORK_HEADER,
  NFTA_TRACE_POLICY,
  NFTA_TRACE_RULE_HANDLE,
  NFTA_TRACE_TABLE,
  NFTA_TRACE_TRANSPORT_HEADER,
  NFTA_TRACE_TYPE,
  NFTA_TRACE_VERDICT,
  NFTA_VERDICT_CHAIN,
  NFTA_VERDICT_CODE,
  NFT_MSG_TRACE,
  NFT_TRACETYPE_POLICY,
  NFT_TRACETYPE_RULE,
  decodeTraceMessage,
} from '../../../src/sim/kernel/nftrace.js';

function str(s: string): Uint8Array {
  return new TextEncoder().encode(s + '\0');
}

function traceMsg(o: { family: number; table: string; chain: string; type: number; handle?: number; code?: number; target?: string; mark?: number; policy?: number; iif?: number; ip?: Uint8Array; l4?: Uint8Array }): Uint8Array {
  const w = new MessageWriter();
  const start = w.beginMessage((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE, 0, 0);
  w.nfgenmsg(o.family, 0, 0);
  w.attrBytes(NFTA_TRACE_TABLE, str(o.table));
  w.attrBytes(NFTA_TRACE_CHAIN, str(o.chain));
  if (o.handle !== undefined) w.attrWith(NFTA_TRACE_RULE_HANDLE, 8, (v, at) => v.setBigUint64(at, BigInt(o.handle as number), false));
  w.attrU32be(NFTA_TRACE_TYPE, o.type);
  if (o.code !== undefined) {
    const n = w.beginNest(NFTA_TRACE_VERDICT);
    w.attrWith(NFTA_VERDICT_CODE, 4, (v, at) => v.setInt32(at, o.code as number, false));
    if (o.target) w.attrBytes(NFTA_VERDICT_CHAIN, str(o.target));
    w.endNest(n);
  }
  w.attrU32be(NFTA_TRACE_ID, 0x1234);
  if (o.ip) w.attrBytes(NFTA_TRACE_NETWORK_HEADER, o.ip);
  if (o.l4) w.attrBytes(NFTA_TRACE_TRANSPORT_HEADER, o.l4);
  if (o.iif !== undefined) w.attrU32be(NFTA_TRACE_IIF, o.iif);
  if (o.mark !== undefined) w.attrU32be(NFTA_TRACE_MARK, o.mark);
  if (o.policy !== undefined) w.attrU32be(NFTA_TRACE_POLICY, o.policy);
  w.endMessage(start);
  return w.bytes().slice();
}

test('NFT_MSG_TRACE decodes: table, chain, handle, verdicts (jump target, queue number), mark, headers', () => {
  const ip = new Uint8Array(20);
  ip[0] = 0x45;
  ip[9] = 6;
  ip.set([10, 0, 0, 1], 12);
  ip.set([127, 0, 0, 1], 16);
  const l4 = new Uint8Array([0x9d, 0x30, 0x00, 0x50]);
  const e = decodeTraceMessage(traceMsg({ family: 2, table: 'filter', chain: 'INPUT', type: NFT_TRACETYPE_RULE, handle: 7, code: -3, target: 'KUBE-FIREWALL', mark: 0x8000, iif: 1, ip, l4 }), 0);
  assert.deepEqual(
    { ...e },
    { id: 0x1234, family: 'ip', table: 'filter', chain: 'INPUT', type: 'rule', handle: 7, verdict: 'jump', target: 'KUBE-FIREWALL', mark: 0x8000, iif: 1, proto: 6, saddr: '10.0.0.1', daddr: '127.0.0.1', sport: 40240, dport: 80 },
  );
  const q = decodeTraceMessage(traceMsg({ family: 1, table: 't', chain: 'c', type: NFT_TRACETYPE_RULE, handle: 2, code: (80 << 16) | 3 }), 0);
  assert.deepEqual([q?.family, q?.verdict, q?.queue, q?.bypass, q?.mark], ['inet', 'queue', 80, false, 0]);
  const qb = decodeTraceMessage(traceMsg({ family: 2, table: 't', chain: 'c', type: NFT_TRACETYPE_RULE, handle: 2, code: (6 << 16) | 0x8000 | 3 }), 0);
  assert.deepEqual([qb?.verdict, qb?.queue, qb?.bypass], ['queue', 6, true], 'NF_VERDICT_FLAG_QUEUE_BYPASS');
  const p = decodeTraceMessage(traceMsg({ family: 10, table: 't', chain: 'c', type: NFT_TRACETYPE_POLICY, policy: 0 }), 0);
  assert.deepEqual([p?.family, p?.type, p?.policy], ['ip6', 'policy', 'drop']);
  const bytes = traceMsg({ family: 2, table: 'filter', chain: 'INPUT', type: NFT_TRACETYPE_RULE });
  assert.equal(decodeTraceMessage(bytes.subarray(0, 30), 0), null, 'a truncated message does not decode');
});

const view: KernelView = {
  ruleIndex: new Map([
    ['ip mangle INPUT 4', 1],
    ['ip filter INPUT 6', 1],
    ['ip filter KUBE-FIREWALL 8', 1],
  ]),
  chainHook: new Map([
    ['ip mangle INPUT', 'input'],
    ['ip filter INPUT', 'input'],
    ['inet nfqguard_obs in_last', 'input'],
  ]),
  hookRefs: new Map([['inet h0', { family: 'inet', table: '(hook)', chain: 'input:FIRST+1', rule: null, text: 'input:FIRST+1:clear-mark' }]]),
  ifname: (i) => (i === 1 ? 'lo' : 'eth0'),
};

const ev = (e: Partial<KEvent> & Pick<KEvent, 'table' | 'chain' | 'type'>): KEvent => ({ family: 'ip', mark: 0, ...e });

test('kernel outcome: a drop by a rule, with the mark at that rule', () => {
  const k = kernelOutcome(
    [
      ev({ family: 'inet', table: TRACE_TABLE, chain: 'out', type: 'rule', handle: 2, verdict: 'continue', oif: 1 }),
      ev({ table: 'mangle', chain: 'INPUT', type: 'rule', handle: 4, verdict: 'queue', iif: 1 }),
      ev({ table: 'filter', chain: 'INPUT', type: 'rule', handle: 6, verdict: 'jump', target: 'KUBE-FIREWALL', mark: 0x8000, iif: 1 }),
      ev({ table: 'filter', chain: 'KUBE-FIREWALL', type: 'rule', handle: 8, verdict: 'drop', mark: 0x8000 }),
    ],
    view,
  );
  assert.deepEqual([k.verdict, k.decidedBy?.chain, k.decidedBy?.rule, k.mark], ['drop', 'KUBE-FIREWALL', 1, '0x00008000']);
  assert.deepEqual(k.items.map((i) => `${i.chain} ${i.verdict}`), ['INPUT queue', 'INPUT jump KUBE-FIREWALL', 'KUBE-FIREWALL drop']);
});

test('kernel outcome: accepted at the last observer (not the one on the way to lo); end-of-chain sentinels are not steps', () => {
  const k = kernelOutcome(
    [
      ev({ family: 'inet', table: OBSERVER_TABLE, chain: 'post_last', type: 'rule', verdict: 'continue', oif: 1 }),
      ev({ family: 'inet', table: OBSERVER_TABLE, chain: 'post_last', type: 'policy', policy: 'accept' }),
      ev({ table: 'mangle', chain: 'INPUT', type: 'rule', handle: 4, verdict: 'queue', iif: 1 }),
      ev({ family: 'inet', table: HOOKS_TABLE, chain: 'h0', type: 'rule', handle: 3, verdict: 'continue', mark: 0 }),
      ev({ family: 'inet', table: HOOKS_TABLE, chain: 'h0', type: 'policy', policy: 'accept', mark: 0 }),
      ev({ table: 'filter', chain: 'INPUT', type: 'rule', verdict: 'continue', iif: 1, mark: 0x10 }),
      ev({ table: 'filter', chain: 'INPUT', type: 'policy', policy: 'accept', mark: 0x10 }),
      ev({ family: 'inet', table: OBSERVER_TABLE, chain: 'in_last', type: 'policy', policy: 'accept', mark: 0x10, iif: 1 }),
    ],
    view,
  );
  assert.deepEqual([k.verdict, k.decidedBy?.table, k.mark], ['accept', 'mangle', '0x00000010']);
  assert.deepEqual(k.items.map((i) => `${i.table} ${i.chain} ${i.verdict}`), ['mangle INPUT queue', '(hook) input:FIRST+1 accept', 'filter INPUT accept']);
  assert.deepEqual(k.interfaces, ['out lo', 'in lo']);
});

test('kernel outcome: queued and never back is a drop by the queue rule; nothing traced is lost', () => {
  const q = kernelOutcome([ev({ table: 'mangle', chain: 'INPUT', type: 'rule', handle: 4, verdict: 'queue', iif: 2 })], view);
  assert.deepEqual([q.verdict, q.decidedBy?.rule], ['drop', 1]);
  assert.equal(kernelOutcome([], view).verdict, 'lost');
  // With bypass and no consumer the packet went on: whatever ended it later was not a traced rule.
  const bypassed = [ev({ table: 'mangle', chain: 'INPUT', type: 'rule', handle: 4, verdict: 'queue', queue: 6, bypass: true, iif: 2, mark: 0x10 })];
  const lost = kernelOutcome(bypassed, { ...view, queueConsumers: new Set([5]) });
  assert.deepEqual([lost.verdict, lost.decidedBy, lost.mark], ['lost', null, '0x00000010']);
  assert.equal(kernelOutcome(bypassed, { ...view, queueConsumers: new Set([6]) }).verdict, 'drop', 'a consumer on queue 6 dropped it');
  // A packet lost before any chain of the ruleset still has the mark our trace rule saw.
  assert.equal(kernelOutcome([ev({ family: 'inet', table: TRACE_TABLE, chain: 'pre', type: 'rule', handle: 2, verdict: 'continue', iif: 2, mark: 0x4 })], view).mark, '0x00000004');
});

test('comparison: the devices of the path are compared with those the kernel saw', () => {
  const k = kernelOutcome(
    [
      ev({ family: 'inet', table: TRACE_TABLE, chain: 'out', type: 'rule', handle: 2, verdict: 'continue', oif: 2 }),
      ev({ family: 'inet', table: OBSERVER_TABLE, chain: 'post_last', type: 'policy', policy: 'accept', oif: 3 }),
    ],
    { ...view, ifname: (i) => ['', 'lo', 'eth0', 'wg0'][i] },
  );
  assert.deepEqual(k.interfaces, ['out eth0', 'out wg0']);
  const base = { verdict: 'accept' as const, decidedBy: null, mark: '0x00000000', steps: [] };
  assert.deepEqual(compareOutcome({ ...base, path: [{ hook: 'output', oif: 'eth0' }, { hook: 'postrouting', oif: 'wg0' }] }, k), []);
  const d = compareOutcome({ ...base, path: [{ hook: 'output', oif: 'wg0' }, { hook: 'postrouting', oif: 'wg0' }] }, k);
  assert.deepEqual(d, ['interfaces: simulator out wg0, kernel out eth0 -> out wg0']);
});

test('comparison: verdict, deciding rule, final mark and the first differing step are reported', () => {
  const k = kernelOutcome([ev({ table: 'filter', chain: 'KUBE-FIREWALL', type: 'rule', handle: 8, verdict: 'drop', mark: 0x8000 })], view);
  const same = compareOutcome(
    {
      verdict: 'drop',
      decidedBy: { family: 'ip', table: 'filter', chain: 'KUBE-FIREWALL', rule: 1, text: 'x' },
      mark: '0x00008000',
      steps: [{ hook: 'input', priority: 0, family: 'ip', table: 'filter', chain: 'KUBE-FIREWALL', rule: 1, text: 'x', markBefore: '0x00008000', markAfter: '0x00008000', verdict: 'drop' }],
    },
    k,
  );
  assert.deepEqual(same, []);
  const diff = compareOutcome({ verdict: 'accept', decidedBy: null, mark: '0x00000000', steps: [] }, k);
  assert.equal(diff.length, 4);
  assert.match(diff[0], /verdict: simulator accept, kernel drop/);
  assert.match(diff[3], /path step 1: simulator \(ends\)/);
});
