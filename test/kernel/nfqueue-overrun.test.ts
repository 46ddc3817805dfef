// Overload against the real kernel: floods that overrun the queue's netlink socket again and again, each
// followed by probes that must all get a verdict. Before NfQueue.drain stopped ending on ENOBUFS, a
// consumer that read ENOBUFS on its last receive while the socket was empty stayed deaf for good: the
// kernel kept the socket's congestion flag set and dropped every new packet (user_dropped) without
// another wake-up (docs/ARCHITECTURE.md, "The queue's hot path"). With drainRounds 1 every ENOBUFS is the
// last receive of a drain, so the old code failed this test within seconds in most runs; with the
// default settings it took about 150 one-second floods (bench/queue/stall.ts measures that).
//
// The flood is bench/queue/c/udp_tool (sendmmsg of UDP GSO packets): a Python sender does not overrun the
// socket often enough.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { compileC } from '../../bench/queue/tools.js';
import { NfQueue } from '../../src/nfqueue/queue.js';
import { kernelTest } from '../helpers/kernel.js';
import { procRow, send } from '../helpers/udp.js';

const PORT = 5556;
const QUEUE = 14;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function gccMissing(): string | null {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'gcc is not installed (run npm run setup): the flood is a C program';
  }
}

kernelTest(
  'overload: after floods that overrun the socket again and again, every probe still gets a verdict',
  'nfqstall',
  async (ns, t) => {
    const why = gccMissing();
    if (why !== null) return t.skip(why);
    const tool = compileC('udp_tool');
    // In raw PREROUTING, before conntrack; the mangle DROP behind it keeps the flood from any socket.
    await ns.iptablesRestore(
      `*raw\n-A PREROUTING -p udp --dport ${PORT} -j NFQUEUE --queue-num ${QUEUE}\nCOMMIT\n*mangle\n-A PREROUTING -p udp --dport ${PORT} -j DROP\nCOMMIT\n`,
    );
    const q = await NfQueue.open({ queue: QUEUE, netns: ns.path, failOpen: false, drainRounds: 1, onPacket: () => undefined });
    try {
      const pin = cpus().length >= 2 ? ['taskset', '-c', '0'] : [];
      let floods = 0;
      const began = Date.now();
      while (Date.now() - began < 6000) {
        floods++;
        const [cmd, ...args] = [...pin, tool, 'flood', String(PORT), '0.5', '1000000000', '64', '16'];
        await ns.execOk(cmd, args, { timeoutMs: 10_000 });
        // Let the consumer answer what it holds, then probe: every probe must be answered.
        let last = -1;
        for (let i = 0; i < 50 && q.stats.verdicts !== last; i++) {
          last = q.stats.verdicts;
          await sleep(20);
        }
        const before = q.stats.verdicts;
        const row = await procRow(ns, QUEUE);
        await send(ns, PORT, ['p1', 'p2', 'p3', 'p4', 'p5']);
        for (let i = 0; i < 100 && q.stats.verdicts < before + 5; i++) await sleep(10);
        const after = await procRow(ns, QUEUE);
        assert.equal(
          q.stats.verdicts - before,
          5,
          `after flood ${floods} the consumer answered ${q.stats.verdicts - before} of 5 probes; the kernel refused ` +
            `${(after?.userDropped ?? 0) - (row?.userDropped ?? 0)} (user_dropped); ENOBUFS read ${q.stats.enobufs} times`,
        );
      }
      const row = await procRow(ns, QUEUE);
      t.diagnostic(`${floods} floods; user_dropped ${row?.userDropped}; ENOBUFS read ${q.stats.enobufs} times; ${q.stats.verdicts} verdicts`);
      assert.ok((row?.userDropped ?? 0) > 0 && q.stats.enobufs > 0, 'the floods overran the socket');
    } finally {
      await q.close();
    }
  },
  { timeout: 30_000 },
);
