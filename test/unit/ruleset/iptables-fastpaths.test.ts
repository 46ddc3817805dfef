// The iptables parser's fast paths (the performance work of issue 3) must read exactly what the general
// paths read: chain lines without the regular expression, a rule's chain guessed from the declaration
// order, memoized modules without options, option names resolved from a cache, rules gathered per chain
// before they join it, and the warm-up parse before large inputs. Expected values are worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptablesSave, serializeIptablesSave, type Chain, type Ruleset } from '../../../src/ruleset/index.js';

function parse(text: string, family?: 'ip' | 'ip6'): Ruleset {
  return parseIptablesSave(text, { source: 't', family });
}

function chainOf(r: Ruleset, table: string, name: string): Chain {
  const c = r.tables.find((t) => t.name === table)?.chains.find((x) => x.name === name);
  assert.ok(c, `${table} ${name}`);
  return c;
}

test('chain lines: iptables-save form and every variant the general path takes', () => {
  const r = parse(
    [
      '*filter',
      ':INPUT DROP [12:3400]',
      ':A - [0:0]',
      ':B - [010:0x10]', // strtoul base 0: octal and hex
      ':C  -  [5:6]', // two blanks
      ':D\t-\t[7:8]', // tabs
      ':E - [9:10] ', // trailing blank
      ':F -', // no counters
      ':G - [123456789012345:1]', // 15 digits
      ':H - [1234567890123456:2]', // 16 digits, still a safe integer
      ':I - [x:1]',
      'COMMIT',
      '',
    ].join('\n'),
  );
  const counters = (n: string): unknown => chainOf(r, 'filter', n).counters;
  assert.deepEqual(counters('INPUT'), { packets: 12, bytes: 3400 });
  assert.equal(chainOf(r, 'filter', 'INPUT').base?.policy, 'drop');
  assert.deepEqual(counters('A'), { packets: 0, bytes: 0 });
  assert.deepEqual(counters('B'), { packets: 8, bytes: 16 });
  assert.deepEqual(counters('C'), { packets: 5, bytes: 6 });
  assert.deepEqual(counters('D'), { packets: 7, bytes: 8 });
  assert.deepEqual(counters('E'), { packets: 9, bytes: 10 });
  assert.equal(counters('F'), undefined);
  assert.deepEqual(counters('G'), { packets: 123456789012345, bytes: 1 });
  assert.deepEqual(counters('H'), { packets: 1234567890123456, bytes: 2 });
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.line, p.column]),
    [['BAD_COUNTERS', 11, 6]],
  );
  // Positions: the chain name at column 2, a bad policy where it starts.
  assert.deepEqual(chainOf(r, 'filter', 'A').pos, { source: 't', line: 3, column: 2 });
  const bad = parse('*filter\n:X MAYBE [0:0]\nCOMMIT\n');
  assert.deepEqual(
    bad.problems.map((p) => [p.code, p.line, p.column, p.token]),
    [['BAD_POLICY', 2, 4, 'MAYBE']],
  );
  const dup = parse('*filter\n:X - [0:0]\n:X - [1:1]\nCOMMIT\n');
  assert.deepEqual(
    dup.problems.map((p) => [p.code, p.line]),
    [['DUPLICATE_CHAIN', 3]],
  );
});

test("a rule's chain is found whatever order the chains' rules come in", () => {
  const names = Array.from({ length: 60 }, (_, i) => `C${i}`);
  const head = ['*filter', ':INPUT ACCEPT [0:0]', ...names.map((n) => `:${n} - [0:0]`)];
  const rulesOf = (n: string): string[] => [`-A ${n} -s 10.0.0.${n.slice(1)}/32 -j ACCEPT`, `-A ${n} -j RETURN`];
  // Declaration order (iptables-save), reversed and interleaved (iptables-restore input), and one chain
  // appended to again after others.
  const inOrder = [...head, ...names.flatMap(rulesOf), 'COMMIT', ''].join('\n');
  const reversed = [...head, ...[...names].reverse().flatMap(rulesOf), 'COMMIT', ''].join('\n');
  const split = [...head, ...names.map((n) => rulesOf(n)[0]), ...names.map((n) => rulesOf(n)[1]), 'COMMIT', ''].join('\n');
  for (const text of [inOrder, reversed, split]) {
    const r = parse(text);
    assert.deepEqual(r.problems, []);
    for (const n of names) {
      const c = chainOf(r, 'filter', n);
      assert.deepEqual(
        c.rules.map((x) => x.text),
        rulesOf(n).map((l) => l.slice(l.indexOf(' ', 3) + 1)),
        n,
      );
    }
    assert.equal(
      serializeIptablesSave(r)
        .split('\n')
        .filter((l) => l.startsWith('-A'))
        .sort()
        .join('\n'),
      names.flatMap(rulesOf).sort().join('\n'),
    );
  }
});

test('-I inserts among rules still gathered for their chain', () => {
  const r = parse(['*filter', ':X - [0:0]', ':Y - [0:0]', '-A X -j ACCEPT', '-A X -j DROP', '-I X 2 -j RETURN', '-A Y -j ACCEPT', '-A X -j REJECT', '-I X -s 1.2.3.4/32', 'COMMIT', ''].join('\n'));
  assert.deepEqual(
    chainOf(r, 'filter', 'X').rules.map((x) => x.text),
    ['-s 1.2.3.4/32', '-j ACCEPT', '-j RETURN', '-j DROP', '-j REJECT'],
  );
  assert.deepEqual(
    chainOf(r, 'filter', 'Y').rules.map((x) => x.text),
    ['-j ACCEPT'],
  );
});

test('modules without options are memoized only when they parse cleanly', () => {
  const r = parse(
    [
      '*nat',
      ':S - [0:0]',
      '-A S -p tcp -m tcp -j DNAT --to-destination 10.0.0.1:80',
      '-A S -p tcp -m tcp -j DNAT --to-destination 10.0.0.2:8080',
      '-A S -p udp -m udp -j MASQUERADE',
      '-A S -p udp -m udp -j MASQUERADE',
      '-A S -m state -j ACCEPT',
      '-A S -m state -j ACCEPT',
      'COMMIT',
      '',
    ].join('\n'),
  );
  const rules = chainOf(r, 'nat', 'S').rules;
  assert.deepEqual(rules[0].exprs, [
    { type: 'match', key: 'proto', protos: [6] },
    { type: 'action', kind: 'dnat', to: '10.0.0.1:80' },
  ]);
  assert.deepEqual(rules[1].exprs[1], { type: 'action', kind: 'dnat', to: '10.0.0.2:8080' });
  assert.deepEqual(rules[3].exprs, [
    { type: 'match', key: 'proto', protos: [17] },
    { type: 'action', kind: 'masquerade' },
  ]);
  // `-m state` without --state is reported on each rule, not once and then reused silently.
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.line]),
    [
      ['MISSING_OPTION', 7],
      ['MISSING_OPTION', 8],
    ],
  );
});

test('abbreviated option names resolve the same way every time they are seen', () => {
  const r = parse(['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -p tcp -m tcp --dp 80 -j ACCEPT', '-A INPUT -p tcp -m tcp --dp 81 -j ACCEPT', '-A INPUT -p tcp -m tcp --s 1 -j ACCEPT', '-A INPUT -p tcp -m tcp --s 1 -j ACCEPT', 'COMMIT', ''].join('\n'));
  const rules = chainOf(r, 'filter', 'INPUT').rules;
  assert.deepEqual(rules[0].exprs[1], { type: 'match', key: 'dport', proto: 6, ranges: [[80, 80]] });
  assert.deepEqual(rules[1].exprs[1], { type: 'match', key: 'dport', proto: 6, ranges: [[81, 81]] });
  // --s is a prefix of --sport and --syn: ambiguous, so the module is kept verbatim, on both rules.
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.line, p.token]),
    [
      ['UNKNOWN_OPTION', 5, '--s'],
      ['UNKNOWN_OPTION', 6, '--s'],
    ],
  );
});

test('a large input reads the same after the warm-up parse, and none of its problems leak', () => {
  const chains = 6000;
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]'];
  for (let i = 0; i < chains; i++) lines.push(`:SVC-${i} - [0:0]`);
  for (let i = 0; i < chains; i++) {
    lines.push(`-A PREROUTING -d 10.96.${i >> 8}.${i & 255}/32 -p tcp -m comment --comment "ns/svc-${i}:http cluster IP" -m tcp --dport 80 -j SVC-${i}`);
    lines.push(`-A SVC-${i} -p tcp -m comment --comment "ns/svc-${i}:http" -m tcp -j DNAT --to-destination 10.244.${i >> 8}.${i & 255}:8080`);
  }
  lines.push('COMMIT', '');
  const text = lines.join('\n');
  assert.ok(text.length > 1_000_000, 'above the warm-up threshold');
  const first = parse(text);
  const again = parse(text);
  assert.deepEqual(first.problems, []);
  assert.deepEqual(again, first);
  const pre = chainOf(first, 'nat', 'PREROUTING');
  assert.equal(pre.rules.length, chains);
  assert.equal(pre.rules[258].comment, 'ns/svc-258:http cluster IP');
  assert.deepEqual(pre.rules[258].exprs, [
    { type: 'match', key: 'daddr', cidrs: ['10.96.1.2/32'] },
    { type: 'match', key: 'proto', protos: [6] },
    { type: 'match', key: 'dport', proto: 6, ranges: [[80, 80]] },
    { type: 'action', kind: 'jump', chain: 'SVC-258' },
  ]);
  const sorted = (t: string[]): string => t.filter((l) => l.startsWith('-A')).sort().join('\n');
  assert.equal(sorted(serializeIptablesSave(first).split('\n')), sorted(lines));
});
