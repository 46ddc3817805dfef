import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageWriter } from '../../../src/netlink/writer.js';
import { AttrCursor } from '../../../src/netlink/cursor.js';
import { NlHeader } from '../../../src/netlink/message.js';
import { HOST_LE } from '../../../src/netlink/bytes.js';

// Expected bytes written out by hand from the kernel's struct layouts (not by the encoder).
test('MessageWriter encodes nlmsghdr, nfgenmsg and a padded attribute as the kernel lays them out', () => {
  assert.ok(HOST_LE, 'these expected bytes assume a little-endian host');
  const w = new MessageWriter(8);
  const start = w.beginMessage(0x0302, 0x0005, 7, 0);
  w.nfgenmsg(0, 0, 80);
  w.attrU8(9, 0xab);
  w.endMessage(start);
  const expected = Uint8Array.from([
    // nlmsghdr: len 28, type 0x0302, flags 0x0005, seq 7, pid 0 (host order)
    28, 0, 0, 0, 0x02, 0x03, 0x05, 0x00, 7, 0, 0, 0, 0, 0, 0, 0,
    // nfgenmsg: family 0, version 0, res_id 80 (network order)
    0, 0, 0, 80,
    // nlattr: len 5, type 9, value 0xab, 3 bytes of padding
    5, 0, 9, 0, 0xab, 0, 0, 0,
  ]);
  assert.deepEqual(w.bytes(), expected);
  const h = new NlHeader();
  assert.equal(h.fill(new DataView(w.buf.buffer), 0, w.length), null);
  assert.equal(h.len, 28);
  assert.equal(h.seq, 7);
});

test('AttrCursor keeps its first error and reads zeros afterwards', () => {
  const bytes = Uint8Array.from([8, 0, 1, 0, 0, 0, 0, 42, /* truncated header: */ 12, 0, 2, 0]);
  const c = new AttrCursor(new DataView(bytes.buffer), 0, bytes.length);
  assert.equal(c.next(), true);
  assert.equal(c.type, 1);
  assert.equal(c.u32be(), 42);
  assert.equal(c.u8(), 0); // fine: 4 bytes >= 1
  assert.equal(c.next(), false);
  assert.equal(c.err?.code, 'ERR_DECODE_TRUNCATED');
  assert.equal(c.next(), false, 'the error sticks');
});

test('an attribute longer than nla_len can say is a RangeError, not a wrapped length', () => {
  const w = new MessageWriter(8);
  w.attrBytes(10, new Uint8Array(65531)); // 65535 with its header: the largest
  assert.equal(new DataView(w.buf.buffer).getUint16(0, HOST_LE), 65535);
  assert.throws(() => w.attrBytes(10, new Uint8Array(65532)), RangeError);
});
