import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageWriter } from '../../../src/netlink/writer.js';
import { encodeCommand, encodeFlags, encodeMaxLen, encodeParams, flagBits } from '../../../src/nfqueue/config.js';
import { encodeBatchVerdict, encodeVerdict, verdictCode } from '../../../src/nfqueue/verdict.js';
import { hex } from '../../helpers/fixtures.js';

// Expected bytes are written from the kernel's UAPI structs (nfnetlink_queue.h), not from the encoders.
// nlmsghdr fields are host order (little-endian here), nfnetlink values network order.

test('bind command: NFQA_CFG_CMD {command 1, pad, pf 0}', () => {
  const w = new MessageWriter();
  encodeCommand(w, 9, 80, 'bind');
  assert.deepEqual(w.bytes(), hex('1c000000 0203 0500 09000000 00000000 | 00000050 | 0800 0100 01 00 0000'));
});

test('params: NFQA_CFG_PARAMS {copy_range be32, copy_mode u8} packed, padded to 4', () => {
  const w = new MessageWriter();
  encodeParams(w, 1, 80, 'packet', 0xffff);
  assert.deepEqual(w.bytes(), hex('20000000 0203 0500 01000000 00000000 | 00000050 | 0900 0200 0000ffff 02 000000'));
});

test('queue length and flags (mask before flags: the kernel needs both)', () => {
  const w = new MessageWriter();
  encodeMaxLen(w, 2, 80, 4096);
  encodeFlags(w, 3, 80, 0x1, 0x5);
  assert.deepEqual(
    w.bytes(),
    hex('1c000000 0203 0500 02000000 00000000 00000050 0800 0300 00001000' + '24000000 0203 0500 03000000 00000000 00000050 0800 0400 00000005 0800 0500 00000001'),
  );
  assert.deepEqual(flagBits({ failOpen: true, gso: false }), { value: 0x1, mask: 0x5 });
  assert.deepEqual(flagBits({}), { value: 0, mask: 0 });
});

test('verdict with mark, ctmark and payload', () => {
  const w = new MessageWriter();
  encodeVerdict(w, 7, 80, 42, 1, true, 0x00104000, { mark: 0x1, mask: 0xff }, Uint8Array.from([0xaa, 0xbb]));
  assert.deepEqual(
    w.bytes(),
    hex(
      '44000000 0103 0100 07000000 00000000' + // len 68, NFQNL_MSG_VERDICT, NLM_F_REQUEST
        '00000050' +
        '0c00 0200 00000001 0000002a' + // NFQA_VERDICT_HDR {NF_ACCEPT, id 42}
        '0800 0300 00104000' + // NFQA_MARK
        '1400 0b80 0800 0800 00000001 0800 1500 000000ff' + // NFQA_CT (nested) {CTA_MARK, CTA_MARK_MASK}
        '0600 0a00 aabb 0000', // NFQA_PAYLOAD, padded
    ),
  );
});

test('verdict without mark leaves NFQA_MARK out; batch verdict', () => {
  const w = new MessageWriter();
  encodeVerdict(w, 1, 3, 5, 0, false, 0, null, null);
  encodeBatchVerdict(w, 2, 3, 99, 1, false, 0);
  assert.deepEqual(
    w.bytes(),
    hex('20000000 0103 0100 01000000 00000000 00000003 0c00 0200 00000000 00000005' + '20000000 0303 0100 02000000 00000000 00000003 0c00 0200 00000001 00000063'),
  );
});

test('verdict codes: queue number in the high 16 bits, bypass flag 0x8000', () => {
  assert.equal(verdictCode({ verdict: 'accept' }), 1);
  assert.equal(verdictCode({ verdict: 'drop' }), 0);
  assert.equal(verdictCode({ verdict: 'repeat' }), 4);
  assert.equal(verdictCode({ verdict: 'queue', queue: 81 }), 0x00510003);
  assert.equal(verdictCode({ verdict: 'queue', queue: 65535, bypass: true }), 0xffff8003);
});
