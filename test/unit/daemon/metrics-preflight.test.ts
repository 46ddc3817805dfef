import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../../src/daemon/metrics.js';
import { maskConflicts } from '../../../src/daemon/preflight.js';
import { parseIptablesSave } from '../../../src/ruleset/index.js';
import { Inspector } from '../../../src/daemon/inspector.js';
import { PacketView, encodePacketMessage } from '../../../src/nfqueue/packet.js';
import { MessageWriter } from '../../../src/netlink/writer.js';
import { ipv4Packet } from '../../helpers/packets.js';
import type { WorkerInit } from '../../../src/daemon/protocol.js';

const INIT: WorkerInit = {
  index: 0,
  queue: 5,
  incarnation: 0,
  rules: [
    { id: 'bad', match: { content: [{ text: 'bad' }] }, action: 'drop' },
    { id: 'skip', match: { content: [{ text: 'skip' }] }, action: 'bypass' },
  ],
  markMask: 0x00f00000,
  bypassCtMark: 0x01000000,
  bypassMark: 0x00800000,
  copyRange: 4096,
  maxLen: 1024,
  conntrack: false,
  failOpen: true,
  maxEventsPerSecond: 1,
  snapshotMs: 1000,
};

function view(payload: string, mark = 0): PacketView {
  const w = new MessageWriter(512);
  encodePacketMessage(w, { queue: 5, family: 2, id: 1, hwProtocol: 0x0800, hook: 1, mark, payload: ipv4Packet('tcp', { payload }) });
  const pv = new PacketView();
  const bytes = w.bytes();
  assert.equal(pv.load(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length), null);
  return pv;
}

test('inspector: decisions, rate-limited events, and metrics rendered from its snapshot', async () => {
  const events: unknown[] = [];
  const ins = new Inspector(INIT, (e) => events.push(e));
  assert.equal(ins.handle(view('a bad thing')).verdict, 'drop');
  assert.equal(ins.handle(view('bad again')).verdict, 'drop');
  assert.equal(ins.handle(view('fine')).verdict, 'accept');
  const byp = ins.handle(view('skip me'));
  assert.deepEqual({ ...byp }, { verdict: 'repeat', mark: 0x00800000, ctMark: 0x01000000, ctMarkMask: 0x01000000 });
  // Back from the repeat with the bypass bit: accepted, never repeated again.
  assert.equal(ins.handle(view('skip me', 0x00800000 | 0x8000)).verdict, 'accept');
  assert.equal(events.length, 1, 'max_events_per_second: 1');
  const snap = ins.snapshot({ enobufs: 2 });
  assert.deepEqual(snap.perRule, [2, 1, 2]);
  assert.equal(snap.repeated, 1);
  assert.equal(snap.eventsSuppressed, 2);
  assert.equal(snap.latencyCount, 5);
  const reg = createMetrics({
    snapshots: () => [snap],
    rules: INIT.rules.map((r) => ({ id: r.id, action: r.action })),
    queues: [5],
    ready: () => true,
    workersUp: () => 1,
    readProc: () => '    5  12345     3 2  4096     7     9   100  1\n    6  1 0 2 4096 0 0 0 1\n',
  });
  const text = await reg.metrics();
  assert.match(text, /^nfqguard_verdicts_total\{worker="0",queue="5",rule="bad",action="drop"\} 2$/m);
  assert.match(text, /^nfqguard_verdicts_total\{worker="0",queue="5",rule="none",action="accept"\} 2$/m);
  assert.match(text, /^nfqguard_netlink_errors_total\{worker="0",queue="5",kind="enobufs"\} 2$/m);
  assert.match(text, /^nfqguard_queue_dropped\{queue="5"\} 7$/m);
  assert.match(text, /^nfqguard_queue_user_dropped\{queue="5"\} 9$/m);
  assert.doesNotMatch(text, /queue="6"/, 'only our queues');
  assert.match(text, /^nfqguard_verdict_latency_seconds_count\{worker="0",queue="5"\} 5$/m);
  assert.match(text, /^nfqguard_verdict_latency_seconds_bucket\{worker="0",queue="5",le="\+Inf"\} 5$/m);
});

test('mask preflight: the doctor finds kubelet\'s drop bit and names a free mask; our own rules never count', () => {
  const save = [
    '*mangle',
    ':PREROUTING ACCEPT [0:0]',
    '-A PREROUTING -m comment --comment "nfqguard:default:abc" -m mark --mark 0x100000/0x100000 -j RETURN',
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':KUBE-FIREWALL - [0:0]',
    '-A INPUT -j KUBE-FIREWALL',
    '-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP',
    'COMMIT',
    '',
  ].join('\n');
  const rs = parseIptablesSave(save, { source: 'node.rules' });
  const ok = maskConflicts(rs, { markMask: 0x00f00000, ctMarkMask: 0, name: 'default' });
  assert.deepEqual(ok.conflicts, []);
  const bad = maskConflicts(rs, { markMask: 0x0000c000, ctMarkMask: 0, name: 'default' });
  assert.ok(bad.conflicts.length >= 1);
  const drop = bad.conflicts.find((c) => c.bits & 0x8000);
  assert.ok(drop, 'bit 0x8000 is a conflict');
  assert.match(drop.explanation, /KUBE-FIREWALL/);
  assert.match(drop.where, /node\.rules:\d+/);
  assert.match(bad.notes.join(' '), /free mask of the same width on this node: 0x[0-9a-f]{8}/);
});

test('logs: JSON lines by default, "time level msg key=value" in text format', async () => {
  const { createLogger } = await import('../../../src/daemon/log.js');
  const out: string[] = [];
  createLogger({ format: 'json', level: 'info' }, (l) => out.push(l)).info({ rule: 'r1', dport: 80 }, 'rule r1 matched: drop');
  const rec = JSON.parse(out[0]) as Record<string, unknown>;
  assert.deepEqual([rec.msg, rec.rule, rec.dport, rec.level], ['rule r1 matched: drop', 'r1', 80, 30]);
  createLogger({ format: 'text', level: 'info' }, (l) => out.push(l)).warn({ rule: 'r 2' }, 'hello');
  assert.match(out[1], /^\d{4}-\d\d-\d\dT[\d:.]+Z warn hello rule="r 2"\n$/);
  createLogger({ format: 'json', level: 'warn' }, (l) => out.push(l)).info('quiet');
  assert.equal(out.length, 2, 'below the level: nothing');
});
