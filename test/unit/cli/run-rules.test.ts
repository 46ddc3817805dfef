import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli } from '../../helpers/cli.js';
import { ROOT, tempConfig } from '../../helpers/daemon.js';

const EXAMPLE = join(ROOT, 'deploy', 'nfqguard.yaml');

test('run --check --json prints the plan: queues, masks, steering with bypass and balance, rules', async () => {
  const r = await cli(['run', '--check', '--json', '--config', EXAMPLE]);
  const plan = JSON.parse(r.stdout) as { queues: number[]; markMask: string; steering: string[]; rules: Array<{ id: string }>; automaton: { patterns: number }; verdict: { start: boolean | null } };
  // As root the node this runs on is probed too: exit 1 only when run would refuse to start here.
  assert.equal(r.code, plan.verdict.start === false ? 1 : 0, r.stderr);
  assert.deepEqual(plan.queues, [100, 101]);
  assert.equal(plan.markMask, '0x00f00000');
  const queueRules = plan.steering.filter((s) => /NFQUEUE|queue flags/.test(s));
  assert.ok(queueRules.length > 0);
  for (const s of queueRules) assert.match(s, /--queue-bypass|queue flags bypass/, s);
  assert.ok(plan.rules.some((x) => x.id === 'shellcode'));
  assert.equal(plan.automaton.patterns, 1);
});

test('run --check in text, and every config problem with line:column and its fix, exit 2', async () => {
  const ok = await cli(['run', '--check', '--config', EXAMPLE]);
  assert.equal(ok.code, /run would refuse/.test(ok.stdout) ? 1 : 0, ok.stderr);
  assert.match(ok.stdout, /^(run would (start|refuse to start) on this node|whether run would start on this node: not checked \(needs root\))/m);
  assert.match(ok.stdout, /^config ok: instance default$/m);
  const bad = tempConfig('queue: { first: 100, workerz: 2 }\nsteering:\n  rules:\n    - { hook: input, protocol: tcp, dports: [99999] }\n');
  try {
    const r = await cli(['run', '--check', '--config', bad.path]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /config\.yaml:1:22: queue\.workerz: unknown key "workerz" \(fix: did you mean "workers"\?\)/);
    assert.match(r.stderr, /config\.yaml:4:46: steering\.rules\.0\.dports\.0: .*\(fix: a port from 0 to 65535/);
  } finally {
    bad.remove();
  }
  const missing = await cli(['run', '--check', '--config', '/nonexistent/x.yaml']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read config \/nonexistent\/x\.yaml: ENOENT/);
});

test('run and rules have help with examples', async () => {
  for (const argv of [['run', '--help'], ['rules', '--help']]) {
    const r = await cli(argv);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:/);
  }
});

test('run --json without --check is a usage error that says where JSON comes from', async () => {
  const r = await cli(['run', '--json', '--config', EXAMPLE]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--json goes with --check/);
  assert.match(r.stderr, /log\.format/);
});
