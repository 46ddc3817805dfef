// `nfqguard run` when things go wrong, against the real kernel, each test in its own namespace: a
// worker thread that dies or hangs (fault injection: NFQGUARD_FAULT_WORKER), what /healthz and /readyz
// answer through start-up, a worker's death and shutdown, and the /proc-derived drop metrics under a
// real overload (the daemon stopped with SIGSTOP while a flood arrives, so the numbers are exact).
import assert from 'node:assert/strict';
import { kernelTest } from '../../helpers/kernel.js';
import { assertNoRules, DaemonProc, echoServer, helper, httpGet, mangleSave, metric, probe, startPoller, statusSeq, withTempConfig, type PollRun } from '../../helpers/daemon.js';
import { flood, procRow, send, startReceiver } from '../../helpers/udp.js';
import { parseProcNetlink } from '../../../src/daemon/reclaim.js';
import type { Netns } from '../../../src/lab/netns.js';

const ADDR = '127.0.0.1:9477';

const isMsg = (re: RegExp) => (l: Record<string, unknown>): boolean => typeof l.msg === 'string' && re.test(l.msg);

/** Statuses with the transport errors of a closing connection left out. */
const seqOf = (runs: PollRun[]): Array<PollRun['status']> => statusSeq(runs.filter((r) => r.status !== 'error')).filter((s, i, a) => i === 0 || a[i - 1] !== s);

kernelTest('a worker that dies is restarted: the packets it held are accepted, its traffic flows meanwhile (bypass), the queue is re-bound and inspected again; /healthz and /readyz say 503 until it is back', 'dcrash', async (ns) => {
  const yaml = `
name: kc
queue: { first: 250, workers: 1 }
steering:
  rules:
    - { hook: input, protocol: tcp, dports: [9001] }
    - { hook: input, protocol: udp, dports: [9053] }
rules:
  - { id: evil, match: { content: [ { text: evilpayload } ] }, action: drop }
metrics: { listen: ${ADDR} }
`;
  await echoServer(ns, [9001]);
  const receiver = await startReceiver(ns, 9053, 5, 10);
  await withTempConfig(yaml, async (cfg) => {
    // The worker's thread ends inside its handler on the 5th packet it is given: d5 (and whatever shares its batch) is
    // left in the kernel queue without a verdict.
    const d = await DaemonProc.start(ns, cfg, [], 8000, { NFQGUARD_FAULT_WORKER: '250:5:crash' });
    try {
      const poller = await startPoller(ns, ADDR, ['/healthz', '/readyz'], 10, 20_000);
      await new Promise((r) => setTimeout(r, 100));
      await send(ns, 9053, ['d1', 'd2', 'd3', 'd4', 'd5']);
      // Traffic while the worker is dead and while it comes back.
      const load = ns.execOk(process.execPath, [helper('load'), '127.0.0.1', '9001', '2000'], { timeoutMs: 10_000 });
      const exited = await d.waitFor(isMsg(/^worker exited/), 3000);
      const reclaimed = await d.waitFor(isMsg(/still bound to the dead worker's socket/), 1000);
      const back = await d.waitFor(isMsg(/^worker restarted: queue 250/), 5000);
      assert.equal(exited.queue, 250);
      assert.equal(exited.msg, 'worker exited (code 70)');
      assert.ok(Number(reclaimed.held) >= 1, `the dead worker held d5: ${JSON.stringify(reclaimed)}`);
      assert.equal(reclaimed.accepted, true);
      assert.equal(d.lines.filter(isMsg(/restart failed/)).length, 0, 'the restarted worker bound the queue at the first try');
      // Every datagram arrived, d5 included: held by the dead worker, accepted when its socket was taken back.
      const got = (await receiver.done).map((r) => r.data).sort();
      assert.deepEqual(got, ['d1', 'd2', 'd3', 'd4', 'd5']);
      const r = JSON.parse((await load).trim()) as { pings: number; maxPingGapMs: number; maxConnectGapMs: number; connectFailures: number };
      assert.ok(r.pings > 50, JSON.stringify(r));
      assert.ok(r.maxPingGapMs < 1000 && r.maxConnectGapMs < 1000, `no stall while the worker was down: ${JSON.stringify(r)}`);
      // The restarted worker holds the queue and verdicts again.
      const row = await procRow(ns, 250);
      assert.ok(row, 'queue 250 is bound again');
      const evil = await probe(ns, 'tcp', 9001, ['xx evilpayload']);
      assert.deepEqual([evil.connected, evil.echoed], [true, 0], 'the restarted worker drops by the rules');
      assert.equal((await probe(ns, 'tcp', 9001, ['harmless'])).echoed, 1);
      const ev = await d.waitFor((l) => l.event === 'detection' && l.rule === 'evil', 2000);
      assert.ok(Number(ev.time) >= Number(back.time), 'detected by the restarted worker');
      await new Promise((res) => setTimeout(res, 1200)); // a snapshot period
      const m = (await httpGet(ns, `http://${ADDR}/metrics`)).body;
      assert.equal(metric(m, 'nfqguard_worker_restarts_total', 'worker="0",queue="250"'), 1);
      assert.equal(metric(m, 'nfqguard_workers_up'), 1);
      assert.equal(metric(m, 'nfqguard_ready'), 1);
      assert.ok((metric(m, 'nfqguard_packets_total', 'worker="0",queue="250"') ?? 0) >= 2, 'packets counted by the new worker');
      const runs = await poller.stop();
      for (const path of ['/healthz', '/readyz']) {
        assert.deepEqual(seqOf(runs[path]), [200, 503, 200], `${path}: ${JSON.stringify(runs[path])}`);
        const down = runs[path].find((x) => x.status === 503) as PollRun;
        assert.match(down.body, /^workers not running: queues 250/);
        // 503 exactly while the worker was gone (same machine's clock; an answer is received after it is made, so only the end gets slack).
        assert.ok(down.first >= Number(exited.time) - 5 && down.last <= Number(back.time) + 100, `${path} 503 from ${down.first} to ${down.last}; exit ${String(exited.time)}, back ${String(back.time)}`);
      }
    } finally {
      assert.equal((await d.kill('SIGTERM')).code, 0);
    }
    await assertNoRules(ns);
  });
}, { timeout: 30_000 });

kernelTest('a stuck worker is terminated after 7 s without a snapshot and restarted: the packets it held are delivered, the queue is inspected again', 'dstuck', async (ns) => {
  const yaml = `
name: ks
queue: { first: 280, workers: 1 }
steering:
  rules:
    - { hook: input, protocol: udp, dports: [9053] }
rules:
  - { id: evil, match: { content: [ { text: evilpayload } ] }, action: drop }
metrics: { listen: ${ADDR} }
`;
  const receiver = await startReceiver(ns, 9053, 4, 20);
  await withTempConfig(yaml, async (cfg) => {
    // The worker blocks for ever inside its handler on its 2nd packet (d2); d3 then waits in the queue.
    const d = await DaemonProc.start(ns, cfg, [], 8000, { NFQGUARD_FAULT_WORKER: '280:2:hang' });
    try {
      const poller = await startPoller(ns, ADDR, ['/healthz', '/readyz'], 50, 30_000);
      const sentAt = Date.now();
      await send(ns, 9053, ['d1', 'd2']);
      await new Promise((r) => setTimeout(r, 500));
      await send(ns, 9053, ['d3']);
      const stuck = await d.waitFor(isMsg(/has not reported for \d+ ms: stuck, terminating it/), 12_000);
      const reclaimed = await d.waitFor(isMsg(/still bound to the dead worker's socket/), 2000);
      const back = await d.waitFor(isMsg(/^worker restarted: queue 280/), 5000);
      // Silent for over 7 s since its last snapshot (sent at most 1 s before the hang), caught within a period.
      assert.ok(Number(stuck.silentMs) > 7000, JSON.stringify(stuck));
      const stalledMs = Number(stuck.time) - sentAt;
      assert.ok(stalledMs >= 6000 && stalledMs < 10_000, `terminated ${stalledMs} ms after the hang`);
      assert.ok(Number(reclaimed.held) >= 2, `d2 and d3 were held: ${JSON.stringify(reclaimed)}`);
      assert.equal(reclaimed.accepted, true);
      // Inspected again: the evil datagram is dropped, d4 after it arrives.
      await send(ns, 9053, ['xx evilpayload', 'd4']);
      assert.deepEqual((await receiver.done).map((r) => r.data).sort(), ['d1', 'd2', 'd3', 'd4']);
      await d.waitFor((l) => l.event === 'detection' && l.rule === 'evil' && Number(l.time) >= Number(back.time), 2000);
      const runs = await poller.stop();
      for (const path of ['/healthz', '/readyz']) {
        assert.deepEqual(seqOf(runs[path]), [200, 503, 200], `${path}: ${JSON.stringify(runs[path])}`);
        // The watchdog terminates the silent worker in the same period in which the probes start saying
        // "not reporting", so a 50 ms poller may only see the next reason ("not running"): either is true.
        assert.ok(
          runs[path].some((x) => x.status === 503 && /^workers not (reporting for over 7000 ms|running): queues 280/.test(x.body)),
          `${path} said why: ${JSON.stringify(runs[path])}`,
        );
      }
    } finally {
      assert.equal((await d.kill('SIGTERM')).code, 0);
    }
    await assertNoRules(ns);
  });
}, { timeout: 40_000 });

kernelTest('/readyz and /healthz answer 503 while starting (before the rules are installed) and while stopping, 200 in between', 'dprobe', async (ns) => {
  const yaml = `
name: kp
queue: { first: 260, workers: 2 }
steering:
  rules:
    - { hook: input, protocol: tcp, dports: [9001] }
metrics: { listen: ${ADDR} }
`;
  await withTempConfig(yaml, async (cfg) => {
    const poller = await startPoller(ns, ADDR, ['/readyz', '/healthz'], 2, 20_000);
    const d = await DaemonProc.start(ns, cfg);
    let runs: Record<string, PollRun[]>;
    let termAt = 0;
    try {
      const ready = await d.waitFor(isMsg(/^ready: /), 100);
      await new Promise((r) => setTimeout(r, 100));
      assert.match(await mangleSave(ns), /NFQUEUE --queue-balance 260:261 .*--queue-bypass/, 'the rules are in while ready');
      termAt = Date.now();
      const e = await d.kill('SIGTERM');
      assert.equal(e.code, 0);
      runs = await poller.stop();
      for (const path of ['/readyz', '/healthz']) {
        const rs = runs[path];
        assert.deepEqual(seqOf(rs), ['refused', 503, 200, 503, 'refused'], `${path}: ${JSON.stringify(rs)}`);
        const [starting, up, stopping] = rs.filter((x) => typeof x.status === 'number');
        assert.match(starting.body, /^starting: /);
        assert.equal(up.body, path === '/readyz' ? 'ready' : 'ok');
        assert.match(stopping.body, /^stopping: /);
        // 200 only from the moment the daemon said ready (after installing the rules), never before.
        assert.ok(up.first >= Number(ready.time), `${path}: 200 from ${up.first}, ready (rules installed) at ${String(ready.time)}`);
        assert.ok(stopping.first >= termAt, 'stopping only after SIGTERM');
      }
    } finally {
      if (d.child.exitCode === null) await d.kill('SIGTERM');
    }
    await assertNoRules(ns);
  });
}, { timeout: 30_000 });

interface OverloadResult {
  proc: { queueDropped: number; userDropped: number; socketDrops: number };
  metrics: string;
  passed: number;
}

/**
 * Runs the daemon with `queueYaml`, stops it (SIGSTOP) so that it reads nothing, floods `count`
 * datagrams of `size` bytes at the steered port, reads /proc, lets it go on (SIGCONT), waits until
 * its snapshot counts every packet it was given, and returns /proc's counters, the metrics, and how
 * many datagrams got past the queue (an nft counter after mangle).
 */
async function overload(ns: Netns, queueYaml: string, count: number, size: number): Promise<OverloadResult> {
  const yaml = `
name: ko
queue: ${queueYaml}
steering:
  rules:
    - { hook: input, protocol: udp, dports: [9053] }
metrics: { listen: ${ADDR} }
`;
  await ns.nft('table inet obs {\n chain in { type filter hook input priority 10; udp dport 9053 counter; }\n}\n');
  return withTempConfig(yaml, async (cfg) => {
    const d = await DaemonProc.start(ns, cfg);
    try {
      d.child.kill('SIGSTOP');
      await flood(ns, 9053, count, size);
      const row = await procRow(ns, 270);
      assert.ok(row);
      const sock = parseProcNetlink(await ns.execOk('cat', ['/proc/net/netlink'])).find((s) => s.protocol === 12 && s.portId === row.portId);
      d.child.kill('SIGCONT');
      const passed = async (): Promise<number> => Number(/packets (\d+)/.exec(await ns.execOk('nft', ['list', 'table', 'inet', 'obs']))?.[1]);
      // Wait for the worker's snapshot (every second) to count what it was given.
      let metrics = '';
      // Every packet that got an id and was not dropped by the socket reached the worker.
      const given = row.idSequence - (sock?.drops ?? 0);
      for (let i = 0; i < 40; i++) {
        metrics = (await httpGet(ns, `http://${ADDR}/metrics`)).body;
        if ((metric(metrics, 'nfqguard_packets_total', 'worker="0",queue="270"') ?? -1) >= given) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      return { proc: { queueDropped: row.queueDropped, userDropped: row.userDropped, socketDrops: sock?.drops ?? -1 }, metrics, passed: await passed() };
    } finally {
      d.child.kill('SIGCONT');
      assert.equal((await d.kill('SIGTERM')).code, 0);
      await ns.execOk('nft', ['delete', 'table', 'inet', 'obs']);
      await assertNoRules(ns);
    }
  });
}

const q = (name: string, text: string): number | undefined => metric(text, name, 'queue="270"');

kernelTest('overload, queue full: with fail_open off the kernel drops and counts (queue_dropped = sent - max_len, in the metrics); with fail-open it accepts and counts nothing', 'dqfull', async (ns) => {
  const closed = await overload(ns, '{ first: 270, workers: 1, max_len: 16, fail_open: false }', 300, 64);
  assert.equal(closed.proc.queueDropped, 300 - 16, 'the kernel dropped everything past max_len');
  assert.equal(q('nfqguard_queue_dropped', closed.metrics), closed.proc.queueDropped);
  assert.equal(q('nfqguard_queue_user_dropped', closed.metrics), 0);
  assert.equal(closed.passed, 16, 'only the queued packets got through');
  assert.equal(metric(closed.metrics, 'nfqguard_packets_total', 'worker="0",queue="270"'), 16);

  const open = await overload(ns, '{ first: 270, workers: 1, max_len: 16, fail_open: true }', 300, 64);
  assert.equal(open.proc.queueDropped, 0, 'with fail-open the kernel counts no queue-full packet');
  assert.equal(q('nfqguard_queue_dropped', open.metrics), 0);
  assert.equal(open.passed, 300, 'fail-open: every packet got through, 284 of them uninspected');
  assert.equal(metric(open.metrics, 'nfqguard_packets_total', 'worker="0",queue="270"'), 16);
}, { timeout: 30_000 });

kernelTest('overload, receive buffer full: user_dropped (fail_open off) and the socket drops (either way) match /proc in the metrics, with ENOBUFS counted', 'dnobufs', async (ns) => {
  const closed = await overload(ns, '{ first: 270, workers: 1, max_len: 100000, fail_open: false }', 2000, 1000);
  assert.ok(closed.proc.userDropped > 0, 'the socket buffer overflowed');
  assert.equal(q('nfqguard_queue_user_dropped', closed.metrics), closed.proc.userDropped);
  assert.equal(q('nfqguard_queue_socket_drops', closed.metrics), closed.proc.socketDrops);
  assert.equal(closed.proc.socketDrops, closed.proc.userDropped, 'each user-dropped packet is a message the socket dropped');
  assert.equal(q('nfqguard_queue_dropped', closed.metrics), 0);
  assert.equal(closed.passed, 2000 - closed.proc.userDropped, 'the dropped ones did not get through, all the others did');
  assert.equal(metric(closed.metrics, 'nfqguard_packets_total', 'worker="0",queue="270"'), 2000 - closed.proc.userDropped);
  assert.ok((metric(closed.metrics, 'nfqguard_netlink_errors_total', 'worker="0",queue="270",kind="enobufs"') ?? 0) >= 1, 'the worker saw ENOBUFS');

  const open = await overload(ns, '{ first: 270, workers: 1, max_len: 100000, fail_open: true }', 2000, 1000);
  assert.equal(open.proc.userDropped, 0, 'with fail-open the kernel does not count user drops');
  assert.ok(open.proc.socketDrops > 0, 'but the socket did drop messages');
  assert.equal(q('nfqguard_queue_socket_drops', open.metrics), open.proc.socketDrops, 'and the metrics show it');
  assert.equal(open.passed, 2000, 'fail-open: every packet got through');
  assert.equal(metric(open.metrics, 'nfqguard_packets_total', 'worker="0",queue="270"'), 2000 - open.proc.socketDrops, 'the rest were accepted uninspected');
}, { timeout: 30_000 });
