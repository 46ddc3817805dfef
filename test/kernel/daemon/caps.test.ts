// The DaemonSet gives the container CAP_NET_ADMIN and nothing else. iptables-legacy needs CAP_NET_RAW as
// well (it talks to the kernel through a raw socket), so on a node whose rules are in iptables-legacy
// (kube-proxy in legacy mode) the legacy listing fails. A failed listing must not be read as an empty
// one: the backend choice would put the rules in the wrong backend, and the mask check would pass on
// exactly the node where the owned bits conflict. Here the commands run with only CAP_NET_ADMIN.
import assert from 'node:assert/strict';
import { kernelTest } from '../../helpers/kernel.js';
import { assertNoRules, BIN, DaemonProc, mangleSave, withTempConfig } from '../../helpers/daemon.js';
import type { Netns } from '../../../src/lab/netns.js';

const NET_ADMIN_ONLY = ['--inh-caps=-all,+net_admin', '--ambient-caps=-all,+net_admin', '--bounding-set=-all,+net_admin'];
const CONFIG = (backend: string): string => `
name: caps
queue: { first: 250 }
mark: { mask: 0x00f00000, bypass_ctmark: 0x01000000 }
steering:
  backend: ${backend}
  rules:
    - { hook: input, protocol: tcp, dports: [9001] }
metrics: { listen: 127.0.0.1:9478 }
`;

const netAdmin = (ns: Netns, args: string[]) => ns.exec('setpriv', [...NET_ADMIN_ONLY, process.execPath, BIN, ...args], { timeoutMs: 20_000 });

kernelTest('only CAP_NET_ADMIN on an iptables-legacy node: run, rules install and run --check refuse with the NET_RAW fix, install nothing', 'dcaps', async (ns) => {
  // kube-proxy-like legacy rules, one of them on an owned bit.
  await ns.execOk('iptables-legacy', ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '22', '-j', 'MARK', '--set-xmark', '0x00100000/0x00100000']);
  await withTempConfig(CONFIG('auto'), async (cfg) => {
    // The backend cannot be chosen: one line, exit 2, with the fix.
    const run = await netAdmin(ns, ['run', '--config', cfg]);
    assert.equal(run.code, 2, run.stderr + run.stdout);
    assert.match(run.stderr, /^nfqguard: this node has iptables-legacy tables but iptables-legacy-save cannot read them: .*CAP_NET_RAW.*NET_RAW/);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    const install = await netAdmin(ns, ['rules', 'install', '--config', cfg]);
    assert.equal(install.code, 2, install.stdout);
    assert.match(install.stderr, /CAP_NET_RAW/);
    const plan = await netAdmin(ns, ['run', '--check', '--json', '--config', cfg]);
    assert.equal(plan.code, 2, plan.stderr);
    const p = JSON.parse(plan.stdout) as { backend: { error?: string }; maskCheck: { unreadable: string[] }; verdict: { start: boolean; reasons: string[] } };
    assert.match(p.backend.error ?? '', /CAP_NET_RAW/);
    assert.equal(p.verdict.start, false);
    assert.match(p.maskCheck.unreadable.join('\n'), /^iptables-legacy-save: .*Permission denied/);
    // As full root, the same check sees the legacy rule and the conflict.
    const rootPlan = await ns.exec(process.execPath, [BIN, 'run', '--check', '--json', '--config', cfg]);
    assert.equal(rootPlan.code, 1, rootPlan.stderr);
    const rp = JSON.parse(rootPlan.stdout) as { backend: { chosen: string }; maskCheck: { conflicts: string[]; unreadable: string[] } };
    assert.equal(rp.backend.chosen, 'iptables-legacy');
    assert.deepEqual(rp.maskCheck.unreadable, []);
    assert.match(rp.maskCheck.conflicts.join('\n'), /0x00100000/);
  });
  // The backend named in the config: the workers bind, but neither the stale-rule clean-up nor the mask
  // check can see the legacy tables: refused, unless --force, which starts with a warning for each.
  await withTempConfig(CONFIG('iptables'), async (cfg) => {
    const run = await netAdmin(ns, ['run', '--config', cfg]);
    assert.equal(run.code, 2, run.stderr + run.stdout);
    assert.match(run.stderr, /^nfqguard: could not check the iptables-legacy tables for rules of instance caps: iptables-legacy-save: .*Permission denied.*CAP_NET_RAW/);
    const forced = await DaemonProc.start(ns, cfg, ['--force'], 8000, {}, ['setpriv', ...NET_ADMIN_ONLY]);
    await forced.waitFor((l) => typeof l.msg === 'string' && /^stale-rule clean-up incomplete, ignored \(--force\)/.test(l.msg), 100);
    await forced.waitFor((l) => typeof l.msg === 'string' && /^mask check blind to a part of the ruleset, ignored \(--force\): iptables-legacy-save: .*CAP_NET_RAW/.test(l.msg), 100);
    assert.match(await mangleSave(ns), /NFQG-caps-IN/, 'installed with --force');
    assert.equal((await forced.kill('SIGTERM')).code, 0, forced.stderr);
    // What preStop runs: it removes what it can see, and says what it could not look at (exit 2).
    await ns.exec(process.execPath, [BIN, 'rules', 'install', '--config', cfg]);
    const un = await netAdmin(ns, ['rules', 'uninstall', '--config', cfg]);
    assert.equal(un.code, 2, un.stdout);
    assert.match(un.stderr, /removed \d+ rule\(s\) and chain\(s\), but could not check the iptables-legacy tables .*CAP_NET_RAW/);
  });
  await assertNoRules(ns);
  assert.match(await ns.execOk('iptables-legacy-save', ['-t', 'mangle']), /--set-xmark 0x100000\/0x100000/, 'the node rule is untouched');
  assert.doesNotMatch(await ns.execOk('iptables-legacy-save', []), /nfqguard|NFQG/);
}, { timeout: 60_000 });
