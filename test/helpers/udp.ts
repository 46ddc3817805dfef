// Driving test/tools/udp.py inside a namespace: a receiver that reports each datagram's data and the
// mark it was delivered with (SO_RCVMARK), and senders.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Netns } from '../../src/lab/netns.js';

const TOOL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'tools', 'udp.py');

export interface Received {
  data: string;
  mark: number | null;
}

export interface Receiver {
  /** Resolves with everything received once COUNT datagrams arrived or the time ran out. */
  done: Promise<Received[]>;
}

/** Starts a receiver on 127.0.0.1:port and resolves when it is bound. */
export async function startReceiver(ns: Netns, port: number, count: number, timeoutSec: number): Promise<Receiver> {
  const child = ns.spawn('python3', [TOOL, 'recv', String(port), String(count), String(timeoutSec)]);
  let out = '';
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((r) => (readyResolve = r));
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.startsWith('ready\n')) readyResolve();
  });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<Received[]>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`udp.py recv exited ${code}: ${err}`));
      else
        resolve(
          out
            .split('\n')
            .slice(1)
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Received),
        );
    });
  });
  await Promise.race([ready, done.then(() => undefined)]);
  return { done };
}

export async function send(ns: Netns, port: number, payloads: string[]): Promise<void> {
  await ns.execOk('python3', [TOOL, 'send', String(port), ...payloads], { timeoutMs: 10_000 });
}

export async function flood(ns: Netns, port: number, count: number, size: number): Promise<void> {
  await ns.execOk('python3', [TOOL, 'flood', String(port), String(count), String(size)], { timeoutMs: 30_000 });
}

/** The row of /proc/net/netfilter/nfnetlink_queue for `queue`, read inside the namespace. */
export async function procRow(ns: Netns, queue: number): Promise<import('../../src/nfqueue/proc.js').ProcQueueRow | undefined> {
  const { parseProcQueues } = await import('../../src/nfqueue/proc.js');
  const text = await ns.execOk('cat', ['/proc/net/netfilter/nfnetlink_queue']);
  return parseProcQueues(text).find((r) => r.queue === queue);
}
