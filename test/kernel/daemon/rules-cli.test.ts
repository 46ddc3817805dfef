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
