// `nfqguard doctor --live --netns NAME` against the real kernel: the corpus scripts run in a fresh
// namespace, then the doctor reads that namespace with the real tools and must find what the captured
// fixtures say (kubernetes#113659: wg-quick's fwmark against kubelet's and kube-proxy's bits).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelTest } from '../../helpers/kernel.js';
import { cli } from '../../helpers/cli.js';

const CORPUS = join(process.cwd(), 'test/fixtures/rulesets');

kernelTest('doctor --live --netns: wg-quick + kubelet + kube-proxy, read back from the kernel', 'doctor', async (ns) => {
  await ns.execOk('sh', ['-euc', `cd '${CORPUS}' && . ./mixes/wg-quick+kubelet+kube-proxy.sh`], { timeoutMs: 20_000 });
  const x = await cli(['doctor', '--live', '--netns', ns.name, '--mask', '0x8000', '--json']);
  assert.equal(x.code, 1, x.stderr);
  const j = JSON.parse(x.stdout);
  const expect = JSON.parse(readFileSync(join(CORPUS, 'mixes/wg-quick+kubelet+kube-proxy.expect.json'), 'utf8'));
  assert.deepEqual(Object.fromEntries(j.owners.map((o: { name: string; mask: string }) => [o.name, o.mask])), expect.owners);
  const kinds = j.conflicts.filter((c: { kind: string }) => c.kind !== 'inspector').map((c: { kind: string; mask: string }) => `${c.kind} ${c.mask}`).sort();
  assert.deepEqual(kinds, expect.conflicts.map((c: { kind: string; mask: string }) => `${c.kind} ${c.mask}`).sort());
  const insp = j.conflicts.find((c: { kind: string; parties: string[] }) => c.kind === 'inspector' && c.parties.includes('kubelet'));
  assert.match(insp.consequence, /KUBE-FIREWALL in filter INPUT and OUTPUT drops any packet carrying it; an inspector setting it would drop all queued traffic/);
});

kernelTest('doctor --live --netns: kube-proxy nftables + Calico nftables, read back from the kernel', 'doctor', async (ns) => {
  await ns.execOk('sh', ['-euc', `cd '${CORPUS}' && . ./mixes/kube-proxy-nft+calico-nft.sh`], { timeoutMs: 20_000 });
  const x = await cli(['doctor', '--live', '--netns', ns.name, '--mask', '0x00080000', '--json']);
  assert.equal(x.code, 1, x.stderr);
  const j = JSON.parse(x.stdout);
  const expect = JSON.parse(readFileSync(join(CORPUS, 'mixes/kube-proxy-nft+calico-nft.expect.json'), 'utf8'));
  assert.deepEqual(Object.fromEntries(j.owners.map((o: { name: string; mask: string }) => [o.name, o.mask])), expect.owners);
  assert.deepEqual(j.conflicts.filter((c: { kind: string }) => c.kind !== 'inspector'), []);
  // Calico's scratch0 bit: raw PREROUTING sets it on workload packets and the RPF check reads it.
  const insp = j.conflicts.find((c: { kind: string; parties: string[] }) => c.kind === 'inspector' && c.parties.includes('Calico (nftables)'));
  assert.match(insp.consequence, /bit 19 \(0x00080000\) is Calico \(nftables\)'s scratch0 bit/);
  assert.match(insp.consequence, /raw-cali-PREROUTING in ip calico raw-PREROUTING/);
});

kernelTest('doctor --live: a namespace that is not there, or a node whose tables cannot be read, exits 2 (never "no conflict")', 'doctor', async (ns) => {
  const missing = await cli(['doctor', '--live', '--netns', `${ns.name}-gone`, '--mask', '0x8000', '--fail-on', 'mask']);
  assert.equal(missing.code, 2, missing.stdout);
  assert.match(missing.stderr, /no network namespace "nfqg-doctor-.*-gone"/);
  // The real namespace, with a PATH where only `ip` and `cat` exist: iptables-save and nft cannot run.
  const bin = mkdtempSync(join(tmpdir(), 'nfqg-doc-path-'));
  try {
    for (const tool of ['ip', 'cat']) symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
    const r = spawnSync(process.execPath, ['bin/nfqguard', 'doctor', '--live', '--netns', ns.name, '--json'], { encoding: 'utf8', env: { ...process.env, PATH: bin }, timeout: 20_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /no table could be read from the node/);
    assert.ok(JSON.parse(r.stdout).problems.some((p: { code: string }) => p.code === 'READ_FAILED'));
    // The same namespace with the tools: an empty node, read, no conflict.
    const ok = await cli(['doctor', '--live', '--netns', ns.name]);
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

kernelTest("doctor --live with only CAP_NET_ADMIN (the DaemonSet's init container) on an iptables-legacy node: the listing fails, so the gate exits 2 with the NET_RAW fix, not 0", 'doctor', async (ns) => {
  // kubelet's drop bit in legacy tables, the conflict the gate exists to catch.
  await ns.execOk('iptables-legacy', ['-N', 'KUBE-FIREWALL']);
  await ns.execOk('iptables-legacy', ['-A', 'INPUT', '-j', 'KUBE-FIREWALL']);
  await ns.execOk('iptables-legacy', ['-A', 'KUBE-FIREWALL', '-m', 'mark', '--mark', '0x8000/0x8000', '-j', 'DROP']);
  const args = ['bin/nfqguard', 'doctor', '--live', '--mask', '0x00008000', '--fail-on', 'mask'];
  const full = await ns.exec(process.execPath, args, { timeoutMs: 20_000 });
  assert.equal(full.code, 1, full.stderr);
  const caps = ['--inh-caps=-all,+net_admin', '--ambient-caps=-all,+net_admin', '--bounding-set=-all,+net_admin'];
  const netAdmin = await ns.exec('setpriv', [...caps, process.execPath, ...args], { timeoutMs: 20_000 });
  assert.equal(netAdmin.code, 2, netAdmin.stderr + netAdmin.stdout);
  assert.match(netAdmin.stderr, /could not read iptables-legacy-save: .*add NET_RAW/);
});
