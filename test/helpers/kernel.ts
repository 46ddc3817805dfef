// Helpers for real-kernel tests: they need root, network namespaces and the netfilter tools. Without
// them a test is skipped with a one-line reason, never silently passed.
import { test, type TestContext } from 'node:test';
import { execFileSync } from 'node:child_process';
import { Netns } from '../../src/lab/netns.js';
import { kernelUnavailableReason } from '../../src/util/caps.js';

let cachedReason: string | null | undefined;

/** Why kernel tests cannot run here, or null when they can. */
export function kernelSkipReason(): string | null {
  if (cachedReason !== undefined) return cachedReason;
  cachedReason = kernelUnavailableReason();
  if (cachedReason === null) {
    for (const tool of ['ip', 'iptables', 'nft']) {
      try {
        execFileSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`], { stdio: 'ignore' });
      } catch {
        cachedReason = `${tool} is not installed (run npm run setup)`;
        break;
      }
    }
  }
  return cachedReason;
}

/**
 * A test that runs inside its own fresh network namespace, always removed afterwards.
 * `tag` names the namespace (nfqg-TAG-PID-RANDOM) so a leftover says which test made it.
 */
export function kernelTest(name: string, tag: string, fn: (ns: Netns, t: TestContext) => Promise<void>, opts: { timeout?: number } = {}): void {
  const reason = kernelSkipReason();
  test(name, { skip: reason ?? false, timeout: opts.timeout ?? 30_000 }, async (t) => {
    const ns = await Netns.create(tag);
    try {
      await fn(ns, t);
    } finally {
      await ns.destroy();
    }
  });
}
