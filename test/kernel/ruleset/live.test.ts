// Live readers against the real tools in a namespace: backends detected, legacy/nft conflict warned,
// ip rules read; nft text loaded through a throwaway namespace.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseIptablesSave } from '../../../src/ruleset/index.js';
import { readLiveRuleset, loadNftText } from '../../../src/ruleset/live.js';
import { kernelTest } from '../../helpers/kernel.js';

kernelTest('readLiveRuleset sees iptables-nft, legacy and ip rules, and warns about both backends', 'rslive', async (ns) => {
  await ns.execOk('iptables-nft', ['-t', 'mangle', '-A', 'PREROUTING', '-m', 'mark', '--mark', '0x8000/0x8000', '-j', 'ACCEPT']);
  await ns.execOk('ip', ['rule', 'add', 'fwmark', '0x80/0x80', 'lookup', 'main', 'pref', '1024']);
  let live = await readLiveRuleset({ netns: ns.name });
  assert.equal(live.backends.nft.ip.rules, 1);
  assert.equal(live.backends.legacy.ip.rules, 0);
  assert.ok(!live.ruleset.problems.some((p) => p.code === 'BACKEND_CONFLICT'));
  const mangle = live.ruleset.tables.find((t) => t.name === 'mangle' && t.family === 'ip')!;
  assert.equal(mangle.origin, 'iptables-nft');
  // iptables-nft's table is not read twice (once from nft -j).
  assert.equal(live.ruleset.tables.filter((t) => t.name === 'mangle' && t.family === 'ip').length, 1);
  assert.deepEqual(live.ruleset.ipRules.find((r) => r.priority === 1024)!.fwmark, { value: 0x80, mask: 0x80 });

  await ns.execOk('iptables-legacy', ['-A', 'INPUT', '-j', 'ACCEPT']);
  live = await readLiveRuleset({ netns: ns.name });
  assert.equal(live.backends.legacy.ip.rules, 1);
  assert.ok(live.ruleset.problems.some((p) => p.code === 'BACKEND_CONFLICT'));
  assert.ok(live.warnings.some((w) => w.includes('both iptables-legacy')));
  assert.ok(live.ruleset.tables.some((t) => t.origin === 'iptables-legacy' && t.name === 'filter'));
});

kernelTest('loadNftText reads the nft text form through a throwaway namespace', 'rsnftx', async () => {
  const r = await loadNftText(readFileSync('test/fixtures/parser/nft-mixed.nft', 'utf8'), { source: 'nft-mixed.nft' });
  assert.deepEqual(r.problems, []);
  const t = r.tables.find((x) => x.name === 't')!;
  assert.equal(t.chains.find((c) => c.name === 'pre')!.base!.priority, -149);
  const bad = await loadNftText('table inet x {\n  chain c {\n    frobnicate\n  }\n}\n', { source: 'bad.nft' });
  assert.equal(bad.problems[0].line, 3);
  assert.equal(bad.problems[0].source, 'bad.nft');
});

kernelTest('readLiveRuleset keeps only the built-in chains nftables has, though iptables-nft-save prints them all', 'rsfake', async (ns) => {
  const input = readFileSync('test/fixtures/parser/nft-builtins.rules', 'utf8');
  await ns.execOk('iptables-nft-restore', [], { input, timeoutMs: 20_000 });
  const dump = parseIptablesSave(await ns.execOk('iptables-nft-save', [], { timeoutMs: 20_000 }), { source: 'save' });
  const chainsOf = (tables: typeof dump.tables, name: string) => tables.find((t) => t.family === 'ip' && t.name === name)!.chains.map((c) => c.name);
  assert.deepEqual(chainsOf(dump.tables, 'raw'), ['PREROUTING', 'OUTPUT'], 'the dump lists raw OUTPUT, which does not exist');
  // What exists, by nft itself (independent of the parsers).
  const nft = JSON.parse(await ns.execOk('nft', ['-j', 'list', 'ruleset'], { timeoutMs: 20_000 })) as { nftables: Array<{ chain?: { table: string; name: string } }> };
  const exist = (table: string) => nft.nftables.filter((x) => x.chain?.table === table).map((x) => x.chain!.name);
  const live = await readLiveRuleset({ netns: ns.name });
  for (const table of ['raw', 'mangle', 'nat', 'filter']) {
    assert.deepEqual(chainsOf(live.ruleset.tables, table).sort(), exist(table).sort(), table);
  }
  assert.deepEqual(chainsOf(live.ruleset.tables, 'mangle'), ['NFQG-MARK']);
  assert.equal(live.ruleset.tables.filter((t) => t.name === 'mangle').length, 1, 'read once');
});

kernelTest('loadNftText warns that the text form of an iptables-nft table is a translation', 'rsnftt', async (ns) => {
  await ns.execOk('iptables-nft-restore', [], { input: readFileSync('test/fixtures/parser/nft-builtins.rules', 'utf8'), timeoutMs: 20_000 });
  const text = await ns.execOk('nft', ['list', 'ruleset'], { timeoutMs: 20_000 });
  // The translation loses a state: --ctstate NEW,DNAT is listed as `ct status dnat`.
  assert.match(text, /ct status dnat .*accept/);
  const r = await loadNftText(text, { source: 'listing.nft' });
  const warned = r.problems.filter((p) => p.code === 'TRANSLATED_TABLE').map((p) => `${p.token} ${p.line}`);
  const lines = text.split('\n');
  const lineOf = (t: string) => lines.findIndex((l) => l.startsWith(`table ip ${t} `)) + 1;
  assert.deepEqual(warned.sort(), ['raw', 'mangle', 'nat', 'filter'].map((t) => `table ip ${t} ${lineOf(t)}`).sort());
  assert.ok(r.problems.every((p) => p.severity === 'warning'));
});

kernelTest('readLiveRuleset reads each table once: iptables-nft tables that look native, native tables iptables-nft cannot show', 'rsonce', async (ns) => {
  // A table with native rules under an iptables name: iptables-nft-save leaves it out ("incompatible").
  await ns.nft('table ip filter {\n  chain INPUT {\n    type filter hook input priority filter; policy accept;\n    ct status dnat counter accept\n  }\n}\n');
  // An iptables-nft table with a user chain only and no xt expression: its nft JSON looks native.
  await ns.execOk('iptables-nft', ['-t', 'mangle', '-N', 'X']);
  await ns.execOk('iptables-nft', ['-t', 'mangle', '-A', 'X', '-j', 'ACCEPT']);
  const save = await ns.execOk('iptables-nft-save', [], { timeoutMs: 20_000 });
  assert.match(save, /Table `filter' is incompatible/);
  assert.doesNotMatch(save, /^\*filter$/m);
  const live = await readLiveRuleset({ netns: ns.name });
  const ip = live.ruleset.tables.filter((t) => t.family === 'ip').map((t) => `${t.name} ${t.origin} ${t.chains.map((c) => `${c.name}:${c.rules.length}`).join(',')}`);
  assert.deepEqual(ip.sort(), ['filter nft INPUT:1', 'mangle iptables-nft X:1']);
  assert.deepEqual(live.ruleset.problems.map((p) => [p.code, p.token]), [['INCOMPATIBLE_TABLE', 'filter']]);
  assert.equal(live.backends.nftNative.rules, 1);
});
