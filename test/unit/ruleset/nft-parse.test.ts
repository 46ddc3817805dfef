// The nft JSON parser: mark arithmetic normalised to (x & and) ^ xor (computed here by evaluating the
// nft expression on sample marks, independently of the parser), chains and priorities, sets, queue,
// problems, and every nft JSON capture under test/fixtures read losslessly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseNftJson, type Action, type Rule } from '../../../src/ruleset/index.js';
import { allFixtureFiles, fixtureName, isNftJsonCapture, readFixture } from '../../helpers/ruleset-fixtures.js';

const doc = (...items: unknown[]): string => JSON.stringify({ nftables: [{ metainfo: { json_schema_version: 1 } }, ...items] });
const table = { table: { family: 'inet', name: 't', handle: 1 } };
const chain = (extra: object = {}) => ({ chain: { family: 'inet', table: 't', name: 'c', handle: 1, ...extra } });
const rule = (expr: unknown[], extra: object = {}) => ({ rule: { family: 'inet', table: 't', chain: 'c', handle: 2, expr, ...extra } });

function oneRule(expr: unknown[]): Rule {
  const r = parseNftJson(doc(table, chain(), rule(expr)), { source: 't' });
  assert.deepEqual(r.problems, []);
  return r.tables[0].chains[0].rules[0];
}

const META = { meta: { key: 'mark' } };
const CT = { ct: { key: 'mark' } };

// An independent evaluator of nft's bitwise JSON on concrete 32-bit values.
function evalNft(x: unknown, env: { meta: number; ct: number }): number {
  if (typeof x === 'number') return x >>> 0;
  const o = x as Record<string, unknown>;
  if (o.meta) return env.meta;
  if (o.ct) return env.ct;
  const [op] = Object.keys(o);
  const [a, b] = o[op] as unknown[];
  const l = evalNft(a, env);
  const r = evalNft(b, env);
  return (op === '&' ? l & r : op === '|' ? l | r : l ^ r) >>> 0;
}

function applyAction(a: Action, env: { meta: number; ct: number }): { meta: number; ct: number } {
  switch (a.kind) {
    case 'mark':
      return { ...env, meta: ((env.meta & a.and) ^ a.xor) >>> 0 };
    case 'ctmark':
      return { ...env, ct: ((env.ct & a.and) ^ a.xor) >>> 0 };
    case 'connmark-save':
      return { ...env, ct: ((env.ct & ~a.ctmask) ^ (env.meta & a.nfmask)) >>> 0 };
    case 'connmark-restore':
      return { ...env, meta: ((env.meta & ~a.nfmask) ^ (env.ct & a.ctmask)) >>> 0 };
    default:
      throw new Error(`not a mark action: ${a.kind}`);
  }
}

test('mark statements: any nesting of &, |, ^ on meta/ct mark equals the model action on random marks', () => {
  const konst = fc.integer({ min: 0, max: 0xffffffff });
  const exprOn = (src: object) =>
    fc.array(fc.tuple(fc.constantFrom('&', '|', '^'), konst), { minLength: 0, maxLength: 4 }).map((ops) => ops.reduce<unknown>((acc, [op, c]) => ({ [op]: [acc, c] }), src));
  const stmt = fc.oneof(
    fc.tuple(fc.constant(META), exprOn(META)),
    fc.tuple(fc.constant(CT), exprOn(CT)),
    fc.tuple(fc.constant(META), konst),
    fc.tuple(fc.constant(CT), fc.array(fc.tuple(fc.constant('&'), konst), { maxLength: 2 }).map((ops) => ops.reduce<unknown>((acc, [op, c]) => ({ [op]: [acc, c] }), META))),
    fc.tuple(fc.constant(META), fc.array(fc.tuple(fc.constant('&'), konst), { maxLength: 2 }).map((ops) => ops.reduce<unknown>((acc, [op, c]) => ({ [op]: [acc, c] }), CT))),
  );
  fc.assert(
    fc.property(stmt, konst, konst, ([key, value], meta, ct) => {
      const r = oneRule([{ mangle: { key, value } }]);
      assert.equal(r.exprs.length, 1);
      const a = r.exprs[0] as Action;
      const env = { meta, ct };
      const want = evalNft(value, env);
      const got = applyAction(a, env);
      assert.equal((key as { meta?: unknown }).meta ? got.meta : got.ct, want);
      assert.equal((key as { meta?: unknown }).meta ? got.ct : got.meta, (key as { meta?: unknown }).meta ? ct : meta, 'the other mark is untouched');
    }),
    { numRuns: 300 },
  );
});

test('matches: marks with masks, addresses, ports, interfaces with wildcards, ct state, fib, tcp flags', () => {
  const m = (left: unknown, right: unknown, op = '==') => ({ match: { op, left, right } });
  const r = oneRule([
    m({ '&': [META, 0xff00] }, 0x100),
    m(CT, 5, '!='),
    m({ payload: { protocol: 'ip', field: 'saddr' } }, { prefix: { addr: '10.0.0.0', len: 8 } }),
    m({ payload: { protocol: 'ip6', field: 'daddr' } }, { set: ['2001:db8::1', { prefix: { addr: 'fd00::', len: 8 } }] }),
    m({ payload: { protocol: 'tcp', field: 'dport' } }, { set: [80, { range: [8000, 8080] }] }),
    m({ meta: { key: 'iifname' } }, 'eth*'),
    m({ ct: { key: 'state' } }, ['established', 'related'], 'in'),
    m({ fib: { result: 'type', flags: ['daddr', 'iif'] } }, 'local'),
    m({ '&': [{ payload: { protocol: 'tcp', field: 'flags' } }, ['syn', 'ack']] }, 'syn'),
    m({ meta: { key: 'l4proto' } }, { set: ['tcp', 'udp'] }),
    { accept: null },
  ]);
  assert.deepEqual(r.exprs, [
    { type: 'match', key: 'mark', value: 0x100, mask: 0xff00 },
    { type: 'match', key: 'ctmark', value: 5, mask: 0xffffffff, invert: true },
    { type: 'match', key: 'saddr', cidrs: ['10.0.0.0/8'] },
    { type: 'match', key: 'daddr', cidrs: ['2001:db8::1/128', 'fd00::/8'] },
    { type: 'match', key: 'dport', proto: 6, ranges: [[80, 80], [8000, 8080]] },
    { type: 'match', key: 'iif', names: ['eth+'] },
    { type: 'match', key: 'ctstate', states: ['established', 'related'] },
    { type: 'match', key: 'addrtype', dst: ['LOCAL'], limitIfaceIn: true },
    { type: 'match', key: 'tcpflags', mask: 0x12, comp: 0x02 },
    { type: 'match', key: 'proto', protos: [6, 17] },
    { type: 'action', kind: 'accept' },
  ]);
});

test('queue with num, range and flags (JSON as libnftables-json(5) documents it)', () => {
  assert.deepEqual(oneRule([{ queue: { num: 3, flags: 'bypass' } }]).exprs, [{ type: 'action', kind: 'queue', num: 3, bypass: true, fanout: false }]);
  assert.deepEqual(oneRule([{ queue: { num: { range: [4, 7] }, flags: ['bypass', 'fanout'] } }]).exprs, [{ type: 'action', kind: 'queue', num: 4, numTo: 7, bypass: true, fanout: true }]);
  assert.deepEqual(oneRule([{ queue: { num: 0 } }]).exprs, [{ type: 'action', kind: 'queue', num: 0, bypass: false, fanout: false }]);
});

test('base chains: numeric and named priorities, policy, netdev device; xt kept opaque; counters', () => {
  const r = parseNftJson(
    doc(
      table,
      chain({ type: 'filter', hook: 'prerouting', prio: 'mangle + 1', policy: 'drop' }),
      { chain: { family: 'inet', table: 't', name: 'n', type: 'nat', hook: 'postrouting', prio: 100 } },
      { table: { family: 'netdev', name: 'd' } },
      { chain: { family: 'netdev', table: 'd', name: 'i', type: 'filter', hook: 'ingress', prio: -500, dev: 'eth0' } },
      rule([{ xt: { type: 'match', name: 'statistic' } }, { counter: { packets: 3, bytes: 180 } }, { xt: { type: 'target', name: 'MARK' } }], { comment: 'from iptables-nft' }),
    ),
    { source: 't' },
  );
  // The xt rule is said once for its table: nft -j does not show its options.
  assert.deepEqual(r.problems.map((p) => [p.code, p.severity, p.token]), [['XT_OPAQUE', 'warning', 'inet t']]);
  assert.match(r.problems[0].message, /1 rule with iptables-nft \(xt\) matches or targets.*iptables-nft-save/);
  assert.deepEqual(r.tables[0].chains[0].base, { hook: 'prerouting', priority: -149, priorityText: 'mangle + 1', type: 'filter', policy: 'drop' });
  assert.deepEqual(r.tables[0].chains[1].base, { hook: 'postrouting', priority: 100, type: 'nat', policy: 'accept' });
  assert.deepEqual(r.tables[1].chains[0].base, { hook: 'ingress', priority: -500, type: 'filter', policy: 'accept', device: 'eth0' });
  const x = r.tables[0].chains[0].rules[0];
  assert.deepEqual(x.counters, { packets: 3, bytes: 180 });
  assert.equal(x.comment, 'from iptables-nft');
  assert.deepEqual(x.exprs, [
    { type: 'match', key: 'other', module: 'statistic', text: 'xt match statistic' },
    { type: 'action', kind: 'other', name: 'MARK', text: 'xt target MARK', terminal: false },
  ]);
});

test('problems: bad JSON with its position, wrong shape, undeclared chain, unknown statement', () => {
  const bad = parseNftJson('{"nftables": [\n  {"table": {"family": "ip", "name": "x"}},\n  oops\n]}', { source: 'f.json' });
  assert.equal(bad.problems[0].code, 'BAD_JSON');
  assert.equal(bad.problems[0].line, 3);
  assert.equal(parseNftJson('[]', { source: 'f' }).problems[0].code, 'BAD_JSON');
  const r = parseNftJson(doc(table, chain(), rule([{ jump: { target: 'nowhere' } }]), rule([{ frobnicate: { x: 1 } }])), { source: 'f' });
  assert.deepEqual(r.problems.map((p) => p.code), ['UNKNOWN_EXPRESSION', 'UNDECLARED_CHAIN']);
  assert.deepEqual(r.tables[0].chains[0].rules[1].exprs, [{ type: 'action', kind: 'other', name: 'frobnicate', text: 'frobnicate x 1', terminal: 'unknown' }]);
});

test('arbitrary JSON never throws, only reports', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const r = parseNftJson(JSON.stringify({ nftables: Array.isArray(v) ? v : [v] }), { source: 'f' });
      assert.ok(Array.isArray(r.problems));
    }),
    { numRuns: 300 },
  );
  fc.assert(fc.property(fc.string(), (s) => void parseNftJson(s, { source: 'f' })), { numRuns: 200 });
});

test('every nft JSON capture under test/fixtures is read losslessly', () => {
  let n = 0;
  for (const file of allFixtureFiles()) {
    const text = readFixture(file);
    if (!isNftJsonCapture(text)) continue;
    n++;
    const r = parseNftJson(text, { source: file });
    assert.deepEqual(r.problems.filter((p) => p.severity === 'error'), [], fixtureName(file));
    const items = (JSON.parse(text) as { nftables: Array<Record<string, { expr?: unknown[] }>> }).nftables;
    const rulesIn = items.filter((i) => i.rule).map((i) => i.rule.expr);
    const rulesOut = r.tables.flatMap((t) => t.chains.flatMap((c) => c.rules.map((x) => (x.syntax as { expr: unknown[] }).expr)));
    // A verdict map's rule becomes one rule per element, all sharing the nft rule's syntax.
    assert.equal(new Set(rulesOut).size, rulesIn.length, fixtureName(file));
    assert.equal(r.tables.reduce((s, t) => s + t.chains.length, 0), items.filter((i) => i.chain).length);
    assert.equal(r.tables.length, items.filter((i) => i.table).length);
  }
  assert.ok(n > 0, 'no nft JSON capture under test/fixtures');
});

test('the mixed capture: named priority, sets, iptables-nft table recognised', () => {
  const r = parseNftJson(readFixture('test/fixtures/parser/nft-mixed.json'), { source: 'nft-mixed.json' });
  const t = r.tables.find((x) => x.name === 't')!;
  assert.equal(t.chains.find((c) => c.name === 'pre')!.base!.priority, -149); // mangle + 1
  assert.deepEqual(t.sets.find((s) => s.name === 's4')!.elements, [{ key: '10.0.0.0/8' }, { key: '192.168.1.1' }]);
  assert.equal(t.sets.find((s) => s.name === 'm')!.dataType, 'verdict');
  assert.equal(r.tables.find((x) => x.name === 'mangle')!.origin, 'iptables-nft');
  assert.equal(t.origin, 'nft');
  // nft's notrack statement is the model's notrack.
  assert.deepEqual(t.chains.find((c) => c.name === 'pre')!.rules.find((x) => x.text === 'notrack')!.exprs, [{ type: 'action', kind: 'notrack' }]);
});

test("iptables-nft's -j CT in nft JSON is an opaque xt target: --notrack or --zone cannot be told apart", () => {
  // nft-builtins.nft.json: -j CT --notrack and -j CT --notrack --zone 5 as nft -j lists them (no options).
  const r = parseNftJson(readFixture('test/fixtures/parser/nft-builtins.nft.json'), { source: 'nft-builtins.nft.json' });
  const pre = r.tables.find((x) => x.name === 'raw')!.chains.find((c) => c.name === 'PREROUTING')!;
  for (const rule of pre.rules) assert.deepEqual(rule.exprs.at(-1), { type: 'action', kind: 'other', name: 'CT', text: 'xt target CT', terminal: false });
});

test('verdict maps become one rule per element: named and anonymous, concatenated keys, and left alone when not expressible', () => {
  const mapObj = (name: string, type: unknown, elem: unknown[]) => ({ map: { family: 'inet', table: 't', name, type, map: 'verdict', handle: 3, elem } });
  const services = mapObj('svc', ['ipv4_addr', 'inet_proto', 'inet_service'], [
    [{ concat: ['10.96.0.1', 'tcp', 443] }, { goto: { target: 'svc-a' } }],
    [{ concat: ['10.96.0.10', 'udp', 53] }, { jump: { target: 'svc-b' } }],
  ]);
  const key = { concat: [{ payload: { protocol: 'ip', field: 'daddr' } }, { meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] };
  const r = parseNftJson(
    doc(
      table,
      chain(),
      services,
      mapObj('empty', 'mark', []),
      rule([{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'eth0' } }, { vmap: { key, data: '@svc' } }]),
      rule([{ vmap: { key: { payload: { protocol: 'tcp', field: 'dport' } }, data: { set: [[22, { accept: null }], [{ range: [8000, 8080] }, { drop: null }]] } } }]),
      rule([{ vmap: { key: { meta: { key: 'mark' } }, data: '@empty' } }]),
      rule([{ counter: null }, { mangle: { key: META, value: 1 } }, { vmap: { key: { meta: { key: 'mark' } }, data: { set: [[1, { accept: null }]] } } }]),
      rule([{ accept: null }]),
      { chain: { family: 'inet', table: 't', name: 'svc-a', handle: 4 } },
      { chain: { family: 'inet', table: 't', name: 'svc-b', handle: 5 } },
    ),
    { source: 'v' },
  );
  assert.deepEqual(r.problems, []);
  const rules = r.tables[0].chains[0].rules;
  assert.deepEqual(rules.map((x) => x.exprs), [
    [
      { type: 'match', key: 'iif', names: ['eth0'] },
      { type: 'match', key: 'daddr', cidrs: ['10.96.0.1/32'] },
      { type: 'match', key: 'proto', protos: [6] },
      { type: 'match', key: 'dport', ranges: [[443, 443]] },
      { type: 'action', kind: 'goto', chain: 'svc-a' },
    ],
    [
      { type: 'match', key: 'iif', names: ['eth0'] },
      { type: 'match', key: 'daddr', cidrs: ['10.96.0.10/32'] },
      { type: 'match', key: 'proto', protos: [17] },
      { type: 'match', key: 'dport', ranges: [[53, 53]] },
      { type: 'action', kind: 'jump', chain: 'svc-b' },
    ],
    [{ type: 'match', key: 'dport', proto: 6, ranges: [[22, 22]] }, { type: 'action', kind: 'accept' }],
    [{ type: 'match', key: 'dport', proto: 6, ranges: [[8000, 8080]] }, { type: 'action', kind: 'drop' }],
    // an empty map: nothing to expand, undetermined as before
    [{ type: 'action', kind: 'other', name: 'vmap', text: 'vmap key meta mark data @empty', terminal: 'unknown' }],
    // a statement before the vmap runs whatever the key: not expanded
    [{ type: 'action', kind: 'mark', and: 0, xor: 1 }, { type: 'action', kind: 'other', name: 'vmap', text: 'vmap key meta mark data { { 1, accept } }', terminal: 'unknown' }],
    [{ type: 'action', kind: 'accept' }],
  ]);
  // Numbered as `nft -a list` numbers them: the parts of one map rule share its number.
  assert.deepEqual(rules.map((x) => x.number), [1, 1, 2, 2, 3, 4, 5]);
  assert.match(rules[0].text, /\[element 10\.96\.0\.1 \. tcp \. 443 : goto svc-a\]$/);
  assert.equal(rules[0].syntax, rules[1].syntax);
});

test('address ranges become the prefixes that cover exactly them', () => {
  const m = (family: string, field: string, right: unknown) => {
    const r = parseNftJson(doc({ table: { family, name: 't', handle: 1 } }, { chain: { family, table: 't', name: 'c', handle: 1 } }, { rule: { family, table: 't', chain: 'c', handle: 2, expr: [{ match: { op: '==', left: { payload: { protocol: family, field } }, right } }] } }), { source: 'r' });
    assert.deepEqual(r.problems, []);
    return r.tables[0].chains[0].rules[0].exprs[0];
  };
  assert.deepEqual(m('ip', 'saddr', { range: ['10.0.0.1', '10.0.0.9'] }), { type: 'match', key: 'saddr', cidrs: ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/30', '10.0.0.8/31'] });
  assert.deepEqual(m('ip', 'daddr', { set: [{ range: ['0.0.0.0', '255.255.255.255'] }, '1.2.3.4'] }), { type: 'match', key: 'daddr', cidrs: ['0.0.0.0/0', '1.2.3.4/32'] });
  assert.deepEqual(m('ip6', 'saddr', { range: ['fd00::', 'fd00::ff'] }), { type: 'match', key: 'saddr', cidrs: ['fd00::/120'] });
  // Any range: the prefixes are aligned, adjacent, and span exactly lo..hi.
  const toN = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const toA = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const e = m('ip', 'saddr', { range: [toA(lo), toA(hi)] }) as { cidrs: string[] };
      let next = lo;
      for (const c of e.cidrs) {
        const [addr, len] = c.split('/');
        const start = toN(addr);
        const size = 2 ** (32 - Number(len));
        assert.equal(start, next, c);
        assert.equal(start % size, 0, `${c} is aligned`);
        next = start + size;
      }
      assert.equal(next, hi + 1);
      assert.ok(e.cidrs.length <= 62);
    }),
    { numRuns: 300 },
  );
});

test('nat targets: an IPv6 address before a port is bracketed, as iptables writes --to-destination', () => {
  const to = (nat: object): string | undefined => (oneRule([{ dnat: nat }]).exprs.at(-1) as Action & { to?: string }).to;
  assert.equal(to({ family: 'ip6', addr: 'fd00::2', port: 8080 }), '[fd00::2]:8080');
  assert.equal(to({ family: 'ip6', addr: 'fd00::2' }), 'fd00::2');
  assert.equal(to({ family: 'ip', addr: '10.0.0.2', port: 8080 }), '10.0.0.2:8080');
  assert.equal(to({ family: 'ip', addr: '10.0.0.2', port: { range: [80, 90] } }), '10.0.0.2:80-90');
});
