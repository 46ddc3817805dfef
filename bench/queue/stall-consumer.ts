// The consumer that bench/queue/stall.ts floods: an NfQueue without fail-open whose transport records
// what every receive returned, so that a stall can be explained after the fact.
//
//   node dist/bench/queue/stall-consumer.js QUEUE [DRAIN_ROUNDS] [BATCH_SIZE] [RCVBUF]
//
// Prints one JSON line {"ready":true,"fd":N,"portId":N} once bound. SIGUSR2 prints a JSON line with the
// queue's counters and the last receives (newest last); SIGUSR1 makes the queue receive once, outside
// any wake-up (the "manual receive" that unsticks a stalled socket), and reports what that returned.
import { NETLINK_NETFILTER } from '../../src/netlink/constants.js';
import { NativeNetlinkSocket, type NetlinkTransport, type Watch } from '../../src/netlink/socket.js';
import { NfQueue } from '../../src/nfqueue/queue.js';

const TRACE = 256;

/** What the consumer did, in order: a wake-up (with its libuv status) or a receive (with its result). */
interface Step {
  kind: 'wake' | 'recv';
  value: number;
  atMs: number;
}

class TracingTransport implements NetlinkTransport {
  readonly trace: Step[] = [];
  lastWakeAt = 0;
  /** While set, receive results are also collected here. */
  capture: number[] | null = null;

  constructor(readonly inner: NativeNetlinkSocket) {}

  get portId(): number {
    return this.inner.portId;
  }

  private note(kind: Step['kind'], value: number): void {
    this.trace.push({ kind, value, atMs: Math.round(performance.now()) });
    if (this.trace.length > TRACE) this.trace.shift();
  }

  send(buf: Uint8Array, off: number, len: number): number {
    return this.inner.send(buf, off, len);
  }

  recvBatch(buf: Uint8Array, slotSize: number, maxMsgs: number, meta: Int32Array): number {
    const n = this.inner.recvBatch(buf, slotSize, maxMsgs, meta);
    this.note('recv', n);
    this.capture?.push(n);
    return n;
  }

  watch(onReadable: (status: number) => void): Watch {
    return this.inner.watch((status) => {
      this.lastWakeAt = performance.now();
      this.note('wake', status);
      onReadable(status);
    });
  }

  close(): void {
    this.inner.close();
  }
}

async function main(): Promise<void> {
  const [queue, drainRounds, batchSize, rcvBuf] = process.argv.slice(2).map((a) => (/^\d+$/.test(a) ? Number(a) : undefined));
  const transport = new TracingTransport(NativeNetlinkSocket.open(NETLINK_NETFILTER, { rcvBuf }));
  const q = await NfQueue.open({ queue: queue ?? 7, drainRounds, batchSize, failOpen: false, transport, onPacket: () => undefined });
  const out = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');
  out({ ready: true, fd: transport.inner.fd, portId: transport.portId });
  process.on('SIGUSR2', () => {
    out({ stats: q.stats, msSinceWake: Math.round(performance.now() - transport.lastWakeAt), trace: transport.trace.slice(-48) });
  });
  process.on('SIGUSR1', () => {
    transport.capture = [];
    // The drain is private: this is a diagnostic receive from outside, as a timer would do it.
    (q as unknown as { drain(rounds: number): void }).drain(1);
    out({ manual: transport.capture, verdicts: q.stats.verdicts });
    transport.capture = null;
  });
  const stop = (): void => {
    void q.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`stall-consumer: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
