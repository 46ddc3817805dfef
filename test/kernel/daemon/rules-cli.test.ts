import assert from 'node:assert/strict';
import { kernelTest } from '../../helpers/kernel.js';
import { BIN, tempConfig } from '../../helpers/daemon.js';

const CFG = 'name: cli\nqueue: { first: 300, workers: 3 }\nmark: { mask: 0x00f00000, bypass_ctmark: 0x01000000 }\nsteering:\n  rules:\n    - { hook: prerouting, protocol: tcp, dports: [80] }\n';

kernelTest('rules install | status | uninstall from the command line: idempotent, drift shown, exact removal', 'rcli', async (ns) => {
  const cfg = tempConfig(CFG);
  const nfq = (...args: string[]) => ns.exec(process.execPath, [BIN, 'rules', ...args, '--config', cfg.path], { timeoutMs: 20_000 });
  try {
    const i1 = await nfq('install');
    assert.equal(i1.code, 0, i1.stderr);
    assert.match(i1.stdout, /^installed \(iptables\)$/m);
    assert.match((await nfq('install')).stdout, /already installed, nothing changed/);
    const s1 = await nfq('status', '--json');
    assert.equal(s1.code, 0);
    assert.equal((JSON.parse(s1.stdout) as { inSync: boolean }).inSync, true);
    await ns.execOk('iptables', ['-t', 'mangle', '-F', 'NFQG-cli-PRE']);
    const s2 = await nfq('status');
    assert.equal(s2.code, 1, 'drift is a finding');
    assert.match(s2.stdout, /DRIFT/);
    assert.match(s2.stdout, /missing: ipv4: steering rule 0 is missing: .*--queue-balance 300:302 --queue-bypass/);
    const u = await nfq('uninstall', '--json');
    assert.equal(u.code, 0);
    assert.ok((JSON.parse(u.stdout) as { removed: string[] }).removed.length >= 2);
    assert.doesNotMatch(await ns.execOk('iptables-save', ['-t', 'mangle']), /nfqguard|NFQG/);
    assert.match((await nfq('uninstall')).stdout, /nothing to remove/);
  } finally {
    cfg.remove();
  }
});

kernelTest('two instances, one name a prefix of the other ("pa", "pa-b"): uninstall of one leaves the other in sync', 'rpfx', async (ns) => {
  const a = tempConfig(CFG.replace('name: cli', 'name: pa'));
  const ab = tempConfig(CFG.replace('name: cli', 'name: pa-b').replace('first: 300', 'first: 310'));
  const nfq = (cfg: string, ...args: string[]) => ns.exec(process.execPath, [BIN, 'rules', ...args, '--config', cfg], { timeoutMs: 20_000 });
  try {
    assert.equal((await nfq(a.path, 'install')).code, 0);
    assert.equal((await nfq(ab.path, 'install')).code, 0);
    const u = await nfq(a.path, 'uninstall', '--json');
    assert.equal(u.code, 0, u.stderr);
    const removed = (JSON.parse(u.stdout) as { removed: string[] }).removed;
    assert.ok(removed.length >= 2);
    assert.ok(removed.every((r) => !r.includes('pa-b')), removed.join('\n'));
    const s = await nfq(ab.path, 'status', '--json');
    assert.equal(s.code, 0, s.stdout);
    assert.equal((JSON.parse(s.stdout) as { inSync: boolean }).inSync, true);
    assert.doesNotMatch(await ns.execOk('iptables-save', ['-t', 'mangle']), /nfqguard:pa:|NFQG-pa-PRE/);
    assert.equal((await nfq(ab.path, 'uninstall')).code, 0);
  } finally {
    a.remove();
    ab.remove();
  }
});
