import assert from 'node:assert/strict';
import { kernelTest } from '../../helpers/kernel.js';
import { Installer } from '../../../src/install/backend.js';
import { compileSteering, type InstallSpec } from '../../../src/install/plan.js';
import type { Netns } from '../../../src/lab/netns.js';

function installerIn(ns: Netns): Installer {
  return new Installer((cmd, args, input) => ns.exec(cmd, args, { input, timeoutMs: 10_000 }));
}

const spec = (over: Partial<InstallSpec> = {}): InstallSpec => ({
  name: 'kt',
  queues: [100, 101],
  fanout: 'hash',
  bypassCtMark: 0x01000000,
  rules: compileSteering(
    [
      { hook: 'input', protocol: 'tcp', dports: [80, '8000-8080'] },
      { hook: 'output', protocol: 'udp', dports: [53], sources: ['10.0.0.0/8', 'fd00::/8'] },
    ],
    ['ipv4', 'ipv6'],
  ),
  ...over,
});

kernelTest('iptables install: bypass, balance across workers, flow-bypass rule; idempotent; uninstall leaves the rest alone', 'inst', async (ns) => {
  const inst = installerIn(ns);
  // Somebody else's rules in mangle, before and after: they must survive.
  await ns.iptablesRestore('*mangle\n-A INPUT -p tcp --dport 22 -j MARK --set-xmark 0x4000/0x4000\nCOMMIT\n');
  assert.equal(await inst.install(spec(), 'iptables'), true);
  const save = await ns.execOk('iptables-save', ['-t', 'mangle']);
  assert.match(save, /-A NFQG-kt-IN -p tcp -m multiport --dports 80,8000:8080 -m comment --comment "nfqguard:kt:[0-9a-f]+" -j NFQUEUE --queue-balance 100:101 --queue-bypass/);
  assert.match(save, /-A NFQG-kt-IN -m connmark --mark 0x1000000\/0x1000000 -m comment --comment "nfqguard:kt:[0-9a-f]+" -j RETURN/);
  assert.match(save, /-A INPUT -m comment --comment "nfqguard:kt:[0-9a-f]+" -j NFQG-kt-IN/);
  assert.match(save, /-A NFQG-kt-OUT -s 10.0.0.0\/8 -p udp -m udp --dport 53 .* --queue-bypass/);
  const save6 = await ns.execOk('ip6tables-save', ['-t', 'mangle']);
  assert.match(save6, /-A NFQG-kt-OUT -s fd00::\/8 -p udp -m udp --dport 53 .* --queue-bypass/);
  assert.doesNotMatch(save6, /10\.0\.0\.0/);
  assert.deepEqual(await inst.status(spec(), 'iptables'), { missing: [], unexpected: [], shadowed: [] });
  assert.equal(await inst.install(spec(), 'iptables'), false, 'second install is a no-op');
  assert.equal(await ns.execOk('iptables-save', ['-t', 'mangle']).then((s) => s.replace(/^#.*\n/gm, '')), save.replace(/^#.*\n/gm, ''));

  // Drift: a rule of ours deleted by hand, and a foreign rule appended after our jump.
  const jump = save.split('\n').find((l) => l.startsWith('-A INPUT -m comment --comment "nfqguard:kt'))!;
  await ns.execOk('iptables', ['-t', 'mangle', '-D', ...jump.slice(3).split(' ').map((w) => w.replace(/"/g, ''))]);
  await ns.execOk('iptables', ['-t', 'mangle', '-A', 'INPUT', '-p', 'tcp', '--dport', '23', '-j', 'MARK', '--set-mark', '1']);
  await ns.execOk('iptables', ['-t', 'mangle', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '23', '-j', 'MARK', '--set-mark', '1']);
  const d = await inst.status(spec(), 'iptables');
  assert.equal(d.missing.length, 1);
  assert.match(d.missing[0], /jump from mangle INPUT is missing/);
  assert.equal(d.shadowed.length, 1, 'the rule appended after our OUTPUT jump never runs for queued packets');
  assert.match(d.shadowed[0], /OUTPUT/);
  // A changed config replaces the rules atomically.
  assert.equal(await inst.install(spec({ queues: [7] }), 'iptables'), true);
  assert.match(await ns.execOk('iptables-save', ['-t', 'mangle']), /--queue-num 7 --queue-bypass/);
  assert.doesNotMatch(await ns.execOk('iptables-save', ['-t', 'mangle']), /queue-balance/);

  const removed = await inst.uninstall('kt');
  assert.ok(removed.length > 0);
  const after = await ns.execOk('iptables-save', ['-t', 'mangle']);
  assert.doesNotMatch(after, /nfqguard|NFQG/);
  assert.match(after, /--dport 22 -j MARK --set-xmark 0x4000\/0x4000/, 'foreign rules survive');
  assert.match(after, /--dport 23 -j MARK/);
  assert.doesNotMatch(await ns.execOk('ip6tables-save', ['-t', 'mangle']), /nfqguard|NFQG/);
  assert.deepEqual(await inst.uninstall('kt'), [], 'uninstall twice removes nothing more');
});

kernelTest('nft backend: falls back to iptables when the kernel has no nft queue, saying why', 'instnft', async (ns) => {
  const inst = installerIn(ns);
  const probe = await inst.nftQueueSupported();
  const d = await inst.chooseBackend('nft');
  if (probe.ok) {
    assert.equal(d.backend, 'nft');
    assert.equal(await inst.install(spec(), 'nft'), true);
    assert.deepEqual(await inst.status(spec(), 'nft'), { missing: [], unexpected: [], shadowed: [] });
    assert.match(await ns.execOk('nft', ['list', 'table', 'inet', 'nfqguard_kt']), /queue flags bypass to 100-101/);
    await inst.uninstall('kt');
    assert.doesNotMatch(await ns.execOk('nft', ['list', 'ruleset']), /nfqguard/);
  } else {
    assert.equal(d.backend, 'iptables');
    assert.ok(d.notes.some((n) => /falling back to the iptables NFQUEUE target/.test(n) && /CONFIG_NFT_QUEUE/.test(n)), d.notes.join('; '));
  }
  assert.doesNotMatch(await ns.execOk('nft', ['list', 'ruleset']), /nfqguard_probe/, 'the probe leaves nothing behind');
});

kernelTest('auto backend picks iptables-legacy when only legacy tables hold rules', 'instauto', async (ns, t) => {
  const inst = installerIn(ns);
  const legacy = await ns.exec('iptables-legacy', ['-t', 'filter', '-A', 'INPUT', '-p', 'tcp', '--dport', '9', '-j', 'ACCEPT']);
  if (legacy.code !== 0) {
    t.skip(`iptables-legacy does not work in this kernel: ${legacy.stderr.trim()}`);
    return;
  }
  try {
    const d = await inst.chooseBackend('auto');
    assert.equal(d.backend, 'iptables-legacy', d.notes.join('; '));
  } finally {
    await ns.exec('iptables-legacy', ['-t', 'filter', '-F']);
  }
});

kernelTest('the nft script is valid nft: the parser accepts it, only a kernel without nft queue may refuse the queue rules', 'instnftc', async (ns) => {
  const { nftInstallScript } = await import('../../../src/install/plan.js');
  const s = spec({ bypassMark: 0x00800000, fanout: 'cpu' });
  const script = nftInstallScript(s);
  const r = await ns.exec('nft', ['-c', '-f', '-'], { input: script });
  if (r.code !== 0) {
    assert.doesNotMatch(r.stderr, /syntax error/);
    assert.match(r.stderr, /No such file or directory/);
    assert.ok((await installerIn(ns).nftQueueSupported()).ok === false, 'refused although the kernel has nft queue');
  }
  // Everything but the queue statement is accepted by this kernel too.
  const noQueue = await ns.exec('nft', ['-c', '-f', '-'], { input: script.replace(/queue flags [^ ]+ to [0-9-]+/g, 'counter') });
  assert.equal(noQueue.code, 0, noQueue.stderr);
});

kernelTest('uninstall on a node where nothing used mangle leaves no empty chain behind (iptables-nft made them for our jumps); a chain in use stays', 'instempty', async (ns) => {
  const inst = installerIn(ns);
  const before = await ns.execOk('nft', ['list', 'ruleset']);
  // mangle OUTPUT gets a foreign rule after our install: it must stay, with that rule.
  assert.equal(await inst.install(spec(), 'iptables'), true);
  await ns.execOk('iptables', ['-t', 'mangle', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '23', '-j', 'MARK', '--set-mark', '1']);
  const removed = await inst.uninstall('kt');
  assert.ok(removed.includes('iptables ipv4: empty built-in chain INPUT'), removed.join('\n'));
  assert.ok(removed.includes('iptables ipv6: empty built-in chain OUTPUT'), removed.join('\n'));
  assert.ok(!removed.includes('iptables ipv4: empty built-in chain OUTPUT'), 'a chain with a foreign rule is not removed');
  const after = await ns.execOk('nft', ['list', 'ruleset']);
  assert.doesNotMatch(after, /chain INPUT|NFQG|nfqguard/);
  assert.match(after, /table ip mangle[\s\S]*chain OUTPUT[\s\S]*tcp dport 23/);
  assert.doesNotMatch(after, /table ip6 mangle[\s\S]*chain/, `ip6 mangle has no chain left (before: ${before.trim() || 'empty'})`);
});
