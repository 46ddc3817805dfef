// Runs `nfqguard run` inside a test namespace as a real process (signals, exit codes and all), and
// the client/server helpers next to it.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Netns } from '../../src/lab/netns.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root (this file is dist/test/helpers/daemon.js). */
export const ROOT = join(here, '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'nfqguard');
export const helper = (name: string): string => join(here, `${name}.js`);

export function tempConfig(yaml: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-cfg-'));
  const path = join(dir, 'config.yaml');
  writeFileSync(path, yaml);
  chmodSync(dir, 0o755); // readable by the unprivileged run of the no-root test
  chmodSync(path, 0o644);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with `yaml` written to a temporary config file, removed afterwards. */
export async function withTempConfig<T>(yaml: string, fn: (path: string) => Promise<T>): Promise<T> {
  const cfg = tempConfig(yaml);
  try {
    return await fn(cfg.path);
  } finally {
    cfg.remove();
  }
}

export class DaemonProc {
  readonly lines: Array<Record<string, unknown>> = [];
  stderr = '';
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  private constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ text: line });
        }
        for (const w of this.waiters) w();
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      for (const w of this.waiters) w();
    });
    this.exit = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  }

  /**
   * `env` adds variables for this process only (e.g. the fault-injection switch); `wrap` is a command
   * that runs it (e.g. setpriv with the capabilities of a container).
   */
  static spawn(ns: Netns, args: string[], env: Record<string, string> = {}, wrap: string[] = []): DaemonProc {
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const argv = [...wrap, ...(vars.length > 0 ? ['env', ...vars] : []), process.execPath, BIN, ...args];
    return new DaemonProc(ns.spawn(argv[0], argv.slice(1)));
  }

  /** Starts `run --config` and waits for the "ready" line (rejects with the output if it exits first). */
  static async start(ns: Netns, configPath: string, extra: string[] = [], timeoutMs = 8000, env: Record<string, string> = {}, wrap: string[] = []): Promise<DaemonProc> {
    const d = DaemonProc.spawn(ns, ['run', '--config', configPath, ...extra], env, wrap);
    const ready = d.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('ready'), timeoutMs);
    const exited = d.exit.then((e) => {
      throw new Error(`daemon exited (${e.code ?? e.signal}) before ready: ${d.stderr} ${JSON.stringify(d.lines)}`);
    });
    await Promise.race([ready, exited]);
    return d;
  }

  waitFor(pred: (l: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.lines.find(pred);
        if (hit) {
          this.waiters = this.waiters.filter((w) => w !== onLine);
          clearTimeout(timer);
          resolve(hit);
          return true;
        }
        return false;
      };
      const onLine = (): void => void check();
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== onLine);
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${this.stderr}; lines: ${JSON.stringify(this.lines).slice(0, 2000)}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(onLine);
    });
  }

  /** Sends a signal and waits for the exit; returns the exit and how long it took. */
  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const t0 = Date.now();
    this.child.kill(signal);
    const e = await this.exit;
    return { ...e, ms: Date.now() - t0 };
  }
}

/** Starts the echo server on `ports` in the namespace and waits until it listens. */
export async function echoServer(ns: Netns, ports: number[]): Promise<ChildProcess> {
  const c = ns.spawn(process.execPath, [helper('echo-server'), ...ports.map(String)]);
  await new Promise<void>((resolve, reject) => {
    c.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    c.on('exit', (code) => reject(new Error(`echo server exited ${code}`)));
  });
  return c;
}

export interface ProbeResult {
  connected: boolean;
  echoed: number;
  ms: number;
}

/** One exchange from inside the namespace: payloads sent in turn, each waiting for its echo. */
export async function probe(ns: Netns, proto: 'tcp' | 'udp', port: number, payloads: Array<Uint8Array | string>, timeoutMs = 800, host = '127.0.0.1'): Promise<ProbeResult> {
  const hex = payloads.map((p) => Buffer.from(typeof p === 'string' ? new TextEncoder().encode(p) : p).toString('hex'));
  const out = await ns.execOk(process.execPath, [helper('probe'), proto, host, String(port), String(timeoutMs), ...hex], { timeoutMs: timeoutMs + 5000 });
  return JSON.parse(out.trim()) as ProbeResult;
}

export async function mangleSave(ns: Netns, counters = false): Promise<string> {
  return ns.execOk('iptables-save', counters ? ['-c'] : ['-t', 'mangle']);
}

/** A run of equal answers of one health endpoint, as test/helpers/http-poll.ts reports them. */
export interface PollRun {
  status: number | 'refused' | 'error';
  body: string;
  n: number;
  first: number;
  last: number;
}

/**
 * Starts polling `paths` of the daemon's HTTP address inside the namespace every `intervalMs`;
 * stop() ends it and returns the runs per path.
 */
export async function startPoller(ns: Netns, address: string, paths: string[], intervalMs: number, maxMs: number): Promise<{ stop: () => Promise<Record<string, PollRun[]>> }> {
  const c = ns.spawn(process.execPath, [helper('http-poll'), address, String(intervalMs), String(maxMs), ...paths]);
  let out = '';
  const exited = new Promise<void>((r) => c.on('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    c.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.startsWith('polling\n')) resolve();
    });
    c.on('exit', (code) => reject(new Error(`http-poll exited ${code} before polling`)));
  });
  return {
    stop: async () => {
      c.kill('SIGTERM');
      await exited;
      return JSON.parse(out.split('\n')[1]) as Record<string, PollRun[]>;
    },
  };
}

/** The statuses of the runs in order, e.g. ['refused', 503, 200]. */
export const statusSeq = (runs: PollRun[]): Array<PollRun['status']> => runs.map((r) => r.status);

/** GET inside the namespace: status code and body. */
export async function httpGet(ns: Netns, url: string): Promise<{ status: number; body: string }> {
  const out = await ns.execOk('curl', ['-s', '-w', '\n%{http_code}', url]);
  const nl = out.lastIndexOf('\n');
  return { status: Number(out.slice(nl + 1)), body: out.slice(0, nl) };
}

/** The value of one sample in Prometheus text (labels in the order rendered), or undefined. */
export function metric(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** No steering rule of any instance is left in mangle, IPv4 or IPv6. */
export async function assertNoRules(ns: Netns): Promise<void> {
  assert.doesNotMatch(await mangleSave(ns), /nfqguard|NFQG/, 'no iptables rule left');
  assert.doesNotMatch(await ns.execOk('ip6tables-save', ['-t', 'mangle']), /nfqguard|NFQG/, 'no ip6tables rule left');
}
