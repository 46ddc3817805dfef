// The native layer returns -errno and throws only catchable TypeErrors for wrong arguments: nothing it
// does may abort the process. These run without root (netlink sockets need no privilege to open).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNative } from '../../../src/netlink/native.js';
import { NativeNetlinkSocket } from '../../../src/netlink/socket.js';
import { NETLINK_NETFILTER } from '../../../src/netlink/constants.js';

const EBADF = 9;
const ENOENT = 2;

test('closed or bogus descriptors give -EBADF, never a crash', () => {
  const n = loadNative();
  const buf = new Uint8Array(4096);
  const meta = new Int32Array(8);
  assert.equal(n.recvBatch(987654, buf, 1024, 4, meta), -EBADF);
  assert.equal(n.send(987654, buf, 0, 16), -EBADF);
  assert.equal(n.close(987654), -EBADF);
  assert.equal(n.setIntOption(987654, 1, 8, 1), -EBADF);
});

test('wrong argument types are catchable TypeErrors', () => {
  const n = loadNative() as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const [fn, args] of [
    ['open', ['x']],
    ['bind', []],
    ['recvBatch', [1, 'buf', 1, 1, null]],
    ['send', [1, new Uint8Array(4), 2, 10]],
    ['sendv', [1, []]],
    ['sendv', [1, ['not bytes']]],
    ['close', [{}]],
    // Typed arrays of another element type: the addon would read their element count as bytes (or
    // write int32 lengths into a byte array, past its end: a heap overflow that aborted the process).
    ['recvBatch', [1, new Uint8Array(4096), 64, 8, new Uint8Array(16)]],
    ['recvBatch', [1, new Float64Array(512), 64, 8, new Int32Array(16)]],
    ['send', [1, new Uint16Array(8), 0, 16]],
    ['sendv', [1, [new Uint8Array(4), new Int32Array(4)]]],
    // Numbers that Int32Value() would wrap: 2**32 + 1 would be fd 1, 2**40 fd 0.
    ['close', [2 ** 32 + 1]],
    ['recvBatch', [2 ** 40, new Uint8Array(4096), 64, 8, new Int32Array(16)]],
    ['send', [1.5, new Uint8Array(4), 0, 4]],
    ['setIntOption', [3, 1, 8, 2 ** 31]],
    ['recvBatch', [NaN, new Uint8Array(4096), 64, 8, new Int32Array(16)]],
  ] as const) {
    assert.throws(() => n[fn](...args), TypeError, fn);
  }
});

test('an empty socket reads 0 messages without blocking; a namespace that does not exist is -ENOENT', () => {
  const s = NativeNetlinkSocket.open(NETLINK_NETFILTER);
  try {
    assert.ok(s.portId > 0);
    const t0 = Date.now();
    assert.equal(s.recvBatch(new Uint8Array(8192), 4096, 2, new Int32Array(4)), 0);
    assert.ok(Date.now() - t0 < 100);
  } finally {
    s.close();
  }
  assert.equal(loadNative().open(NETLINK_NETFILTER, '/var/run/netns/nfqg-does-not-exist'), -ENOENT);
  assert.throws(() => NativeNetlinkSocket.open(NETLINK_NETFILTER, { netns: 'nfqg-does-not-exist' }), (e: Error & { errno?: number }) => e.errno === ENOENT && /network namespace nfqg-does-not-exist does not exist/.test(e.message));
});

test('a request the kernel refuses comes back as NLMSG_ERROR on the socket, with its sequence number', async () => {
  const s = NativeNetlinkSocket.open(NETLINK_NETFILTER);
  try {
    // NFQNL_MSG_CONFIG for queue 1 with an NFQA_CFG_FLAGS but no NFQA_CFG_MASK: EINVAL (or EPERM without root).
    const msg = Uint8Array.from(Buffer.from('1c0000000203050063000000000000000000000108000500000000 01'.replace(/ /g, ''), 'hex'));
    assert.equal(s.send(msg, 0, 28), 28);
    const buf = new Uint8Array(4096);
    const meta = new Int32Array(2);
    let n = 0;
    for (let i = 0; i < 100 && n === 0; i++) {
      n = s.recvBatch(buf, 4096, 1, meta);
      if (n === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(n, 1);
    const v = new DataView(buf.buffer);
    assert.equal(v.getUint16(4, true), 2, 'NLMSG_ERROR');
    assert.equal(v.getUint32(8, true), 0x63, 'answers sequence 0x63');
    assert.ok([-1, -22].includes(v.getInt32(16, true)), `error ${v.getInt32(16, true)}`);
  } finally {
    s.close();
  }
});

test('socket options as asked: buffers (the kernel doubles them), NETLINK_NO_ENOBUFS on and off, NETLINK_EXT_ACK on', () => {
  const SOL_SOCKET = 1;
  const SO_SNDBUF = 7;
  const SOL_NETLINK = 270;
  const NETLINK_NO_ENOBUFS = 5;
  const NETLINK_EXT_ACK = 11;
  const n = loadNative();
  const s = NativeNetlinkSocket.open(NETLINK_NETFILTER, { rcvBuf: 65536, sndBuf: 32768, noEnobufs: true });
  try {
    assert.equal(s.receiveBufferSize(), 131072);
    assert.equal(n.getIntOption(s.fd, SOL_SOCKET, SO_SNDBUF), 65536);
    assert.equal(n.getIntOption(s.fd, SOL_NETLINK, NETLINK_NO_ENOBUFS), 1);
    assert.equal(n.setIntOption(s.fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, 0), 0);
    assert.equal(n.getIntOption(s.fd, SOL_NETLINK, NETLINK_NO_ENOBUFS), 0);
    assert.equal(n.getIntOption(s.fd, SOL_NETLINK, NETLINK_EXT_ACK), 1);
  } finally {
    s.close();
  }
  assert.throws(() => NativeNetlinkSocket.open(NETLINK_NETFILTER, { rcvBuf: 2 ** 31 }), RangeError);
});
