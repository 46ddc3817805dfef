// `nfqguard trace` in-process: the seed's story end to end from iptables-save text, the --json shape
// the issue specifies, batch mode, and usage errors (exit 2 with the fix).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cli } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'nfqg-trace-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SEED = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
-A INPUT -p tcp -m tcp --dport 80 -j KUBE-FIREWALL
-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP
COMMIT
`;
const seedFile = join(dir, 'seed.rules');
writeFileSync(seedFile, SEED);
const PKT = 'tcp 127.0.0.1:40240 > 127.0.0.1:80';

test("trace: the seed's outage, read from iptables-save text", async () => {
  const r = await cli(['trace', '--iptables-save', seedFile, '--packet', PKT, '--hook', 'input:FIRST:queue=80', '--queue-verdict', 'accept,mark=0x8000']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^packet: tcp 127\.0\.0\.1:40240 > 127\.0\.0\.1:80 \[syn\], ct new/);
  assert.match(r.stdout, /path: +output \(out lo\) -> postrouting \(out lo\) -> prerouting \(in lo\) -> input \(in lo\)/);
  assert.match(r.stdout, /0x00000000 -> 0x00008000 +accept +consumer answers accept,mark=0x8000/);
  assert.match(r.stdout, /verdict: drop, decided by ip filter KUBE-FIREWALL rule 1: .*-m mark --mark 0x8000\/0x8000 -j DROP/);
  assert.match(r.stdout, /final mark: 0x00008000/);
});

test('trace --json: the fields of the issue, exactly', async () => {
  const r = await cli(['trace', '--iptables-save', '-', '--packet', PKT, '--hook', 'input:FIRST:queue=80', '--hook', 'input:FIRST+1:clear-mark', '--queue-verdict', 'accept,mark=0x8000', '--json'], { stdin: SEED });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.verdict, 'accept');
  assert.equal(j.mark, '0x00000000');
  assert.deepEqual(j.decidedBy, { family: 'inet', table: '(hook)', chain: 'input:FIRST', rule: null, text: 'input:FIRST:queue=80' });
  for (const s of j.steps) for (const k of ['hook', 'priority', 'table', 'chain', 'rule', 'text', 'markBefore', 'markAfter', 'verdict']) assert.ok(k in s, `step field ${k}`);
  const clear = j.steps.find((s: { chain: string }) => s.chain === 'input:FIRST+1');
  assert.deepEqual([clear.priority, clear.markBefore, clear.markAfter], [-2147483647, '0x00008000', '0x00000000']);
  const jump = j.steps.find((s: { rule: number | null; chain: string }) => s.chain === 'INPUT' && s.rule === 1);
  assert.deepEqual([jump.hook, jump.table, jump.verdict, jump.text], ['input', 'filter', 'jump KUBE-FIREWALL', '-p tcp -m tcp --dport 80 -j KUBE-FIREWALL']);
});

test('trace: an uninterpreted match makes the result undetermined, with the rule and both outcomes', async () => {
  const f = join(dir, 'stat.rules');
  writeFileSync(f, '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m statistic --mode random --probability 0.5 -j DROP\nCOMMIT\n');
  const r = await cli(['trace', '--iptables-save', f, '--packet', PKT]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /verdict: UNDETERMINED \(2 outcomes\)/);
  assert.match(r.stdout, /cannot decide ip filter INPUT rule 1: -m statistic/);
  assert.match(r.stdout, /outcome 1: drop .*\(if INPUT #1 matches\)/);
  assert.match(r.stdout, /outcome 2: accept, mark 0x00000000 +\(if INPUT #1 does not match\)/);
  assert.match(r.stdout, /because the simulator does not interpret "statistic --mode random/);
  const j = JSON.parse((await cli(['trace', '--iptables-save', f, '--packet', PKT, '--json'])).stdout);
  assert.equal(j.verdict, 'undetermined');
  assert.equal(j.decidedBy.rule, 1);
  assert.equal(j.outcomes.length, 2);
});

test('trace --packets: one line per packet, bad lines reported with line and column, exit 2 after the rest', async () => {
  const f = join(dir, 'packets.txt');
  writeFileSync(f, `# the seed's client\n${PKT} mark 0x8000\n\ntcp 127.0.0.1:1 > 127.0.0.1:81\ntcp 127.0.0.1 > 127.0.0.1:80\n`);
  const r = await cli(['trace', '--iptables-save', seedFile, '--packets', f]);
  assert.equal(r.code, 2);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^2\ttcp\tdrop\t0x00008000\tip filter KUBE-FIREWALL #1$/);
  assert.match(lines[1], /^4\ttcp\taccept\t0x00000000\t\(policies\)/);
  assert.match(r.stderr, new RegExp(`${f.replace(/[.]/g, '\\.')}:5:5: "127\\.0\\.0\\.1" needs a port`));
  const j = await cli(['trace', '--iptables-save', seedFile, '--packets', f, '--json']);
  const objs = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(objs.map((o) => [o.line, o.verdict, o.mark]), [
    [2, 'drop', '0x00008000'],
    [4, 'accept', '0x00000000'],
  ]);
});

test('trace: an nft JSON ruleset', async () => {
  const r = await cli(['trace', '--nft-json', 'test/fixtures/parser/nft-mixed.json', '--packet', 'tcp 10.0.0.1:1234 > 10.0.0.2:22', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(['accept', 'drop', 'undetermined'].includes(j.verdict));
  assert.ok(j.steps.length > 0);
});

test('trace: usage errors exit 2 and say how to fix them', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['trace', '--packet', PKT], /no ruleset given/],
    [['trace', '--iptables-save', seedFile], /exactly one of --packet/],
    [['trace', '--iptables-save', seedFile, '--packet', 'tcp 1.2.3.4:1 <> 5.6.7.8:2'], /column 15: expected ">"/],
    [['trace', '--iptables-save', seedFile, '--packet', PKT, '--hook', 'input:sometime:queue=80'], /is not a priority/],
    [['trace', '--iptables-save', seedFile, '--packet', PKT, '--queue-verdict', 'perhaps'], /accept, drop, hold or none/],
    [['trace', '--iptables-save', join(dir, 'missing.rules'), '--packet', PKT], /cannot read .*ENOENT/],
    [['trace', '--iptables-save', seedFile, '--packet', PKT, '--ct-state', 'sleepy'], /--ct-state must be one of/],
    [['trace', '--iptables-save', seedFile, '--packets', seedFile, '--kernel'], /--kernel traces one --packet/],
    [['trace', '--iptables-save', '-', '--packets', '-'], /standard input \(-\) given for more than one input/],
  ];
  for (const [argv, msg] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, msg, argv.join(' '));
  }
});

test('trace: problems in the input go to stderr with line and column; the trace goes on', async () => {
  const f = join(dir, 'odd.rules');
  writeFileSync(f, `${SEED}*mangle\n:INPUT ACCEPT [0:0]\n-A INPUT -m frobnicate --level 3 -j MARK --set-xmark 0x1/0x1\nCOMMIT\n`);
  const r = await cli(['trace', '--iptables-save', f, '--packet', PKT]);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /odd\.rules:11:\d+/);
  assert.match(r.stdout, /UNDETERMINED|verdict:/);
});

test('trace: an input with errors (a rule the parser rejected) still prints the trace, and exits 2 as batch mode does', async () => {
  const f = join(dir, 'broken.rules');
  writeFileSync(f, `${SEED}*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j NOPE\nCOMMIT\n`);
  for (const json of [false, true]) {
    const r = await cli(['trace', '--iptables-save', f, '--packet', PKT, ...(json ? ['--json'] : [])]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /broken\.rules:11:\d+: error UNDECLARED_CHAIN/);
    if (json) assert.ok(['accept', 'drop', 'undetermined'].includes(JSON.parse(r.stdout).verdict));
    else assert.match(r.stdout, /^verdict: /m);
    const b = await cli(['trace', '--iptables-save', f, '--packets', '-', ...(json ? ['--json'] : [])], { stdin: `${PKT}\n` });
    assert.equal(b.code, 2);
    assert.equal(b.stdout.trim().split('\n').length, 1);
  }
});

test('trace --ip-rules and --route ...,table=T: the routing decision by mark is a step; an unknown table is undetermined', async () => {
  const rules = join(dir, 'wg.iprules');
  writeFileSync(rules, '0:\tfrom all lookup local\n32764:\tfrom all lookup main suppress_prefixlength 0\n32765:\tnot from all fwmark 0xca6c lookup 51820\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n');
  const mangle = join(dir, 'wg.rules');
  writeFileSync(mangle, '*mangle\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p udp -m udp --dport 53 -j MARK --set-xmark 0xca6c/0xffffffff\nCOMMIT\n');
  const base = ['trace', '--iptables-save', mangle, '--ip-rules', rules, '--local', '10.0.0.2/24@eth0', '--route', 'default@eth0', '--route', 'default@wg0,table=51820'];
  const r = await cli([...base, '--packet', 'udp 10.0.0.2:40000 > 192.0.2.7:53']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /path: +output \(out wg0\) -> postrouting \(out eth0\)/);
  assert.match(r.stdout, /dev wg0 +routing: 32765 not fwmark 0xca6c -> table 51820: default dev wg0/);
  assert.match(r.stdout, /0x00000000 -> 0x0000ca6c +continue/);
  assert.match(r.stdout, /dev eth0 +routing: 32766 -> table main: default dev eth0/);
  const j = JSON.parse((await cli([...base, '--packet', 'udp 10.0.0.2:40000 > 192.0.2.7:443', '--mark', '0xca6c', '--json'])).stdout);
  assert.deepEqual(j.path, [
    { hook: 'output', oif: 'eth0' },
    { hook: 'postrouting', oif: 'eth0' },
  ]);
  assert.deepEqual(
    j.steps.filter((s: { table: string }) => s.table === '(routing)').map((s: { verdict: string; text: string }) => `${s.verdict}: ${s.text}`),
    ['dev eth0: routing: 32766 -> table main: default dev eth0'],
  );
  // Without table 51820's routes the route is not known: undetermined, the rule named, the fix in a note.
  const u = await cli(['trace', '--iptables-save', mangle, '--ip-rules', rules, '--local', '10.0.0.2/24@eth0', '--route', 'default@eth0', '--packet', 'udp 10.0.0.2:40000 > 192.0.2.7:443', '--json']);
  const uj = JSON.parse(u.stdout);
  assert.equal(uj.verdict, 'undetermined');
  assert.equal(uj.decidedBy.text, '32765: not from all fwmark 0xca6c lookup 51820');
  assert.ok(uj.notes.some((n: string) => /--route CIDR@DEV,table=51820/.test(n)), uj.notes.join('\n'));
  // Batch mode: the rule that left the route undetermined, in a line of five tab-separated fields.
  const pk = join(dir, 'wg.packets');
  writeFileSync(pk, 'udp 10.0.0.2:40000 > 192.0.2.7:443\nudp 10.0.0.2:40000 > 10.0.0.9:53\n');
  const b = await cli(['trace', '--iptables-save', mangle, '--ip-rules', rules, '--local', '10.0.0.2/24@eth0', '--route', 'default@eth0', '--route', '10.0.0.0/24@eth0', '--packets', pk]);
  assert.equal(b.code, 0, b.stderr);
  const lines = b.stdout.trim().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(lines[0], ['1', 'udp', 'undetermined(1)', '0x00000000', 'ip (routing) ip rule 32765: not from all fwmark 0xca6c lookup 51820']);
  assert.deepEqual(lines[1].slice(0, 3), ['2', 'udp', 'accept'], 'main has a /24 for it: not suppressed, table 51820 never asked');
  // Bad input: a route option with a stray part, an ip rule line that is not one.
  const bad = await cli([...base.slice(0, 5), '--route', 'default@wg0,tabel=5', '--packet', 'udp 10.0.0.2:1 > 192.0.2.7:53']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--route "default@wg0,tabel=5": unexpected "tabel=5"/);
  const odd = join(dir, 'odd.iprules');
  writeFileSync(odd, '0:\tfrom all lookup local\nnot a rule\n');
  const o = await cli(['trace', '--iptables-save', mangle, '--ip-rules', odd, '--packet', 'udp 10.0.0.2:1 > 192.0.2.7:53', '--local', '10.0.0.2']);
  assert.equal(o.code, 0, o.stderr);
  assert.match(o.stderr, /odd\.iprules:2:1/);
});

test('trace --local ADDR...: several addresses after one --local, and repeated', async () => {
  const input = async (dst: string, ...locals: string[]): Promise<string[]> =>
    JSON.parse((await cli(['trace', '--iptables-save', seedFile, '--packet', `udp 10.0.0.1:5 > ${dst}:53`, ...locals, '--json'])).stdout).path.map((l: { hook: string }) => l.hook);
  for (const dst of ['10.0.0.2', '10.0.0.3', '10.0.0.4']) assert.deepEqual(await input(dst, '--local', '10.0.0.2', '10.0.0.3', '--local', '10.0.0.4'), ['prerouting', 'input'], dst);
  assert.deepEqual(await input('10.0.0.5', '--local', '10.0.0.2', '10.0.0.3', '--local', '10.0.0.4'), ['prerouting', 'forward', 'postrouting']);
});

test('trace: the final IPv6 endpoints are written as the packet spec writes them ([addr]:port)', async () => {
  const r = await cli(['trace', '--iptables-save', seedFile, '--packet', 'udp [fd00::1]:5 > [fd00::2]:53', '--local', 'fd00::2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /at the end: \[fd00::1\]:5 > \[fd00::2\]:53\n/);
  assert.match((await cli(['trace', '--iptables-save', seedFile, '--packet', 'icmpv6 fd00::1 > fd00::2'])).stdout, /at the end: fd00::1 > fd00::2\n/);
});

test('trace: a jump or goto loop (which the kernel refuses to load) is named, not run a million times', async () => {
  const cases: Array<[string, string]> = [
    [':A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\n', 'B -> A -> B'],
    [':A - [0:0]\n-A INPUT -j A\n-A A -g A\n', 'A -> A'],
    [':A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -p udp -g B\n-A B -g A\n', 'A -> B -> A'],
  ];
  for (const [chains, loop] of cases) {
    const f = join(dir, 'loop.rules');
    writeFileSync(f, `*filter\n:INPUT ACCEPT [0:0]\n${chains}COMMIT\n`);
    const r = await cli(['trace', '--iptables-save', f, '--packet', 'udp 10.0.0.1:1 > 10.0.0.2:2', '--local', '10.0.0.2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`because jump/goto loop ${loop} in table ip filter: the kernel refuses to load this ruleset`), chains);
    const j = JSON.parse((await cli(['trace', '--iptables-save', f, '--packet', 'udp 10.0.0.1:1 > 10.0.0.2:2', '--local', '10.0.0.2', '--json'])).stdout);
    assert.equal(j.verdict, 'undetermined');
    assert.ok(j.steps.length < 20, `${j.steps.length} steps`);
    assert.match(j.undeterminedBy[0].reason, /jump\/goto loop/);
  }
});

test('trace: a file with no tables and lines the parser could not read is the wrong file (exit 2); an empty one is an empty ruleset', async () => {
  const f = join(dir, 'ruleset.nft');
  writeFileSync(f, 'table inet f {\n  chain c {\n    type filter hook input priority 0; policy drop;\n  }\n}\n');
  const r = await cli(['trace', '--iptables-save', f, '--packet', PKT]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /ruleset\.nft:1:1: warning STRAY_LINE(.|\n)*no tables to trace through(.|\n)*hint: --iptables-save takes iptables-save output/);
  const e = join(dir, 'empty.rules');
  writeFileSync(e, '');
  const ok = await cli(['trace', '--iptables-save', e, '--packet', PKT]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /the ruleset is empty/);
});

test('trace --packets: a file with CRLF line ends, comments included', async () => {
  const f = join(dir, 'crlf.txt');
  writeFileSync(f, `# the seed's client\r\n${PKT} mark 0x8000\r\n# c\r\n\r\n${PKT} # inline\r\n`);
  const r = await cli(['trace', '--iptables-save', seedFile, '--packets', f]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 3).join(' ')), ['2 tcp drop', '5 tcp accept']);
});

test('trace --packets with no packet in it (an empty pipe, only comments): exit 0, and stderr says so', async () => {
  for (const stdin of ['', '# nothing yet\n\n']) {
    const r = await cli(['trace', '--iptables-save', seedFile, '--packets', '-'], { stdin });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'nfqguard: no packet specs in standard input (one per line, # comments)\n');
  }
  const one = await cli(['trace', '--iptables-save', seedFile, '--packets', '-'], { stdin: `${PKT}\n` });
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stderr, '');
});
