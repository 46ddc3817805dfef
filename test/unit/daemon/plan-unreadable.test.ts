// `run --check`'s verdict on a node and the start-up check's view of an unreadable ruleset, with fake
// probes (the real ones are run in test/kernel/daemon/caps.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planOf } from '../../../src/cli/commands/run.js';
import { parseConfig } from '../../../src/daemon/config.js';
import { type MaskPreflight, type PreflightResult } from '../../../src/daemon/preflight.js';
import { InstallError, Installer } from '../../../src/install/backend.js';
import { toolHint, unreadableSources } from '../../../src/ruleset/live.js';
import type { Problem, Ruleset } from '../../../src/ruleset/model.js';
import { ROOT } from '../../helpers/daemon.js';

const config = parseConfig(readFileSync(join(ROOT, 'deploy', 'nfqguard.yaml'), 'utf8'));

const readFailed = (tool: string, message: string): Problem => ({ code: 'READ_FAILED', severity: 'warning', message, source: `live:${tool}`, line: 1, column: 1 });

test('a listing that failed is unreadable, with the NET_RAW fix for iptables-legacy; a kernel without IPv6 is not', () => {
  const ruleset: Ruleset = {
    tables: [],
    ipRules: [],
    problems: [
      readFailed('iptables-legacy-save', 'iptables-save v1.8.9 (legacy): Cannot initialize: Permission denied (you must be root)'),
      readFailed('ip', 'RTNETLINK answers: Address family not supported by protocol'),
      readFailed('nft', 'netlink: Error: cache initialization failed: Operation not permitted'),
      { code: 'UNKNOWN_MATCH', severity: 'warning', message: 'kept verbatim', source: 'live:iptables-nft-save', line: 3, column: 5 },
    ],
  };
  const u = unreadableSources(ruleset);
  assert.equal(u.length, 2, u.join('\n'));
  assert.match(u[0], /^iptables-legacy-save: .*Permission denied.*CAP_NET_RAW as well as CAP_NET_ADMIN/);
  assert.match(u[1], /^nft: .*Operation not permitted$/, 'no NET_RAW hint for nft');
  assert.equal(toolHint('iptables-nft-save', 'Permission denied'), '');
  assert.equal(toolHint('ip6tables-legacy-restore', 'ok'), '');
});

const preflight = (r: Partial<PreflightResult>): MaskPreflight => ({ check: async () => ({ conflicts: [], checker: 'fake', notes: [], ...r }) });
const installer = (fail: string | null): Installer =>
  ({
    chooseBackend: async () => {
      if (fail !== null) throw new InstallError(fail);
      return { backend: 'iptables', notes: ['fake backend'] };
    },
  }) as unknown as Installer;

test('run --check: start, refuse (conflict, unreadable ruleset, no backend), --force, or not probed', async () => {
  const ok = await planOf(config, true, { installer: installer(null), preflight: preflight({}), readQueues: () => '' });
  assert.deepEqual(ok.verdict, { start: true, reasons: [] });
  assert.equal(ok.backend.chosen, 'iptables');
  assert.deepEqual(ok.maskCheck, { checker: 'fake', conflicts: [], unreadable: [], notes: [] });

  const conflict = await planOf(config, true, {
    readQueues: () => '',
    installer: installer(null),
    preflight: preflight({ conflicts: [{ bits: 0x00100000, kind: 'mark', where: 'x:1', explanation: 'overwrites it' }] }),
  });
  assert.equal(conflict.verdict.start, false);
  assert.match(conflict.verdict.reasons[0], /conflicts with 1 rule/);
  assert.deepEqual(conflict.maskCheck?.conflicts, ['mark bits 0x00100000 at x:1: overwrites it']);

  const blind = await planOf(config, true, { readQueues: () => '', installer: installer(null), preflight: preflight({ unreadable: ['iptables-legacy-save: denied'] }) });
  assert.equal(blind.verdict.start, false);
  assert.match(blind.verdict.reasons[0], /cannot read all of the ruleset.*iptables-legacy-save: denied/);

  const forced = await planOf(config, true, { readQueues: () => '', installer: installer(null), preflight: preflight({ unreadable: ['x'] }), force: true });
  assert.equal(forced.verdict.start, true);

  const noBackend = await planOf(config, true, { readQueues: () => '', installer: installer('iptables-restore is not installed'), preflight: preflight({}) });
  assert.equal(noBackend.backend.error, 'iptables-restore is not installed');
  assert.equal(noBackend.backend.chosen, null);
  assert.equal(noBackend.verdict.start, false);
  assert.ok(noBackend.steering.length > 0, 'the plan still shows the rules');

  // A queue of the config already bound (a row of /proc/net/netfilter/nfnetlink_queue): run would fail there.
  const procRow = (queue: number): string => `  ${queue}  4242     0 2  4096     0     0        0  1`;
  const busy = await planOf(config, true, { installer: installer(null), preflight: preflight({}), readQueues: () => `${procRow(7)}\n${procRow(101)}\n` });
  assert.equal(busy.verdict.start, false);
  assert.deepEqual(busy.verdict.reasons, ['queue 101 is already bound by netlink port id 4242 (another consumer, or a running nfqguard)']);
  const free = await planOf(config, true, { installer: installer(null), preflight: preflight({}), readQueues: () => procRow(7) });
  assert.equal(free.verdict.start, true);

  const notProbed = await planOf(config, false, { installer: installer('must not be asked'), preflight: { check: () => assert.fail('not probed') } });
  assert.equal(notProbed.verdict.start, null);
  assert.equal(notProbed.maskCheck, null);
});
