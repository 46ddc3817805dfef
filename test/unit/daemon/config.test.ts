import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../../src/daemon/config.js';
import { ROOT } from '../../helpers/daemon.js';

function issues(text: string): Array<{ line: number; col: number; path: string; message: string; hint?: string }> {
  try {
    parseConfig(text, 't.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  assert.fail('expected a ConfigError');
}

const BASE = 'queue: { first: 100 }\nsteering:\n  rules:\n    - { hook: input, protocol: tcp, dports: [80] }\n';

test('the shipped example config is valid, with defaults filled in', () => {
  const c = parseConfig(readFileSync(join(ROOT, 'deploy', 'nfqguard.yaml'), 'utf8'));
  assert.deepEqual(c.queues, [100, 101]);
  assert.equal(c.mark.mask, 0x00f00000);
  assert.equal(c.mark.bypass_ctmark, 0x01000000);
  assert.equal(c.metrics.listen, '127.0.0.1:9477');
  assert.ok(c.rules.length >= 5);
  assert.ok(c.steeringRules.some((r) => r.family === 6));
});

test('minimal config: defaults (one worker, fail-open, metrics on loopback)', () => {
  const c = parseConfig(BASE);
  assert.deepEqual(c.queues, [100]);
  assert.equal(c.queue.fail_open, true);
  assert.equal(c.metrics.listen, '127.0.0.1:9477');
  assert.equal(c.log.format, 'json');
});

test('every problem is reported with its line, column and a fix', () => {
  const text = ['queue:', '  first: 70000', '  workerz: 2', 'steering:', '  rules:', '    - hook: inptu', 'bogus: 1', ''].join('\n');
  const got = issues(text);
  const by = (p: string) => got.find((i) => i.path === p);
  assert.deepEqual([by('queue.first')?.line, by('queue.first')?.col], [2, 10]);
  assert.match(by('queue.first')?.message ?? '', /65535/);
  assert.deepEqual([by('queue.workerz')?.line, by('queue.workerz')?.col], [3, 3]);
  assert.equal(by('queue.workerz')?.hint, 'did you mean "workers"?');
  assert.deepEqual([by('steering.rules.0.hook')?.line, by('steering.rules.0.hook')?.col], [6, 13]);
  assert.match(by('steering.rules.0.hook')?.hint ?? '', /prerouting, input/);
  assert.equal(by('bogus')?.line, 7);
});

test('a missing required section points at the parent and says what to add', () => {
  const got = issues('steering:\n  rules:\n    - { hook: input }\n');
  const q = got.find((i) => i.path === 'queue');
  assert.ok(q);
  assert.match(q.message, /"queue" is required/);
  assert.match(q.hint ?? '', /first: 100/);
});

test('YAML syntax errors carry their position', () => {
  const got = issues('queue: { first: 100\nsteering: [\n');
  assert.ok(got.length >= 1);
  assert.match(got[0].message, /^YAML: /);
  assert.ok(got[0].line >= 1 && got[0].col >= 1);
});

test('detection and steering rules are compiled: bad CIDR, mark outside the mask, ports without protocol', () => {
  const rules = `${BASE}mark: { mask: 0x00f00000 }\nrules:\n  - id: a\n    match: { src: [10.0.0.0/33] }\n    action: drop\n`;
  const a = issues(rules);
  assert.equal(a[0].path, 'rules.0.match.src.0');
  assert.equal(a[0].line, 8);
  const m = issues(`${BASE}mark: { mask: 0x00f00000 }\nrules:\n  - { id: m, action: mark, mark: 0x8000 }\n`);
  assert.equal(m[0].path, 'rules.0.mark');
  assert.match(m[0].message, /outside the owned mark mask 0x00f00000/);
  const s = issues('queue: { first: 1 }\nsteering:\n  rules:\n    - { hook: input, dports: [80] }\n');
  assert.equal(s[0].path, 'steering.rules.0.protocol');
  assert.match(s[0].hint ?? '', /protocol: tcp/);
  const dup = issues(`${BASE}rules:\n  - { id: x, action: drop }\n  - { id: x, action: accept }\n`);
  assert.equal(dup[0].path, 'rules.1.id');
  const bm = issues(`${BASE}mark: { mask: 0x00f00000, bypass_ctmark: 0x01000000, bypass_mark: 0x8000 }\n`);
  assert.equal(bm[0].path, 'mark.bypass_mark');
});

test('every bad rule is reported in one run, in file order, also next to schema errors elsewhere', () => {
  const rules = [
    'rules:',
    '  - { id: a, match: { src: [10.0.0.0/33] }, action: drop }',
    '  - { id: b, match: { content: [ { hex: zz } ] }, action: drop }',
    '  - { id: c, match: { tls_sni: { prefix: a, suffix: b } }, action: drop }',
    '  - { id: d, match: { dst_port: "90-80" }, action: drop }',
    '',
  ].join('\n');
  const steering = 'queue: { first: 100 }\nsteering:\n  rules:\n    - { hook: output, in_interface: eth0 }\n    - { hook: input, dports: [80] }\n';
  const paths = (text: string): string[] => issues(text).map((i) => i.path);
  const want = ['steering.rules.0.in_interface', 'steering.rules.1.protocol', 'rules.0.match.src.0', 'rules.1.match.content.0.hex', 'rules.2.match.tls_sni', 'rules.3.match.dst_port'];
  assert.deepEqual(paths(steering + rules), want);
  // With a schema error too (an unknown key), the rules are still compiled and reported.
  const withSchemaError = paths(steering.replace('first: 100', 'first: 100, workerz: 2') + rules);
  assert.deepEqual(withSchemaError, ['queue.workerz', ...want]);
  const got = issues(steering + rules);
  assert.deepEqual(
    got.map((i) => i.line),
    [...got.map((i) => i.line)].sort((a, b) => a - b),
    'in file order',
  );
  assert.ok(got.every((i) => i.hint !== undefined && i.hint.length > 0), 'each with its fix');
});

test('a malformed listen address and name say how to write them', () => {
  const got = issues(`name: Bad_Name\n${BASE}metrics: { listen: 9477 }\n`);
  assert.match(got.find((i) => i.path === 'name')?.hint ?? '', /name: default/);
  assert.match(got.find((i) => i.path === 'metrics.listen')?.hint ?? '', /127\.0\.0\.1:9477/);
});

test('a binary file gives short YAML errors, and a wrong HTTP method its fix', () => {
  // This YAML error quotes the whole 5000-byte token in its first line.
  const junk = `- a\nb: c\n${'x'.repeat(5000)}\n`;
  const got = issues(junk);
  assert.ok(got.length >= 1);
  for (const i of got) assert.ok(i.message.length < 200, i.message);
  const m = issues(`${BASE}rules:\n  - { id: x, action: drop, match: { http: { method: 5 } } }\n`);
  assert.equal(m[0].path, 'rules.0.match.http.method');
  assert.match(m[0].hint ?? '', /GET/);
});
