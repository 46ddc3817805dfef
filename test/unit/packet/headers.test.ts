import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PARSE_BAD_VERSION, PARSE_OK, PARSE_TRUNCATED_L3, PARSE_TRUNCATED_L4, PacketHeaders, TCP_ACK, TCP_SYN } from '../../../src/packet/headers.js';
import { ipv6Text, wordsToGroups } from '../../../src/util/ip.js';

const ipv6ToString = (w: number[]): string => ipv6Text(wordsToGroups(w));
import { ipv4Packet, ipv6Packet } from '../../helpers/packets.js';

test('IPv4 TCP: addresses, ports, flags and payload bounds', () => {
  const h = new PacketHeaders();
  const pkt = ipv4Packet('tcp', { src: '192.0.2.7', dst: '10.1.2.3', sport: 5555, dport: 443, flags: TCP_SYN, payload: 'hello' });
  assert.equal(h.parse(pkt), PARSE_OK);
  assert.equal(h.version, 4);
  assert.equal(h.protocol, 6);
  assert.equal(h.srcAddress(), '192.0.2.7');
  assert.equal(h.dstAddress(), '10.1.2.3');
  assert.equal(h.sport, 5555);
  assert.equal(h.dport, 443);
  assert.equal(h.tcpFlags, TCP_SYN);
  assert.equal(new TextDecoder().decode(h.payload), 'hello');
});

test('IPv4 UDP, and a copy range that cut the packet short', () => {
  const h = new PacketHeaders();
  const pkt = ipv4Packet('udp', { sport: 53, dport: 3333, payload: 'abcdefgh' });
  assert.equal(h.parse(pkt), PARSE_OK);
  assert.equal(h.protocol, 17);
  assert.equal(h.payloadLength, 8);
  assert.equal(h.parse(pkt.subarray(0, 30)), PARSE_OK);
  assert.equal(h.payloadLength, 2, 'payload is what was copied, not what the IP header claims');
  assert.equal(h.parse(pkt.subarray(0, 24)), PARSE_TRUNCATED_L4);
  assert.equal(h.parse(pkt.subarray(0, 19)), PARSE_TRUNCATED_L3);
  assert.equal(h.parse(Uint8Array.of(0x55, 0, 0)), PARSE_BAD_VERSION);
});

test('IPv6 TCP through hop-by-hop and destination-options headers', () => {
  const h = new PacketHeaders();
  const pkt = ipv6Packet('tcp', { src: 'fd00::1:2', dst: '2001:db8::9', dport: 8080, flags: TCP_SYN | TCP_ACK, payload: 'x' }, [
    [0, 0, 1, 4, 0, 0, 0, 0].slice(0, 8),
    [60, 0, 1, 4, 0, 0, 0, 0],
  ]);
  assert.equal(h.parse(pkt), PARSE_OK);
  assert.equal(h.version, 6);
  assert.equal(h.protocol, 6);
  assert.equal(h.srcAddress(), 'fd00::1:2');
  assert.equal(h.dstAddress(), '2001:db8::9');
  assert.equal(h.dport, 8080);
  assert.equal(h.tcpFlags, TCP_SYN | TCP_ACK);
  assert.equal(h.payloadLength, 1);
});

test('IPv6 text compresses the longest zero run (RFC 5952, as inet_ntop does)', () => {
  assert.equal(ipv6ToString([0, 0, 0, 1]), '::1');
  assert.equal(ipv6ToString([0x20010db8, 0, 1, 0]), '2001:db8::1:0:0');
  assert.equal(ipv6ToString([0x20010db8, 0x00010001, 0x00010001, 0x00010001]), '2001:db8:1:1:1:1:1:1');
});

function checkInvariants(h: PacketHeaders, n: number): void {
  assert.ok(h.payloadOffset >= 0 && h.payloadLength >= 0 && h.payloadOffset + h.payloadLength <= n, 'payload inside the buffer');
  assert.ok(h.l4Offset < n, 'l4 offset inside the buffer');
  assert.ok(h.sport >= -1 && h.sport <= 65535 && h.dport >= -1 && h.dport <= 65535);
}

test('parse never throws and stays inside the buffer on arbitrary bytes', () => {
  const h = new PacketHeaders();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      h.parse(b);
      checkInvariants(h, b.length);
    }),
    { numRuns: 3000 },
  );
});

test('parse never throws on valid packets with corrupted, truncated bytes', () => {
  const h = new PacketHeaders();
  const base = fc.oneof(
    fc.string({ maxLength: 40 }).map((p) => ipv4Packet('tcp', { payload: p })),
    fc.string({ maxLength: 40 }).map((p) => ipv4Packet('udp', { payload: p })),
    fc.string({ maxLength: 40 }).map((p) => ipv6Packet('tcp', { payload: p }, [[0, 0, 1, 4, 0, 0, 0, 0]])),
    fc.string({ maxLength: 40 }).map((p) => ipv6Packet('udp', { payload: p }, [[44, 0, 0, 8, 0, 0, 0, 1]])),
  );
  fc.assert(
    fc.property(base, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), (pkt, edits, cut) => {
      const b = Uint8Array.from(pkt);
      for (const [at, v] of edits) b[at % b.length] = v;
      const t = b.subarray(0, cut % (b.length + 1));
      h.parse(t);
      checkInvariants(h, t.length);
    }),
    { numRuns: 3000 },
  );
});
