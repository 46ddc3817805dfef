// The queue benchmark's arithmetic and /proc parsing (bench/queue/stats.ts). The benchmark itself is
// not a test; these check the parts whose mistakes would silently skew its figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cpuTicks,
  loopbackSegments,
  median,
  parseNetDev,
  percentile,
  queueRow,
  ratio,
  ruleCounters,
  verdicted,
} from '../../../bench/queue/stats.js';

// Shaped like /proc/net/dev on Linux 6.x (two header lines, then one line per interface).
const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 44242432  480896    0    0    0     0          0         0 44242432  480896    0    0    0     0       0          0
  eth0:    1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0
`;

test('parseNetDev reads receive bytes and packets of the named interface only', () => {
  assert.deepEqual(parseNetDev(NET_DEV, 'lo'), { rxBytes: 44242432, rxPackets: 480896 });
  assert.deepEqual(parseNetDev(NET_DEV, 'eth0'), { rxBytes: 1000, rxPackets: 10 });
  assert.equal(parseNetDev(NET_DEV, 'eth1'), null);
  assert.equal(parseNetDev(NET_DEV, 'l'), null, 'no prefix matches');
});

test('loopbackSegments counts GSO datagrams from bytes behind one 28-byte header per packet', () => {
  // 3 GSO packets of 16 x 64-byte datagrams: each counted once, 28 + 16 * 64 bytes long.
  const before = { rxPackets: 100, rxBytes: 5000 };
  const after = { rxPackets: 103, rxBytes: 5000 + 3 * (28 + 16 * 64) };
  assert.equal(loopbackSegments(before, after, 64), 48);
  // Plain datagrams: one packet each.
  assert.equal(loopbackSegments({ rxPackets: 0, rxBytes: 0 }, { rxPackets: 10, rxBytes: 10 * (28 + 64) }, 64), 10);
});

// Shaped like net/netfilter/nfnetlink_queue.c seq_show: queue, portid, waiting, copy mode, copy
// range, queue_dropped, user_dropped, id_sequence, 1.
const PROC = `    7   8492     3 2 65531     5  4231   295424  1
   80  12345     0 2 65531     0     0       17  1
`;

test('queueRow picks the queue by number; verdicted = id_sequence - user_dropped - waiting', () => {
  const row = queueRow(PROC, 7);
  assert.ok(row);
  assert.equal(row.queueDropped, 5);
  assert.equal(row.userDropped, 4231);
  assert.equal(verdicted(row), 295424 - 4231 - 3);
  assert.equal(queueRow(PROC, 80)?.idSequence, 17);
  assert.equal(queueRow(PROC, 8), null);
  assert.equal(queueRow('', 7), null);
});

test('percentile is nearest-rank on unsorted input, and does not reorder its input', () => {
  const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assert.equal(percentile(v, 50), 5);
  assert.equal(percentile(v, 90), 9);
  assert.equal(percentile(v, 99), 10);
  assert.equal(percentile(v, 100), 10);
  assert.equal(percentile(v, 0), 1);
  assert.deepEqual(v, [5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
  assert.ok(Number.isNaN(percentile([], 50)));
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(hundred, 99), 99);
});

test('median of odd and even counts, ignoring non-finite entries', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([NaN, 7, Infinity]), 7);
  assert.ok(Number.isNaN(median([])));
});

test('ratio refuses a zero or missing denominator', () => {
  assert.equal(ratio(3, 2), 1.5);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(1, NaN)));
  assert.ok(Number.isNaN(ratio(NaN, 1)));
});

test('cpuTicks adds utime and stime, even when the command name holds spaces and parentheses', () => {
  // Fields 14 (utime) and 15 (stime) are 70 and 30.
  const stat = '4600 (node (x) y) S 4599 4600 4599 0 -1 4194560 5000 0 0 0 70 30 0 0 20 0 11 0 1000 1000000 5000';
  assert.equal(cpuTicks(stat), 100);
  assert.ok(Number.isNaN(cpuTicks('garbage')));
});

test('ruleCounters reads packet counters and targets of `iptables -nvxL` output', () => {
  const text = `Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination
  424171 1749281204 DROP       17   --  *      *       0.0.0.0/0            0.0.0.0/0            udp dpt:9000
       0        0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0
`;
  assert.deepEqual(ruleCounters(text), [
    { packets: 424171, target: 'DROP' },
    { packets: 0, target: 'ACCEPT' },
  ]);
});
