// After an overrun the queue also receives on a timer, because the kernel can leave the socket congested
// with nothing queued and nothing to wake the watcher (seen under floods by bench/queue). The fake kernel
// stands in for that: a datagram put in the inbox without a wake-up is only read by such a receive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageWriter } from '../../../src/netlink/writer.js';
import { encodePacketMessage } from '../../../src/nfqueue/packet.js';
import { NfQueue } from '../../../src/nfqueue/queue.js';
import { FakeKernel, until } from '../../helpers/fake-kernel.js';

function packet(id: number): Uint8Array {
  const w = new MessageWriter(128);
  encodePacketMessage(w, { queue: 80, family: 2, id, hwProtocol: 0x0800, hook: 1, mark: 0, payload: Uint8Array.from([0x45, 0, 0, 20]) });
  return w.bytes().slice();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('after an overrun, a datagram that arrives without a wake-up is still received', async () => {
  const k = new FakeKernel();
  const q = await NfQueue.open({ queue: 80, transport: k, onPacket: () => undefined });
  try {
    k.recvErrors.push(-105); // ENOBUFS
    k.deliver(packet(1));
    await until(() => q.stats.verdicts === 1);
    assert.equal(q.stats.enobufs, 1);
    k.inbox.push(packet(2)); // no wake-up, as on the congested socket
    await until(() => q.stats.verdicts === 2, 1000);
    assert.deepEqual(
      k.verdicts().map((m) => m.id),
      [1, 2],
    );
  } finally {
    await q.close();
  }
});

test('without an overrun there is no receive on a timer', async () => {
  const k = new FakeKernel();
  const q = await NfQueue.open({ queue: 80, transport: k, onPacket: () => undefined });
  try {
    k.deliver(packet(1));
    await until(() => q.stats.verdicts === 1);
    k.inbox.push(packet(2));
    await sleep(300);
    assert.equal(q.stats.verdicts, 1, 'only a wake-up reads it');
  } finally {
    await q.close();
  }
});

test('a paused queue does not receive on the overrun timer', async () => {
  const k = new FakeKernel();
  const q = await NfQueue.open({ queue: 80, transport: k, onPacket: () => undefined });
  try {
    k.recvErrors.push(-105);
    k.deliver(packet(1));
    await until(() => q.stats.verdicts === 1);
    q.pause();
    k.inbox.push(packet(2));
    await sleep(300);
    assert.equal(q.stats.verdicts, 1, 'paused: packets wait in the kernel');
    q.resume();
    await until(() => q.stats.verdicts === 2, 1000);
  } finally {
    await q.close();
  }
});
