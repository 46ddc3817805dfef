// `nfqguard queue`: the seed's userspace program (t.c) as a command, with mark ownership. It binds a
// queue and gives every packet the same verdict; it installs no rules.
import type { Command } from 'commander';
import { hex32 } from '../../netlink/bytes.js';
import { NetlinkError } from '../../netlink/errors.js';
import { mergeMark } from '../../nfqueue/marks.js';
import { NfQueue, type QueueEvent } from '../../nfqueue/queue.js';
import type { Decision } from '../../nfqueue/verdict.js';
import { EXIT_USAGE, UsageError } from '../io.js';
import { parseIntIn, parseU32, type CommandContext } from '../program.js';

/** Bytes of --json-log output waiting for a slow reader before lines are dropped. */
const LOG_BACKLOG_LIMIT = 1 << 20;

interface QueueCmdOptions {
  num: number;
  mask?: number;
  setMark?: number;
  unsafeWholeMark?: number;
  verdict: 'accept' | 'drop';
  jsonLog?: boolean;
  netns?: string;
  failOpen: boolean;
  maxLen?: number;
  copyRange: number;
  count?: number;
  stats?: boolean;
}

export function registerQueue(program: Command, ctx: CommandContext): Command {
  return program
    .command('queue')
    .summary('consume an NFQUEUE and give every packet one verdict, touching only owned mark bits')
    .description(
      // No hard line breaks inside a paragraph: commander wraps to the terminal's width.
      "Binds queue N and gives every packet the same verdict, like the seed's t.c, but a mark is applied only " +
        'to the bits of --mask: mark_out = (mark_in & ~mask) | (set-mark & mask).\n\n' +
        'It installs no rules: steer traffic with e.g. ' +
        '`iptables -t mangle -A INPUT -p tcp --dport 80 -j NFQUEUE --queue-num 80 --queue-bypass`. ' +
        'SIGINT/SIGTERM: verdicts everything received, unbinds, exits 0. Exit 2 when the queue cannot be bound ' +
        '(not root, another consumer holds it, no such network namespace).',
    )
    .requiredOption('--num <n>', 'queue number (0-65535)', parseIntIn('--num', 0, 65535))
    .option('--mask <m>', 'mark bits this consumer owns, e.g. 0x00f00000', parseU32('--mask'))
    .option('--set-mark <v>', 'owned bits to set on every packet (must lie inside --mask)', parseU32('--set-mark'))
    .option('--unsafe-whole-mark <v>', 'UNSAFE: replace the whole 32-bit mark with v, as nfq_set_verdict2 does (the seed\'s outage)', parseU32('--unsafe-whole-mark'))
    .option('--verdict <v>', 'accept or drop', (v: string) => {
      if (v !== 'accept' && v !== 'drop') throw new UsageError(`--verdict must be accept or drop, got "${v}"`);
      return v;
    }, 'accept')
    .option('--json-log', 'print one JSON line per packet: {"id","mark_in","mark_out","verdict"} (a reader 1 MiB behind loses lines, counted on exit; verdicts never wait for it)')
    .option('--netns <name>', 'open the queue inside this network namespace (ip netns name or path)')
    .option('--no-fail-open', 'drop instead of accept when the kernel queue is full')
    .option('--max-len <n>', 'kernel queue length (default 1024)', parseIntIn('--max-len', 1, 1 << 20))
    .option('--copy-range <n>', 'bytes of each packet to copy to userspace', parseIntIn('--copy-range', 0, 65535), 0xffff)
    .option('--count <n>', 'exit after this many packets', parseIntIn('--count', 1, Number.MAX_SAFE_INTEGER))
    .option('--stats', 'print the counters as JSON on stderr at exit')
    .addHelpText(
      'after',
      `
Examples:
  $ nfqguard queue --num 80 --mask 0x00f00000 --set-mark 0x00100000 --json-log
  $ nfqguard queue --num 80                                   # accept everything, marks untouched
  $ nfqguard queue --num 80 --unsafe-whole-mark 0x8000        # the seed's "./a.out block": KUBE-FIREWALL drops it all`,
    )
    .action(async (opts: QueueCmdOptions) => runQueue(opts, ctx));
}

async function runQueue(opts: QueueCmdOptions, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  if (opts.unsafeWholeMark !== undefined && (opts.setMark !== undefined || opts.mask !== undefined)) {
    throw new UsageError(
      `--unsafe-whole-mark replaces all 32 bits of the mark, so it cannot be combined with ${opts.setMark !== undefined ? '--set-mark' : '--mask'}`,
      'use --mask with --set-mark to touch only owned bits; --unsafe-whole-mark only reproduces the seed',
    );
  }
  if (opts.setMark !== undefined) {
    if (opts.mask === undefined) throw new UsageError('--set-mark needs --mask: the bits this consumer owns', 'e.g. --mask 0x00f00000 --set-mark 0x00100000; find free bits with `nfqguard doctor`');
    if ((opts.setMark & ~opts.mask) !== 0) {
      throw new UsageError(
        `--set-mark ${hex32(opts.setMark)} has bits ${hex32(opts.setMark & ~opts.mask)} outside --mask ${hex32(opts.mask)}`,
        'set only bits the consumer owns, or widen --mask after checking it with `nfqguard doctor --mask`',
      );
    }
  }
  const unsafe = opts.unsafeWholeMark !== undefined;
  const mask = unsafe ? 0xffffffff : (opts.mask ?? 0);
  const bits = unsafe ? opts.unsafeWholeMark : opts.setMark;
  const decision: Decision = bits === undefined ? { verdict: opts.verdict } : { verdict: opts.verdict, mark: bits };
  let seen = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  const jsonLog = opts.jsonLog === true;
  let logDropped = 0;

  const onEvent = (e: QueueEvent): void => {
    if (e.type === 'warning') io.stderr(`nfqguard: warning: ${e.message}\n`);
    else if (e.type === 'enobufs') return; // counted in stats; one line per overrun would flood stderr
    else io.stderr(`nfqguard: ${e.type}: ${'error' in e ? (e.error as Error).message : ''}\n`);
  };

  let q: NfQueue;
  try {
    q = await NfQueue.open({
      queue: opts.num,
      markMask: unsafe ? undefined : opts.mask,
      unsafeWholeMark: unsafe,
      netns: opts.netns,
      failOpen: opts.failOpen,
      maxLen: opts.maxLen,
      copyRange: opts.copyRange,
      onEvent,
      onPacket: (p) => {
        if (jsonLog) {
          // A reader slower than the queue: lines are dropped and counted, verdicts never wait for it
          // (and memory does not grow with the backlog).
          if ((io.stdoutBacklog?.() ?? 0) > LOG_BACKLOG_LIMIT) logDropped++;
          else {
            const out = bits === undefined ? p.mark : mergeMark(p.mark, bits, mask);
            io.stdout(`{"id":${p.id},"mark_in":"${hex32(p.mark)}","mark_out":"${hex32(out)}","verdict":"${opts.verdict}"}\n`);
          }
        }
        if (opts.count !== undefined && ++seen >= opts.count) finish();
        return decision;
      },
    });
  } catch (e) {
    if (e instanceof NetlinkError) {
      io.stderr(`nfqguard: ${e.message}\n`);
      ctx.exit(EXIT_USAGE);
      return;
    }
    throw e;
  }
  io.stderr(`nfqguard: ${q.describe()} bound${opts.netns ? ` in netns ${opts.netns}` : ''}; verdict ${opts.verdict}${bits === undefined ? '' : ` mark ${hex32(bits)}`}\n`);
  if (io.signal.aborted) finish();
  io.signal.addEventListener('abort', finish, { once: true });
  await done;
  io.signal.removeEventListener('abort', finish);
  await q.close();
  if (logDropped) io.stderr(`nfqguard: ${logDropped} --json-log line${logDropped === 1 ? '' : 's'} dropped: the reader was slower than the queue (every packet still got its verdict)\n`);
  if (opts.stats) io.stderr(JSON.stringify({ queue: opts.num, ...q.stats, ...(jsonLog ? { log_dropped: logDropped } : {}) }) + '\n');
}
