import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Engine, NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT } from '../../../src/detect/engine.js';
import { RuleCompileError, type RuleSpec } from '../../../src/detect/rules.js';
import { PacketHeaders, TCP_ACK, TCP_SYN } from '../../../src/packet/headers.js';
import { dnsQuery, ipv4Packet, ipv6Packet } from '../../helpers/packets.js';

const OPTS = { markMask: 0x00f00000, bypassCtMark: 0x01000000 };

function decide(rules: RuleSpec[], pkt: Uint8Array, hook = NF_INET_LOCAL_IN): { id: string | null; logged: string[] } {
  const e = new Engine(rules, OPTS);
  const h = new PacketHeaders();
  h.parse(pkt);
  const r = e.evaluate(h, hook);
  return { id: r.decided < 0 ? null : e.rules[r.decided].id, logged: [...r.logged.subarray(0, r.loggedCount)].map((i) => e.rules[i].id) };
}

const http = (host: string, path = '/', extra = ''): Uint8Array => ipv4Packet('tcp', { dport: 80, payload: `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n` });

test('content: text, nocase, hex, offset and depth', () => {
  const pkt = ipv4Packet('tcp', { payload: 'xxEVILyy\xde\xad' });
  assert.equal(decide([{ id: 'a', match: { content: [{ text: 'evil' }] }, action: 'drop' }], pkt).id, null, 'case-sensitive by default');
  assert.equal(decide([{ id: 'a', match: { content: [{ text: 'evil', nocase: true }] }, action: 'drop' }], pkt).id, 'a');
  assert.equal(decide([{ id: 'a', match: { content: [{ text: 'EVIL', offset: 2, depth: 4 }] }, action: 'drop' }], pkt).id, 'a');
  assert.equal(decide([{ id: 'a', match: { content: [{ text: 'EVIL', offset: 3 }] }, action: 'drop' }], pkt).id, null);
  assert.equal(decide([{ id: 'a', match: { content: [{ text: 'EVIL', depth: 5 }] }, action: 'drop' }], pkt).id, null);
  const bin = ipv4Packet('tcp', { payload: Uint8Array.of(1, 0xde, 0xad, 0xbe, 0xef, 2) });
  assert.equal(decide([{ id: 'h', match: { content: [{ hex: 'de ad|be:ef' }] }, action: 'drop' }], bin).id, 'h');
  // All contents of a rule must match.
  assert.equal(decide([{ id: 'b', match: { content: [{ text: 'EVIL' }, { text: 'nothere' }] }, action: 'drop' }], pkt).id, null);
  assert.equal(decide([{ id: 'b', match: { content: [{ text: 'EVIL' }, { text: 'yy' }] }, action: 'drop' }], pkt).id, 'b');
});

test('L3/L4: CIDRs, ports and ranges, protocol, family, TCP flags, direction', () => {
  const syn = ipv4Packet('tcp', { src: '10.9.8.7', dst: '192.0.2.1', sport: 1234, dport: 8443, flags: TCP_SYN });
  const r = (match: RuleSpec['match']): string | null => decide([{ id: 'r', match, action: 'drop' }], syn).id;
  assert.equal(r({ src: ['10.0.0.0/8'] }), 'r');
  assert.equal(r({ src: ['11.0.0.0/8'] }), null);
  assert.equal(r({ dst: ['192.0.2.1'] }), 'r');
  assert.equal(r({ dst_port: '8000-9000' }), 'r');
  assert.equal(r({ dst_port: [80, 443] }), null);
  assert.equal(r({ src_port: 1234, protocol: 'tcp' }), 'r');
  assert.equal(r({ protocol: 'udp' }), null);
  assert.equal(r({ family: 'ipv6' }), null);
  assert.equal(r({ tcp_flags: 'syn,!ack' }), 'r');
  assert.equal(decide([{ id: 'r', match: { tcp_flags: 'syn,!ack' }, action: 'drop' }], ipv4Packet('tcp', { flags: TCP_SYN | TCP_ACK })).id, null);
  assert.equal(r({ direction: 'in' }), 'r');
  assert.equal(decide([{ id: 'r', match: { direction: 'in' }, action: 'drop' }], syn, NF_INET_LOCAL_OUT).id, null);
  const six = ipv6Packet('udp', { src: 'fd00::5', dport: 53 });
  assert.equal(decide([{ id: 'r', match: { src: ['fd00::/8'], protocol: 'udp' }, action: 'drop' }], six).id, 'r');
  assert.equal(decide([{ id: 'r', match: { src: ['10.0.0.0/8'] }, action: 'drop' }], six).id, null, 'an IPv4 CIDR never matches IPv6');
});

test('HTTP method/host/path/header, SNI and DNS name', () => {
  const rules: RuleSpec[] = [
    { id: 'path', match: { http: { method: ['POST', 'GET'], path: { prefix: '/admin' } } }, action: 'drop' },
    { id: 'host', match: { http: { host: '*.bad.example' } }, action: 'drop' },
    { id: 'ua', match: { http: { header: [{ name: 'User-Agent', value: { contains: 'sqlmap' } }] } }, action: 'drop' },
    { id: 'dns', match: { dns_name: { suffix: '.evil.test' } }, action: 'drop' },
  ];
  assert.equal(decide(rules, http('ok.example', '/admin/panel')).id, 'path');
  assert.equal(decide(rules, http('www.BAD.example')).id, 'host');
  assert.equal(decide(rules, http('bad.example')).id, null, '"*.x" matches subdomains only');
  assert.equal(decide(rules, http('ok.example', '/', 'User-Agent: sqlmap/1.0\r\n')).id, 'ua');
  assert.equal(decide(rules, ipv4Packet('udp', { dport: 53, payload: dnsQuery('a.Evil.test') })).id, 'dns');
  assert.equal(decide(rules, ipv4Packet('udp', { dport: 53, payload: dnsQuery('evil.test.ok') })).id, null);
});

test('order: log rules report and go on; the first other match decides; accept does not log by default', () => {
  const rules: RuleSpec[] = [
    { id: 'seen', match: { content: [{ text: 'x' }] }, action: 'log' },
    { id: 'allow', match: { src: ['10.0.0.1'] }, action: 'accept' },
    { id: 'never', match: { content: [{ text: 'x' }] }, action: 'drop' },
  ];
  const d = decide(rules, ipv4Packet('tcp', { src: '10.0.0.1', payload: 'x' }));
  assert.equal(d.id, 'allow');
  assert.deepEqual(d.logged, ['seen']);
});

test('mark and bypass decisions carry only owned bits; others are refused at compile time with a path', () => {
  const e = new Engine(
    [
      { id: 'm', match: { protocol: 'tcp' }, action: 'mark', mark: 0x00200000 },
      { id: 'b', match: { protocol: 'udp' }, action: 'bypass' },
    ],
    OPTS,
  );
  assert.deepEqual({ ...e.rules[0].decision }, { verdict: 'accept', mark: 0x00200000 });
  assert.deepEqual({ ...e.rules[1].decision }, { verdict: 'accept', ctMark: 0x01000000, ctMarkMask: 0x01000000 });
  assert.throws(
    () => new Engine([{ id: 'm', match: {}, action: 'mark', mark: 0x8000 }], OPTS),
    (err: unknown) => err instanceof RuleCompileError && err.path.join('.') === 'rules.0.mark' && /outside the owned mark mask/.test(err.message),
  );
  assert.throws(() => new Engine([{ id: 'b', match: {}, action: 'bypass' }], { markMask: 0, bypassCtMark: 0 }), RuleCompileError);
  assert.throws(
    () => new Engine([{ id: 'c', match: { src: ['10.0.0.0/33'] }, action: 'drop' }], OPTS),
    (err: unknown) => err instanceof RuleCompileError && err.path.join('.') === 'rules.0.match.src.0',
  );
});

test('the automaton result equals checking every rule one by one (random rules and payloads)', () => {
  const word = fc.constantFrom('ab', 'ba', 'aab', 'Ab', 'bb', 'abba');
  const content = fc.record({ text: word, nocase: fc.boolean(), offset: fc.option(fc.nat(6), { nil: undefined }), depth: fc.option(fc.integer({ min: 4, max: 10 }), { nil: undefined }) });
  const rule = fc.array(content, { minLength: 1, maxLength: 3 });
  fc.assert(
    fc.property(fc.array(rule, { minLength: 1, maxLength: 12 }), fc.stringMatching(/^[abAB]{0,20}$/), (contents, payload) => {
      const rules: RuleSpec[] = contents.map((c, i) => ({ id: `r${i}`, match: { content: c }, action: 'drop' }));
      const pkt = ipv4Packet('tcp', { payload });
      const all = decide(rules, pkt).id;
      // Oracle: each rule alone, brute-force string search.
      const text = payload;
      const alone = rules.find((r) =>
        (r.match.content ?? []).every((c) => {
          const hay = c.nocase ? text.toLowerCase() : text;
          const needle = c.nocase ? (c.text as string).toLowerCase() : (c.text as string);
          for (let s = c.offset ?? 0; s + needle.length <= text.length; s++) {
            if (c.depth !== undefined && s + needle.length > (c.offset ?? 0) + c.depth) break;
            if (hay.startsWith(needle, s)) return true;
          }
          return false;
        }),
      );
      assert.equal(all, alone?.id ?? null);
    }),
    { numRuns: 500 },
  );
});

test('rules that can never match are refused with the field and the fix', () => {
  const refused = (match: RuleSpec['match'], path: string, re: RegExp): void => {
    assert.throws(
      () => new Engine([{ id: 'ok', match: {}, action: 'log' }, { id: 'x', match, action: 'drop' }], OPTS),
      (err: unknown) => err instanceof RuleCompileError && err.path.join('.') === `rules.1.match.${path}` && re.test(err.message) && (err.hint ?? '').length > 0,
      JSON.stringify(match),
    );
  };
  refused({ protocol: 'udp', tcp_flags: 'syn' }, 'tcp_flags', /over TCP.*protocol udp/);
  refused({ protocol: 'udp', http: { host: 'a' } }, 'http', /HTTP requests travel over TCP/);
  refused({ protocol: 17, tls_sni: 'a' }, 'tls_sni', /protocol 17/);
  refused({ protocol: 'icmp', dns_name: 'a' }, 'dns_name', /UDP or TCP/);
  refused({ family: 'ipv6', src: ['10.0.0.0/8', '192.0.2.1'] }, 'src', /every src address is IPv4/);
  refused({ family: 'ipv4', dst: ['fd00::/8'] }, 'dst', /every dst address is IPv6/);
  // What can match still compiles.
  for (const match of [{ protocol: 'tcp', tls_sni: 'a' }, { protocol: 'tcp', dns_name: 'a' }, { family: 'ipv6', src: ['10.0.0.0/8', 'fd00::/8'] }, { tcp_flags: 'syn' }] as Array<RuleSpec['match']>) {
    assert.doesNotThrow(() => new Engine([{ id: 'x', match, action: 'drop' }], OPTS), JSON.stringify(match));
  }
});
