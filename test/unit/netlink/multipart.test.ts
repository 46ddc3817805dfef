// Multi-part replies: hand-laid bytes (include/uapi/linux/netlink.h), every split and truncation, and a
// real dump from the kernel (rtnetlink's link table needs no privilege), checked against /sys/class/net.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { MultipartReply } from '../../../src/netlink/message.js';
import { DecodeError } from '../../../src/netlink/errors.js';
import { NETLINK_ROUTE, NLM_F_DUMP, NLM_F_REQUEST } from '../../../src/netlink/constants.js';
import { NativeNetlinkSocket } from '../../../src/netlink/socket.js';
import { HOST_LE } from '../../../src/netlink/bytes.js';
import { hex } from '../../helpers/fixtures.js';

// Two parts of a dump (type 0x10, NLM_F_MULTI, seq 9), a message of another request (seq 8), then
// NLMSG_DONE (type 3, NLM_F_MULTI) with error 0.
const PART_A = '14000000 1000 0200 09000000 00000000 aabbccdd';
const PART_B = '18000000 1000 0200 09000000 00000000 01020304 05060708';
const OTHER = '14000000 1000 0200 08000000 00000000 ffffffff';
const DONE_OK = '14000000 0300 0200 09000000 00000000 00000000';

function feedAll(r: MultipartReply, datagrams: Uint8Array[]): boolean[] {
  return datagrams.map((d) => r.feed(new DataView(d.buffer, d.byteOffset, d.byteLength), 0, d.length));
}

test('a dump over two datagrams: parts in order, other sequences ignored, complete at NLMSG_DONE', () => {
  const r = new MultipartReply(9);
  assert.deepEqual(feedAll(r, [hex(PART_A + OTHER), hex(PART_B + DONE_OK)]), [false, true]);
  assert.deepEqual(
    r.parts.map((p) => Buffer.from(p.body).toString('hex')),
    ['aabbccdd', '0102030405060708'],
  );
  assert.equal(r.end?.errno, 0);
  assert.equal(r.interrupted, false);
  assert.equal(r.problem, null);
});

test('NLMSG_DONE with an error and an extended ack; NLM_F_DUMP_INTR is reported', () => {
  const r = new MultipartReply(9);
  const intr = '14000000 1000 1200 09000000 00000000 aabbccdd'; // NLM_F_MULTI | NLM_F_DUMP_INTR
  // DONE: flags MULTI | ACK_TLVS, error -4 (EINTR), NLMSGERR_ATTR_MSG "again\0" padded to 8.
  const done = '20000000 0300 0202 09000000 00000000 fcffffff 0a000100 61676169 6e000000';
  assert.deepEqual(feedAll(r, [hex(intr + done)]), [true]);
  assert.equal(r.interrupted, true);
  assert.equal(r.end?.errno, 4);
  assert.equal(r.end?.extAck, 'again');
});

test('an NLMSG_ERROR for the request ends the reply with its errno', () => {
  const r = new MultipartReply(9);
  const err = '24000000 0200 0001 09000000 00000000 edffffff 14000000 1200 0103 09000000 00000000'; // -19 ENODEV, capped
  assert.deepEqual(feedAll(r, [hex(err)]), [true]);
  assert.equal(r.end?.errno, 19);
  assert.equal(r.parts.length, 0);
});

test('every truncation of the reply is a DecodeError or an incomplete reply, never an exception or a wrong part', () => {
  const whole = hex(PART_A + PART_B + DONE_OK);
  for (let cut = 0; cut < whole.length; cut++) {
    const r = new MultipartReply(9);
    const done = r.feed(new DataView(whole.buffer, 0, cut), 0, cut);
    if (done) assert.ok(r.problem instanceof DecodeError, `cut ${cut}`);
    assert.ok(r.parts.length <= 2);
    if (r.parts[1]) assert.equal(Buffer.from(r.parts[1].body).toString('hex'), '0102030405060708');
  }
});

test('arbitrary datagrams never throw', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 4 }), fc.nat(20), (grams, seq) => {
      const r = new MultipartReply(seq);
      for (const g of grams) r.feed(new DataView(g.buffer, g.byteOffset, g.byteLength), 0, g.length);
      assert.ok(r.problem === null || r.problem instanceof DecodeError);
    }),
    { numRuns: 1000 },
  );
});

test('a real dump: RTM_GETLINK returns one RTM_NEWLINK per interface in /sys/class/net, then NLMSG_DONE', async () => {
  const RTM_NEWLINK = 16;
  const RTM_GETLINK = 18;
  const s = NativeNetlinkSocket.open(NETLINK_ROUTE);
  try {
    // nlmsghdr (32 bytes in all, RTM_GETLINK, REQUEST|DUMP, seq 4242), then struct ifinfomsg: 16 zero
    // bytes, family AF_UNSPEC (all links).
    const req = new Uint8Array(32);
    const v = new DataView(req.buffer);
    v.setUint32(0, 32, HOST_LE);
    v.setUint16(4, RTM_GETLINK, HOST_LE);
    v.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, HOST_LE);
    v.setUint32(8, 4242, HOST_LE);
    assert.equal(s.send(req, 0, req.length), 32);
    const r = new MultipartReply(4242);
    const buf = new Uint8Array(32 * 1024);
    const meta = new Int32Array(2);
    let datagrams = 0;
    for (let i = 0; i < 500 && !r.complete; i++) {
      const n = s.recvBatch(buf, buf.length, 1, meta);
      if (n === 0) await new Promise((res) => setTimeout(res, 2));
      else {
        assert.ok(n > 0, `recv ${n}`);
        datagrams++;
        r.feed(new DataView(buf.buffer), 0, meta[0]);
      }
    }
    assert.equal(r.problem, null);
    assert.equal(r.end?.errno, 0, 'the dump ended with NLMSG_DONE and no error');
    assert.ok(r.parts.every((p) => p.type === RTM_NEWLINK));
    const names = r.parts
      .map((p) => {
        // IFLA_IFNAME (3) among the attributes after struct ifinfomsg.
        const v = new DataView(p.body.buffer, p.body.byteOffset, p.body.byteLength);
        for (let off = 16; off + 4 <= p.body.length; ) {
          const len = v.getUint16(off, true);
          if (len < 4) break;
          if ((v.getUint16(off + 2, true) & 0x3fff) === 3) return Buffer.from(p.body.subarray(off + 4, off + len)).toString().replace(/\0.*$/, '');
          off += (len + 3) & ~3;
        }
        return '?';
      })
      .sort();
    assert.deepEqual(names, readdirSync('/sys/class/net').sort());
    assert.ok(datagrams >= 1);
  } finally {
    s.close();
  }
});
