import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../../src/netlink/errors.js';
import { MessageWriter } from '../../../src/netlink/writer.js';
import { decodePacketMessage, encodePacketMessage, type PacketInfo } from '../../../src/nfqueue/packet.js';
import { readHexFixture } from '../../helpers/fixtures.js';

test('decodes a packet message the kernel sent (fields read by hand from the captured bytes)', () => {
  const p = decodePacketMessage(readHexFixture('nfqueue/packet-output-udp.hex'));
  assert.ok(!(p instanceof DecodeError), String(p));
  assert.equal(p.queue, 7);
  assert.equal(p.family, 2); // AF_INET
  assert.equal(p.id, 1);
  assert.equal(p.hwProtocol, 0x0800);
  assert.equal(p.hook, 3); // NF_INET_LOCAL_OUT
  assert.equal(p.mark, 0x4000);
  assert.equal(p.outdev, 1); // lo
  assert.equal(p.indev, undefined);
  assert.equal(p.uid, 0);
  assert.equal(p.gid, 0);
  assert.equal(p.payload?.length, 36);
  assert.equal(p.payload?.[0], 0x45);
  assert.equal(((p.payload?.[22] ?? 0) << 8) | (p.payload?.[23] ?? 0), 5555);
  assert.equal(new TextDecoder().decode(p.payload?.subarray(28)), 'nfqguard');
});

test('a packet message truncated at any offset is a DecodeError, never an exception', () => {
  const b = readHexFixture('nfqueue/packet-output-udp.hex');
  for (let cut = 0; cut < b.length; cut++) {
    const r = decodePacketMessage(b.slice(0, cut));
    assert.ok(r instanceof DecodeError, `cut at ${cut}`);
  }
  // The same bytes with nlmsg_len shrunk at every offset: the message ends early inside an attribute.
  for (let len = 16; len < b.length; len++) {
    const c = b.slice();
    new DataView(c.buffer).setUint32(0, len, true);
    const r = decodePacketMessage(c);
    if (!(r instanceof DecodeError)) {
      // Only a cut exactly between attributes can still be a valid (shorter) message.
      assert.ok(r.id === 1 || len < 31, `len ${len}`);
    }
  }
});

const u32 = fc.nat(0xffffffff);
const packetArb: fc.Arbitrary<PacketInfo> = fc.record(
  {
    queue: fc.nat(0xffff),
    family: fc.constantFrom(2, 10, 7),
    id: u32,
    hwProtocol: fc.nat(0xffff),
    hook: fc.nat(4),
    mark: u32,
    timestamp: fc.record({ sec: fc.nat(2 ** 40), usec: fc.nat(999_999) }),
    indev: u32,
    outdev: u32,
    physindev: u32,
    physoutdev: u32,
    hwaddr: fc.uint8Array({ minLength: 0, maxLength: 8 }),
    payload: fc.uint8Array({ maxLength: 200 }),
    ctInfo: u32,
    capLen: u32,
    skbInfo: u32,
    uid: u32,
    gid: u32,
    secctx: fc.stringMatching(/^[a-z_:]{1,30}$/),
    vlan: fc.record({ proto: fc.nat(0xffff), tci: fc.nat(0xffff) }),
    l2hdr: fc.uint8Array({ maxLength: 18 }),
    priority: u32,
  },
  { requiredKeys: ['queue', 'family', 'id', 'hwProtocol', 'hook', 'mark'] },
);

test('decode(encode(packet)) = packet, for every attribute the kernel sends', () => {
  fc.assert(
    fc.property(packetArb, (p) => {
      const w = new MessageWriter(64);
      encodePacketMessage(w, p);
      const back = decodePacketMessage(w.bytes().slice());
      assert.ok(!(back instanceof DecodeError), String(back));
      assert.deepEqual(back, structuredClone(p)); // fast-check records have no prototype
    }),
    { numRuns: 500 },
  );
});

test('arbitrary bytes never make the packet decoder throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = decodePacketMessage(bytes);
      assert.ok(r instanceof DecodeError || typeof r.id === 'number');
    }),
    { numRuns: 3000 },
  );
  // Valid headers around random attribute bytes reach the attribute walker.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (attrs) => {
      const b = new Uint8Array(20 + attrs.length);
      const v = new DataView(b.buffer);
      v.setUint32(0, b.length, true);
      v.setUint16(4, 0x0300, true);
      b.set(attrs, 20);
      const r = decodePacketMessage(b);
      assert.ok(r instanceof DecodeError || typeof r.id === 'number');
    }),
    { numRuns: 3000 },
  );
});
