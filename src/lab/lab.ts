// `nfqguard lab`: the seed's experiment on the real kernel. Each scenario runs in its own throwaway
// network namespace: an HTTP server on the lab port, the seed's KUBE-FIREWALL rule, the steering rule
// of the seed's last section (mangle INPUT -j NFQUEUE), a consumer (nfqguard's own queue, in this
// process) and curl. The kernel itself reports the packet's mark before and after the verdict:
// `nft monitor trace` prints the mark at the policy of two empty observer chains, one just before the
// queue (mangle - 1) and one just after it (mangle + 1).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hex32 } from '../netlink/bytes.js';
import { NfQueue } from '../nfqueue/queue.js';
import { mergeMark } from '../nfqueue/marks.js';
import type { ChildProcess } from 'node:child_process';
import { Netns, cleanupStaleNamespaces } from './netns.js';
import { droppedBy, groupTrace, markAtPolicy, type TracedPacket } from './nft-trace.js';
import { KUBE_DROP_BIT, KUBE_MASQ_BIT, SCENARIOS, type Outcome, type RequestSpec, type ScenarioSpec } from './scenarios.js';

export interface LabOptions {
  port: number;
  queue: number;
  /** Run only these scenario numbers. */
  only?: number[];
  /** Run scenarios one after another instead of side by side. */
  sequential?: boolean;
  signal?: AbortSignal;
}

export interface LabResult {
  number: number;
  name: string;
  title: string;
  expected: Outcome;
  observed: string;
  ok: boolean;
  /** The mark as the kernel saw it just before and just after the queue's verdict (null: not reached). */
  markBefore: string | null;
  markAfter: string | null;
  expectedMarkBefore: string;
  expectedMarkAfter: string | null;
  /** What the consumer was handed and what it answered, for the first packet of the request. */
  consumer: { markIn: string; markOut: string } | null;
  /** The rule that dropped the first packet, as the kernel's trace reports it. */
  droppedBy: string | null;
  explanation: string;
  /** Why the scenario is not ok, when it is not. */
  problem?: string;
}

export interface LabReport {
  ok: boolean;
  port: number;
  queue: number;
  durationMs: number;
  scenarios: LabResult[];
}

const OBS_TABLE = 'nfqguard_lab';
const TRACE_CHAIN = 'trace';
const BEFORE_CHAIN = 'before_verdict';
const AFTER_CHAIN = 'after_verdict';
/** A closed port whose SYNs only show that `nft monitor trace` is listening; never the lab port. */
export function probePort(port: number): number {
  return port === 9 ? 7 : 9;
}

function serverScript(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'http-server.js');
}

export function rulesFor(s: ScenarioSpec, port: number, queue: number): string {
  const mangle = ['*mangle'];
  if (s.premarkDrop) {
    mangle.push(
      `-A PREROUTING -s 127.0.0.2/32 -p tcp -m tcp --dport ${port} -m comment --comment "KUBE-MARK-DROP-style: this client must be dropped" -j MARK --set-xmark 0x8000/0x8000`,
    );
  }
  if (s.premarkMasq) {
    mangle.push(
      `-A PREROUTING -s 127.0.0.1/32 -p tcp -m tcp --dport ${port} -m comment --comment "KUBE-MARK-MASQ-style mark set before the queue" -j MARK --set-xmark 0x4000/0x4000`,
    );
  }
  mangle.push(`-A INPUT -p tcp -m tcp --dport ${port} -j NFQUEUE --queue-num ${queue}${s.bypass ? ' --queue-bypass' : ''}`, 'COMMIT');
  const filter = [
    '*filter',
    ':KUBE-FIREWALL - [0:0]',
    `-A INPUT -p tcp -m tcp --dport ${port} -j KUBE-FIREWALL`,
    '-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP',
    'COMMIT',
  ];
  return [...mangle, ...filter, ''].join('\n');
}

/** The seed's kernel hook at FIRST+1, as an nft chain right after the queue rule's priority. */
export function clearMarkScript(port: number): string {
  return `table ip nfqguard_seed_fix {\n  chain clear_mark {\n    type filter hook input priority mangle + 1; policy accept;\n    tcp dport ${port} meta mark set 0x0\n  }\n}\n`;
}

/**
 * Observer chains. The after-verdict chain shares mangle + 1 with the seed's clear chain and must run
 * before it: at equal priority the kernel runs the chain registered last first (nf_hook_entries_grow),
 * so this script is loaded after the scenario's own rules.
 */
export function observerScript(port: number): string {
  return [
    `table ip ${OBS_TABLE} {`,
    `  chain ${TRACE_CHAIN} {`,
    `    type filter hook prerouting priority -400; policy accept;`,
    `    tcp dport { ${probePort(port)}, ${port} } meta nftrace set 1`,
    `  }`,
    `  chain ${BEFORE_CHAIN} {`,
    `    type filter hook input priority mangle - 1; policy accept;`,
    `  }`,
    `  chain ${AFTER_CHAIN} {`,
    `    type filter hook input priority mangle + 1; policy accept;`,
    `  }`,
    `}`,
    '',
  ].join('\n');
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (pattern.test(buf)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready`));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function curl(ns: Netns, client: string, port: number, signal?: AbortSignal): Promise<string> {
  const r = await ns.exec(
    'curl',
    ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--connect-timeout', '1.5', '--max-time', '3', '--interface', client, `http://127.0.0.1:${port}/`],
    { timeoutMs: 6000, signal },
  );
  if (r.stdout === '200') return '200';
  if (r.code === 28 || r.timedOut) return 'timeout';
  return `error (curl exit ${r.code}${r.stdout ? `, HTTP ${r.stdout}` : ''})`;
}

function ipv4Source(payload: Uint8Array | undefined): string | undefined {
  if (!payload || payload.length < 20 || payload[0] >> 4 !== 4) return undefined;
  return `${payload[12]}.${payload[13]}.${payload[14]}.${payload[15]}`;
}

function firstSyn(packets: TracedPacket[], client: string, port: number): TracedPacket | undefined {
  return packets.find((p) => p.fields['ip saddr'] === client && p.fields['tcp dport'] === String(port) && p.fields['tcp flags'] === 'syn');
}

async function runScenario(s: ScenarioSpec, opts: LabOptions): Promise<LabResult[]> {
  const ns = await Netns.create('lab');
  let queue: NfQueue | undefined;
  try {
    const server = ns.spawn(process.execPath, [serverScript(), String(opts.port), '0.0.0.0']);
    const serverReady = waitForLine(server, /listening/, 5000, 'the lab HTTP server');
    await ns.iptablesRestore(rulesFor(s, opts.port, opts.queue));
    if (s.clearAfterVerdict) await ns.nft(clearMarkScript(opts.port));
    await ns.nft(observerScript(opts.port));
    await serverReady;

    // What the consumer was handed and answered, per client address (first packet only).
    const seen = new Map<string, { markIn: string; markOut: string }>();
    if (s.consumer) {
      const c = s.consumer;
      const unsafe = c.unsafeWholeMark !== undefined;
      const bits = unsafe ? (c.unsafeWholeMark as number) : (c.mark as number);
      const mask = unsafe ? 0xffffffff : (c.markMask as number);
      const decision = { verdict: 'accept' as const, mark: bits };
      queue = await NfQueue.open({
        queue: opts.queue,
        netns: ns.path,
        unsafeWholeMark: unsafe,
        markMask: unsafe ? undefined : mask,
        copyRange: 64,
        onPacket: (p) => {
          const src = ipv4Source(p.payload);
          if (src && !seen.has(src)) seen.set(src, { markIn: hex32(p.mark), markOut: hex32(mergeMark(p.mark, bits, mask)) });
          return decision;
        },
      });
    }

    const monitor = ns.spawn('nft', ['monitor', 'trace']);
    let traceText = '';
    monitor.stdout?.setEncoding('utf8').on('data', (d: string) => (traceText += d));
    // The monitor subscribes asynchronously: probe until the kernel's trace of a probe shows up.
    const probe = probePort(opts.port);
    for (let i = 0; i < 40 && !traceText.includes(`tcp dport ${probe} `); i++) {
      if (opts.signal?.aborted) throw new Error('interrupted');
      await ns.exec('curl', ['-s', '--max-time', '0.3', `http://127.0.0.1:${probe}/`], { timeoutMs: 2000 });
      await sleep(50);
    }
    if (!traceText.includes(`tcp dport ${probe} `)) throw new Error('nft monitor trace produced no events; is nftrace supported by this kernel?');

    const observed = await Promise.all(s.requests.map((r) => curl(ns, r.client, opts.port, opts.signal)));
    await sleep(150); // let the last trace events arrive
    monitor.kill('SIGTERM');
    const packets = groupTrace(traceText, OBS_TABLE, TRACE_CHAIN);
    return s.requests.map((r, i) => result(s, r, observed[i], firstSyn(packets, r.client, opts.port), seen.get(r.client) ?? null));
  } finally {
    await queue?.close();
    await ns.destroy();
  }
}

function result(s: ScenarioSpec, r: RequestSpec, observed: string, trace: TracedPacket | undefined, consumer: { markIn: string; markOut: string } | null): LabResult {
  const before = trace ? markAtPolicy(trace, OBS_TABLE, BEFORE_CHAIN) : undefined;
  const after = trace ? markAtPolicy(trace, OBS_TABLE, AFTER_CHAIN) : undefined;
  const markBefore = before === undefined ? null : hex32(before);
  const markAfter = after === undefined ? null : hex32(after);
  const expectedAfter = r.expectedAfter === null ? null : hex32(r.expectedAfter);
  const problems: string[] = [];
  if (observed !== r.expected) problems.push(`expected ${r.expected}, observed ${observed}`);
  if (!trace) problems.push('the kernel trace has no SYN from this client');
  else {
    if (markBefore !== hex32(r.expectedBefore)) problems.push(`mark before the verdict ${markBefore ?? 'not seen'}, expected ${hex32(r.expectedBefore)}`);
    if (markAfter !== expectedAfter) problems.push(`mark after the verdict ${markAfter ?? 'not seen'}, expected ${expectedAfter ?? 'not seen'}`);
  }
  let dropped = trace ? (droppedBy(trace) ?? null) : null;
  if (trace && dropped === null && after === undefined && trace.events.some((e) => e.verdict === 'queue')) {
    dropped = 'queue: no consumer and no bypass, the kernel dropped it';
  }
  return {
    number: s.number,
    name: r.suffix ? `${s.name}/${r.suffix}` : s.name,
    title: s.title,
    expected: r.expected,
    observed,
    ok: problems.length === 0,
    markBefore,
    markAfter,
    expectedMarkBefore: hex32(r.expectedBefore),
    expectedMarkAfter: expectedAfter,
    consumer,
    droppedBy: dropped,
    explanation: r.explanation,
    ...(problems.length ? { problem: problems.join('; ') } : {}),
  };
}

export async function runLab(opts: LabOptions): Promise<LabReport> {
  const started = Date.now();
  cleanupStaleNamespaces();
  const chosen = SCENARIOS.filter((s) => !opts.only || opts.only.includes(s.number));
  const results: LabResult[] = [];
  const settle = async (s: ScenarioSpec): Promise<LabResult[]> => {
    try {
      return await runScenario(s, opts);
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      return s.requests.map((r) => ({
        number: s.number,
        name: r.suffix ? `${s.name}/${r.suffix}` : s.name,
        title: s.title,
        expected: r.expected,
        observed: 'error',
        ok: false,
        markBefore: null,
        markAfter: null,
        expectedMarkBefore: hex32(r.expectedBefore),
        expectedMarkAfter: r.expectedAfter === null ? null : hex32(r.expectedAfter),
        consumer: null,
        droppedBy: null,
        explanation: r.explanation,
        problem: (e as Error).message,
      }));
    }
  };
  if (opts.sequential) {
    for (const s of chosen) {
      if (opts.signal?.aborted) break;
      results.push(...(await settle(s)));
    }
  } else {
    // allSettled: every scenario finishes its clean-up before the lab returns, even when interrupted.
    const settled = await Promise.allSettled(chosen.map(settle));
    for (const r of settled) {
      if (r.status === 'rejected') throw r.reason;
      results.push(...r.value);
    }
  }
  return { ok: results.every((r) => r.ok), port: opts.port, queue: opts.queue, durationMs: Date.now() - started, scenarios: results };
}

export { KUBE_DROP_BIT, KUBE_MASQ_BIT };
