// `npm run bench:queue`: how many packets per second `nfqguard queue` gives a verdict, next to the kernel
// without a queue and next to a C consumer written the way the seed's t.c is (libnetfilter_queue, one
// recv and one nfq_set_verdict2 per packet), plus the round-trip latency each adds. Not a test: it
// prints figures (medians of several runs) and the ratios the issue sets targets for. BENCHMARKS.md
// explains the set-up and how to read the output.
//
// Everything happens in one throwaway network namespace on its loopback. Counts come from the kernel
// (/proc/net/netfilter/nfnetlink_queue, /proc/net/dev, iptables counters), never from the programs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from '../../src/cli/render/table.js';
import { Netns, cleanupStaleNamespaces } from '../../src/lab/netns.js';
import type { ProcQueueRow } from '../../src/nfqueue/proc.js';
import { kernelUnavailableReason } from '../../src/util/caps.js';
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
  type DevCounters,
} from './stats.js';
import { capture, compileC, numberOption, stop, type Proc } from './tools.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FLOOD_PORT = 9000;
const ECHO_PORT = 9001;

type Mode = 'no-queue' | 'c-baseline' | 'nfqguard';
const MODES: readonly Mode[] = ['no-queue', 'c-baseline', 'nfqguard'];
const LABEL: Record<Mode, string> = { 'no-queue': 'no queue rule', 'c-baseline': 'C baseline', nfqguard: 'nfqguard queue' };

interface Config {
  runs: number;
  seconds: number;
  warmup: number;
  segments: number;
  payload: number;
  pings: number;
  queue: number;
  pin: boolean;
  nice: number;
  /** SCHED_FIFO priority for the round trips (consumer, echo server, client); 0: normal scheduling. */
  rtPriority: number;
  json: boolean;
}

const USAGE = `usage: npm run bench:queue -- [options]   (or: node dist/bench/queue/run.js [options]; needs root)

  --runs N        repetitions of every measurement; medians are reported (default 7)
  --seconds S     length of each measured flood window (default 1)
  --segments N    UDP datagrams per GSO send of the flood, 1 for plain sends (default 16)
  --payload B     bytes of payload per datagram (default 64)
  --pings N       measured request/response round trips per run (default 5000)
  --queue N       queue number (default 7)
  --no-pin        do not pin the flood to CPU 0 and the consumer to CPU 1
  --nice N        run every measured program at this nice value (default -10; 0 to leave them be)
  --rt-priority P SCHED_FIFO priority of the consumer, echo server and client while measuring round trips
                  (default 10; 0 for normal scheduling, where other sessions' load dominates the p99)
  --json          print the results as JSON
`;

function parseConfig(argv: string[]): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '7' },
      seconds: { type: 'string', default: '1' },
      segments: { type: 'string', default: '16' },
      payload: { type: 'string', default: '64' },
      pings: { type: 'string', default: '5000' },
      queue: { type: 'string', default: '7' },
      'no-pin': { type: 'boolean', default: false },
      nice: { type: 'string', default: '-10' },
      'rt-priority': { type: 'string', default: '10' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const num = numberOption;
  return {
    runs: Math.round(num('runs', values.runs, 1, 50)),
    seconds: num('seconds', values.seconds, 0.2, 30),
    warmup: 0.3,
    segments: Math.round(num('segments', values.segments, 1, 64)),
    payload: Math.round(num('payload', values.payload, 1, 1400)),
    pings: Math.round(num('pings', values.pings, 100, 1_000_000)),
    queue: Math.round(num('queue', values.queue, 0, 65535)),
    pin: !values['no-pin'] && cpus().length >= 2,
    nice: Math.round(num('nice', values.nice, -20, 19)),
    rtPriority: Math.round(num('rt-priority', values['rt-priority'], 0, 99)),
    json: values.json,
  };
}

// ---- small process helpers ---------------------------------------------------------------------

class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

const abort = new AbortController();

function sleep(ms: number): Promise<void> {
  return new Promise((res, rej) => {
    if (abort.signal.aborted) return rej(new Interrupted());
    const t = setTimeout(() => {
      abort.signal.removeEventListener('abort', onAbort);
      res();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      rej(new Interrupted());
    };
    abort.signal.addEventListener('abort', onAbort, { once: true });
  });
}

let niceness = 0;

/**
 * Runs argv in the namespace, pinned to `cpu` unless null, at the configured nice value, or with
 * SCHED_FIFO priority `rt` when given. nice, chrt and taskset exec the program, as ip netns exec
 * does: the child's pid is the program's.
 */
function start(ns: Netns, cpu: number | null, argv: string[], rt = 0): Proc {
  const sched = rt > 0 ? ['chrt', '-f', String(rt)] : niceness !== 0 ? ['nice', '-n', String(niceness)] : [];
  const full = [...sched, ...(cpu === null ? [] : ['taskset', '-c', String(cpu)]), ...argv];
  const child = ns.spawn(full[0], full.slice(1));
  // Ctrl-C: end every program at once, so that nothing waits on it (the namespace goes next).
  const onAbort = (): void => void child.kill('SIGKILL');
  abort.signal.addEventListener('abort', onAbort, { once: true });
  child.once('close', () => abort.signal.removeEventListener('abort', onAbort));
  return capture(child);
}

async function waitFor(what: string, timeoutMs: number, ok: () => boolean, proc?: Proc): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`${what}: the program exited (${proc.child.exitCode ?? proc.child.signalCode}): ${proc.stderr.trim()}`);
    }
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms${proc ? `: ${proc.stderr.trim()}` : ''}`);
    await sleep(10);
  }
}

// ---- kernel counters ---------------------------------------------------------------------------

/**
 * Reads the namespace's /proc files through a process that lives in it (the echo server):
 * /proc/PID/net is that process's network namespace, the same file `ip netns exec NS cat
 * /proc/net/...` shows, read without starting a process inside the timed window.
 */
class Counters {
  constructor(
    private readonly nsPid: number,
    private readonly queue: number,
  ) {}

  queueRow(): ProcQueueRow | null {
    try {
      return queueRow(readFileSync(`/proc/${this.nsPid}/net/netfilter/nfnetlink_queue`, 'utf8'), this.queue);
    } catch {
      return null; // nfnetlink_queue not loaded yet: no queue is bound
    }
  }

  loopback(): DevCounters {
    const c = parseNetDev(readFileSync(`/proc/${this.nsPid}/net/dev`, 'utf8'), 'lo');
    if (c === null) throw new Error('no lo in /proc/net/dev of the benchmark namespace');
    return c;
  }
}

function cpuOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    return cpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

// ---- measurements ------------------------------------------------------------------------------

interface FloodResult {
  mode: Mode;
  run: number;
  /** Datagrams per second the flood put through loopback (GSO packets counted per datagram). */
  sentPps: number;
  /** Datagrams per second given a verdict (no-queue: that reached the DROP rule, i.e. all sent). */
  verdictedPps: number;
  userDroppedPps: number;
  queueDroppedPps: number;
  /** Consumer CPU time (all threads) per verdicted datagram, microseconds. */
  cpuUsPerPacket: number;
  /** After the flood: verdicts counted in /proc vs packets counted by the DROP rule after the queue. */
  check?: { procVerdicts: number; dropRule: number; ok: boolean };
}

interface PingResult {
  mode: Mode;
  run: number;
  p50Us: number;
  p99Us: number;
  lost: number;
  count: number;
}

interface Ctx {
  cfg: Config;
  ns: Netns;
  counters: Counters;
  tool: string;
  baseline: string;
  clkTck: number;
}

interface Sample {
  t: number;
  lo: DevCounters;
  row: ProcQueueRow | null;
  cpu: number;
}

function sample(ctx: Ctx, consumerPid: number | undefined): Sample {
  const row = ctx.counters.queueRow();
  const lo = ctx.counters.loopback();
  const cpu = cpuOf(consumerPid);
  return { t: performance.now(), lo, row, cpu };
}

async function flood(ctx: Ctx, mode: Mode, run: number, consumer: Proc | null): Promise<FloodResult> {
  const { cfg } = ctx;
  const total = cfg.warmup + cfg.seconds + 0.3;
  const sender = start(ctx.ns, cfg.pin ? 0 : null, [ctx.tool, 'flood', String(FLOOD_PORT), String(total), '1000000000', String(cfg.payload), String(cfg.segments)]);
  try {
    await waitFor('flood start', 5000, () => sender.lines.includes('go'), sender);
    await sleep(cfg.warmup * 1000);
    const a = sample(ctx, consumer?.child.pid);
    await sleep(cfg.seconds * 1000);
    const b = sample(ctx, consumer?.child.pid);
    await sender.exited;
    const dt = (b.t - a.t) / 1000;
    const sent = loopbackSegments(a.lo, b.lo, cfg.payload);
    let verdicts = sent;
    let userDropped = 0;
    let queueDropped = 0;
    if (mode !== 'no-queue') {
      if (a.row === null || b.row === null) throw new Error(`${mode}: queue ${cfg.queue} was not bound during the flood: ${consumer?.stderr.trim()}`);
      verdicts = verdicted(b.row) - verdicted(a.row);
      userDropped = b.row.userDropped - a.row.userDropped;
      queueDropped = b.row.queueDropped - a.row.queueDropped;
    }
    const cpuUs = ((b.cpu - a.cpu) / ctx.clkTck) * 1e6;
    return {
      mode,
      run,
      sentPps: sent / dt,
      verdictedPps: verdicts / dt,
      userDroppedPps: userDropped / dt,
      queueDroppedPps: queueDropped / dt,
      cpuUsPerPacket: mode === 'no-queue' ? NaN : cpuUs / verdicts,
    };
  } finally {
    await stop(sender);
  }
}

/** Waits until the consumer has answered every queued packet, then compares /proc with the DROP rule. */
async function checkCounts(ctx: Ctx): Promise<{ procVerdicts: number; dropRule: number; ok: boolean }> {
  let last = -1;
  await waitFor('queue drained', 5000, () => {
    const row = ctx.counters.queueRow();
    const done = row !== null && row.waiting === 0 && row.idSequence === last;
    last = row?.idSequence ?? -1;
    return done;
  });
  // Read inside the namespace with ip netns exec, as an operator would.
  const row = queueRow(await ctx.ns.execOk('cat', ['/proc/net/netfilter/nfnetlink_queue']), ctx.cfg.queue);
  const rules = ruleCounters(await ctx.ns.execOk('iptables', ['-t', 'mangle', '-nvxL', 'PREROUTING']));
  const procVerdicts = row === null ? NaN : verdicted(row);
  const dropRule = rules.find((r) => r.target === 'DROP')?.packets ?? NaN;
  return { procVerdicts, dropRule, ok: procVerdicts === dropRule };
}

async function ping(ctx: Ctx, mode: Mode, run: number): Promise<PingResult> {
  const warmup = Math.min(500, Math.ceil(ctx.cfg.pings / 10));
  const p = start(ctx.ns, ctx.cfg.pin ? 0 : null, [ctx.tool, 'ping', String(ECHO_PORT), String(ctx.cfg.pings), String(warmup), '1000'], ctx.cfg.rtPriority);
  const code = await p.exited;
  const line = p.lines.find((l) => l.startsWith('{'));
  if (code !== 0 || line === undefined) throw new Error(`ping failed (exit ${code}): ${p.stderr.trim()}`);
  const r = JSON.parse(line) as { lost: number; rttNs: number[] };
  if (r.rttNs.length < ctx.cfg.pings) {
    const row = ctx.counters.queueRow();
    throw new Error(
      `${LABEL[mode]}: requests stopped getting answers (${r.lost} lost) after the flood; queue row: ` +
        (row === null ? 'none' : `waiting ${row.waiting}, user_dropped ${row.userDropped}, id_sequence ${row.idSequence}`),
    );
  }
  const us = r.rttNs.map((n) => n / 1000);
  return { mode, run, p50Us: percentile(us, 50), p99Us: percentile(us, 99), lost: r.lost, count: us.length };
}

const QUEUE_RULES = (q: number): string =>
  `*raw\n-A PREROUTING -p udp --dport ${FLOOD_PORT} -j NFQUEUE --queue-num ${q}\n-A PREROUTING -p udp --dport ${ECHO_PORT} -j NFQUEUE --queue-num ${q}\nCOMMIT\n`;

function consumerArgv(ctx: Ctx, mode: Mode): string[] {
  if (mode === 'c-baseline') return [ctx.baseline, String(ctx.cfg.queue)];
  // The real CLI, as a user runs it. Fail-open off, as in the baseline, so the kernel counts the same.
  return [process.execPath, join(ROOT, 'bin', 'nfqguard'), 'queue', '--num', String(ctx.cfg.queue), '--no-fail-open', '--stats'];
}

async function measureMode(ctx: Ctx, mode: Mode, run: number): Promise<{ flood: FloodResult; ping: PingResult }> {
  if (mode === 'no-queue') return { flood: await flood(ctx, mode, run, null), ping: await ping(ctx, mode, run) };
  await ctx.ns.iptablesRestore(QUEUE_RULES(ctx.cfg.queue));
  await ctx.ns.execOk('iptables', ['-t', 'mangle', '-Z', 'PREROUTING']);
  const consumer = start(ctx.ns, ctx.cfg.pin ? 1 : null, consumerArgv(ctx, mode));
  try {
    await waitFor(`${mode}: queue ${ctx.cfg.queue} bound`, 10_000, () => ctx.counters.queueRow() !== null, consumer);
    const f = await flood(ctx, mode, run, consumer);
    f.check = await checkCounts(ctx);
    // The flood ran under the ordinary scheduler (a real-time flood would starve the machine's other
    // users); the round trips run with every program real-time, so that others' load does not set the tail.
    if (ctx.cfg.rtPriority > 0) await ctx.ns.execOk('chrt', ['-a', '-f', '-p', String(ctx.cfg.rtPriority), String(consumer.child.pid)]);
    const p = await ping(ctx, mode, run);
    return { flood: f, ping: p };
  } finally {
    const code = await stop(consumer);
    if (code !== 0 && !abort.signal.aborted) process.stderr.write(`bench: ${mode} exited with ${code}: ${consumer.stderr.trim()}\n`);
    await ctx.ns.execOk('iptables', ['-t', 'raw', '-F', 'PREROUTING']);
    await waitFor(`${mode}: queue ${ctx.cfg.queue} released`, 5000, () => ctx.counters.queueRow() === null);
  }
}

// ---- summary -----------------------------------------------------------------------------------

interface ModeSummary {
  mode: Mode;
  verdictedPps: number;
  sentPps: number;
  userDroppedPps: number;
  queueDroppedPps: number;
  cpuUsPerPacket: number;
  rttP50Us: number;
  rttP99Us: number;
  /** Median over runs of (this mode's percentile - the no-queue percentile of the same run). */
  addedP50Us: number;
  addedP99Us: number;
  pingsLost: number;
  checksOk: string;
}

function summarize(floods: FloodResult[], pings: PingResult[]): ModeSummary[] {
  return MODES.map((mode) => {
    const f = floods.filter((r) => r.mode === mode);
    const p = pings.filter((r) => r.mode === mode);
    const base = (run: number): PingResult | undefined => pings.find((r) => r.mode === 'no-queue' && r.run === run);
    const checks = f.filter((r) => r.check !== undefined);
    return {
      mode,
      verdictedPps: median(f.map((r) => r.verdictedPps)),
      sentPps: median(f.map((r) => r.sentPps)),
      userDroppedPps: median(f.map((r) => r.userDroppedPps)),
      queueDroppedPps: median(f.map((r) => r.queueDroppedPps)),
      cpuUsPerPacket: median(f.map((r) => r.cpuUsPerPacket)),
      rttP50Us: median(p.map((r) => r.p50Us)),
      rttP99Us: median(p.map((r) => r.p99Us)),
      addedP50Us: median(p.map((r) => r.p50Us - (base(r.run)?.p50Us ?? NaN))),
      addedP99Us: median(p.map((r) => r.p99Us - (base(r.run)?.p99Us ?? NaN))),
      pingsLost: p.reduce((s, r) => s + r.lost, 0),
      checksOk: checks.length === 0 ? '-' : `${checks.filter((r) => r.check?.ok).length}/${checks.length}`,
    };
  });
}

interface Ratios {
  /** nfqguard / C baseline, verdicted packets per second (target >= 1.5, aim 2). */
  throughput: number;
  /** Median over runs of the per-run ratio (a check on the ratio of medians). */
  throughputPerRun: number;
  /** nfqguard / C baseline, p99 round trip (target <= 1.5). */
  p99Rtt: number;
  /** nfqguard / C baseline, p99 latency added to the no-queue round trip. */
  p99Added: number;
  p50Rtt: number;
  /** C baseline / nfqguard, consumer CPU time per verdict (how much less CPU nfqguard spends). */
  cpuPerVerdict: number;
}

function ratios(s: ModeSummary[], floods: FloodResult[]): Ratios {
  const c = s.find((m) => m.mode === 'c-baseline') as ModeSummary;
  const n = s.find((m) => m.mode === 'nfqguard') as ModeSummary;
  const perRun = [...new Set(floods.map((f) => f.run))].map((run) => {
    const pps = (mode: Mode): number => floods.find((f) => f.run === run && f.mode === mode)?.verdictedPps ?? NaN;
    return ratio(pps('nfqguard'), pps('c-baseline'));
  });
  return {
    throughput: ratio(n.verdictedPps, c.verdictedPps),
    throughputPerRun: median(perRun),
    p99Rtt: ratio(n.rttP99Us, c.rttP99Us),
    p99Added: ratio(n.addedP99Us, c.addedP99Us),
    p50Rtt: ratio(n.rttP50Us, c.rttP50Us),
    cpuPerVerdict: ratio(c.cpuUsPerPacket, n.cpuUsPerPacket),
  };
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const fix = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '-');

function render(cfg: Config, machine: Record<string, unknown>, s: ModeSummary[], r: Ratios, seconds: number): string {
  const rows = s.map((m) => [
    LABEL[m.mode],
    int(m.verdictedPps),
    int(m.sentPps),
    int(m.userDroppedPps),
    int(m.queueDroppedPps),
    fix(m.cpuUsPerPacket, 2),
    fix(m.rttP50Us),
    fix(m.rttP99Us),
    m.mode === 'no-queue' ? '-' : fix(m.addedP50Us),
    m.mode === 'no-queue' ? '-' : fix(m.addedP99Us),
    m.checksOk,
  ]);
  const flood = cfg.segments > 1 ? `GSO sends of ${cfg.segments} x ${cfg.payload}-byte UDP datagrams` : `${cfg.payload}-byte UDP datagrams (sendmmsg)`;
  const verdictTarget = r.throughput >= 2 ? 'met, 2x aim reached' : r.throughput >= 1.5 ? 'met' : 'NOT met';
  return (
    `queue benchmark: medians of ${cfg.runs} runs; flood of ${flood}, ${cfg.seconds} s windows; ${cfg.pings} pings per run` +
    `${cfg.pin ? '; flood on CPU 0, consumer on CPU 1' : ''}${cfg.nice !== 0 ? `; nice ${cfg.nice}` : ''}` +
    `${cfg.rtPriority > 0 ? `; round trips at SCHED_FIFO ${cfg.rtPriority}` : ''}\n` +
    `machine: ${machine.nproc} CPUs, kernel ${machine.kernel}, node ${machine.node}; load average ${machine.loadBefore} before, ${machine.loadAfter} after\n\n` +
    table(
      ['', 'verdicted/s', 'sent/s', 'user_dropped/s', 'queue_dropped/s', 'CPU us/pkt', 'RTT p50 us', 'RTT p99 us', 'added p50', 'added p99', 'counts check'],
      rows,
    ) +
    `\nnfqguard / C baseline: packets/s ${fix(r.throughput, 2)}x (per-run median ${fix(r.throughputPerRun, 2)}x; target >= 1.5x, aim 2x: ${verdictTarget})\n` +
    `                       p99 round trip ${fix(r.p99Rtt, 2)}x (target <= 1.5x: ${r.p99Rtt <= 1.5 ? 'met' : 'NOT met'}), p99 added latency ${fix(r.p99Added, 2)}x, p50 round trip ${fix(r.p50Rtt, 2)}x\n` +
    `                       CPU per verdict: the C baseline spends ${fix(r.cpuPerVerdict, 2)}x what nfqguard does\n` +
    `verdicted/s: id_sequence - user_dropped - waiting in /proc/net/netfilter/nfnetlink_queue (no queue rule: every datagram sent reaches the DROP rule).\n` +
    `sent/s: datagrams across lo (/proc/net/dev); under overload nfnetlink_queue drops the rest of a GSO packet after a failed segment without counting it.\n` +
    `CPU us/pkt: the consumer's utime+stime (/proc/PID/stat, all threads, syscalls included) per verdict. added: RTT percentile minus the no-queue one of the same run.\n` +
    `counts check: runs where, after the flood, the /proc verdict count equalled the DROP rule's counter behind the queue.\n` +
    `took ${fix(seconds, 0)} s\n`
  );
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<number> {
  let cfg: Config;
  try {
    cfg = parseConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const why = kernelUnavailableReason();
  if (why !== null) {
    process.stderr.write(`bench: cannot run: ${why}\n`);
    return 2;
  }
  let interrupts = 0;
  const onSignal = (): void => {
    if (++interrupts > 1) process.exit(130); // the exit hook still removes the namespace
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const began = performance.now();
  const machine = {
    date: new Date().toISOString(),
    nproc: cpus().length,
    kernel: release(),
    node: process.version,
    loadBefore: loadavg().map((l) => l.toFixed(2)).join(' '),
    loadAfter: '',
  };
  const tool = compileC('udp_tool');
  const baseline = compileC('nfq_baseline', ['-lnetfilter_queue']);
  niceness = cfg.nice;
  const clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  cleanupStaleNamespaces();
  const ns = await Netns.create('bench');
  const floods: FloodResult[] = [];
  const pings: PingResult[] = [];
  try {
    await ns.iptablesRestore(`*mangle\n-A PREROUTING -p udp --dport ${FLOOD_PORT} -j DROP\nCOMMIT\n`);
    // Real-time only while it answers pings: the flood goes to another port and never reaches it.
    const echo = start(ns, cfg.pin ? 0 : null, [tool, 'echo', String(ECHO_PORT)], cfg.rtPriority);
    await waitFor('echo server', 5000, () => echo.lines.includes('ready'), echo);
    const ctx: Ctx = { cfg, ns, counters: new Counters(echo.child.pid as number, cfg.queue), tool, baseline, clkTck };
    for (let run = 1; run <= cfg.runs; run++) {
      // Rotate the order so that no mode always runs first (or right after another).
      const order = MODES.map((_, i) => MODES[(i + run - 1) % MODES.length]);
      for (const mode of order) {
        if (!cfg.json) process.stderr.write(`bench: run ${run}/${cfg.runs}: ${LABEL[mode]}\n`);
        const r = await measureMode(ctx, mode, run);
        floods.push(r.flood);
        pings.push(r.ping);
      }
    }
    await stop(echo);
  } catch (e) {
    if (e instanceof Interrupted || abort.signal.aborted) {
      process.stderr.write('bench: interrupted; cleaning up\n');
      return 130;
    }
    throw e;
  } finally {
    await ns.destroy();
  }
  machine.loadAfter = loadavg().map((l) => l.toFixed(2)).join(' ');
  const s = summarize(floods, pings);
  const r = ratios(s, floods);
  const seconds = (performance.now() - began) / 1000;
  if (cfg.json) {
    const clean = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
    process.stdout.write(JSON.stringify(clean({ config: cfg, machine, summary: s, ratios: r, floods, pings, seconds }), null, 2) + '\n');
  } else {
    process.stdout.write(render(cfg, machine, s, r, seconds));
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
