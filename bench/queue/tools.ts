// The C programs of bench/queue/c/, compiled on demand into dist/bench/queue/bin/ (gcc; the baseline also
// needs libnetfilter-queue-dev). Used by the benchmark, the stall hunt and the overload kernel test.
import { execFileSync } from 'node:child_process';
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
