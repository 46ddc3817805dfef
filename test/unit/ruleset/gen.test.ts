// `nfqguard gen kube-proxy`: the shape of what it writes (read back by the parser, so a wrong count, a
// missing chain or a family mix-up fails), and its usage errors. That it loads with the real
// iptables-restore is test/kernel/ruleset/gen.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from '../../helpers/cli.js';
import { parseIptablesSave, type Ruleset } from '../../../src/ruleset/index.js';

async function gen(args: string[]): Promise<Ruleset> {
  const x = await cli(['gen', 'kube-proxy', ...args]);
  assert.equal(x.code, 0, x.stderr);
  const r = parseIptablesSave(x.stdout, { source: 'gen' });
  assert.deepEqual(r.problems, []);
  return r;
}

const chains = (r: Ruleset, table: string) => r.tables.find((t) => t.name === table)!.chains;

test('gen kube-proxy: one KUBE-SVC per service, one KUBE-SEP per endpoint, kube-proxy marks, in the family asked', async () => {
  for (const [services, endpoints] of [[7, 3], [4, 1], [0, 2]]) {
    const r = await gen(['--services', String(services), '--endpoints', String(endpoints)]);
    assert.deepEqual(r.tables.map((t) => `${t.family} ${t.name}`), ['ip filter', 'ip nat']);
    const nat = chains(r, 'nat');
    assert.equal(nat.filter((c) => c.name.startsWith('KUBE-SVC-')).length, services);
    assert.equal(nat.filter((c) => c.name.startsWith('KUBE-SEP-')).length, services * endpoints);
    for (const name of ['KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING', 'KUBE-NODEPORTS']) assert.ok(nat.some((c) => c.name === name), name);
    assert.ok(chains(r, 'filter').some((c) => c.name === 'KUBE-FIREWALL'));
    const masq = nat.find((c) => c.name === 'KUBE-MARK-MASQ')!.rules[0].exprs;
    assert.deepEqual(masq, [{ type: 'action', kind: 'mark', and: ~0x4000 >>> 0, xor: 0x4000 }]);
    // every KUBE-SEP DNATs to a pod address
    for (const c of nat.filter((x) => x.name.startsWith('KUBE-SEP-'))) assert.ok(c.rules.some((x) => x.exprs.some((e) => e.type === 'action' && e.kind === 'dnat' && /^10\.244\./.test(e.to ?? ''))), c.name);
  }
  const v6 = await gen(['--services', '3', '--family', 'ipv6', '--with', 'calico']);
  assert.ok(v6.tables.every((t) => t.family === 'ip6'));
  assert.ok(v6.tables.some((t) => t.chains.some((c) => c.name.startsWith('cali-'))), 'calico chains ride along');
});

test('gen: usage errors exit 2 with a hint', async () => {
  for (const argv of [['gen'], ['gen', 'calico'], ['gen', 'kube-proxy'], ['gen', 'kube-proxy', '--services', 'x'], ['gen', 'kube-proxy', '--services', '1', '--family', 'ipv5'], ['gen', 'kube-proxy', '--services', '1', '--with', 'cilium'], ['gen', 'kube-proxy', '--services', '1', '--endpoints', '0']]) {
    const x = await cli(argv);
    assert.equal(x.code, 2, argv.join(' '));
    assert.equal(x.stdout, '', argv.join(' '));
    assert.notEqual(x.stderr, '', argv.join(' '));
  }
});

test('gen: a ruleset too large to build in memory is a usage error at once (1,000,000 services ran out of heap after a minute)', async () => {
  const { GEN_MAX_UNITS } = await import('../../../src/cli/commands/gen.js');
  const started = Date.now();
  for (const argv of [['--services', '1000000'], ['--services', String(GEN_MAX_UNITS / 5 + 1), '--endpoints', '3'], ['--services', '1000', '--endpoints', '1000']]) {
    const x = await cli(['gen', 'kube-proxy', ...argv]);
    assert.equal(x.code, 2, argv.join(' '));
    assert.equal(x.stdout, '');
    assert.match(x.stderr, /^nfqguard: --services \d+ with --endpoints \d+ is too large to generate: --services x \(--endpoints \+ 2\) must be at most 500000\nhint: e\.g\. --services \d+ --endpoints \d+\n$/);
  }
  assert.ok(Date.now() - started < 2000, 'refused before generating anything');
  // The limit itself is allowed (the suggestion is usable): a small --services with the largest --endpoints.
  const ok = await cli(['gen', 'kube-proxy', '--services', '2', '--endpoints', '1000']);
  assert.equal(ok.code, 0, ok.stderr);
});
