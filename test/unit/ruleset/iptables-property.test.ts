// Properties of the iptables parser and serializer: arbitrary text never throws (only problems), generated
// canonical rulesets round-trip byte for byte, and models without syntax survive serialize -> parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIptablesSave, serializeIptablesSave, type Expr, type Rule, type Ruleset } from '../../../src/ruleset/index.js';
import { withoutComments } from '../../helpers/ruleset-fixtures.js';

const hex = (n: number): string => '0x' + (n >>> 0).toString(16);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const port = fc.integer({ min: 0, max: 65535 });
const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const prefix = fc.integer({ min: 1, max: 32 });
const cidr = fc.tuple(ipv4, prefix).map(([a, p]) => {
  const n = a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const m = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  const net = (n & m) >>> 0;
  return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${p}`;
});
const iface = fc.stringMatching(/^[a-z][a-z0-9]{0,6}\+?$/);
const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,11}$/);
const inv = fc.boolean().map((b) => (b ? ' !' : ''));
const range = fc.tuple(port, port).map(([a, b]) => (a === b ? `${a}` : `${Math.min(a, b)}:${Math.max(a, b)}`));

// Canonical option text, as iptables-save prints each module.
const tcpUdp = fc.tuple(fc.constantFrom('tcp', 'udp'), fc.option(fc.tuple(inv, range), { nil: undefined }), fc.option(fc.tuple(inv, range), { nil: undefined })).map(
  ([p, s, d]) => ({ proto: p, text: ` -p ${p} -m ${p}${s && s[1] !== '0:65535' ? `${s[0]} --sport ${s[1]}` : ''}${d && d[1] !== '0:65535' ? `${d[0]} --dport ${d[1]}` : ''}` }),
);
const matchMod = fc.oneof(
  fc.tuple(inv, u32, u32).map(([i, v, m]) => ` -m mark${i} --mark ${m === 0xffffffff ? hex(v) : `${hex(v)}/${hex(m)}`}`),
  fc.tuple(inv, u32, u32).map(([i, v, m]) => ` -m connmark${i} --mark ${m === 0xffffffff ? hex(v) : `${hex(v)}/${hex(m)}`}`),
  fc.tuple(inv, fc.subarray(['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'], { minLength: 1 })).map(([i, s]) => ` -m conntrack${i} --ctstate ${s.join(',')}`),
  word.map((w) => ` -m comment --comment ${w}`),
  // xtables_save_string: bare when only [A-Za-z0-9_-], else double-quoted with " \ ' escaped.
  fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/[\n\r\0]/.test(s)).map((s) => ` -m comment --comment ${/^[A-Za-z0-9_-]+$/.test(s) ? s : `"${s.replace(/["\\']/g, (m) => '\\' + m)}"`}`),
  fc.tuple(inv, fc.constantFrom('LOCAL', 'UNICAST', 'BROADCAST', 'MULTICAST')).map(([i, t]) => ` -m addrtype${i} --dst-type ${t}`),
  fc.tuple(inv, word, fc.constantFrom('src', 'dst', 'src,dst')).map(([i, n, d]) => ` -m set${i} --match-set ${n} ${d}`),
);
const target = fc.oneof(
  fc.constantFrom(' -j ACCEPT', ' -j DROP', ' -j RETURN', ' -j X', ' -g X', ''),
  fc.tuple(u32, u32).map(([v, m]) => ` -j MARK --set-xmark ${hex(v)}/${hex(m)}`),
  fc.tuple(u32, u32).map(([v, m]) => ` -j CONNMARK --set-xmark ${hex(v)}/${hex(m)}`),
  fc.tuple(fc.constantFrom('save', 'restore'), u32, u32).map(([k, a, b]) => ` -j CONNMARK --${k}-mark --nfmask ${hex(a)} --ctmask ${hex(b)}`),
  fc.tuple(port, fc.boolean(), fc.boolean()).map(([q, b, f]) => ` -j NFQUEUE --queue-num ${q}${b ? ' --queue-bypass' : ''}${f ? ' --queue-cpu-fanout' : ''}`),
  fc.constantFrom(' -j REJECT --reject-with icmp-port-unreachable', ' -j REJECT --reject-with tcp-reset', ' -j LOG --log-prefix "x: "'),
);
const rule = fc
  .tuple(fc.option(fc.tuple(inv, cidr), { nil: undefined }), fc.option(fc.tuple(inv, cidr), { nil: undefined }), fc.option(fc.tuple(inv, iface), { nil: undefined }), fc.option(tcpUdp, { nil: undefined }), fc.array(matchMod, { maxLength: 3 }), target)
  .map(([s, d, i, p, ms, t]) => {
    let r = '-A INPUT';
    if (s && !(s[1] === '0.0.0.0/0' && s[0] === '')) r += `${s[0]} -s ${s[1]}`;
    if (d) r += `${d[0]} -d ${d[1]}`;
    if (i && !(i[1] === '+' && i[0] === '')) r += `${i[0]} -i ${i[1]}`;
    if (p) r += p.text;
    return r + ms.join('') + t;
  });
const ruleset = fc.array(rule, { maxLength: 12 }).map((rs) => `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:X - [0:0]\n${rs.map((r) => r + '\n').join('')}COMMIT\n`);

test('generated canonical rulesets round-trip byte for byte, without problems', () => {
  fc.assert(
    fc.property(ruleset, (text) => {
      const r = parseIptablesSave(text, { source: 'gen' });
      assert.deepEqual(r.problems, []);
      assert.equal(withoutComments(serializeIptablesSave(r)), text);
    }),
    { numRuns: 300 },
  );
});

function stripSyntax(r: Ruleset): Ruleset {
  return { ...r, tables: r.tables.map((t) => ({ ...t, chains: t.chains.map((c) => ({ ...c, rules: c.rules.map((x) => ({ ...x, syntax: undefined }) as Rule) })) })) };
}

const exprsOf = (r: Ruleset): Expr[][] => r.tables.flatMap((t) => t.chains.flatMap((c) => c.rules.map((x) => x.exprs)));

test('a model without syntax (as nft or a generator makes it) serializes to text that parses back to the same semantics', () => {
  fc.assert(
    fc.property(ruleset, (text) => {
      const r = parseIptablesSave(text, { source: 'gen' });
      const again = parseIptablesSave(serializeIptablesSave(stripSyntax(r)), { source: 'again' });
      assert.deepEqual(again.problems, []);
      assert.deepEqual(exprsOf(again), exprsOf(r));
    }),
    { numRuns: 200 },
  );
});

const piece = fc.oneof(
  fc.constantFrom('*filter', '*nat', '*bogus', 'COMMIT', ':INPUT ACCEPT [0:0]', ':X - [1:2]', ':Y QUEUE', '-A', '-I', '-N', '-P', '-D', '-s', '-d', '-p', '-m', '-j', '-g', '!', '--mark', 'mark', 'tcp', '--dport', 'MARK', '--set-xmark', '0x1/0x2', 'NFQUEUE', '--queue-num', 'INPUT', 'X', '"', '\\', "'", '[1:2]', '-c', 'iptables', '-t', 'nat', '#', '10.0.0.0/8', '::1', 'fe80::/10', '--comment', 'comment', '-m conntrack --ctstate', 'NEW,BOGUS'),
  fc.string({ maxLength: 6 }),
);
const line = fc.array(piece, { maxLength: 10 }).map((ps) => ps.join(' '));

test('arbitrary text never throws: only problems', () => {
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), fc.constantFrom<undefined | 'ip' | 'ip6'>(undefined, 'ip', 'ip6'), (lines, family) => {
      const r = parseIptablesSave(lines.join('\n'), { source: 'fuzz', family });
      for (const p of r.problems) {
        assert.equal(typeof p.code, 'string');
        assert.ok(p.line >= 1 && p.column >= 1, JSON.stringify(p));
      }
      serializeIptablesSave(r); // and the serializer copes with whatever was built
    }),
    { numRuns: 500 },
  );
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => void serializeIptablesSave(parseIptablesSave(s, { source: 's' }))), { numRuns: 300 });
});
