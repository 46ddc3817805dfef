// `npm run bench:run`: packets per second that `nfqguard run` verdicts with 100 content rules, next to
// the C baseline consumer of bench/queue (the seed's t.c done with libnetfilter_queue: no inspection at
// all), and the round-trip latency each adds. Not a test: it prints medians of several runs and the
// ratio issue 6 sets a target for (>= 0.8x the baseline's packets/s).
//
// All in one throwaway network namespace on loopback. A UDP flood (bench/queue's udp_tool, pinned to
// CPU 0) goes through one steering rule to one queue; the consumer runs pinned to CPU 1. Neither
// consumer is fail-open, so a packet counts only once its consumer accepted it: the rate is the
// kernel's own counter of a filter INPUT rule after the queue, divided by the flood's time.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Netns, cleanupStaleNamespaces } from '../../src/lab/netns.js';
import { kernelUnavailableReason } from '../../src/util/caps.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(ROOT, 'dist', 'bench', 'run', 'bin');
const FLOOD_PORT = 9000;
const ECHO_PORT = 9001;

type Mode = 'no-queue' | 'c-baseline' | 'nfqguard';

interface Opts {
  runs: number;
  seconds: number;
  rules: number;
  payload: number;
  segments: number;
  pings: number;
  queue: number;
  json: boolean;
}

const USAGE = `usage: npm run bench:run -- [options]   (or: node dist/bench/run/run.js [options]; needs root)
  --runs N       floods per mode; medians are reported (default 5)
  --seconds S    length of each flood (default 1)
  --rules N      content rules the daemon runs (default 100)
  --payload B    bytes of payload per datagram (default 256)
  --segments N   UDP datagrams per GSO send (default 16)
  --pings N      round trips measured per mode (default 3000)
  --queue N      first queue number (default 17)
  --json         print the results as JSON`;

/** Options first, before the root check and the build: a typo or --help is exit 2 or the usage, not a run. */
function options(): Opts {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ options: OPTIONS }));
  } catch (e) {
    process.stderr.write(`bench:run: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  for (const k of ['runs', 'seconds', 'rules', 'payload', 'segments', 'pings', 'queue']) {
    if (!/^\d+$/.test(String(values[k])) || Number(values[k]) < (k === 'queue' ? 0 : 1)) {
      process.stderr.write(`bench:run: --${k} must be a ${k === 'queue' ? 'non-negative' : 'positive'} integer, got "${values[k]}"\n${USAGE}\n`);
      process.exit(2);
    }
  }
  return {
    runs: Number(values.runs),
    seconds: Number(values.seconds),
    rules: Number(values.rules),
    payload: Number(values.payload),
    segments: Number(values.segments),
    pings: Number(values.pings),
    queue: Number(values.queue),
    json: values.json === true,
  };
}

const OPTIONS = {
  runs: { type: 'string', default: '5' },
  seconds: { type: 'string', default: '1' },
  rules: { type: 'string', default: '100' },
  payload: { type: 'string', default: '256' },
  segments: { type: 'string', default: '16' },
  pings: { type: 'string', default: '3000' },
  queue: { type: 'string', default: '17' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * The C sources live in bench/queue/c (the bench branch). Before that branch is merged they are taken
 * from its last commit with `git show bench:...`, so this benchmark runs on either side of the merge.
 */
function cSource(file: string): string {
  const inTree = join(ROOT, 'bench', 'queue', 'c', file);
  if (existsSync(inTree)) return inTree;
  const out = join(BIN, 'src', file);
  mkdirSync(dirname(out), { recursive: true });
  try {
    writeFileSync(out, execFileSync('git', ['-C', ROOT, 'show', `bench:bench/queue/c/${file}`]));
  } catch {
    throw new Error(`bench/queue/c/${file} is missing (the C baseline of bench/queue) and no \`bench\` branch has it`);
  }
  return out;
}

function build(): { tool: string; baseline: string } {
  mkdirSync(BIN, { recursive: true });
  const tool = join(BIN, 'udp_tool');
  const baseline = join(BIN, 'nfq_baseline');
  execFileSync('gcc', ['-O2', '-Wall', '-o', tool, cSource('udp_tool.c')]);
  execFileSync('gcc', ['-O2', '-Wall', '-o', baseline, cSource('nfq_baseline.c'), '-lnetfilter_queue']);
  return { tool, baseline };
}

/** 100 (or N) content rules that the flood never matches: every payload byte still goes through the automaton. */
export function benchConfig(o: Opts): string {
  const rules: string[] = [];
  for (let i = 0; i < o.rules; i++) {
    const word = `sig${i.toString(36)}-${((i * 2654435761) >>> 0).toString(36)}`;
    const content = i % 3 === 0 ? `{ hex: "${Buffer.from(word).toString('hex')}" }` : `{ text: "${word}"${i % 3 === 1 ? ', nocase: true' : ''} }`;
    rules.push(`  - { id: r${i}, match: { protocol: udp, content: [ ${content} ] }, action: drop }`);
  }
  return [
    'name: bench',
    `queue: { first: ${o.queue}, workers: 1, fail_open: false, max_len: 1024, copy_range: 65535 }`,
    'mark: { mask: 0x00f00000 }',
    'steering:',
    '  rules:',
    `    - { hook: input, protocol: udp, dports: [${FLOOD_PORT}, ${ECHO_PORT}] }`,
    'rules:',
    ...rules,
    'metrics: { listen: 127.0.0.1:9477 }',
    'log: { level: warn }',
    '',
  ].join('\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function waitOutput(c: ChildProcess, re: RegExp, timeoutMs: number, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}: ${buf}`)), timeoutMs);
    c[stream]?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (re.test(buf)) {
        clearTimeout(timer);
        resolve(buf);
      }
    });
    c.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ${re}: ${buf}`));
    });
  });
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 3000);
  await done;
  clearTimeout(t);
}

async function counter(ns: Netns): Promise<number> {
  const out = await ns.execOk('iptables-save', ['-c', '-t', 'filter']);
  const line = out.split('\n').find((l) => l.includes(`--dport ${FLOOD_PORT}`) && l.includes('bench-count'));
  return Number(/^\[(\d+):/.exec(line ?? '')?.[1] ?? NaN);
}

interface ModeResult {
  pps: number[];
  rttNs: number[];
  lost: number;
}

async function startConsumer(ns: Netns, mode: Mode, o: Opts, bins: { baseline: string }, cfgPath: string): Promise<ChildProcess | null> {
  if (mode === 'no-queue') return null;
  if (mode === 'c-baseline') {
    await ns.iptablesRestore(`*mangle\n-A INPUT -p udp -m multiport --dports ${FLOOD_PORT},${ECHO_PORT} -j NFQUEUE --queue-num ${o.queue} --queue-bypass\nCOMMIT\n`);
    const c = ns.spawn('taskset', ['-c', '1', bins.baseline, String(o.queue)]);
    await new Promise((r) => setTimeout(r, 300)); // it prints nothing when bound
    return c;
  }
  const c = ns.spawn('taskset', ['-c', '1', process.execPath, join(ROOT, 'bin', 'nfqguard'), 'run', '--config', cfgPath]);
  let err = '';
  c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 100; i++) {
    if (c.exitCode !== null) break;
    const r = await ns.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9477/readyz']);
    if (r.stdout.trim() === '200') return c;
    await new Promise((res) => setTimeout(res, 100));
  }
  await stop(c);
  throw new Error(`nfqguard run did not become ready: ${err}`);
}

async function measure(ns: Netns, mode: Mode, o: Opts, bins: { tool: string; baseline: string }, cfgPath: string): Promise<ModeResult> {
  const res: ModeResult = { pps: [], rttNs: [], lost: 0 };
  const consumer = await startConsumer(ns, mode, o, bins, cfgPath);
  try {
    for (let run = 0; run < o.runs; run++) {
      await ns.execOk('iptables', ['-t', 'filter', '-Z']);
      const before = await counter(ns);
      const flood = await ns.execOk('taskset', ['-c', '0', bins.tool, 'flood', String(FLOOD_PORT), String(o.seconds), '1000000000000', String(o.payload), String(o.segments)], { timeoutMs: (o.seconds + 10) * 1000 });
      await new Promise((r) => setTimeout(r, 200)); // let the consumer finish the queue
      const after = await counter(ns);
      const secs = (JSON.parse(flood.trim().split('\n').pop() as string) as { seconds: number }).seconds;
      res.pps.push((after - before) / secs);
    }
    const echo = ns.spawn(bins.tool, ['echo', String(ECHO_PORT)]);
    await waitOutput(echo, /ready/, 5000);
    const ping = await ns.execOk('taskset', ['-c', '0', bins.tool, 'ping', String(ECHO_PORT), String(o.pings), '200', '1000'], { timeoutMs: 60_000 });
    await stop(echo);
    const p = JSON.parse(ping.trim().split('\n').pop() as string) as { lost: number; rttNs: number[] };
    res.rttNs = p.rttNs;
    res.lost = p.lost;
  } finally {
    if (consumer) await stop(consumer);
    if (mode === 'c-baseline') await ns.exec('iptables', ['-t', 'mangle', '-F', 'INPUT']);
  }
  return res;
}

async function main(): Promise<void> {
  const o = options();
  const why = kernelUnavailableReason();
  if (why) {
    process.stderr.write(`bench:run ${why}\n`);
    process.exit(2);
  }
  cleanupStaleNamespaces();
  const bins = build();
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-bench-'));
  chmodSync(dir, 0o755);
  const cfgPath = join(dir, 'config.yaml');
  writeFileSync(cfgPath, benchConfig(o));
  const ns = await Netns.create('benchrun');
  const stopAll = (): void => {
    ns.destroySync();
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  const results: Partial<Record<Mode, ModeResult>> = {};
  try {
    await ns.iptablesRestore(`*filter\n-A INPUT -p udp --dport ${FLOOD_PORT} -m comment --comment bench-count\nCOMMIT\n`);
    for (const mode of ['no-queue', 'c-baseline', 'nfqguard'] as Mode[]) results[mode] = await measure(ns, mode, o, bins, cfgPath);
  } finally {
    await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const row = (m: Mode) => {
    const r = results[m] as ModeResult;
    return { mode: m, ppsMedian: Math.round(median(r.pps)), ppsRuns: r.pps.map(Math.round), rttP50us: percentile(r.rttNs, 50) / 1000, rttP99us: percentile(r.rttNs, 99) / 1000, lost: r.lost };
  };
  const rows = (['no-queue', 'c-baseline', 'nfqguard'] as Mode[]).map(row);
  const base = rows[1];
  const ours = rows[2];
  const summary = {
    config: { ...o, cpus: 'flood on CPU 0, consumer on CPU 1', kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() },
    rows,
    ratioToBaseline: ours.ppsMedian / base.ppsMedian,
    addedP99us: ours.rttP99us - rows[0].rttP99us,
    baselineAddedP99us: base.rttP99us - rows[0].rttP99us,
  };
  if (o.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return;
  }
  const lines = [
    `nfqguard run with ${o.rules} content rules vs the C baseline (no inspection); ${o.runs} runs of ${o.seconds}s, payload ${o.payload} B, medians`,
    'mode          packets/s   runs                                   rtt p50 us   rtt p99 us   lost',
    ...rows.map((r) => `${r.mode.padEnd(13)} ${String(r.ppsMedian).padStart(9)}   ${r.ppsRuns.join(',').padEnd(38)} ${r.rttP50us.toFixed(1).padStart(10)}   ${r.rttP99us.toFixed(1).padStart(10)}   ${r.lost}`),
    `nfqguard / C baseline packets/s: ${summary.ratioToBaseline.toFixed(2)}x (target >= 0.80x)`,
    `added p99 latency vs no queue: nfqguard ${summary.addedP99us.toFixed(1)} us, C baseline ${summary.baselineAddedP99us.toFixed(1)} us`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((e: Error) => {
    process.stderr.write(`bench:run: ${e.message}\n`);
    process.exit(1);
  });
}
