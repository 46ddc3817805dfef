// Worker thread entry: owns one queue. Its event loop drains the queue's socket on readiness, so a
// slow packet in one worker does not stall the others, and a stop message is seen between batches.
import { parentPort, workerData } from 'node:worker_threads';
import { NetlinkError } from '../netlink/errors.js';
import { NfQueue, QueueBusyError, type QueueEvent } from '../nfqueue/queue.js';
import type { PacketView } from '../nfqueue/packet.js';
import { Inspector } from './inspector.js';
import type { MainMessage, WorkerInit, WorkerMessage } from './protocol.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('worker.js runs as a worker thread of the daemon');
const send = (m: WorkerMessage): void => port.postMessage(m);

const inspector = new Inspector(init, (event) => send({ type: 'event', event }));

// Fault injection for tests, off unless the variable is set: NFQGUARD_FAULT_WORKER=QUEUE:N:crash ends
// the first worker thread of QUEUE inside its packet handler on its N-th packet, as a fatal error
// would; QUEUE:N:hang blocks it there for ever, as a deadlock or an endless loop would. Either way that packet
// (and the rest of its batch) stays in the kernel queue without a verdict. A restarted worker
// (incarnation > 0) is not affected. Nothing else reads the variable.
const fault = /^(\d+):(\d+):(crash|hang)$/.exec(process.env.NFQGUARD_FAULT_WORKER ?? '');
const faultAt = fault && Number(fault[1]) === init.queue && init.incarnation === 0 ? Number(fault[2]) : 0;
let seen = 0;
const onPacket =
  faultAt > 0
    ? (p: PacketView): ReturnType<Inspector['handle']> => {
        if (++seen === faultAt) {
          if (fault?.[3] === 'crash') process.exit(70);
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // blocks for ever (terminate() ends it)
        }
        return inspector.handle(p);
      }
    : (p: PacketView): ReturnType<Inspector['handle']> => inspector.handle(p);

function onQueueEvent(e: QueueEvent): void {
  // Counted in the queue's stats (exported as metrics); only the unexpected ones are worth a line.
  if (e.type === 'warning') send({ type: 'warning', message: e.message });
  else if (e.type === 'handler-error' || e.type === 'ownership-error') send({ type: 'warning', message: `queue ${init.queue}: ${e.type}: ${String((e.error as Error)?.message ?? e.error)}` });
}

let q: NfQueue | null = null;
const stats = (): Record<string, number> => ({ ...(q?.stats ?? {}) }) as unknown as Record<string, number>;

async function main(): Promise<void> {
  try {
    q = await NfQueue.open({
      queue: init.queue,
      markMask: init.markMask,
      ctMarkMask: init.bypassCtMark,
      failOpen: init.failOpen,
      copyRange: init.copyRange,
      maxLen: init.maxLen,
      conntrack: init.conntrack,
      onPacket,
      onEvent: onQueueEvent,
    });
  } catch (e) {
    const conntrackRefused = init.conntrack && e instanceof NetlinkError && /conntrack/.test(e.message) && e.errno !== undefined && e.errno !== 1;
    const code = e instanceof QueueBusyError ? 'EBUSY_QUEUE' : conntrackRefused ? 'ENOCT_QUEUE' : e instanceof NetlinkError ? e.code : 'ERR_WORKER';
    send({ type: 'error', code, errno: e instanceof NetlinkError ? e.errno : undefined, message: (e as Error).message });
    port?.close();
    return;
  }
  const timer = setInterval(() => send({ type: 'snapshot', snapshot: inspector.snapshot(stats()) }), init.snapshotMs);
  port?.on('message', (m: MainMessage) => {
    if (m.type !== 'stop') return;
    clearInterval(timer);
    void (q as NfQueue).close().then(() => {
      send({ type: 'stopped', snapshot: inspector.snapshot(stats()) });
      port.close();
    });
  });
  send({ type: 'ready' });
}

void main();
