// gen kube-proxy output loads with the real iptables-restore (legacy and nft, IPv4 and IPv6, with Calico),
// and what iptables-save prints back round-trips through the parser.
import assert from 'node:assert/strict';
import { genKubeProxy } from '../../../src/ruleset/gen/kube-proxy.js';
import { parseIptablesSave, serializeIptablesSave } from '../../../src/ruleset/index.js';
import { kernelTest } from '../../helpers/kernel.js';
import { withoutComments } from '../../helpers/ruleset-fixtures.js';

for (const family of ['ipv4', 'ipv6'] as const) {
  for (const backend of ['legacy', 'nft'] as const) {
    kernelTest(`gen kube-proxy --family ${family} --with calico loads with ${backend} iptables-restore`, 'rsgen', async (ns) => {
      const text = genKubeProxy({ services: 60, endpoints: 3, family, with: ['calico'] });
      const tool = `${family === 'ipv6' ? 'ip6tables' : 'iptables'}-${backend}`;
      const own = parseIptablesSave(text, { source: 'gen' });
      assert.deepEqual(own.problems, []);
      assert.ok(own.tables.every((t) => t.family === (family === 'ipv6' ? 'ip6' : 'ip')));
      await ns.execOk(`${tool}-restore`, [], { input: text, timeoutMs: 30_000 });
      const dump = await ns.execOk(`${tool}-save`, [], { timeoutMs: 30_000 });
      const back = parseIptablesSave(dump, { source: 'dump' });
      assert.deepEqual(back.problems, []);
      assert.equal(withoutComments(serializeIptablesSave(back)), withoutComments(dump));
      const count = (r: typeof own) => r.tables.reduce((s, t) => s + t.chains.reduce((c, ch) => c + ch.rules.length, 0), 0);
      assert.equal(count(back), count(own));
      // 60 services x (1 service rule + 1 masquerade rule + 3 endpoint jumps + 3 x 2 endpoint rules) at least
      assert.ok(count(own) >= 60 * 11);
    }, { timeout: 60_000 });
  }
}
