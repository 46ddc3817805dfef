// Netns: programs started with exec()/execOk() die with the namespace. A command that exits on SIGINT
// calls destroySync() and exits at once; before, a flood started with execOk (bench:run) kept running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { Netns } from '../../../src/lab/netns.js';
import { kernelSkipReason } from '../../helpers/kernel.js';

/** Pids whose command line is exactly `sleep ARG` (ARG unique to the test). */
function sleepers(arg: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8') === `sleep\0${arg}\0`) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

for (const how of ['destroySync', 'destroy'] as const) {
  test(`Netns.${how}() kills programs still running from exec() and execOk(), with or without their own signal`, { skip: kernelSkipReason() ?? false, timeout: 20_000 }, async () => {
    const arg = `${30 + Math.random()}`.slice(0, 12);
    const ns = await Netns.create('nsexec');
    let runs: Array<Promise<unknown>> = [];
    try {
      runs = [ns.exec('sleep', [arg]), ns.execOk('sleep', [arg]).catch((e: Error) => e), ns.exec('sleep', [arg], { signal: new AbortController().signal, timeoutMs: 60_000 })];
      assert.ok(await waitFor(() => sleepers(arg).length === 3, 5000), `three sleepers started: ${sleepers(arg).join(' ')}`);
    } finally {
      if (how === 'destroySync') ns.destroySync();
      else await ns.destroy();
    }
    const results = await Promise.all(runs);
    assert.ok(await waitFor(() => sleepers(arg).length === 0, 3000), `left running: ${sleepers(arg).join(' ')}`);
    assert.equal((results[0] as { signal: string }).signal, 'SIGKILL');
    assert.ok(results[1] instanceof Error, 'execOk rejects when its program is killed');
  });
}
