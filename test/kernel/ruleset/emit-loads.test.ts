// What `nfqguard parse --emit iptables-save` prints for rules that did not come from iptables text (nft
// JSON: iptables-nft tables as nft lists them) must load with the real iptables-restore: every rule, in
// its table and chain. nft holds a port test's protocol in the test itself (`udp dport 53`); iptables
// refuses `-m udp --dport 53` without `-p udp`.
import assert from 'node:assert/strict';
import { parseIptablesSave, parseNftJson, serializeIptablesSave } from '../../../src/ruleset/index.js';
import { kernelTest } from '../../helpers/kernel.js';
import { allFixtureFiles, fixtureName, isNftJsonCapture, readFixture } from '../../helpers/ruleset-fixtures.js';

const captures = allFixtureFiles()
  .map((path) => ({ path, text: readFixture(path) }))
  .filter((f) => isNftJsonCapture(f.text))
  .map((f) => ({ ...f, model: parseNftJson(f.text, { source: f.path }) }))
  .filter((f) => f.model.tables.some((t) => (t.family === 'ip' || t.family === 'ip6') && t.origin !== 'nft'));

const ruleCount = (r: ReturnType<typeof parseIptablesSave>, family: string) =>
  r.tables.filter((t) => t.family === family).reduce((s, t) => s + t.chains.reduce((c, ch) => c + ch.rules.length, 0), 0);

for (const { path, model } of captures) {
  for (const family of ['ip', 'ip6'] as const) {
    if (!model.tables.some((t) => t.family === family && t.origin !== 'nft')) continue;
    const tool = family === 'ip6' ? 'ip6tables-legacy' : 'iptables-legacy';
    kernelTest(`parse --emit iptables-save of ${fixtureName(path)} (${family}) loads with ${tool}-restore`, 'rsemit', async (ns) => {
      const text = serializeIptablesSave(model, { family });
      await ns.execOk(`${tool}-restore`, [], { input: text, timeoutMs: 20_000 });
      const dump = parseIptablesSave(await ns.execOk(`${tool}-save`, [], { timeoutMs: 20_000 }), { source: 'dump' });
      assert.deepEqual(dump.problems, []);
      assert.equal(ruleCount(dump, family), ruleCount(model, family), 'every rule loaded');
    });
  }
}
