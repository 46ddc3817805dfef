// Live readers against the real tools in a namespace: backends detected, legacy/nft conflict warned,
// ip rules read; nft text loaded through a throwaway namespace.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
