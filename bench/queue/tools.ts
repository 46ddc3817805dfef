// The C programs of bench/queue/c/, compiled on demand into dist/bench/queue/bin/ (gcc; the baseline also
// needs libnetfilter-queue-dev), and small helpers the benchmark and the stall hunt share. The overload kernel
// test uses the flood tool too.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN_DIR = join(ROOT, 'dist', 'bench', 'queue', 'bin');

/** Compiles bench/queue/c/NAME.c into dist/bench/queue/bin/NAME and returns its path. Throws with the fix. */
export function compileC(name: 'udp_tool' | 'nfq_baseline', libs: string[] = []): string {
  mkdirSync(BIN_DIR, { recursive: true });
  const out = join(BIN_DIR, name);
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-o', out, join(ROOT, 'bench', 'queue', 'c', `${name}.c`), ...libs], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('gcc is not installed (run `npm run setup` as root)');
    throw new Error(`gcc ${name}.c failed (is libnetfilter-queue-dev installed? \`npm run setup\`): ${err.stderr?.toString().trim()}`);
  }
  return out;
}

/** A numeric command-line option, checked against its range. */
export function numberOption(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}, got "${v}"`);
  return n;
}

/** A program started by a benchmark, with its stdout kept as lines and its stderr as text. */
export interface Proc {
  child: ChildProcess;
  lines: string[];
  stderr: string;
  exited: Promise<number | null>;
}

export function capture(child: ChildProcess): Proc {
  const p: Proc = { child, lines: [], stderr: '', exited: new Promise((r) => child.once('close', (code) => r(code))) };
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    p.lines.push(...parts);
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (p.stderr += d));
  child.once('close', () => {
    if (partial) p.lines.push(partial);
  });
  return p;
}

/** Ends a program: SIGTERM, then SIGKILL after 3 s. Resolves with its exit code. */
export async function stop(p: Proc): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.child.kill('SIGTERM');
  const kill = setTimeout(() => p.child.kill('SIGKILL'), 3000);
  const code = await p.exited;
  clearTimeout(kill);
  return code;
}
