import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthz, readyz, type HealthState } from '../../../src/daemon/health.js';
import { findQueueSocket, parseProcNetlink } from '../../../src/daemon/reclaim.js';
import { createMetrics } from '../../../src/daemon/metrics.js';

const up = (queue: number, lastSeen = 1000) => ({ queue, up: true, lastSeen });
const state = (over: Partial<HealthState>): HealthState => ({ phase: 'running', workers: [up(5), up(6)], now: 2000, staleMs: 7000, ...over });

test('health: 503 while starting or stopping, and with the queues of dead or silent workers', () => {
  assert.deepEqual(readyz(state({})), { status: 200, body: 'ready' });
  assert.deepEqual(healthz(state({})), { status: 200, body: 'ok' });
  for (const phase of ['starting', 'stopping'] as const) {
    assert.equal(readyz(state({ phase })).status, 503);
    assert.equal(healthz(state({ phase })).status, 503);
    assert.match(readyz(state({ phase })).body, new RegExp(`^${phase}: `));
  }
  const dead = state({ workers: [up(5), { queue: 6, up: false, lastSeen: 1000 }] });
  assert.deepEqual([readyz(dead).status, healthz(dead).status], [503, 503]);
  assert.match(readyz(dead).body, /^workers not running: queues 6 \(their traffic is bypassed/);
  // A worker whose snapshots stopped (a stuck thread): not inspecting, so neither ready nor healthy.
  const silent = state({ workers: [up(5), up(6, 2000 - 7001)] });
  assert.equal(readyz(silent).status, 503);
  assert.match(healthz(silent).body, /^workers not reporting for over 7000 ms: queues 6 \(stuck/);
  assert.equal(healthz(silent).status, 503);
  assert.equal(healthz(state({ workers: [up(5), up(6, 2000 - 7000)] })).status, 200, 'exactly staleMs is not stale');
});

// Captured from a namespace running the daemon with queue 300 (port id 14796) and an unrelated queue.
const QUEUES = '  300  14796    10 2  4096     0     0       30  1\n  301 3285900178     0 2  4096     0     0      131  1\n';
const NETLINK = [
  'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode',
  '0000000062a485a4 0   0          00000000 0        0        0     2        0        4       ',
  '00000000db9c64ad 12  14796      00000000 13312    0        0     2        7        2751745 ',
  '00000000aa9c64ad 0   14796      00000000 0        0        0     2        0        2751746 ',
  '0000000077355ea2 12  3285900178 00000000 0        0        0     2        0        2751680 ',
  '',
].join('\n');

test('reclaim: the fd of this process whose netfilter socket holds the queue, and nothing else', () => {
  const rows = parseProcNetlink(NETLINK);
  assert.equal(rows.length, 4, 'the header is not a row');
  assert.deepEqual(rows[1], { protocol: 12, portId: 14796, drops: 7, inode: 2751745 });
  assert.equal(rows[3].portId, 3285900178, 'port ids past 2^31 stay unsigned');
  const fds = new Map([
    [3, 'anon_inode:[eventpoll]'],
    [23, 'socket:[2751745]'],
    [24, 'socket:[2751746]'],
  ]);
  assert.deepEqual(findQueueSocket(300, QUEUES, NETLINK, fds), { queue: 300, portId: 14796, fd: 23, lastId: 30, waiting: 10 });
  // Same port id on another netlink protocol (route, 0) must not be taken for it.
  assert.equal(findQueueSocket(300, QUEUES, NETLINK, new Map([[24, 'socket:[2751746]']])), null);
  // Queue 301 is bound by a socket of another process (its inode is not among our fds).
  assert.equal(findQueueSocket(301, QUEUES, NETLINK, fds), null);
  assert.equal(findQueueSocket(302, QUEUES, NETLINK, fds), null, 'an unbound queue');
});

test('metrics: socket drops per queue from /proc/net/netlink, worker restarts, ready as /readyz', async () => {
  const reg = createMetrics({
    snapshots: () => [],
    rules: [],
    queues: [300],
    ready: () => false,
    workersUp: () => 0,
    restarts: () => [{ index: 0, queue: 300, restarts: 2 }],
    readProc: () => QUEUES,
    readNetlink: () => NETLINK,
  });
  const text = await reg.metrics();
  assert.match(text, /^nfqguard_queue_socket_drops\{queue="300"\} 7$/m);
  assert.doesNotMatch(text, /socket_drops\{queue="301"\}/, 'only our queues');
  assert.match(text, /^nfqguard_worker_restarts_total\{worker="0",queue="300"\} 2$/m);
  assert.match(text, /^nfqguard_ready 0$/m);
  assert.match(text, /# HELP nfqguard_queue_dropped .*Counted only with fail_open off/);
});
