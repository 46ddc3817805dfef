// `nfqguard parse` in-process: outputs, problems on stderr with positions, exit codes 0 / 1 / 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../../src/cli/program.js';
import type { Io } from '../../../src/cli/io.js';

function io(stdin = ''): Io & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    stdout: (t: string) => void (o.out += t),
    stderr: (t: string) => void (o.err += t),
    cwd: process.cwd(),
    env: process.env,
    signal: new AbortController().signal,
    readStdin: async () => stdin,
  };
  return o;
}

test('clean input: exit 0, canonical iptables-save on --emit', async () => {
  const x = io('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n');
  assert.equal(await runCli(['parse', '-', '--emit', 'iptables-save'], x), 0);
  assert.match(x.out, /^-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT$/m);
  assert.equal(x.err, '');
});

test('problems: exit 1, FILE:LINE:COL on stderr, model still printed as JSON', async () => {
  const x = io('*filter\n-A INPUT -m mark --mark 0xzz -j DROP\n');
  assert.equal(await runCli(['parse', '-', '--json'], x), 1);
  assert.match(x.err, /^<stdin>:2:25: error INVALID_MASK/m);
  assert.match(x.err, /MISSING_COMMIT/);
  const model = JSON.parse(x.out) as { tables: Array<{ chains: Array<{ rules: Array<Record<string, unknown>> }> }> };
  const rule = model.tables[0].chains[0].rules[0];
  assert.equal(rule.syntax, undefined, 'the syntax layer is not printed');
  assert.deepEqual((rule.exprs as unknown[])[0], { type: 'match', key: 'other', module: 'mark', text: '--mark 0xzz' });
});

test('unreadable file and bad options: exit 2', async () => {
  const x = io();
  assert.equal(await runCli(['parse', '/nonexistent/file'], x), 2);
  assert.match(x.err, /cannot read/);
  assert.equal(await runCli(['parse', '-', '--format', 'yaml'], io()), 2);
});

test('nft JSON is recognised by its shape', async () => {
  const x = io(JSON.stringify({ nftables: [{ table: { family: 'inet', name: 'f' } }, { chain: { family: 'inet', table: 'f', name: 'c', type: 'filter', hook: 'input', prio: 0, policy: 'drop' } }] }));
  assert.equal(await runCli(['parse', '-'], x), 0);
  assert.match(x.out, /inet f \(nft\): 1 chains/);
  assert.match(x.out, /policy drop/);
});

test('empty input: the summary says there are no tables (an empty pipe is not a clean ruleset)', async () => {
  const x = io('');
  assert.equal(await runCli(['parse', '-'], x), 0);
  assert.match(x.out, /^no tables: the input is empty or holds no ruleset\nproblems: 0 errors, 0 warnings\n$/);
  const y = io('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n');
  assert.equal(await runCli(['parse', '-'], y), 0);
  assert.doesNotMatch(y.out, /no tables/);
});
