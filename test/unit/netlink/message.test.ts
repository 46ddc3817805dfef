import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NlHeader, decodeError } from '../../../src/netlink/message.js';
import { DecodeError } from '../../../src/netlink/errors.js';
import { indexAttributes } from '../../../src/netlink/cursor.js';
import { hex, readHexFixture } from '../../helpers/fixtures.js';

test('decodes the kernel-captured ACK to a config request', () => {
  const b = readHexFixture('nfqueue/ack-config.hex');
  const v = new DataView(b.buffer);
  const h = new NlHeader();
  assert.equal(h.fill(v, 0, b.length), null);
  assert.equal(h.type, 2); // NLMSG_ERROR
  assert.equal(h.flags, 0x100); // NLM_F_CAPPED
  const e = decodeError(v, 0, h);
  assert.ok(!(e instanceof DecodeError));
  assert.equal(e.errno, 0);
  assert.equal(e.seq, 2);
  assert.equal(e.requestType, 0x0302); // NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_CONFIG
});

test('decodes an error with an extended ack message (bytes laid out from include/uapi/linux/netlink.h)', () => {
  const b = hex(
    '2c000000 0200 0003 05000000 01000000' + // nlmsghdr: len 44, NLMSG_ERROR, CAPPED|ACK_TLVS, seq 5
      'ffffffff' + // error -1 (EPERM)
      '14000000 0203 0500 05000000 00000000' + // echoed request header
      '08000100 626164 00', // NLMSGERR_ATTR_MSG "bad\0"
  );
  const v = new DataView(b.buffer);
  const h = new NlHeader();
  assert.equal(h.fill(v, 0, b.length), null);
  const e = decodeError(v, 0, h);
  assert.ok(!(e instanceof DecodeError));
  assert.equal(e.errno, 1);
  assert.equal(e.seq, 5);
  assert.equal(e.extAck, 'bad');
});

test('header and error decoding never throw on a message truncated at any offset', () => {
  const b = readHexFixture('nfqueue/ack-config.hex');
  for (let cut = 0; cut < b.length; cut++) {
    const part = b.slice(0, cut);
    const v = new DataView(part.buffer);
    const h = new NlHeader();
    const err = h.fill(v, 0, part.length);
    assert.ok(err instanceof DecodeError, `cut at ${cut} must be reported`);
  }
});

test('arbitrary bytes give a header, an error value or a DecodeError, never an exception', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const h = new NlHeader();
      const err = h.fill(v, 0, bytes.length);
      if (err === null) {
        const e = decodeError(v, 0, h);
        assert.ok(e instanceof DecodeError || typeof e.errno === 'number');
      }
      const offs = new Int32Array(32);
      const lens = new Int32Array(32);
      const r = indexAttributes(v, 0, bytes.length, offs, lens);
      assert.ok(r === null || r instanceof DecodeError);
    }),
    { numRuns: 2000 },
  );
});
