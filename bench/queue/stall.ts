// Hunts the consumer stall after netlink overruns (docs/ARCHITECTURE.md, "The queue's hot path"): floods a
// queue without fail-open again and again, and after each flood checks that the consumer still answers.
//
//   node dist/bench/queue/stall.js [--floods N] [--seconds S] [--segments N] [--cli] [--json]   (root)
//
// Same set-up as bench/queue/run.ts (one throwaway namespace, NFQUEUE in raw PREROUTING, the flood dropped
// in mangle behind the queue, flood on CPU 0 and consumer on CPU 1 at nice -10). After each flood, once the
// queue has settled, 20 probe datagrams go through the queue. A consumer is stalled when none of them got a
// verdict while the kernel counted them as user_dropped: the socket no longer takes messages and nothing
// wakes the consumer. Counts come from the kernel (/proc/net/netfilter/nfnetlink_queue, /proc/net/netlink).
// With the library consumer (bench/queue/stall-consumer.ts, the default) a stall is explained: its last
// receives, whether the socket is still in the event loop's epoll set, and whether one receive from
// outside any wake-up brings it back.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Netns, cleanupStaleNamespaces } from '../../src/lab/netns.js';
import type { ProcQueueRow } from '../../src/nfqueue/proc.js';
import { kernelUnavailableReason } from '../../src/util/caps.js';
import { queueRow, verdicted } from './stats.js';
import { capture, compileC, numberOption, stop, type Proc } from './tools.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PORT = 9000;
const PROBES = 20;

interface Config {
  floods: number;
  seconds: number;
  segments: number;
  queue: number;
  /** The library consumer's drainRounds and batchSize (the queue's defaults: 8 and 128). */
  drainRounds: number;
  batchSize: number;
  /** The library consumer's socket receive buffer (SO_RCVBUFFORCE), 0 for the system default. */
  rcvBuf: number;
  cli: boolean;
  json: boolean;
  quiet: boolean;
}

const USAGE = `usage: node dist/bench/queue/stall.js [options]   (needs root)

  --floods N     floods to run (default 100)
  --seconds S    length of each flood (default 1)
  --segments N   UDP datagrams per GSO send (default 16)
  --queue N      queue number (default 7)
  --drain-rounds N  the library consumer's drainRounds (default 8, the queue's default)
  --batch N      the library consumer's batchSize (default 128, the queue's default)
  --rcvbuf B     the library consumer's receive buffer in bytes (default: the system's)
  --cli          consume with \`nfqguard queue --no-fail-open\` instead of the tracing library consumer
  --quiet        no line per flood
  --json         print the result as JSON
`;

function parseConfig(argv: string[]): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      floods: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '1' },
      segments: { type: 'string', default: '16' },
      queue: { type: 'string', default: '7' },
      'drain-rounds': { type: 'string', default: '8' },
      batch: { type: 'string', default: '128' },
      rcvbuf: { type: 'string', default: '0' },
      cli: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
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
    floods: Math.round(num('floods', values.floods, 1, 100_000)),
    seconds: num('seconds', values.seconds, 0.1, 30),
    segments: Math.round(num('segments', values.segments, 1, 64)),
    queue: Math.round(num('queue', values.queue, 0, 65535)),
    drainRounds: Math.round(num('drain-rounds', values['drain-rounds'], 1, 1000)),
    batchSize: Math.round(num('batch', values.batch, 1, 1024)),
    rcvBuf: Math.round(num('rcvbuf', values.rcvbuf, 0, 1 << 30)),
    cli: values.cli,
    quiet: values.quiet,
    json: values.json,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function start(ns: Netns, cpu: number | null, argv: string[]): Proc {
  const pin = cpu === null ? [] : ['taskset', '-c', String(cpu)];
  const full = ['nice', '-n', '-10', ...pin, ...argv];
  return capture(ns.spawn(full[0], full.slice(1)));
}

async function waitLine(p: Proc, ok: (line: string) => boolean, ms: number): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const line = p.lines.find(ok);
    if (line !== undefined) return line;
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`the program exited: ${p.stderr.trim()}`);
    if (Date.now() > until) throw new Error(`no answer within ${ms} ms: ${p.stderr.trim()}`);
    await sleep(10);
  }
}

/** The consumer's socket as /proc/net/netlink shows it: bytes queued (Rmem) and messages dropped. */
interface NetlinkRow {
  rmem: number;
  drops: number;
}

function netlinkRow(pid: number, portId: number): NetlinkRow | null {
  // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
  for (const line of readFileSync(`/proc/${pid}/net/netlink`, 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 10 && f[1] === '12' && Number(f[2]) === portId) return { rmem: Number(f[4]), drops: Number(f[8]) };
  }
  return null;
}

/** Whether fd is registered in one of the process's epoll instances (/proc/PID/fdinfo "tfd:" lines). */
function inEpoll(pid: number, fd: number): boolean {
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${name}`);
    } catch {
      continue;
    }
    if (target !== 'anon_inode:[eventpoll]') continue;
    const info = readFileSync(`/proc/${pid}/fdinfo/${name}`, 'utf8');
    if (new RegExp(`^tfd:\\s+${fd}\\s`, 'm').test(info)) return true;
  }
  return false;
}

interface Consumer {
  proc: Proc;
  pid: number;
  fd: number | null;
  portId: number;
}

interface StallReport {
  flood: number;
  userDroppedDuringProbe: number;
  netlink: NetlinkRow | null;
  inEpoll: boolean | null;
  consumer: unknown;
  manual: unknown;
  recovered: boolean;
}

class Hunt {
  private consumer: Consumer | null = null;

  constructor(
    readonly cfg: Config,
    readonly ns: Netns,
    readonly tool: string,
  ) {}

  row(): ProcQueueRow | null {
    const pid = this.consumer?.pid;
    if (pid === undefined) return null;
    try {
      return queueRow(readFileSync(`/proc/${pid}/net/netfilter/nfnetlink_queue`, 'utf8'), this.cfg.queue);
    } catch {
      return null;
    }
  }

  async startConsumer(): Promise<Consumer> {
    const argv = this.cfg.cli
      ? [process.execPath, join(ROOT, 'bin', 'nfqguard'), 'queue', '--num', String(this.cfg.queue), '--no-fail-open']
      : [process.execPath, join(ROOT, 'dist', 'bench', 'queue', 'stall-consumer.js'), String(this.cfg.queue), String(this.cfg.drainRounds), String(this.cfg.batchSize), this.cfg.rcvBuf > 0 ? String(this.cfg.rcvBuf) : '-'];
    const proc = start(this.ns, cpus().length >= 2 ? 1 : null, argv);
    const pid = proc.child.pid as number;
    this.consumer = { proc, pid, fd: null, portId: 0 };
    if (!this.cfg.cli) {
      const ready = JSON.parse(await waitLine(proc, (l) => l.startsWith('{"ready"'), 10_000)) as { fd: number; portId: number };
      this.consumer.fd = ready.fd;
      this.consumer.portId = ready.portId;
    } else {
      const until = Date.now() + 10_000;
      while (this.row() === null) {
        if (Date.now() > until) throw new Error(`the consumer did not bind queue ${this.cfg.queue}: ${proc.stderr.trim()}`);
        await sleep(20);
      }
      this.consumer.portId = (this.row() as ProcQueueRow).portId;
    }
    return this.consumer;
  }

  async stopConsumer(): Promise<void> {
    if (this.consumer) await stop(this.consumer.proc);
    this.consumer = null;
  }

  private async run(argv: string[], cpu: number | null): Promise<void> {
    const p = start(this.ns, cpu, argv);
    const code = await p.exited;
    if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code}: ${p.stderr.trim()}`);
  }

  /** Waits until nothing is waiting for a verdict and no new packet arrived for 50 ms (at most `ms`). */
  private async settle(ms: number): Promise<void> {
    const until = Date.now() + ms;
    let last = -1;
    for (;;) {
      const r = this.row();
      if (r !== null && r.waiting === 0 && r.idSequence === last) return;
      last = r?.idSequence ?? -1;
      if (Date.now() > until) return;
      await sleep(50);
    }
  }

  /** Sends PROBES datagrams through the queue: how many got a verdict, and how many the socket refused. */
  async probe(): Promise<{ verdicted: number; userDropped: number }> {
    const a = this.row();
    await this.run([this.tool, 'flood', String(PORT), '1', String(PROBES), '64', '1'], 0);
    await this.settle(300);
    const b = this.row();
    if (a === null || b === null) throw new Error('the queue is no longer bound');
    return { verdicted: verdicted(b) - verdicted(a), userDropped: b.userDropped - a.userDropped };
  }

  private async ask(signal: NodeJS.Signals, key: string): Promise<unknown> {
    const c = this.consumer as Consumer;
    const before = c.proc.lines.length;
    c.proc.child.kill(signal);
    const line = await waitLine(c.proc, (l) => l.startsWith(`{"${key}"`) && c.proc.lines.indexOf(l) >= before, 2000).catch(() => null);
    return line === null ? null : JSON.parse(line);
  }

  /** The last flood's counters: packets given a verdict and packets the socket refused. */
  last = { verdicted: 0, userDropped: 0 };

  async flood(n: number): Promise<StallReport | null> {
    const { cfg } = this;
    const a = this.row();
    await this.run([this.tool, 'flood', String(PORT), String(cfg.seconds), '1000000000', '64', String(cfg.segments)], 0);
    await this.settle(1000);
    const b = this.row();
    if (a !== null && b !== null) this.last = { verdicted: verdicted(b) - verdicted(a), userDropped: b.userDropped - a.userDropped };
    const p = await this.probe();
    if (p.verdicted > 0) return null;
    const c = this.consumer as Consumer;
    const report: StallReport = {
      flood: n,
      userDroppedDuringProbe: p.userDropped,
      netlink: netlinkRow(c.pid, c.portId),
      inEpoll: c.fd === null ? null : inEpoll(c.pid, c.fd),
      consumer: cfg.cli ? null : await this.ask('SIGUSR2', 'stats'),
      manual: null,
      recovered: false,
    };
    if (!cfg.cli) {
      report.manual = await this.ask('SIGUSR1', 'manual');
      report.recovered = (await this.probe()).verdicted > 0;
    }
    return report;
  }
}

async function main(): Promise<number> {
  let cfg: Config;
  try {
    cfg = parseConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`stall: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const why = kernelUnavailableReason();
  if (why !== null) {
    process.stderr.write(`stall: cannot run: ${why}\n`);
    return 2;
  }
  process.on('SIGINT', () => process.exit(130)); // the exit hook removes the namespace
  const tool = compileC('udp_tool');
  cleanupStaleNamespaces();
  const ns = await Netns.create('stall');
  const began = performance.now();
  const stalls: StallReport[] = [];
  let floods = 0;
  try {
    await ns.iptablesRestore(
      `*raw\n-A PREROUTING -p udp --dport ${PORT} -j NFQUEUE --queue-num ${cfg.queue}\nCOMMIT\n*mangle\n-A PREROUTING -p udp --dport ${PORT} -j DROP\nCOMMIT\n`,
    );
    const hunt = new Hunt(cfg, ns, tool);
    await hunt.startConsumer();
    const first = await hunt.probe();
    if (first.verdicted !== PROBES) throw new Error(`the consumer answered ${first.verdicted} of ${PROBES} probes before any flood`);
    for (let i = 1; i <= cfg.floods; i++) {
      const s = await hunt.flood(i);
      floods = i;
      if (s !== null) {
        stalls.push(s);
        if (!cfg.json) process.stderr.write(`stall: flood ${i}: STALLED ${JSON.stringify(s)}\n`);
        if (!s.recovered) {
          await hunt.stopConsumer();
          await hunt.startConsumer();
        }
      } else if (!cfg.quiet && !cfg.json) {
        process.stderr.write(`stall: flood ${i}: ok (verdicted ${hunt.last.verdicted}, user_dropped ${hunt.last.userDropped})\n`);
      }
    }
    await hunt.stopConsumer();
  } finally {
    await ns.destroy();
  }
  const seconds = (performance.now() - began) / 1000;
  if (cfg.json) process.stdout.write(JSON.stringify({ config: cfg, floods, stalls, seconds }, null, 2) + '\n');
  else process.stdout.write(`stall: ${stalls.length} stalled consumer(s) in ${floods} floods (${seconds.toFixed(0)} s)\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`stall: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
