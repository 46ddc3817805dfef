import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cidrHas4, cidrHas6, groupsToWords, ipv4Text, ipv6Text, parseCidr, parseIpv4, parseIpv6, wordsToGroups } from '../../../src/util/ip.js';

test('IPv4 and IPv6 text round-trips, in inet_ntop form', () => {
  fc.assert(fc.property(fc.nat(0xffffffff), (n) => assert.equal(parseIpv4(ipv4Text(n)), n)));
  fc.assert(
    fc.property(fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }), (g) => {
      assert.deepEqual(parseIpv6(ipv6Text(g)), g);
      assert.deepEqual(wordsToGroups(groupsToWords(g)), g);
    }),
  );
  assert.equal(ipv6Text(parseIpv6('::ffff:10.0.0.1') as number[]), '::ffff:10.0.0.1');
  assert.equal(ipv6Text(parseIpv6('2001:db8:0:0:1:0:0:1') as number[]), '2001:db8::1:0:0:1');
  for (const bad of ['1.2.3', '256.1.1.1', '1.2.3.4.5', 'a.b.c.d']) assert.equal(parseIpv4(bad), undefined, bad);
  for (const bad of ['1::2::3', '12345::', ':::', '1:2:3:4:5:6:7:8:9']) assert.equal(parseIpv6(bad), undefined, bad);
});

test('CIDR membership', () => {
  const c = parseCidr('10.0.0.0/8');
  assert.ok(c);
  assert.equal(cidrHas4(c, parseIpv4('10.1.2.3') as number), true);
  assert.equal(cidrHas4(c, parseIpv4('11.0.0.1') as number), false);
  const c6 = parseCidr('fd00::/8');
  assert.ok(c6);
  assert.equal(cidrHas6(c6, groupsToWords(parseIpv6('fd12::1') as number[])), true);
  assert.equal(cidrHas6(c6, groupsToWords(parseIpv6('fe80::1') as number[])), false);
  assert.equal(parseCidr('10.0.0.0/33'), null);
  assert.equal(parseCidr('nonsense'), null);
});
