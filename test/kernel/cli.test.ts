// The CLI as users run it: ./bin/nfqguard in a child process, against the kernel in a namespace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLab } from '../../src/lab/lab.js';
import { kernelSkipReason, kernelTest } from '../helpers/kernel.js';
import { procRow, send, startReceiver } from '../helpers/udp.js';
import { test } from 'node:test';
import { liveNamespaces } from '../../src/lab/netns.js';
import { runCli } from '../../src/cli/program.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'nfqguard');

function startQueueCli(args: string[]): { child: ReturnType<typeof spawn>; out: () => string; err: () => string; bound: Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'queue', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let boundResolve: () => void = () => undefined;
  const bound = new Promise<void>((r) => (boundResolve = r));
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    if (/ bound/.test(err)) boundResolve();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  exited.then(() => boundResolve());
  return { child, out: () => out, err: () => err, bound, exited };
}

kernelTest('nfqguard queue --json-log prints one line per packet with the merged mark; SIGTERM unbinds and exits 0', 'cliq', async (ns) => {
  await ns.iptablesRestore(
    '*mangle\n-A OUTPUT -p udp -m udp --dport 5555 -j MARK --set-xmark 0x4000/0x4000\n-A INPUT -p udp -m udp --dport 5555 -j NFQUEUE --queue-num 80\nCOMMIT\n',
  );
  const q = startQueueCli(['--num', '80', '--netns', ns.name, '--mask', '0x00f00000', '--set-mark', '0x00100000', '--json-log']);
  try {
    await q.bound;
    assert.match(q.err(), /queue 80 .* bound in netns/);
    const rx = await startReceiver(ns, 5555, 2, 3);
    await send(ns, 5555, ['a', 'b']);
    const got = await rx.done;
    assert.deepEqual(
      got.map((r) => r.mark),
      [0x00104000, 0x00104000],
    );
    const lines = q
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.deepEqual(Object.keys(lines[0]), ['id', 'mark_in', 'mark_out', 'verdict']);
    assert.equal(lines[0].mark_in, '0x00004000');
    assert.equal(lines[0].mark_out, '0x00104000');
    assert.equal(lines[0].verdict, 'accept');
    const t0 = Date.now();
    q.child.kill('SIGTERM');
    assert.equal(await q.exited, 0);
    assert.ok(Date.now() - t0 < 1500, `stopped in ${Date.now() - t0} ms`);
    assert.equal(await procRow(ns, 80), undefined, 'the queue is unbound');
  } finally {
    q.child.kill('SIGKILL');
  }
});

kernelTest('nfqguard queue --json-log whose reader goes away (| head -n 2) stops cleanly: exit 0, unbound, no EPIPE crash', 'clipipe', async (ns) => {
  await ns.iptablesRestore('*mangle\n-A INPUT -p udp -m udp --dport 5556 -j NFQUEUE --queue-num 82 --queue-bypass\nCOMMIT\n');
  const q = startQueueCli(['--num', '82', '--netns', ns.name, '--json-log']);
  try {
    await q.bound;
    let done = false;
    void q.exited.then(() => (done = true));
    // Like head -n 2: read two lines, then close the pipe; the next line written fails with EPIPE.
    for (let i = 0; i < 40 && !done; i++) {
      if (q.out().split('\n').length > 2) q.child.stdout?.destroy();
      await send(ns, 5556, ['p']);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await q.exited, 0, q.err());
    assert.doesNotMatch(q.err(), /EPIPE|Unhandled|at .*\.js/);
    assert.equal(await procRow(ns, 82), undefined, 'the queue is unbound');
  } finally {
    q.child.kill('SIGKILL');
  }
});

kernelTest('nfqguard queue on a queue another process holds: one clear line, exit 2', 'clibusy', async (ns) => {
  const first = startQueueCli(['--num', '81', '--netns', ns.name]);
  try {
    await first.bound;
    const second = startQueueCli(['--num', '81', '--netns', ns.name]);
    assert.equal(await second.exited, 2);
    assert.match(second.err(), /queue 81 is already bound/);
  } finally {
    first.child.kill('SIGTERM');
    await first.exited;
  }
});

test('nfqguard lab: every scenario behaves as the seed describes, namespaces removed', { skip: kernelSkipReason() ?? false, timeout: 60_000 }, async () => {
  const report = await runLab({ port: 80, queue: 80 });
  const byName = new Map(report.scenarios.map((s) => [s.name, s]));
  assert.equal(report.scenarios.length, 8);
  for (const s of report.scenarios) assert.ok(s.ok, `${s.name}: ${s.problem}`);
  assert.equal(byName.get('no-consumer')?.observed, 'timeout');
  assert.equal(byName.get('whole-mark-0x8000')?.markAfter, '0x00008000');
  assert.equal(byName.get('seed-fix-clear-mark/premarked-drop')?.observed, '200', 'the seed fix lets a must-drop packet through');
  assert.equal(byName.get('owned-mask')?.markAfter, '0x00104000');
  assert.equal(byName.get('owned-mask/premarked-drop')?.observed, 'timeout');
  assert.equal(byName.get('bypass-no-consumer')?.observed, '200');
  assert.ok(report.durationMs < 30_000);
  assert.deepEqual(liveNamespaces(), []);
});

test('nfqguard lab --json: schema; Ctrl-C mid-run removes every namespace and exits 130', { skip: kernelSkipReason() ?? false, timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [BIN, 'lab', '--json', '--only', '1,5', '--port', '8080', '--queue', '9'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 0);
  const report = JSON.parse(out);
  assert.equal(report.ok, true);
  assert.deepEqual(
    report.scenarios.map((s: { name: string }) => s.name),
    ['no-consumer', 'owned-mask', 'owned-mask/premarked-drop'],
  );
  for (const s of report.scenarios) for (const k of ['name', 'expected', 'observed', 'ok', 'markBefore', 'markAfter']) assert.ok(k in s, k);

  // Interrupt at different phases: as soon as the first namespace exists (set-up), and later (requests in flight).
  const { readdirSync, existsSync } = await import('node:fs');
  const mine = (pid: number | undefined): string[] =>
    existsSync('/var/run/netns') ? readdirSync('/var/run/netns').filter((n) => n.includes(`-${pid}-`)) : [];
  for (const extra of [0, 800]) {
    const interrupted = spawn(process.execPath, [BIN, 'lab'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    interrupted.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => interrupted.on('exit', (c) => r(c)));
    for (let i = 0; i < 200 && mine(interrupted.pid).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(mine(interrupted.pid).length > 0, 'the lab created its namespaces');
    await new Promise((r) => setTimeout(r, extra));
    interrupted.kill('SIGINT');
    assert.equal(await exited, 130, `interrupted ${extra} ms after set-up began: ${err}`);
    assert.deepEqual(mine(interrupted.pid), [], `namespaces left after an interrupt ${extra} ms after set-up began`);
  }
});

kernelTest('nfqguard queue --json-log with a reader that cannot keep up: lines past the backlog limit are dropped and counted, every packet still gets its verdict', 'clislow', async (ns) => {
  await ns.iptablesRestore('*mangle\n-A INPUT -p udp -m udp --dport 5557 -j NFQUEUE --queue-num 83\nCOMMIT\n');
  let out = '';
  let err = '';
  let boundResolve: () => void = () => undefined;
  const bound = new Promise<void>((r) => (boundResolve = r));
  // The reader took 3 lines, then stopped reading: its backlog is over the limit from then on.
  const lines = (): number => out.split('\n').length - 1;
  const exited = runCli(['queue', '--num', '83', '--netns', ns.name, '--json-log', '--count', '10', '--stats'], {
    stdout: (t) => void (out += t),
    stderr: (t) => {
      err += t;
      if (/ bound/.test(err)) boundResolve();
    },
    stdoutBacklog: () => (lines() >= 3 ? 2 << 20 : 0),
    cwd: process.cwd(),
    env: process.env,
    signal: new AbortController().signal,
  });
  void exited.then(() => boundResolve());
  await bound;
  const rx = await startReceiver(ns, 5557, 10, 5);
  await send(ns, 5557, Array.from({ length: 10 }, (_, i) => `p${i}`));
  assert.equal((await rx.done).length, 10, 'every packet delivered');
  assert.equal(await exited, 0, err);
  assert.equal(lines(), 3);
  assert.match(err, /7 --json-log lines dropped: the reader was slower than the queue/);
  assert.equal(JSON.parse(err.trim().split('\n').at(-1) as string).log_dropped, 7);
});
