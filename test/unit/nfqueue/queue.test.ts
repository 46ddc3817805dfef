import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageWriter } from '../../../src/netlink/writer.js';
import { encodePacketMessage, type PacketInfo } from '../../../src/nfqueue/packet.js';
import { NfQueue, QueueBusyError, type QueueEvent, type QueueOptions } from '../../../src/nfqueue/queue.js';
import { FakeKernel, until } from '../../helpers/fake-kernel.js';

function packet(id: number, extra: Partial<PacketInfo> = {}): Uint8Array {
  const w = new MessageWriter(128);
  encodePacketMessage(w, { queue: 80, family: 2, id, hwProtocol: 0x0800, hook: 1, mark: 0, payload: Uint8Array.from([0x45, 0, 0, 20]), ...extra });
  return w.bytes().slice();
}

async function open(k: FakeKernel, opts: Partial<QueueOptions> = {}): Promise<{ q: NfQueue; events: QueueEvent[] }> {
  const events: QueueEvent[] = [];
  const q = await NfQueue.open({ queue: 80, transport: k, onPacket: () => undefined, onEvent: (e) => events.push(e), ...opts });
  return { q, events };
}

test('open binds the queue, sets copy mode and fail-open, each acknowledged', async () => {
  const k = new FakeKernel();
  const { q } = await open(k, { maxLen: 4096 });
  const cfg = k.sent.filter((m) => m.type === 'config');
  assert.deepEqual(
    cfg.map((m) => [m.configCommand ?? null, [...m.attrs.keys()]]),
    [
      [1, [1]], // NFQA_CFG_CMD bind
      [null, [2]], // NFQA_CFG_PARAMS
      [null, [3]], // NFQA_CFG_QUEUE_MAXLEN
      [null, [4, 5]], // NFQA_CFG_MASK, NFQA_CFG_FLAGS (fail-open on by default)
    ],
  );
  assert.equal(k.sendCalls, 1, 'all configuration goes in one datagram');
  await Promise.all([q.close(), q.close()]); // e.g. SIGTERM while a shutdown is already under way
  await q.close();
  const unbind = k.sent.filter((m) => m.configCommand === 2);
  assert.equal(unbind.length, 1);
  assert.equal(k.closed, true);
});

test('a queue held by someone else is a QueueBusyError naming the queue', async () => {
  const k = new FakeKernel();
  k.bindErrno = 1; // EPERM
  await assert.rejects(open(k), (e: unknown) => e instanceof QueueBusyError && e.queue === 80 && /queue 80 is already bound/.test(e.message));
  assert.equal(k.closed, true, 'the socket is closed on failure');
});

test('runs of plain verdicts are folded into one batch verdict; marked ones go alone, in order', async () => {
  const k = new FakeKernel();
  const { q } = await open(k, {
    markMask: 0x00f00000,
    onPacket: (p) => (p.id === 2 ? { verdict: 'accept', mark: 0x00100000 } : undefined),
  });
  for (const d of [packet(1), packet(2, { mark: 0x4000 }), packet(3), packet(4), packet(5)]) k.inbox.push(d);
  k.deliver(packet(6));
  await until(() => q.stats.verdicts === 6);
  const v = k.verdicts();
  assert.deepEqual(
    v.map((m) => [m.type, m.id, m.verdict, m.mark]),
    [
      ['verdict', 1, 1, undefined],
      ['verdict', 2, 1, 0x00104000], // 0x4000 kept, owned bits set
      ['batch', 6, 1, undefined],
    ],
  );
  assert.equal(k.sendCalls - 1, 1, 'one send for the whole batch');
  assert.equal(q.stats.batchMessages, 1);
  await q.close();
});

test('without batching every packet gets its own verdict', async () => {
  const k = new FakeKernel();
  const { q } = await open(k, { batchVerdicts: false });
  for (let i = 1; i <= 3; i++) k.inbox.push(packet(i));
  k.deliver(packet(4));
  await until(() => q.stats.verdicts === 4);
  assert.deepEqual(
    k.verdicts().map((m) => [m.type, m.id]),
    [1, 2, 3, 4].map((id) => ['verdict', id]),
  );
  await q.close();
});

test('a mark equal to the packet mark sends no NFQA_MARK (the kernel keeps the mark as it is)', async () => {
  const k = new FakeKernel();
  const { q } = await open(k, { markMask: 0xff, onPacket: () => ({ verdict: 'accept', mark: 0x12 }) });
  k.deliver(packet(1, { mark: 0xab12 }));
  await until(() => q.stats.verdicts === 1);
  assert.equal(k.verdicts()[0].mark, undefined);
  assert.equal(q.stats.marked, 0);
  await q.close();
});

test('bits outside the owned mask are refused: event, counter, and the packet keeps its mark', async () => {
  const k = new FakeKernel();
  const { q, events } = await open(k, { markMask: 0x00f00000, onPacket: () => ({ verdict: 'accept', mark: 0x8000 }) });
  k.deliver(packet(1, { mark: 0x4000 }));
  await until(() => q.stats.verdicts === 1);
  assert.equal(q.stats.ownershipErrors, 1);
  assert.equal(events[0]?.type, 'ownership-error');
  const v = k.verdicts()[0];
  assert.equal(v.verdict, 1);
  assert.equal(v.mark, undefined);
  await q.close();
});

test('unsafeWholeMark replaces the whole mark, as nfq_set_verdict2 does (the seed)', async () => {
  const k = new FakeKernel();
  const { q, events } = await open(k, { unsafeWholeMark: true, onPacket: () => ({ verdict: 'accept', mark: 0x8000 }) });
  assert.equal(events[0]?.type, 'warning');
  k.deliver(packet(1, { mark: 0x4000 }));
  await until(() => q.stats.verdicts === 1);
  assert.equal(k.verdicts()[0].mark, 0x8000);
  await q.close();
});

test('a handler that throws gets the default verdict and an event; the loop goes on', async () => {
  const k = new FakeKernel();
  let n = 0;
  const { q, events } = await open(k, {
    defaultVerdict: 'drop',
    onPacket: () => {
      if (++n === 1) throw new Error('boom');
      return { verdict: 'accept' };
    },
  });
  k.inbox.push(packet(1));
  k.deliver(packet(2));
  await until(() => q.stats.verdicts === 2);
  assert.deepEqual(
    k.verdicts().map((m) => [m.id, m.verdict]),
    [
      [1, 0],
      [2, 1],
    ],
  );
  assert.equal(q.stats.handlerErrors, 1);
  assert.equal(events.find((e) => e.type === 'handler-error')?.type, 'handler-error');
  await q.close();
});

test('a decision the kernel cannot take (unknown verdict, queue or mark out of range) is a handler error, not a drop', async () => {
  const k = new FakeKernel();
  const bad: unknown[] = [
    { verdict: 'acept' }, // a typo would otherwise encode as 0: NF_DROP
    { verdict: 'queue', queue: 70000 }, // would wrap into queue 4464
    { verdict: 'queue' },
    { verdict: 'accept', mark: 2 ** 32 + 0x100000 }, // would be truncated to 0x100000
    { verdict: 'accept', mark: -1 },
    { verdict: 'accept', ctMark: 1.5 },
    'accept',
    { verdict: 'accept', payload: new Uint8Array(65532) }, // nla_len would wrap to 0
    Promise.resolve({ verdict: 'accept' }), // an async handler
  ];
  const { q, events } = await open(k, { markMask: 0x00f00000, onPacket: (p) => (p.id <= bad.length ? bad[p.id - 1] : { verdict: 'drop' }) as never });
  for (let id = 1; id <= bad.length; id++) k.inbox.push(packet(id));
  k.deliver(packet(bad.length + 1));
  await until(() => q.stats.verdicts === bad.length + 1);
  const v = k.verdicts();
  // A batch verdict covers every id up to its own that no earlier message decided.
  const byId = new Map<number, { verdict?: number; mark?: number }>();
  for (const m of v) {
    if (m.type === 'batch') for (let id = 1; id <= (m.id ?? 0); id++) if (!byId.has(id)) byId.set(id, m);
    if (m.type === 'verdict') byId.set(m.id ?? -1, m);
  }
  for (let id = 1; id <= bad.length; id++) {
    assert.equal(byId.get(id)?.verdict, 1, `packet ${id} gets the default verdict (accept)`);
    assert.equal(byId.get(id)?.mark, undefined, `packet ${id} keeps its mark`);
  }
  assert.equal(byId.get(bad.length + 1)?.verdict, 0);
  assert.equal(q.stats.handlerErrors, bad.length);
  const messages = events.filter((e) => e.type === 'handler-error').map((e) => String((e as { error: Error }).error.message));
  assert.match(messages[0], /unknown verdict "acept"/);
  assert.match(messages[1], /queue number from 0 to 65535, got 70000/);
  assert.match(messages[3], /mark must be an integer/);
  assert.match(messages[7], /payload of 65532 bytes is too long: a netlink attribute holds at most 65531/);
  assert.match(messages[8], /returned a Promise: it must decide synchronously/);
  await q.close();
});

test('malformed and truncated messages are counted; a readable id still gets a verdict', async () => {
  const k = new FakeKernel();
  const { q } = await open(k, { copyMode: 'meta', batchVerdicts: false }); // slots of 1024 bytes; one verdict per id
  const bad = packet(7);
  const v = new DataView(bad.buffer);
  v.setUint16(20 + 12, 200, true); // second attribute claims 200 bytes: runs past the message
  k.inbox.push(bad);
  k.inbox.push(Uint8Array.from([1, 2, 3])); // not even a header
  k.deliver(packet(8, { payload: new Uint8Array(3000) })); // bigger than the slot: MSG_TRUNC
  await until(() => q.stats.verdicts === 2);
  assert.deepEqual(k.verdicts().map((m) => m.id).sort(), [7, 8]);
  assert.equal(q.stats.malformed, 3); // the bad attribute, the 3 bytes, the truncated packet
  assert.equal(q.stats.truncated, 1);
  await q.close();
});

test('ENOBUFS is counted and reported; the loop reads on', async () => {
  const k = new FakeKernel();
  const { q, events } = await open(k);
  k.recvErrors.push(-105);
  k.deliver(packet(1));
  await until(() => q.stats.verdicts === 1);
  assert.equal(q.stats.enobufs, 1);
  assert.ok(events.some((e) => e.type === 'enobufs'));
  await q.close();
});

test('after libuv stops the watcher on POLLERR (a pending ENOBUFS) the queue reads the error and re-arms', async () => {
  const k = new FakeKernel();
  const { q } = await open(k);
  k.recvErrors.push(-105);
  k.fireError(-9); // UV_EBADF: libuv's report of POLLERR
  await until(() => q.stats.enobufs === 1);
  assert.equal(k.watching, true, 'watching again');
  k.deliver(packet(1));
  await until(() => q.stats.verdicts === 1);
  await q.close();
});

test('ctmark: owned bits go in NFQA_CT with the mask; others are refused', async () => {
  const k = new FakeKernel();
  const { q } = await open(k, {
    ctMarkMask: 0xff,
    onPacket: (p) => (p.id === 1 ? { verdict: 'accept', ctMark: 0x01 } : { verdict: 'accept', ctMark: 0x100 }),
  });
  k.inbox.push(packet(1));
  k.deliver(packet(2));
  await until(() => q.stats.verdicts === 2);
  const [a, b] = k.verdicts();
  assert.deepEqual(a.ct, { mark: 0x01, mask: 0xff });
  assert.equal(b.ct, undefined);
  assert.equal(q.stats.ownershipErrors, 1);
  await q.close();
});

test('ctMarkMask on a kernel without the ctnetlink glue: open warns that ctmark verdicts are ignored; with it, no warning', async () => {
  for (const noCtGlue of [true, false]) {
    const k = new FakeKernel();
    k.noCtGlue = noCtGlue;
    const { q, events } = await open(k, { ctMarkMask: 0xff });
    const warnings = events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
    assert.deepEqual(warnings.length, noCtGlue ? 1 : 0, String(warnings));
    if (noCtGlue) assert.match(warnings[0], /without CONFIG_NETFILTER_NETLINK_GLUE_CT.*ctMarkMask 0x000000ff/);
    // The probe leaves the conntrack flag as it was: off.
    const flagMsgs = k.sent.filter((m) => m.type === 'config' && m.attrs.has(5));
    const last = flagMsgs[flagMsgs.length - 1];
    assert.deepEqual([last.attrs.get(4), last.attrs.get(5)].map((b) => Buffer.from(b as Uint8Array).toString('hex')), ['00000002', '00000000']);
    await q.close();
  }
  const k = new FakeKernel();
  const { q, events } = await open(k);
  assert.equal(k.sent.filter((m) => m.type === 'config' && m.attrs.has(5)).length, 1, 'no probe without ctMarkMask');
  assert.equal(events.length, 0);
  await q.close();
});

test('queue-to-N with bypass, repeat, and a payload replacement are encoded as asked', async () => {
  const k = new FakeKernel();
  const { q } = await open(k, {
    onPacket: (p) =>
      p.id === 1 ? { verdict: 'queue', queue: 81, bypass: true } : p.id === 2 ? { verdict: 'repeat' } : { verdict: 'accept', payload: Uint8Array.from([9, 9]) },
  });
  k.inbox.push(packet(1));
  k.inbox.push(packet(2));
  k.deliver(packet(3));
  await until(() => q.stats.verdicts === 3);
  const v = k.verdicts();
  assert.deepEqual(
    v.map((m) => [m.id, m.verdict]),
    [
      [1, 0x00518003],
      [2, 4],
      [3, 1],
    ],
  );
  assert.deepEqual(v[2].payload, Uint8Array.from([9, 9]));
  await q.close();
});

test('verdicts that exceed the send limit together go out in several datagrams, in order; one that cannot fit alone gets the default verdict', async () => {
  const k = new FakeKernel();
  k.maxDatagram = 3000;
  const { q, events } = await open(k, {
    onPacket: (p) => (p.id === 5 ? { verdict: 'accept', payload: new Uint8Array(5000) } : p.id % 3 === 0 ? { verdict: 'drop' } : { verdict: 'accept', payload: new Uint8Array(900) }),
  });
  for (let id = 1; id < 12; id++) k.inbox.push(packet(id));
  k.deliver(packet(12));
  await until(() => q.stats.verdicts === 12);
  assert.equal(q.stats.sendErrors, 0);
  assert.ok(k.sendSizes.every((n) => n <= 3000), String(k.sendSizes));
  assert.ok(k.sendSizes.length >= 4, `${k.sendSizes.length} datagrams`);
  // Each id decided once, in order; 3, 6, 9, 12 dropped; 5 accepted without its payload.
  const v = k.verdicts();
  assert.deepEqual(
    v.map((m) => [m.id, m.verdict, m.payload?.length ?? 0]),
    [
      [1, 1, 900],
      [2, 1, 900],
      [3, 0, 0],
      [4, 1, 900],
      [5, 1, 0],
      [6, 0, 0],
      [7, 1, 900],
      [8, 1, 900],
      [9, 0, 0],
      [10, 1, 900],
      [11, 1, 900],
      [12, 0, 0],
    ],
  );
  const err = events.find((e) => e.type === 'handler-error') as { error: Error; id: number } | undefined;
  assert.equal(err?.id, 5);
  assert.match(err?.error.message ?? '', /payload of 5000 bytes does not fit in the socket's send buffer \(3000 bytes per message\)/);
  await q.close();
});

test('a transient send failure (ENOBUFS) is retried: every verdict arrives, in order; a lasting one is given up and reported', async () => {
  const k = new FakeKernel();
  const { q, events } = await open(k, { markMask: 0xff, onPacket: (p) => (p.id % 2 ? { verdict: 'accept', mark: p.id } : { verdict: 'drop' }) });
  k.sendErrors.push(-105, -105, -12);
  k.deliver(packet(1));
  await until(() => q.stats.verdicts === 1);
  // Sent while the first datagram waits for its retry: they queue behind it.
  k.inbox.push(packet(2));
  k.deliver(packet(3));
  await until(() => k.verdicts().length === 3);
  assert.deepEqual(
    k.verdicts().map((m) => [m.id, m.verdict, m.mark]),
    [
      [1, 1, 1],
      [2, 0, undefined],
      [3, 1, 3],
    ],
  );
  assert.equal(q.stats.sendErrors, 0);
  assert.equal(events.filter((e) => e.type === 'send-error').length, 0);

  k.sendErrors.push(...Array.from({ length: 52 }, () => -105)); // the first try and 51 retries
  k.deliver(packet(4));
  await until(() => q.stats.sendErrors === 1, 3000);
  const err = events.find((e) => e.type === 'send-error') as { error: Error } | undefined;
  assert.match(err?.error.message ?? '', /ENOBUFS \(52 attempts/);
  k.deliver(packet(5)); // sending works again afterwards
  await until(() => k.verdicts().some((m) => m.id === 5));
  await q.close();
});

test('close gives up the verdicts a lasting send failure still holds back, and reports every one', async () => {
  const k = new FakeKernel();
  const { q, events } = await open(k, { onPacket: () => ({ verdict: 'accept' }) });
  k.sendErrors.push(...Array.from({ length: 400 }, () => -105));
  // Three verdict datagrams: the first waits for its retry, the other two queue behind it.
  for (const id of [1, 2, 3]) {
    k.deliver(packet(id));
    await until(() => q.stats.verdicts === id);
  }
  await q.close();
  // The unbind drops those packets: none may be lost without a word.
  assert.equal(q.stats.sendErrors, 3);
  assert.equal(events.filter((e) => e.type === 'send-error').length, 3);
  assert.equal(k.verdicts().length, 0);
});

test('pause stops reading; resume reads what waited', async () => {
  const k = new FakeKernel();
  const { q } = await open(k);
  q.pause();
  assert.equal(k.watching, false);
  k.deliver(packet(1));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(q.stats.packets, 0);
  q.resume();
  await until(() => q.stats.verdicts === 1);
  await q.close();
});
