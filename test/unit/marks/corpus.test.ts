// Every fixture of the corpus: attribution (owners and masks), conflicts (kind, parties, mask), the
// suggestion, and evidence that points at the right line of the captured file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, checkMask, hex8 } from '../../../src/marks/index.js';
import { CORPUS, expectations, loadFixture } from './corpus.js';

const all = expectations();

test('the corpus has a fixture for every component the issue names, and the three mixes', () => {
  const dirs = new Set(all.map((e) => e.fixture.split('/')[0]));
  for (const d of ['kubelet', 'kube-proxy', 'calico', 'cilium', 'istio', 'weave', 'flannel', 'kube-router', 'antrea', 'ovn-kubernetes', 'aws-vpc-cni', 'tailscale', 'wg-quick', 'docker', 'firewalld', 'nfqueue', 'mixes']) {
    assert.ok(dirs.has(d), `no fixture for ${d}`);
  }
  for (const f of ['mixes/kube-proxy+calico+tailscale', 'mixes/cilium+kube-proxy', 'mixes/wg-quick+kubelet+kube-proxy']) assert.ok(all.some((e) => e.fixture === f), f);
});

for (const e of all) {
  test(`fixture ${e.fixture}`, () => {
    const loaded = loadFixture(e);
    const rs = loaded.ruleset;
    assert.deepEqual(rs.problems.filter((p) => p.severity === 'error'), [], 'parse errors');
    const r = analyze(rs);
    const owners = Object.fromEntries(r.owners.map((o) => [o.name, hex8(o.mask)]));
    assert.deepEqual(owners, e.owners, 'owners and their masks');
    const ct = Object.fromEntries(r.owners.filter((o) => o.ctmask).map((o) => [o.name, hex8(o.ctmask)]));
    assert.deepEqual(ct, e.ctOwners, 'connmark owners');
    const key = (c: { kind: string; parties: string[]; mask: string }) => `${c.kind} ${c.mask} ${[...c.parties].sort().join(' | ')}`;
    assert.deepEqual(r.conflicts.map((c) => key({ kind: c.kind, parties: c.parties, mask: hex8(c.mask) })).sort(), e.conflicts.map(key).sort(), 'conflicts');
    if (e.suggestion === null) assert.equal(r.suggestion.mask, null);
    else {
      const m = r.suggestion.mask;
      assert.ok(m !== null, r.suggestion.reason);
      const used = r.owners.reduce((x, o) => (x | o.mask) >>> 0, 0);
      assert.equal((m & used) >>> 0, 0, 'the suggestion avoids every owner');
      // What checkMask still reports for it can only be whole-word writers and readers, never an owner.
      for (const c of checkMask(rs, m).conflicts) {
        const o = r.owners.find((x) => x.name === c.parties[1]);
        assert.ok(o && (o.mask & m) === 0, c.consequence);
        assert.match(c.consequence, /whole (mark|connmark)/);
      }
    }
    // Evidence cites the captured file at the rule's own line.
    for (const o of r.owners) {
      for (const ev of o.evidence) {
        const lines = readFileSync(join(CORPUS, '..', '..', '..', ev.source), 'utf8').split('\n');
        const line = lines[ev.line - 1] ?? '';
        if (ev.source.endsWith('.json')) {
          // nft JSON: the position is the rule object's opening brace; its chain follows within a few lines.
          const obj = lines.slice(ev.line - 1, ev.line + 8).join('\n');
          assert.ok(/^\s*\{/.test(line) && obj.includes('"rule"') && obj.includes(`"chain": "${ev.chain}"`), `${ev.source}:${ev.line} does not open a rule of ${ev.chain}`);
        } else {
          assert.ok(line.includes(ev.chain.replace(/^pref /, '')) || line.includes(ev.text.slice(0, 20)), `${ev.source}:${ev.line} is "${line}", cited for ${ev.chain}`);
        }
      }
    }
  });
}

test('mixes/kubelet+kube-proxy+seed with --mask 0x8000: the seed\'s diagnosis, from the captured ruleset', () => {
  const e = all.find((x) => x.fixture === 'mixes/kubelet+kube-proxy+seed')!;
  const loaded = loadFixture(e);
  const c = checkMask(loaded.ruleset, 0x8000);
  assert.equal(c.ok, false);
  assert.match(c.explanation, /bit 15 \(0x00008000\) is kubelet's drop bit \(--iptables-drop-bit 15\): KUBE-FIREWALL in filter INPUT and OUTPUT drops any packet carrying it; an inspector setting it would drop all queued traffic/);
  const ev = c.conflicts[0].evidence.find((x) => x.chain === 'KUBE-FIREWALL')!;
  assert.match(ev.source, /kubelet\+kube-proxy\+seed\.iptables-save$/);
});

test('mixes/wg-quick+kubelet+kube-proxy: 51820 = 0xca6c against the drop and masquerade bits (kubernetes#113659)', () => {
  const e = all.find((x) => x.fixture === 'mixes/wg-quick+kubelet+kube-proxy')!;
  const loaded = loadFixture(e);
  const r = analyze(loaded.ruleset);
  const drop = r.conflicts.find((c) => c.kind === 'overlap' && c.parties.includes('kubelet'))!;
  assert.match(drop.consequence, /wg-quick's fwmark 51820 \(0xca6c\)/);
  assert.match(drop.consequence, /KUBE-FIREWALL in filter INPUT and OUTPUT drops any packet carrying it/);
});

test("overlaps say what each side's rules do to the other's marked packets (#113659: wg-quick's tunnel packets dropped and masqueraded)", () => {
  const wg = analyze(loadFixture(all.find((x) => x.fixture === 'mixes/wg-quick+kubelet+kube-proxy')!).ruleset);
  const kubelet = wg.conflicts.find((c) => c.kind === 'overlap' && c.parties.includes('kubelet'))!;
  assert.match(
    kubelet.consequence,
    /On packets wg-quick marks with bits 14-15 \(0x0000c000\), kubelet's rules would drop those packets \(KUBE-FIREWALL in filter INPUT and OUTPUT\) and stop returning early, so the rest of KUBE-POSTROUTING applies to those packets \(MARK and MASQUERADE\)/,
  );
  // wg-quick's whole-word comparisons with 51820 hold for 0xca6c only: kubelet's single bits change nothing there.
  assert.doesNotMatch(kubelet.consequence, /wg-quick's rules would/);
  const mix = analyze(loadFixture(all.find((x) => x.fixture === 'mixes/kube-proxy+calico+tailscale')!).ruleset);
  const ts = mix.conflicts.find((c) => c.kind === 'overlap' && c.parties.includes('Tailscale'))!;
  assert.match(ts.consequence, /On packets Calico \(iptables\) marks with bit 19 \(0x00080000\), Tailscale's rules would route those packets by table main \(ip rule pref 5210\), route those packets by table default \(ip rule pref 5230\) and drop those packets as unreachable \(ip rule pref 5250\)/);
  // A packet with only Calico's accept bit does not match fwmark 0x80000/0xff0000 either way.
  assert.doesNotMatch(ts.consequence, /stop routing/);
  assert.match(ts.consequence, /bit 16 \(0x00010000\), Tailscale's rules would save the mark of those packets into the connmark/);
});
