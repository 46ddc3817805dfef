import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fixChecksums, fixIpv4HeaderChecksum } from '../../../src/packet/checksum.js';
import { hex } from '../../helpers/fixtures.js';

/** One's complement sum folded; a correct checksum makes the covered data sum to 0xffff. */
function onesSum(parts: Uint8Array[]): number {
  let s = 0;
  for (const b of parts) {
    for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (i + 1 < b.length ? b[i + 1] : 0);
  }
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function pseudo4(pkt: Uint8Array, proto: number, l4len: number): Uint8Array {
  return Uint8Array.from([...pkt.subarray(12, 20), 0, proto, l4len >> 8, l4len & 0xff]);
}

test('IPv4 header checksum of a textbook header (RFC 1071 style example: b861)', () => {
  const h = hex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
  fixIpv4HeaderChecksum(h);
  assert.equal((h[10] << 8) | h[11], 0xb861);
});

test('the kernel-captured UDP packet keeps its checksum when nothing changed', () => {
  // payload of test/fixtures/nfqueue/packet-output-udp.hex: checksum 0x598f as the sender computed it
  const p = hex('450000249d6a400040119f5c7f0000017f000001caf515b30010598f6e66716775617264');
  const before = Uint8Array.from(p);
  assert.equal(fixChecksums(p), true);
  assert.deepEqual(p, before);
});

test('after a rewrite, IPv4 and UDP/TCP checksums verify (sum of covered data is 0xffff)', () => {
  fc.assert(
    fc.property(fc.constantFrom(6, 17), fc.uint8Array({ minLength: 0, maxLength: 60 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), (proto, data, addrs) => {
      const l4hdr = proto === 6 ? 20 : 8;
      const pkt = new Uint8Array(20 + l4hdr + data.length);
      pkt.set([0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto], 0);
      pkt.set(addrs, 12);
      if (proto === 6) pkt[20 + 12] = 0x50; // data offset 5
      pkt.set(data, 20 + l4hdr);
      assert.equal(fixChecksums(pkt), true);
      assert.equal(onesSum([pkt.subarray(0, 20)]), 0xffff, 'IPv4 header');
      const l4 = pkt.subarray(20);
      assert.equal(onesSum([pseudo4(pkt, proto, l4.length), l4]), 0xffff, 'L4 with pseudo-header');
    }),
  );
});

test('IPv6 UDP checksum verifies; fragments and other protocols are left alone', () => {
  const pkt = new Uint8Array(40 + 8 + 5);
  pkt[0] = 0x60;
  pkt[6] = 17;
  pkt[7] = 64;
  pkt[23] = 1; // ::1
  pkt[39] = 1;
  pkt.set([0x30, 0x39, 0x15, 0xb3], 40);
  pkt.set([1, 2, 3, 4, 5], 48);
  assert.equal(fixChecksums(pkt), true);
  const l4 = pkt.subarray(40);
  const ph = new Uint8Array(40);
  ph.set(pkt.subarray(8, 40), 0);
  ph[35] = l4.length;
  ph[39] = 17;
  assert.equal(onesSum([ph, l4]), 0xffff);
  const frag = hex('4500 001c 0000 2000 4011 0000 7f000001 7f000001 0000000000080000');
  assert.equal(fixChecksums(frag), false, 'a first fragment (MF set) has no full L4 to checksum');
  const icmp = hex('4500 001c 0000 0000 4001 0000 7f000001 7f000001 0800000000000000');
  assert.equal(fixChecksums(icmp), false);
  assert.equal(fixChecksums(new Uint8Array(0)), false);
});
