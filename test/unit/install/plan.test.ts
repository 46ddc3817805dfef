import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSteering, iptablesDrift, iptablesInstallScript, iptablesLines, iptablesRemoval, nftInstallScript, readIptablesSave, SteeringError, type InstallSpec } from '../../../src/install/plan.js';

const spec = (over: Partial<InstallSpec> = {}): InstallSpec => ({
  name: 'u',
  queues: [10, 11, 12],
  fanout: 'hash',
  bypassCtMark: 0x01000000,
  rules: compileSteering([{ hook: 'prerouting', protocol: 'tcp', dports: [443], in_interface: 'eth0', sources: ['10.0.0.0/8', 'fd00::/8'] }], ['ipv4', 'ipv6']),
  ...over,
});

test('every queue rule has the bypass flag and balances over the worker queues', () => {
  const { lines } = iptablesLines(spec(), 4);
  const q = lines.filter((l) => l.spec.includes('NFQUEUE'));
  assert.equal(q.length, 1);
  assert.match(q[0].spec, /^-i eth0 -s 10\.0\.0\.0\/8 -p tcp -m tcp --dport 443 -m comment --comment "nfqguard:u:[0-9a-f]{10}" -j NFQUEUE --queue-balance 10:12 --queue-bypass$/);
  assert.match(iptablesLines(spec({ fanout: 'cpu' }), 4).lines.find((l) => l.spec.includes('NFQUEUE'))!.spec, /--queue-bypass --queue-cpu-fanout$/);
  assert.match(iptablesLines(spec({ queues: [5] }), 4).lines.find((l) => l.spec.includes('NFQUEUE'))!.spec, /--queue-num 5 --queue-bypass$/);
  // The flow-bypass rule comes before the queue rule; the jump comes last.
  assert.match(lines[0].spec, /-m connmark --mark 0x1000000\/0x1000000 .* -j RETURN$/);
  assert.equal(lines[lines.length - 1].chain, 'PREROUTING');
  const nft = nftInstallScript(spec());
  assert.match(nft, /ct mark & 0x1000000 == 0x1000000 return/);
  assert.match(nft, /meta nfproto ipv6 iifname "eth0" ip6 saddr fd00::\/8 meta l4proto tcp th dport 443 queue flags bypass to 10-12 comment "nfqguard:u:/);
  assert.match(nft, /^table inet nfqguard_u\ndelete table inet nfqguard_u\n/, 'replaces its own table atomically');
});

test('addresses are split by family; a family without addresses of its kind gets no rule', () => {
  const r = compileSteering([{ hook: 'input', protocol: 'all', sources: ['192.0.2.0/24'] }], ['ipv4', 'ipv6']);
  assert.deepEqual(r.map((x) => x.family), [4]);
  assert.throws(() => compileSteering([{ hook: 'output', protocol: 'tcp', in_interface: 'eth0' }], ['ipv4']), SteeringError);
});

test('drift: what iptables-save shows is compared by tag; foreign rules after our jump are flagged', () => {
  const s = spec();
  const want = iptablesLines(s, 4);
  const save = ['*mangle', ':PREROUTING ACCEPT [0:0]', ...want.chains.map((c) => `:${c} - [0:0]`), ...want.lines.map((l) => `-A ${l.chain} ${l.spec}`), '-A PREROUTING -j MARK --set-mark 1', 'COMMIT'].join('\n');
  const state = readIptablesSave(save, 'u');
  const d = iptablesDrift(s, 4, state);
  assert.deepEqual([d.missing, d.unexpected], [[], []]);
  assert.equal(d.shadowed.length, 1);
  const d2 = iptablesDrift(spec({ queues: [7] }), 4, state);
  assert.equal(d2.missing.length, 1);
  assert.equal(d2.unexpected.length, 1);
  // Another instance's rules are not ours.
  assert.deepEqual(readIptablesSave(save, 'other').lines, []);
  // The install script removes the old jump before re-adding.
  assert.match(iptablesInstallScript(s, 4, state), /^\*mangle\n-D PREROUTING -m comment --comment "nfqguard:u:[0-9a-f]+" -j NFQG-u-PRE\n-F NFQG-u-PRE\n-X NFQG-u-PRE\n:NFQG-u-PRE - \[0:0\]/);
});

test('an instance whose name is a prefix of another one\'s ("a", "a-b") reads and removes only its own rules', () => {
  const a = spec({ name: 'a' });
  const ab = spec({ name: 'a-b', queues: [20] });
  const lines = (s: InstallSpec) => iptablesLines(s, 4);
  const save = [
    '*mangle',
    ':PREROUTING ACCEPT [0:0]',
    ...[a, ab].flatMap((s) => lines(s).chains.map((c) => `:${c} - [0:0]`)),
    ...[a, ab].flatMap((s) => lines(s).lines.map((l) => `-A ${l.chain} ${l.spec}`)),
    'COMMIT',
  ].join('\n');
  const mine = readIptablesSave(save, 'a');
  assert.deepEqual(mine.chains, ['NFQG-a-PRE']);
  assert.deepEqual(
    mine.lines.map((l) => l.text),
    lines(a).lines.map((l) => `-A ${l.chain} ${l.spec}`).sort((x, y) => Number(x.startsWith('-A PREROUTING')) - Number(y.startsWith('-A PREROUTING'))),
  );
  const removal = iptablesRemoval(mine, 'a').join('\n');
  assert.doesNotMatch(removal, /a-b/);
  assert.deepEqual(iptablesDrift(ab, 4, readIptablesSave(save, 'a-b')), { missing: [], unexpected: [], shadowed: [] });
  const d = iptablesDrift(a, 4, mine);
  assert.deepEqual([d.missing, d.unexpected], [[], []], 'the other instance is not drift');
  // ...but its jump after ours is worth a warning: what a's queue accepts never reaches it.
  assert.deepEqual(d.shadowed.length, 1);
  assert.match(d.shadowed[0], /-j NFQG-a-b-PRE" follows nfqguard's jump/);
});

test('a steering rule that steers nothing for the configured families is an error, with its fix', () => {
  const err = (f: () => unknown): SteeringError => {
    try {
      f();
    } catch (e) {
      if (e instanceof SteeringError) return e;
      throw e;
    }
    assert.fail('expected a SteeringError');
  };
  const only6 = err(() => compileSteering([{ hook: 'input', protocol: 'tcp', sources: ['10.0.0.0/8'] }], ['ipv6']));
  assert.deepEqual(only6.path, [0, 'sources']);
  assert.match(only6.message, /steers nothing: its sources are ipv4 and steering\.families is \[ipv6\]/);
  const mixed = err(() => compileSteering([{ hook: 'input', protocol: 'all' }, { hook: 'input', protocol: 'tcp', sources: ['10.0.0.0/8'], destinations: ['fd00::/8'] }], ['ipv4', 'ipv6']));
  assert.deepEqual(mixed.path, [1, 'destinations']);
  assert.match(mixed.hint ?? '', /one rule per family/);
  const empty = err(() => compileSteering([{ hook: 'input', protocol: 'tcp', destinations: [] }], ['ipv4']));
  assert.match(empty.message, /destinations is an empty list/);
  // One family of two is fine: that family gets the rule.
  assert.equal(compileSteering([{ hook: 'input', protocol: 'tcp', sources: ['10.0.0.0/8', 'fd00::/8'], destinations: ['fd00::1'] }], ['ipv4', 'ipv6']).length, 1);
});
