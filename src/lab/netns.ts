// Throwaway network namespaces. Each gets a unique name (nfqg-TAG-PID-RANDOM), is tracked until it is
// destroyed, and is removed on every path out: destroy(), process exit, or the next run's clean-up of
// namespaces whose creating process is gone.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { run, runOk, type RunOptions, type RunResult } from './exec.js';

const PREFIX = 'nfqg-';
const live = new Set<Netns>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort for paths that skip destroy() (an uncaught exception, process.exit): synchronous.
  process.on('exit', () => {
    for (const ns of live) ns.destroySync();
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes namespaces left by nfqguard processes that no longer run (e.g. after SIGKILL). */
export function cleanupStaleNamespaces(): string[] {
  const dir = '/var/run/netns';
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = /^nfqg-[a-z0-9]+-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    try {
      execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
      removed.push(name);
    } catch {
      // already gone
    }
  }
  return removed;
}

export class Netns {
  readonly name: string;
  private readonly children = new Set<ChildProcess>();
  /** Aborted by destroy(): kills what exec() and execOk() still run. */
  private readonly ended = new AbortController();
  private destroyed = false;

  private constructor(name: string) {
    this.name = name;
  }

  get path(): string {
    return `/var/run/netns/${this.name}`;
  }

  /** Creates a namespace with its loopback up. `tag`: a few lowercase letters naming the user. */
  static async create(tag: string): Promise<Netns> {
    if (!/^[a-z0-9]{1,12}$/.test(tag)) throw new Error(`netns tag must be 1-12 lowercase letters or digits, got "${tag}"`);
    const ns = new Netns(`${PREFIX}${tag}-${process.pid}-${randomBytes(3).toString('hex')}`);
    installExitHook();
    await runOk('ip', ['netns', 'add', ns.name]);
    live.add(ns);
    try {
      await ns.execOk('ip', ['link', 'set', 'lo', 'up']);
    } catch (e) {
      await ns.destroy();
      throw e;
    }
    return ns;
  }

  /** Runs a program inside the namespace; destroy() kills it if it still runs. */
  exec(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], this.execOpts(opts));
  }

  execOk(cmd: string, args: readonly string[], opts?: RunOptions): Promise<string> {
    return runOk('ip', ['netns', 'exec', this.name, cmd, ...args], this.execOpts(opts));
  }

  /**
   * Ties a program run to its end to the namespace's life: a process that exits on a signal calls
   * destroySync() and exits, and a program still running (a flood, a ping) would outlive it.
   */
  private execOpts(opts: RunOptions = {}): RunOptions {
    return { ...opts, signal: opts.signal ? AbortSignal.any([opts.signal, this.ended.signal]) : this.ended.signal };
  }

  /** Starts a long-running program inside the namespace; it is killed by destroy(). */
  spawn(cmd: string, args: readonly string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    child.on('error', () => this.children.delete(child));
    return child;
  }

  /** Loads rules with iptables-restore --noflush (tables not named are left alone). */
  iptablesRestore(text: string, binary = 'iptables-restore'): Promise<string> {
    return this.execOk(binary, ['--noflush'], { input: text, timeoutMs: 10_000 });
  }

  /** Loads an nft script. */
  nft(script: string): Promise<string> {
    return this.execOk('nft', ['-f', '-'], { input: script, timeoutMs: 10_000 });
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.ended.abort();
    await Promise.all(
      [...this.children].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGKILL');
          }),
      ),
    );
    await run('ip', ['netns', 'delete', this.name]);
    live.delete(this);
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.ended.abort();
    for (const c of this.children) c.kill('SIGKILL');
    try {
      execFileSync('ip', ['netns', 'delete', this.name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    live.delete(this);
  }
}

/** Namespaces this process still holds (tests assert that this is empty at the end). */
export function liveNamespaces(): string[] {
  return [...live].map((n) => n.name);
}
