// `nfqguard trace --kernel`: the command's own replay (topology from the packet, consumers from
// --queue-verdict) agrees with the simulator on the seed's story, over IPv4 loopback and IPv6 forwarding.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { liveNamespaces } from '../../../src/lab/netns.js';
import { compareTrace } from '../../../src/sim/compare.js';
import { replayInKernel } from '../../../src/sim/kernel-replay.js';
import { parseLocalAddress } from '../../../src/sim/options.js';
import { parsePacketSpec } from '../../../src/sim/packet.js';
import { formatMark } from '../../../src/sim/state.js';
import { Simulator } from '../../../src/sim/trace.js';
import { a, m, nftChain, nftTable, rule, ruleset } from '../../helpers/sim-model.js';
import { cli } from '../../helpers/cli.js';
import { kernelSkipReason, kernelTest } from '../../helpers/kernel.js';
import { parseNftJson } from '../../../src/ruleset/index.js';

const skip = kernelSkipReason() ?? false;
const dir = mkdtempSync(join(tmpdir(), 'nfqg-tracek-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SEED = `*mangle
:INPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 80 -j NFQUEUE --queue-num 80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
-A INPUT -p tcp -m tcp --dport 80 -j KUBE-FIREWALL
-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP
COMMIT
`;

test("--kernel: the seed's whole-mark verdict is dropped by the kernel too; owned bits pass; no consumer drops", { skip, timeout: 60_000 }, async () => {
  const f = join(dir, 'seed.rules');
  writeFileSync(f, SEED);
  const expect: Array<[string, string, string]> = [
    ['accept,mark=0x8000', 'drop', '0x00008000'],
    ['accept,mark=0x100000/0xf00000', 'accept', '0x00104000'],
    ['none', 'drop', '0x00004000'],
  ];
  for (const [qv, verdict, mark] of expect) {
    const r = await cli(['trace', '--iptables-save', f, '--packet', 'tcp 127.0.0.1:40240 > 127.0.0.1:80 mark 0x4000', '--queue-verdict', qv, '--kernel', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.verdict, j.mark], [verdict, mark], qv);
    assert.deepEqual([j.kernel.verdict, j.kernel.mark, j.kernel.differences], [verdict, mark, []], qv);
  }
  assert.deepEqual(liveNamespaces(), []);
});

test('--kernel: IPv6 forwarding through an interface named as the trace names it', { skip, timeout: 60_000 }, async () => {
  const f = join(dir, 'v6.rules');
  writeFileSync(
    f,
    '*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -i eth0 -p udp -m udp --dport 53 -j MARK --set-xmark 0x4000/0x4000\nCOMMIT\n*filter\n:FORWARD DROP [0:0]\n-A FORWARD -o cni0 -m mark --mark 0x4000/0x4000 -j ACCEPT\nCOMMIT\n',
  );
  const r = await cli(['trace', '--ip6tables-save', f, '--packet', 'udp [fd00::1]:5353 > [fd00:10:244::5]:53', '--in', 'eth0', '--route', 'fd00:10:244::/64@cni0', '--kernel']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /verdict: accept, decided by ip6 filter FORWARD rule 1/);
  assert.match(r.stdout, /interfaces: in eth0 -> out cni0/);
  assert.match(r.stdout, /the kernel agrees with the simulator/);
});

test('an IPv6 packet in an inet chain: `ip saddr != X` does not match it (the kernel and the simulator agree)', { skip, timeout: 60_000 }, async () => {
  const script = `table inet t {
  chain c {
    type filter hook input priority 0; policy accept;
    ip saddr != 10.0.0.0/24 meta mark set meta mark or 0x1
    ip6 saddr != fd00::/64 meta mark set meta mark or 0x2
    ip6 saddr fd00::/64 meta mark set meta mark or 0x4
  }
}
`;
  const model = ruleset(
    nftTable('inet', 't', [
      nftChain('c', { hook: 'input', priority: 0 }, [
        rule('ip saddr != 10.0.0.0/24 meta mark set meta mark or 0x1', m.saddr('10.0.0.0/24', true), a.xmark(0x1, 0x1)),
        rule('ip6 saddr != fd00::/64 meta mark set meta mark or 0x2', m.saddr('fd00::/64', true), a.xmark(0x2, 0x2)),
        rule('ip6 saddr fd00::/64 meta mark set meta mark or 0x4', m.saddr('fd00::/64'), a.xmark(0x4, 0x4)),
      ]),
    ]),
  );
  const locals = [parseLocalAddress('fd00::2@eth0')];
  const packet = parsePacketSpec('udp [fd00::1]:3000 > [fd00::2]:53');
  const sim = new Simulator(model, { locals }).trace({ packet });
  const replay = await replayInKernel({ source: { nft: script }, model, packet, hooks: [], locals });
  assert.equal(replay.outcome.mark, '0x00000004');
  assert.deepEqual(compareTrace(sim, replay.outcome, formatMark, replay.chains).differences, []);
});

test('--kernel with --ip-rules: wg-quick routes the packet to table 51820, mangle OUTPUT marks it 0xca6c, the kernel re-routes it to main as the simulator does', { skip, timeout: 60_000 }, async () => {
  const rules = join(dir, 'wg.iprules');
  writeFileSync(rules, '0:\tfrom all lookup local\n32764:\tfrom all lookup main suppress_prefixlength 0\n32765:\tnot from all fwmark 0xca6c lookup 51820\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n');
  const f = join(dir, 'wg.rules');
  writeFileSync(f, '*mangle\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p udp -m udp --dport 53 -j MARK --set-xmark 0xca6c/0xffffffff\nCOMMIT\n');
  const args = ['trace', '--iptables-save', f, '--ip-rules', rules, '--local', '10.0.0.2/24@eth0', '--route', 'default@eth0', '--route', 'default@wg0,table=51820', '--kernel', '--json'];
  const marked = JSON.parse((await cli([...args, '--packet', 'udp 10.0.0.2:40000 > 192.0.2.7:53'])).stdout);
  assert.deepEqual([marked.verdict, marked.mark, marked.kernel.differences, marked.kernel.interfaces], ['accept', '0x0000ca6c', [], ['out wg0', 'out eth0']]);
  const plain = JSON.parse((await cli([...args, '--packet', 'udp 10.0.0.2:40000 > 192.0.2.7:443'])).stdout);
  assert.deepEqual([plain.kernel.differences, plain.kernel.interfaces], [[], ['out wg0']]);
  assert.deepEqual(liveNamespaces(), []);
});

// `nft -j list ruleset` output as --nft-json gives it: loaded into the namespace as it is (nft -j -f
// opens its input by name, so it must not be Node's stdin socket), then the same packet both ways.
const NFT_JSON = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'inet', name: 't', handle: 1 } },
    { chain: { family: 'inet', table: 't', name: 'in', handle: 1, type: 'filter', hook: 'input', prio: 7, policy: 'accept' } },
    { chain: { family: 'inet', table: 't', name: 'mark', handle: 2 } },
    { rule: { family: 'inet', table: 't', chain: 'in', handle: 3, expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 80 } }, { jump: { target: 'mark' } }] } },
    { rule: { family: 'inet', table: 't', chain: 'in', handle: 4, expr: [{ match: { op: '==', left: { meta: { key: 'mark' } }, right: 8 } }, { drop: null }] } },
    { rule: { family: 'inet', table: 't', chain: 'mark', handle: 5, expr: [{ mangle: { key: { meta: { key: 'mark' } }, value: 8 } }] } },
  ],
});

test('--kernel with --nft-json: the document loads in the namespace and the kernel agrees (drop by the mark the jumped-to chain set)', { skip, timeout: 60_000 }, async () => {
  const f = join(dir, 'ruleset.json');
  writeFileSync(f, NFT_JSON);
  const r = await cli(['trace', '--nft-json', f, '--packet', 'tcp 10.0.0.1:40000 > 10.0.0.2:80', '--local', '10.0.0.2/24@eth0', '--kernel', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual([j.verdict, j.mark, j.decidedBy?.chain, j.decidedBy?.rule], ['drop', '0x00000008', 'in', 2]);
  assert.deepEqual([j.kernel.verdict, j.kernel.mark, j.kernel.differences], ['drop', '0x00000008', []]);
  const other = JSON.parse((await cli(['trace', '--nft-json', f, '--packet', 'tcp 10.0.0.1:40000 > 10.0.0.2:443', '--local', '10.0.0.2/24@eth0', '--kernel', '--json'])).stdout);
  assert.deepEqual([other.verdict, other.kernel.verdict, other.kernel.differences], ['accept', 'accept', []]);
  assert.deepEqual(liveNamespaces(), []);
});

// iptables-nft's `-j CT --notrack` and `-j CT --zone 3` both read back from `nft -j list ruleset` as a
// bare {"xt": {"type": "target", "name": "CT"}}: the trace cannot know which, so it follows both, and the
// kernel (the notrack one is dropped by `ct state untracked drop`) takes one of them.
const XT_CT_IPT = '*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 80 -j CT --notrack\n-A PREROUTING -p tcp -m tcp --dport 81 -j CT --zone 3\nCOMMIT\n';
const XT_CT_NFT = 'table inet t {\n  chain in {\n    type filter hook input priority 10; policy accept;\n    ct state untracked drop\n  }\n}\n';

kernelTest('--nft-json of an iptables-nft CT target: nft -j hides --notrack, the trace shows both outcomes and the kernel takes one', 'trxtct', async (ns) => {
  await ns.iptablesRestore(XT_CT_IPT, 'iptables-nft-restore');
  await ns.nft(XT_CT_NFT);
  const doc = await ns.execOk('nft', ['-j', 'list', 'ruleset']);
  const model = parseNftJson(doc, { source: 'nft -j' });
  const raw = model.tables.find((t) => t.name === 'raw')?.chains.find((c) => c.name === 'PREROUTING');
  const bare = { type: 'action', kind: 'other', name: 'CT', text: 'xt target CT', terminal: false };
  assert.deepEqual(raw?.rules.map((r) => r.exprs.filter((e) => e.type === 'action')), [[bare], [bare]], 'nft -j now tells CT --notrack from CT --zone: the choice point is not needed');
  const f = join(dir, 'xtct.json');
  writeFileSync(f, doc);
  const locals = [parseLocalAddress('10.0.0.2@eth0')];
  for (const [port, kernelVerdict, outcome] of [[80, 'drop', 0], [81, 'accept', 1]] as const) {
    const j = JSON.parse((await cli(['trace', '--nft-json', f, '--packet', `tcp 10.0.0.1:40000 > 10.0.0.2:${port}`, '--local', '10.0.0.2@eth0', '--json'])).stdout);
    assert.equal(j.verdict, 'undetermined');
    assert.match(j.undeterminedBy[0].reason, /may be CT --notrack/);
    assert.deepEqual(j.outcomes.map((o: { verdict: string }) => o.verdict), ['drop', 'accept']);
    // The kernel with the same rules, told apart by iptables-restore; the simulator keeps the nft -j model.
    const packet = parsePacketSpec(`tcp 10.0.0.1:40000 > 10.0.0.2:${port}`);
    const sim = new Simulator(model, { locals }).trace({ packet });
    const replay = await replayInKernel({ source: { iptables: XT_CT_IPT, nft: XT_CT_NFT }, model, packet, hooks: [], locals });
    assert.equal(replay.outcome.verdict, kernelVerdict);
    assert.deepEqual(compareTrace(sim, replay.outcome, formatMark, replay.chains), { differences: [], matchedOutcome: outcome });
  }
  // --kernel with that document: nft cannot load xt expressions. The simulator's trace is printed, the
  // replay's failure said with the way out, exit 2, no namespace left.
  const k = await cli(['trace', '--nft-json', f, '--packet', 'tcp 10.0.0.1:40000 > 10.0.0.2:80', '--local', '10.0.0.2@eth0', '--kernel', '--json']);
  assert.equal(k.code, 2);
  const kj = JSON.parse(k.stdout);
  assert.equal(kj.verdict, 'undetermined');
  assert.match(kj.kernel.error, /xtables compat/);
  assert.match(k.stderr, /--kernel: .*\n(.|\n)*hint: .*iptables-nft-save text with --iptables-save/);
  assert.deepEqual(liveNamespaces().filter((n) => n.startsWith('nfqg-trace-')), []);
});

test('--kernel: a node address on a device no packet crosses (a dummy, or a veth where the kernel has no dummy driver)', { skip, timeout: 60_000 }, async () => {
  const f = join(dir, 'local.rules');
  writeFileSync(f, '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -d 10.9.0.1/32 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x5/0xffffffff\n-A INPUT -m mark --mark 0x5 -j DROP\nCOMMIT\n');
  const r = await cli(['trace', '--iptables-save', f, '--packet', 'tcp 10.0.0.1:40000 > 10.9.0.1:80', '--local', '10.0.0.2/24@eth0', '--local', '10.9.0.1/24@eth7', '--kernel', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual([j.verdict, j.mark, j.kernel.verdict, j.kernel.mark, j.kernel.differences], ['drop', '0x00000005', 'drop', '0x00000005', []]);
  assert.deepEqual(liveNamespaces(), []);
});

test('--kernel: an IPv4 packet from outside with one of the node\'s addresses as its source is a martian (dropped by routing); IPv6 lets it in', { skip, timeout: 60_000 }, async () => {
  const f = join(dir, 'acc.rules');
  writeFileSync(f, '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p udp -j ACCEPT\nCOMMIT\n');
  const cases: Array<[string, string[], string, string]> = [
    ['--iptables-save', ['udp 10.0.0.2:5 > 10.0.0.3:53', '10.0.0.2@eth1', '10.0.0.3@eth0'], 'drop', 'lost'],
    ['--iptables-save', ['udp 10.0.0.2:5 > 10.0.0.9:53', '10.0.0.2@eth0', '10.0.0.3@eth0'], 'drop', 'lost'],
    ['--ip6tables-save', ['udp [fd00::2]:5 > [fd00::3]:53', 'fd00::2@eth0', 'fd00::3@eth0'], 'accept', 'accept'],
  ];
  for (const [opt, [pkt, ...locals], verdict, kernel] of cases) {
    const r = await cli(['trace', opt, f, '--packet', pkt, ...locals.flatMap((l) => ['--local', l]), '--start', 'prerouting', '--kernel', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.verdict, j.kernel.verdict, j.kernel.differences], [verdict, kernel, []], pkt);
    if (verdict === 'drop') assert.ok(j.notes.some((n: string) => /martian: routing drops it \(accept_local off\)/.test(n)), j.notes.join('\n'));
  }
  assert.deepEqual(liveNamespaces(), []);
});

test('--kernel on kube-proxy (nftables) as `nft -j list ruleset` lists it: the service map loads (maps listed before their chains), and a rule after a verdict map keeps its number', { skip, timeout: 60_000 }, async () => {
  const doc = JSON.parse(readFileSync(new URL('../../../../test/fixtures/rulesets/kube-proxy/nftables.nft.json', import.meta.url), 'utf8')) as { nftables: Array<Record<string, any>> };
  const out: Array<Record<string, any>> = [];
  for (const o of doc.nftables) {
    if (o.map?.name === 'service-ips') o.map.elem = [...o.map.elem, [{ concat: ['10.96.0.3', 'udp', 53] }, { drop: null }], [{ concat: ['10.96.0.4', 'tcp', 80] }, { accept: null }]];
    out.push(o);
    if (o.rule?.chain === 'services' && out.filter((x) => x.rule?.chain === 'services').length === 1) {
      out.push({ rule: { family: 'ip', table: 'kube-proxy', chain: 'services', handle: 9999, expr: [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '10.96.0.9' } }, { drop: null }] } });
    }
  }
  const f = join(dir, 'kube-proxy-nft.json');
  writeFileSync(f, JSON.stringify({ nftables: out }));
  const cases: Array<[string, number]> = [
    ['udp 10.244.0.5:40000 > 10.96.0.3:53', 1],
    ['tcp 10.244.0.5:40000 > 10.96.0.9:443', 2],
  ];
  for (const [packet, rule] of cases) {
    const r = await cli(['trace', '--nft-json', f, '--packet', packet, '--in', 'eth0', '--kernel', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.verdict, j.decidedBy?.chain, j.decidedBy?.rule], ['drop', 'services', rule], packet);
    assert.deepEqual([j.kernel.verdict, j.kernel.differences], ['drop', []], packet);
  }
  assert.deepEqual(liveNamespaces(), []);
});
