// The receive loop against the kernel's netlink flow control (test/helpers/congesting-kernel.ts): after
// an overrun the consumer must never stop on the receive that reported ENOBUFS, or the socket can stay
// congested with nothing queued and nothing left to wake the consumer (docs/ARCHITECTURE.md, "The
// queue's hot path"). The sequence of the first test is the one bench/queue/stall.ts recorded on Linux
// 6.18: a full batch that empties the socket, an overrun that lands right after, ENOBUFS on the last
// round of the drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MessageWriter } from '../../../src/netlink/writer.js';
import { encodePacketMessage } from '../../../src/nfqueue/packet.js';
import { NfQueue } from '../../../src/nfqueue/queue.js';
import { CongestingKernel, type Point, type Producer } from '../../helpers/congesting-kernel.js';
import { until } from '../../helpers/fake-kernel.js';

function packet(id: number): Uint8Array {
  const w = new MessageWriter(128);
  encodePacketMessage(w, { queue: 80, family: 2, id, hwProtocol: 0x0800, hook: 1, mark: 0, payload: Uint8Array.from([0x45, 0, 0, 20]) });
  return w.bytes().slice();
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Waits until no wake-up is pending for a few loop turns in a row. */
async function quiesce(k: CongestingKernel): Promise<void> {
  for (let quiet = 0; quiet < 4; ) {
    await turn();
    quiet = k.idle ? quiet + 1 : 0;
  }
}

test('an overrun right after a full batch emptied the socket: the drain does not end on its ENOBUFS', async () => {
  const k = new CongestingKernel(4);
  const q = await NfQueue.open({ queue: 80, transport: k, batchSize: 4, drainRounds: 2, onPacket: () => undefined });
  try {
    await quiesce(k);
    for (let id = 1; id <= 4; id++) assert.ok(k.offer(packet(id)));
    const late = k.check(packet(5)); // refused: the buffer is full; its netlink_overrun() comes late
    assert.equal(late.passed, false);
    let dequeued = 0;
    k.interleave = (point) => {
      if (point === 'dequeued') dequeued++;
      // The 4th message was the last: netlink_rcv_wake() found the queue empty and cleared the flag;
      // now the refused producer sets it again, with ENOBUFS and a wake-up.
      if (point === 'rcv-wake' && dequeued === 4) {
        k.complete(late);
        k.interleave = () => undefined;
      }
    };
    await until(() => q.stats.verdicts === 4);
    await quiesce(k);
    assert.equal(q.stats.enobufs, 1, 'the drain read the ENOBUFS');
    assert.equal(k.congested, false, 'and one more receive cleared the congestion flag');
    assert.equal(k.offer(packet(6)), true, 'the socket takes new messages');
    await until(() => q.stats.verdicts === 5);
    assert.deepEqual(
      k.verdicts().map((m) => m.id),
      [4, 6],
    );
  } finally {
    await q.close();
  }
});

test('ENOBUFS does not use up the drain budget: the next receive happens even on the last round', async () => {
  const k = new CongestingKernel(64);
  const q = await NfQueue.open({ queue: 80, transport: k, batchSize: 2, drainRounds: 1, onPacket: () => undefined });
  try {
    await quiesce(k);
    k.skErr = 105; // an overrun's error, with the flag set and nothing queued
    k.congested = true;
    k.offer(packet(1)); // refused, counted, no second error or wake-up
    assert.equal(k.drops, 1);
    k.fireError(-9);
    await quiesce(k);
    assert.equal(q.stats.enobufs, 1);
    assert.equal(k.congested, false);
    assert.equal(k.watching, true, 're-armed after POLLERR');
    assert.ok(k.offer(packet(2)));
    await until(() => q.stats.verdicts === 1);
  } finally {
    await q.close();
  }
});

test('ENOBUFS after ENOBUFS: the queue keeps receiving until a receive gets through, yielding to the loop on the way', async () => {
  const k = new CongestingKernel(64);
  const q = await NfQueue.open({ queue: 80, transport: k, onPacket: () => undefined });
  try {
    await quiesce(k);
    // Not something the kernel does (each ENOBUFS needs a new overrun in between), but the loop must neither
    // spin on it forever nor stop before a receive got through, while the socket is congested and empty.
    k.congested = true;
    const real = k.recvBatch.bind(k);
    let errors = 40;
    let seenNextTurn = -1;
    k.recvBatch = (buf, slot, max, meta) => {
      if (errors === 40) setImmediate(() => (seenNextTurn = q.stats.enobufs));
      return errors-- > 0 ? -105 : real(buf, slot, max, meta);
    };
    k.fireError(-9);
    await until(() => q.stats.enobufs === 40 && !k.congested);
    assert.ok(seenNextTurn > 0 && seenNextTurn < 40, `yielded after ${seenNextTurn} in a row`);
    assert.equal(k.watching, true);
    assert.ok(k.offer(packet(1)), 'the socket takes new messages');
    await until(() => q.stats.verdicts === 1);
  } finally {
    await q.close();
  }
});

// Producers on another CPU, at any point of the consumer's receives: offer (test and act at once), check
// (netlink_attachskb()'s test only) or complete (the oldest checked producer acts: queues its message,
// or calls netlink_overrun()).
type Step = 'none' | 'offer' | 'check' | 'complete';
const step = fc.constantFrom<Step>('none', 'none', 'offer', 'offer', 'check', 'complete');

test('whatever the interleaving of producers with receives, a quiet consumer takes and answers a new packet', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 1, maxLength: 120 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 3 }),
      async (steps, capacity, batchSize, drainRounds) => {
        const k = new CongestingKernel(capacity);
        const q = await NfQueue.open({ queue: 80, transport: k, batchSize, drainRounds, onPacket: () => undefined });
        try {
          await quiesce(k);
          let id = 0;
          const pending: Producer[] = [];
          const act = (s: Step | undefined): void => {
            if (s === 'offer') k.offer(packet(++id));
            else if (s === 'check') pending.push(k.check(packet(++id)));
            else if (s === 'complete' && pending.length > 0) k.complete(pending.shift() as Producer);
          };
          const schedule = [...steps];
          k.interleave = (_p: Point) => act(schedule.shift());
          while (schedule.length > 0) {
            act(schedule.shift());
            await turn();
          }
          k.interleave = () => undefined;
          while (pending.length > 0) k.complete(pending.shift() as Producer);
          await quiesce(k);
          const before = q.stats.verdicts;
          assert.ok(k.offer(packet(++id)), `socket refuses messages: congested ${k.congested}, queued ${k.inbox.length}, sk_err ${k.skErr}`);
          await quiesce(k);
          assert.equal(q.stats.verdicts, before + 1);
        } finally {
          await q.close();
        }
      },
    ),
    { numRuns: 300 },
  );
});
