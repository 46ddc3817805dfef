// The iptables-save parser: semantics of each construct (expected values worked out from the kernel's
// formulas, not from the parser), problems as data with positions, and round-trips of every capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptablesSave, serializeIptablesSave, type Expr, type Ruleset } from '../../../src/ruleset/index.js';
import { allFixtureFiles, fixtureName, isIptablesSaveCapture, readFixture, withoutComments } from '../../helpers/ruleset-fixtures.js';

function rules(r: Ruleset, table: string, chain: string): Expr[][] {
  const t = r.tables.find((x) => x.name === table);
  assert.ok(t, `table ${table}`);
  const c = t.chains.find((x) => x.name === chain);
  assert.ok(c, `chain ${chain}`);
  return c.rules.map((x) => x.exprs);
}

function one(line: string, table = 'mangle', family?: 'ip' | 'ip6'): Expr[] {
  const chain = line.split(' ')[1];
  const decl = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'].includes(chain) ? '' : `:${chain} - [0:0]\n`;
  const r = parseIptablesSave(`*${table}\n${decl}${line}\nCOMMIT\n`, { source: 't', family });
  assert.deepEqual(r.problems, [], JSON.stringify(r.problems));
  return rules(r, table, chain)[0];
}

const MASK32 = 0xffffffff;

test('MARK spellings normalise to (mark & and) ^ xor as xt_MARK computes it', () => {
  // xt_MARK: mark = (mark & ~info->mask) ^ info->mark; iptables fills (mark, mask) per option.
  const cases: Array<[string, number, number]> = [
    ['--set-xmark 0x8000/0x8000', ~0x8000 >>> 0, 0x8000],
    ['--set-mark 0x10', 0, 0x10], // mask all ones
    ['--set-mark 0x40000/0xff0000', ~0xff0000 >>> 0, 0x40000], // mask = mark | mask
    ['--or-mark 0x4000', ~0x4000 >>> 0, 0x4000],
    ['--and-mark 0xffff', 0xffff, 0],
    ['--xor-mark 0x1', MASK32, 0x1],
  ];
  for (const [opt, and, xor] of cases) {
    const e = one(`-A PREROUTING -j MARK ${opt}`);
    assert.deepEqual(e, [{ type: 'action', kind: 'mark', and, xor }], opt);
  }
});

test('CONNMARK set, save and restore keep their masks', () => {
  assert.deepEqual(one('-A PREROUTING -j CONNMARK --set-xmark 0x111/0xfff'), [{ type: 'action', kind: 'ctmark', and: ~0xfff >>> 0, xor: 0x111 }]);
  assert.deepEqual(one('-A PREROUTING -j CONNMARK --save-mark'), [{ type: 'action', kind: 'connmark-save', nfmask: MASK32, ctmask: MASK32 }]);
  assert.deepEqual(one('-A PREROUTING -j CONNMARK --restore-mark --mask 0x80'), [{ type: 'action', kind: 'connmark-restore', nfmask: 0x80, ctmask: 0x80 }]);
  assert.deepEqual(one('-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff0000 --ctmask 0xff00'), [{ type: 'action', kind: 'connmark-restore', nfmask: 0xff0000, ctmask: 0xff00 }]);
});

test('mark and connmark matches, inverted, default mask all ones', () => {
  assert.deepEqual(one('-A INPUT -m mark --mark 0x8000/0x8000 -j DROP', 'filter'), [
    { type: 'match', key: 'mark', value: 0x8000, mask: 0x8000 },
    { type: 'action', kind: 'drop' },
  ]);
  assert.deepEqual(one('-A INPUT -m connmark ! --mark 7', 'filter'), [{ type: 'match', key: 'ctmark', value: 7, mask: MASK32, invert: true }]);
  // Old position of ! (after the option name).
  assert.deepEqual(one('-A INPUT -m mark --mark ! 0x1/0x1', 'filter'), [{ type: 'match', key: 'mark', value: 1, mask: 1, invert: true }]);
});

test('NFQUEUE: number, balance range, bypass and fanout', () => {
  assert.deepEqual(one('-A PREROUTING -j NFQUEUE --queue-num 80 --queue-bypass'), [{ type: 'action', kind: 'queue', num: 80, bypass: true, fanout: false }]);
  assert.deepEqual(one('-A PREROUTING -j NFQUEUE --queue-balance 4:7 --queue-cpu-fanout'), [{ type: 'action', kind: 'queue', num: 4, numTo: 7, bypass: false, fanout: true }]);
  assert.deepEqual(one('-A PREROUTING -j NFQUEUE'), [{ type: 'action', kind: 'queue', num: 0, bypass: false, fanout: false }]);
});

test('generic matches, implicit -m tcp, ports, multiport, states, addrtype, set', () => {
  const e = one('-A FORWARD ! -s 10.1.2.3/8 -d 192.168.1.1 -i eth+ ! -o lo -p tcp --dport ssh --sport 1024: -j ACCEPT', 'filter');
  assert.deepEqual(e, [
    { type: 'match', key: 'saddr', cidrs: ['10.0.0.0/8'], invert: true },
    { type: 'match', key: 'daddr', cidrs: ['192.168.1.1/32'] },
    { type: 'match', key: 'iif', names: ['eth+'] },
    { type: 'match', key: 'oif', names: ['lo'], invert: true },
    { type: 'match', key: 'proto', protos: [6] },
    { type: 'match', key: 'sport', proto: 6, ranges: [[1024, 65535]] },
    { type: 'match', key: 'dport', proto: 6, ranges: [[22, 22]] },
    { type: 'action', kind: 'accept' },
  ]);
  assert.deepEqual(one('-A INPUT -p udp -m multiport ! --dports 53,5353:5360', 'filter')[1], { type: 'match', key: 'dport', proto: 17, ranges: [[53, 53], [5353, 5360]], invert: true });
  assert.deepEqual(one('-A INPUT -m conntrack ! --ctstate ESTABLISHED,RELATED --ctdir REPLY', 'filter'), [
    { type: 'match', key: 'ctstate', states: ['related', 'established'], invert: true },
    { type: 'match', key: 'ctdir', dir: 'reply' },
  ]);
  assert.deepEqual(one('-A INPUT -m state --state INVALID -j DROP', 'filter')[0], { type: 'match', key: 'ctstate', states: ['invalid'] });
  assert.deepEqual(one('-A INPUT -m addrtype ! --src-type LOCAL --dst-type LOCAL,UNICAST --limit-iface-in', 'filter')[0], {
    type: 'match', key: 'addrtype', src: ['LOCAL'], dst: ['UNICAST', 'LOCAL'], srcInvert: true, limitIfaceIn: true,
  });
  assert.deepEqual(one('-A INPUT -m set ! --match-set KUBE-SRC-X src,dst -j DROP', 'filter')[0], { type: 'match', key: 'set', name: 'KUBE-SRC-X', dirs: ['src', 'dst'], invert: true });
  assert.deepEqual(one('-A INPUT -p tcp --syn', 'filter')[1], { type: 'match', key: 'tcpflags', mask: 0x17, comp: 0x02 });
  assert.deepEqual(one('-A INPUT -p icmp --icmp-type host-unreachable', 'filter')[1], { type: 'match', key: 'icmp', family: 'ip', icmpType: 3, code: 1 });
});

test('comments go to Rule.comment, not to the semantics; jumps, gotos, REJECT, RETURN', () => {
  const r = parseIptablesSave('*filter\n:INPUT ACCEPT [3:180]\n:X - [0:0]\n[5:300] -A INPUT -m comment --comment "a \\"b\\" c" -j X\n-A INPUT -g X\n-A X -j REJECT --reject-with tcp-reset\n-A X -j RETURN\nCOMMIT\n', { source: 't' });
  assert.deepEqual(r.problems, []);
  const input = r.tables[0].chains.find((c) => c.name === 'INPUT')!;
  assert.equal(input.rules[0].comment, 'a "b" c');
  assert.deepEqual(input.rules[0].counters, { packets: 5, bytes: 300 });
  assert.deepEqual(input.counters, { packets: 3, bytes: 180 });
  assert.deepEqual(input.rules[0].exprs, [{ type: 'action', kind: 'jump', chain: 'X' }]);
  assert.deepEqual(input.rules[1].exprs, [{ type: 'action', kind: 'goto', chain: 'X' }]);
  assert.deepEqual(rules(r, 'filter', 'X'), [[{ type: 'action', kind: 'reject', with: 'tcp-reset' }], [{ type: 'action', kind: 'return' }]]);
});

test('built-in chains get the table hook priority and their policy', () => {
  const r = parseIptablesSave('*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:FORWARD DROP [0:0]\nCOMMIT\n*mangle\nCOMMIT\n', { source: 't' });
  const nat = r.tables[0];
  assert.deepEqual(nat.chains.find((c) => c.name === 'PREROUTING')!.base, { hook: 'prerouting', priority: -100, type: 'nat', policy: 'accept' });
  assert.deepEqual(nat.chains.find((c) => c.name === 'POSTROUTING')!.base, { hook: 'postrouting', priority: 100, type: 'nat', policy: 'accept' });
  // Undeclared built-ins exist anyway (the kernel registers every hook of the table).
  assert.deepEqual(nat.chains.map((c) => c.name), ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
  assert.equal(r.tables[1].chains.find((c) => c.name === 'FORWARD')!.base!.policy, 'drop');
  assert.equal(r.tables[2].chains.find((c) => c.name === 'OUTPUT')!.base!.type, 'route');
  assert.equal(r.tables[2].chains.find((c) => c.name === 'OUTPUT')!.base!.priority, -150);
});

test('family and origin from the header, or from the addresses', () => {
  const v6 = parseIptablesSave('# Generated by ip6tables-save v1.8.9 (nf_tables) on x\n*filter\n-A INPUT -s fe80::1 -j ACCEPT\nCOMMIT\n', { source: 't' });
  assert.equal(v6.tables[0].family, 'ip6');
  assert.equal(v6.tables[0].origin, 'iptables-nft');
  assert.deepEqual(v6.tables[0].chains[0].rules[0].exprs[0], { type: 'match', key: 'saddr', cidrs: ['fe80::1/128'] });
  const sniffed = parseIptablesSave('*filter\n-A INPUT -d 2001:db8::/32 -j DROP\nCOMMIT\n', { source: 't' });
  assert.equal(sniffed.tables[0].family, 'ip6');
  const legacy = parseIptablesSave('# Generated by iptables-save v1.8.7 (legacy) on x\n*filter\nCOMMIT\n', { source: 't' });
  assert.equal(legacy.tables[0].origin, 'iptables-legacy');
  assert.equal(legacy.tables[0].family, 'ip');
});

test('problems carry code, line, column and token; parsing goes on', () => {
  const text = [
    '-A INPUT -j ACCEPT', // 1: before any table
    '*filter', // 2
    ':INPUT ACCEPT [0:0]', // 3
    '-A INPUT -m mark --mark 0x8000/0xzz -j DROP', // 4: invalid mask
    '-A INPUT -j NOPE-CHAIN', // 5: undeclared chain
    '-A INPUT -m frobnicate --frob 1 -j ACCEPT', // 6: unknown match, kept
    'user@node:~$ iptables-save | grep KUBE', // 7: stray
    '-A INPUT -s 10.0.0.300 -j DROP', // 8: bad address
    '*nat', // 9: filter has no COMMIT
    ':PREROUTING ACCEPT [0:0]',
    // nat has no COMMIT either
  ].join('\n');
  const r = parseIptablesSave(text, { source: 'f.rules' });
  const got = r.problems.map((p) => [p.code, p.line, p.column, p.token]);
  assert.deepEqual(got, [
    ['RULE_BEFORE_TABLE', 1, 1, '-A INPUT -j ACCEPT'],
    ['INVALID_MASK', 4, 25, '0x8000/0xzz'],
    ['UNDECLARED_CHAIN', 5, 13, 'NOPE-CHAIN'],
    ['UNKNOWN_MATCH', 6, 13, 'frobnicate'],
    ['STRAY_LINE', 7, 1, 'user@node:~$ iptables-save | grep KUBE'],
    ['INVALID_ADDRESS', 8, 13, '10.0.0.300'],
    ['MISSING_COMMIT', 9, 1, '*nat'],
    ['MISSING_COMMIT', 10, 1, undefined],
    ['TABLE_INFERRED', 1, 1, 'filter'],
  ].sort((a, b) => (a[1] as number) - (b[1] as number)));
  // The model was still built: the bad mask and the unknown module are kept verbatim.
  const input = r.tables.find((t) => t.name === 'filter' && t.chains.find((c) => c.name === 'INPUT')!.rules.length > 1)!.chains.find((c) => c.name === 'INPUT')!;
  assert.deepEqual(input.rules[0].exprs[0], { type: 'match', key: 'other', module: 'mark', text: '--mark 0x8000/0xzz' });
  assert.deepEqual(input.rules[2].exprs[0], { type: 'match', key: 'other', module: 'frobnicate', text: '--frob 1' });
  assert.match(serializeIptablesSave(r), /-A INPUT -m frobnicate --frob 1 -j ACCEPT/);
});

test('pasted fragments: iptables -S output of two tables, table inferred with a warning', () => {
  const text = [
    '-P INPUT ACCEPT',
    '-N KUBE-FIREWALL',
    '-A INPUT -j KUBE-FIREWALL',
    '-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP',
    '-P PREROUTING ACCEPT',
    '-N KUBE-SERVICES',
    '-N KUBE-SEP-1',
    '-A PREROUTING -j KUBE-SERVICES',
    '-A KUBE-SEP-1 -p tcp -j DNAT --to-destination 10.0.0.1:80',
  ].join('\n');
  const r = parseIptablesSave(text, { source: 'paste' });
  assert.deepEqual(r.tables.map((t) => t.name), ['filter', 'nat']);
  assert.deepEqual(r.problems.map((p) => [p.code, p.line]), [['TABLE_INFERRED', 1], ['TABLE_INFERRED', 5]]);
  assert.equal(r.tables[1].chains.find((c) => c.name === 'KUBE-SEP-1')!.rules[0].exprs.at(-1)!.type, 'action');
  // A bare fragment of kube-proxy chains is nat, even with no built-in chain.
  const frag = parseIptablesSave('-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n', { source: 'p' });
  assert.equal(frag.tables[0].name, 'nat');
});

test('pasted commands with -t and shell quotes', () => {
  const r = parseIptablesSave("sudo iptables -t mangle -A PREROUTING -m comment --comment 'steer web' -p tcp --dport 80 -j NFQUEUE --queue-num 3\n", { source: 'p' });
  assert.deepEqual(r.problems, []);
  assert.equal(r.tables[0].name, 'mangle');
  const rule = r.tables[0].chains.find((c) => c.name === 'PREROUTING')!.rules[0];
  assert.equal(rule.comment, 'steer web');
  assert.deepEqual(rule.exprs.at(-1), { type: 'action', kind: 'queue', num: 3, bypass: false, fanout: false });
});

test('comma lists in -s/-d become one rule per address, as iptables-restore expands them', () => {
  const r = parseIptablesSave('*filter\n-A INPUT -s 10.0.0.1,10.0.0.2 -d 1.1.1.1 -j DROP\nCOMMIT\n', { source: 't' });
  assert.deepEqual(rules(r, 'filter', 'INPUT').map((e) => (e[0] as { cidrs: string[] }).cidrs[0]), ['10.0.0.1/32', '10.0.0.2/32']);
  assert.equal(withoutComments(serializeIptablesSave(r)), '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.1/32 -d 1.1.1.1/32 -j DROP\n-A INPUT -s 10.0.0.2/32 -d 1.1.1.1/32 -j DROP\nCOMMIT\n');
});

test('every iptables-save capture under test/fixtures round-trips byte for byte (comments aside)', () => {
  let n = 0;
  for (const file of allFixtureFiles()) {
    const text = readFixture(file);
    if (!isIptablesSaveCapture(text, file)) continue;
    n++;
    const r = parseIptablesSave(text, { source: file });
    const errors = r.problems.filter((p) => p.severity === 'error');
    assert.deepEqual(errors, [], fixtureName(file));
    assert.equal(withoutComments(serializeIptablesSave(r)), withoutComments(text).replace(/\n*$/, '\n'), fixtureName(file));
  }
  assert.ok(n > 0, 'no iptables-save capture found under test/fixtures');
});

test('-o in PREROUTING/INPUT and -i in OUTPUT/POSTROUTING are refused, as iptables-restore refuses them', () => {
  const text = [
    '*mangle',
    '-A PREROUTING -o eth0 -j ACCEPT', // 2
    '-A INPUT -i eth0 ! -o veth+ -j ACCEPT', // 3
    '-A FORWARD -i a -o b -j ACCEPT', // 4: both fine
    '-A OUTPUT ! -i lo -o eth0 -j ACCEPT', // 5
    '-A POSTROUTING -i eth0 -j ACCEPT', // 6
    '-A USER -i a -o b -j ACCEPT', // 7: a user chain, checked by nobody
    'COMMIT',
  ].join('\n');
  const r = parseIptablesSave(text.replace('*mangle', '*mangle\n:USER - [0:0]'), { source: 'f' });
  assert.deepEqual(r.problems.map((p) => [p.code, p.line, p.column, p.token]), [
    ['CONFLICTING_OPTIONS', 3, 15, '-o'],
    ['CONFLICTING_OPTIONS', 4, 20, '-o'],
    ['CONFLICTING_OPTIONS', 6, 13, '-i'],
    ['CONFLICTING_OPTIONS', 7, 16, '-i'],
  ]);
  // The rules are still in the model.
  assert.equal(r.tables[0].chains.reduce((s, c) => s + c.rules.length, 0), 6);
});

test('iptables -v -S output: counters after -P and inside rules are read and printed as iptables-save -c prints them', () => {
  // `iptables-nft -v -S` and `iptables-nft-save -c` of one ruleset (iptables 1.8.9, in a namespace).
  const listed = ['-P INPUT ACCEPT -c 5 300', '-P FORWARD ACCEPT -c 0 0', '-P OUTPUT ACCEPT -c 0 0', '-A INPUT -s 10.0.0.1/32 -c 5 300 -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 22 -c 7 800 -j ACCEPT'].join('\n');
  const saved = ['*filter', ':INPUT ACCEPT [5:300]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', '[5:300] -A INPUT -s 10.0.0.1/32 -j ACCEPT', '[7:800] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', 'COMMIT', ''].join('\n');
  const r = parseIptablesSave(listed, { source: 'v-S' });
  assert.deepEqual(r.problems.map((p) => p.code), ['TABLE_INFERRED']);
  assert.equal(withoutComments(serializeIptablesSave(r)), saved);
  assert.deepEqual(r.tables[0].chains[0].counters, { packets: 5, bytes: 300 });
  assert.deepEqual(r.tables[0].chains[0].rules.map((x) => x.counters), [{ packets: 5, bytes: 300 }, { packets: 7, bytes: 800 }]);
  const bad = parseIptablesSave('-P INPUT ACCEPT -c 5\n', { source: 'b' });
  assert.deepEqual(bad.problems.map((p) => [p.code, p.column]), [['TABLE_INFERRED', 1], ['BAD_COUNTERS', 17]]);
});

test('commands as pasted from terminals: after shell prompts, continued with backslashes, and "# iptables" read with a warning', () => {
  const text = [
    '```', // 1: a chat's code fence, skipped with a warning
    '$ sudo iptables -t mangle -A PREROUTING -p tcp \\', // 2
    '    --dport 80 -j NFQUEUE --queue-num 3 --queue-bypass', // 3: continues 2
    'root@iptables-node:~# iptables -t mangle -A OUTPUT -j MARK --set-mark 0x1/0x1', // 4: "iptables" in the host name too
    '[root@n1 ~]# iptables -t mangle -I OUTPUT 1 -j ACCEPT', // 5
    '# iptables -t mangle -A POSTROUTING -j CONNMARK --save-mark', // 6: root prompt or commented out
    '> iptables -t mangle -A FORWARD -j ACCEPT', // 7: quoted in a reply
    'user@node:~$ iptables-save | grep KUBE', // 8: a prompt without a rule
    '# Generated by iptables-save v1.8.9 on Fri Nov 27 06:14:25 2026', // 9: a comment
    '```',
  ].join('\n');
  const r = parseIptablesSave(text, { source: 'chat' });
  assert.deepEqual(r.problems.map((p) => [p.code, p.line, p.column]), [
    ['STRAY_LINE', 1, 1],
    ['PROMPT_COMMAND', 6, 1],
    ['STRAY_LINE', 8, 1],
    ['STRAY_LINE', 10, 1],
  ]);
  assert.deepEqual(r.tables.map((t) => t.name), ['mangle']);
  const chain = (n: string) => r.tables[0].chains.find((c) => c.name === n)!.rules;
  const pre = chain('PREROUTING');
  assert.equal(pre.length, 1);
  assert.equal(pre[0].pos.line, 2);
  assert.deepEqual(pre[0].exprs.at(-1), { type: 'action', kind: 'queue', num: 3, bypass: true, fanout: false });
  assert.deepEqual(chain('OUTPUT').map((x) => x.exprs.at(-1)), [{ type: 'action', kind: 'accept' }, { type: 'action', kind: 'mark', and: 0xfffffffe, xor: 1 }]);
  assert.deepEqual(chain('POSTROUTING')[0].exprs, [{ type: 'action', kind: 'connmark-save', nfmask: 0xffffffff, ctmask: 0xffffffff }]);
  assert.equal(chain('FORWARD').length, 1);
  // Lines after a continuation keep their own numbers.
  const late = parseIptablesSave('iptables -A INPUT \\\n  -s 10.0.0.1 \\\n  -j ACCEPT\niptables -A INPUT -m mark --mark 0xzz -j DROP\n', { source: 'c' });
  assert.deepEqual(late.problems.filter((p) => p.code !== 'TABLE_INFERRED').map((p) => [p.code, p.line]), [['INVALID_MASK', 4]]);
  // A backslash at the end of the input continues nothing.
  assert.doesNotThrow(() => parseIptablesSave('iptables -A INPUT -j ACCEPT \\', { source: 'e' }));
});

test('targets only one table takes are WRONG_TABLE elsewhere: errors in named tables, warnings in inferred fragments', () => {
  const text = ['*filter', '-A INPUT -p tcp -j DNAT --to-destination 10.0.0.1', '-A INPUT -j CT --notrack', '-A INPUT -j MARK --set-mark 1', 'COMMIT', '*mangle', '-A PREROUTING -p tcp -j TPROXY --on-port 1 --tproxy-mark 0x1/0x1', '-A POSTROUTING -j MASQUERADE', 'COMMIT', '*nat', '-A POSTROUTING -j MASQUERADE', 'COMMIT'].join('\n');
  const r = parseIptablesSave(text, { source: 'w' });
  assert.deepEqual(r.problems.map((p) => [p.code, p.severity, p.line, p.column, p.token]), [
    ['WRONG_TABLE', 'error', 2, 20, 'DNAT'],
    ['WRONG_TABLE', 'error', 3, 13, 'CT'],
    ['WRONG_TABLE', 'error', 8, 19, 'MASQUERADE'],
  ]);
  // A fragment whose chains say mangle but whose target says nat: inferred, and the mix is pointed out.
  const mixed = parseIptablesSave('-A FORWARD -j ACCEPT\n-A POSTROUTING -j MASQUERADE\n-A POSTROUTING -j MASQUERADE\n', { source: 'f' });
  assert.deepEqual(mixed.problems.map((p) => [p.code, p.severity, p.line]), [['TABLE_INFERRED', 'warning', 1], ['WRONG_TABLE', 'warning', 2]]);
  assert.match(mixed.problems[1].message, /mix rules of several tables/);
  // Pasted commands name their table with -t (or get iptables' default, filter).
  const pasted = parseIptablesSave('iptables -t raw -A PREROUTING -j NOTRACK\niptables -A INPUT -p tcp -j REDIRECT\n', { source: 'p' });
  assert.deepEqual(pasted.problems.map((p) => [p.code, p.severity, p.line, p.token]), [['WRONG_TABLE', 'error', 2, 'REDIRECT']]);
});

test('-p NUMBER prints as iptables-save prints it: a name for the protocols of iptables\' own table, else as written', () => {
  // iptables 1.8.9's iptables-save of `-p 6 --syn`, `-p 58`, `-p 0`; 47 stays a number (1.8.10+ prints 47).
  const r = parseIptablesSave('*filter\n-A INPUT -p 6 -m tcp --syn -j ACCEPT\n-A INPUT ! -p 17 -j ACCEPT\n-A INPUT -p 58 -j ACCEPT\n-A INPUT -p 0 -j ACCEPT\n-A INPUT -p 47 -j ACCEPT\nCOMMIT\n', { source: 'p' });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(withoutComments(serializeIptablesSave(r)).split('\n').filter((l) => l.startsWith('-A')), [
    '-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT',
    '-A INPUT ! -p udp -j ACCEPT',
    '-A INPUT -p ipv6-icmp -j ACCEPT',
    '-A INPUT -j ACCEPT',
    '-A INPUT -p 47 -j ACCEPT',
  ]);
});

test('! --ctdir is refused as iptables refuses it, and kept verbatim rather than read as the direction it negates', () => {
  const r = parseIptablesSave('*filter\n-A INPUT -m conntrack ! --ctdir REPLY -j ACCEPT\nCOMMIT\n', { source: 'd' });
  assert.deepEqual(r.problems.map((p) => [p.code, p.line, p.column]), [['MISPLACED_INVERT', 2, 25]]);
  assert.deepEqual(r.tables[0].chains[0].rules[0].exprs[0], { type: 'match', key: 'other', module: 'conntrack', text: '! --ctdir REPLY' });
});
