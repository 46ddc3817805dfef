// Parsing of what the trace command takes: packet specs, queue answers, declared hooks, local
// addresses, routes, addresses and prefixes. Bad input fails with a message (and a column for specs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatAddr, inPrefix, parseAddr, parseIPv6, parsePrefix } from '../../../src/sim/addr.js';
import { NF_IP_PRI_FIRST } from '../../../src/ruleset/priorities.js';
import { OptionError, addQueueVerdict, answerFor, parseExtraHook, parseHookPriority, parseLocalAddress, parseRoute } from '../../../src/sim/options.js';
import { PacketSpecError, formatPacketSpec, parsePacketSpec } from '../../../src/sim/packet.js';
import { parseNatTo } from '../../../src/sim/nat.js';

test('packet specs: protocols, IPv6 in brackets, ports, flags, ICMP types and per-packet words', () => {
  const p = parsePacketSpec('tcp 10.0.0.1:40240 > 127.0.0.1:80');
  assert.deepEqual([p.family, p.proto, formatAddr(p.saddr), p.sport, formatAddr(p.daddr), p.dport, p.tcpFlags], ['ip', 6, '10.0.0.1', 40240, '127.0.0.1', 80, undefined]);
  const q = parsePacketSpec('udp [fd00::1]:5353 > [fd00::2]:53 in eth0 out cni0 mark 0x4000 ctmark 7 ct established');
  assert.deepEqual([q.family, q.proto, formatAddr(q.saddr), q.in, q.out, q.mark, q.ctmark, q.ctState], ['ip6', 17, 'fd00::1', 'eth0', 'cni0', 0x4000, 7, 'established']);
  assert.equal(parsePacketSpec('tcp 1.2.3.4:1>5.6.7.8:2 syn,ack').tcpFlags, 0x12);
  assert.equal(parsePacketSpec('tcp 1.2.3.4:1 > 5.6.7.8:2 flags rst').tcpFlags, 0x04);
  assert.equal(parsePacketSpec('tcp 1.2.3.4:1 > 5.6.7.8:2 flags 0x12').tcpFlags, 0x12);
  assert.equal(parsePacketSpec('tcp 1.2.3.4:1 > 5.6.7.8:2 flags 0').tcpFlags, 0);
  const i = parsePacketSpec('icmp 10.0.0.1 > 10.0.0.2 echo-reply');
  assert.deepEqual([i.proto, i.icmpType, i.icmpCode], [1, 0, 0]);
  assert.equal(parsePacketSpec('icmp ::1 > ::1').proto, 58, 'icmp between IPv6 addresses is ICMPv6');
  assert.equal(parsePacketSpec('icmpv6 ::1 > ::1 type 135').icmpType, 135);
  assert.equal(formatPacketSpec(q), 'udp [fd00::1]:5353 > [fd00::2]:53');
});

test('packet specs: mistakes are reported with their column', () => {
  const col = (s: string): number => {
    try {
      parsePacketSpec(s);
    } catch (e) {
      assert.ok(e instanceof PacketSpecError, String(e));
      return e.column;
    }
    assert.fail(`"${s}" parsed`);
  };
  assert.equal(col('tcp 10.0.0.1 > 127.0.0.1:80'), 5);
  assert.equal(col('tcp 10.0.0.1:1 < 127.0.0.1:80'), 16);
  assert.equal(col('tcq 10.0.0.1:1 > 127.0.0.1:80'), 1);
  assert.equal(col('tcp 10.0.0.1:1 > 127.0.0.1:80 mark banana'), 36);
  assert.equal(col('tcp 10.0.0.1:1 > ::1:80'), 18, 'mixed families');
  assert.equal(col('udp 10.0.0.1:1 > 10.0.0.2:99999'), 27);
  assert.equal(col(''), 1);
});

test('packet specs: nothing throws anything but a PacketSpecError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (s) => {
      try {
        parsePacketSpec(s);
      } catch (e) {
        if (!(e instanceof PacketSpecError)) throw e;
        assert.ok(e.column >= 1 && e.column <= s.length + 2);
      }
    }),
  );
});

test('queue answers: whole and masked marks, per queue, none', () => {
  const a = addQueueVerdict({ byQueue: new Map() }, 'accept,mark=0x8000');
  assert.deepEqual(answerFor(a, 80)?.mark, { value: 0x8000, mask: 0xffffffff });
  addQueueVerdict(a, '81:accept,mark=0x100000/0xf00000,ctmark=0x1/0x1');
  assert.deepEqual(answerFor(a, 81)?.mark, { value: 0x100000, mask: 0xf00000 });
  assert.deepEqual(answerFor(a, 81)?.ctmark, { value: 1, mask: 1 });
  addQueueVerdict(a, '80:none');
  assert.equal(answerFor(a, 80)?.text, 'accept,mark=0x8000', 'none for one queue removes only its own answer');
  addQueueVerdict(a, 'none');
  assert.equal(answerFor(a, 80), undefined);
  assert.throws(() => addQueueVerdict({ byQueue: new Map() }, 'maybe'), OptionError);
  assert.throws(() => addQueueVerdict({ byQueue: new Map() }, 'drop,mark=1'), /only accept/);
  assert.throws(() => addQueueVerdict({ byQueue: new Map() }, 'accept,mark=0x1ffffffff'), OptionError);
});

test('declared hooks: families, priorities by name and offset, actions', () => {
  const h = parseExtraHook('input:FIRST:queue=80');
  assert.deepEqual([h.family, h.hook, h.priority, h.actions], ['inet', 'input', NF_IP_PRI_FIRST, [{ kind: 'queue', num: 80, bypass: false }]]);
  assert.equal(parseExtraHook('ip:input:FIRST+1:clear-mark').priority, NF_IP_PRI_FIRST + 1);
  assert.deepEqual(parseExtraHook('output:mangle-1:mark=0x10/0x10,accept').actions, [{ kind: 'mark', value: 0x10, mask: 0x10 }, { kind: 'accept' }]);
  assert.deepEqual(parseExtraHook('prerouting:-150:queue=1,bypass').actions, [{ kind: 'queue', num: 1, bypass: true }]);
  assert.equal(parseHookPriority('NF_IP_PRI_CONNTRACK'), -200);
  assert.equal(parseHookPriority('dstnat + 5'), -95);
  for (const bad of ['input:FIRST', 'sideways:0:accept', 'input:soon:accept', 'input:0:explode', 'input:0:accept,drop', 'input:0:bypass', 'input:0:drop,clear-mark']) {
    assert.throws(() => parseExtraHook(bad), OptionError, bad);
  }
});

test('local addresses and routes', () => {
  const l = parseLocalAddress('10.0.0.2/24@eth0');
  assert.deepEqual([formatAddr(l.addr), l.iface, l.broadcast && formatAddr(l.broadcast)], ['10.0.0.2', 'eth0', '10.0.0.255']);
  assert.throws(() => parseLocalAddress('10.0.0.300'), OptionError);
  const r = parseRoute('10.244.0.0/16@cni0');
  assert.equal(r.dev, 'cni0');
  assert.equal(parseRoute('default@eth0').prefix.len, 0);
  assert.throws(() => parseRoute('10.0.0.0/8'), OptionError);
});

test('addresses: IPv6 forms round-trip, prefixes contain what they should', () => {
  assert.equal(formatAddr(parseAddr('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatAddr(parseAddr('::ffff:10.0.0.1')!), '::ffff:10.0.0.1');
  assert.equal(formatAddr(parseAddr('fe80::1%eth0')!), 'fe80::1');
  assert.equal(parseIPv6('1::2::3'), undefined);
  assert.ok(inPrefix(parseAddr('10.1.2.3')!, parsePrefix('10.0.0.0/255.0.0.0')!));
  assert.equal(parsePrefix('10.0.0.0/255.0.255.0'), undefined, 'non-contiguous masks are not prefixes');
  fc.assert(
    fc.property(fc.ipV6(), (s) => {
      const a = parseAddr(s);
      assert.ok(a, s);
      assert.deepEqual(parseAddr(formatAddr(a)), a);
    }),
  );
  fc.assert(
    fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (s, len) => {
      const a = parseAddr(s)!;
      assert.ok(inPrefix(a, parsePrefix(`${s}/${len}`)!));
    }),
  );
});

test('NAT targets: address, port, ranges, IPv6, redirect ports', () => {
  const d = parseNatTo('10.0.0.5:8080', 'dnat');
  assert.deepEqual([formatAddr(d.addr!), d.port, d.addrRange], ['10.0.0.5', 8080, false]);
  assert.equal(parseNatTo('10.0.0.1-10.0.0.3', 'dnat').addrRange, true);
  assert.equal(formatAddr(parseNatTo('[fd00::5]:80', 'dnat').addr!), 'fd00::5');
  assert.equal(parseNatTo('ip to 10.0.0.9', 'snat').addr && formatAddr(parseNatTo('ip to 10.0.0.9', 'snat').addr!), '10.0.0.9');
  assert.equal(parseNatTo(':15001', 'redirect').port, 15001);
  assert.equal(formatAddr(parseNatTo('::1', 'dnat').addr!), '::1', 'an address that starts with :: is not a port');
  assert.equal(parseNatTo(':8080', 'dnat').port, 8080);
  assert.equal(parseNatTo('8000-8010', 'redirect').portRange, true);
  assert.equal(parseNatTo('10.1.0.0/16', 'netmap').prefix?.len, 16);
  assert.equal(parseNatTo('somewhere', 'dnat').unreadable, 'somewhere');
});
