// `nfqguard doctor` in-process: usage errors, exit codes, the --json shape the issue specifies, --html.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/program.js';
import type { Io } from '../../../src/cli/io.js';

function io(): Io & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    stdout: (t: string) => void (o.out += t),
    stderr: (t: string) => void (o.err += t),
    cwd: process.cwd(),
    env: {},
    signal: new AbortController().signal,
  };
  return o;
}

const F = 'test/fixtures/rulesets';
const HEX8 = /^0x[0-9a-f]{8}$/;

test('doctor: usage errors exit 2 with a hint', async () => {
  let x = io();
  assert.equal(await runCli(['doctor'], x), 2);
  assert.match(x.err, /nothing to read/);
  assert.match(x.err, /hint: give --live, or files/);
  x = io();
  assert.equal(await runCli(['doctor', '--iptables-save', 'a', '--mask', '0'], x), 2);
  assert.match(x.err, /--mask must have at least one bit/);
  x = io();
  assert.equal(await runCli(['doctor', '--iptables-save', 'a', '--mask', 'zz'], x), 2);
  x = io();
  assert.equal(await runCli(['doctor', '--iptables-save', 'a', '--need', '33'], x), 2);
  assert.match(x.err, /--need must be an integer from 1 to 32/);
  x = io();
  assert.equal(await runCli(['doctor', '--live', '--iptables-save', 'a'], x), 2);
});

test('doctor --help has examples', async () => {
  const x = io();
  assert.equal(await runCli(['doctor', '--help'], x), 0);
  assert.match(x.out, /Examples:\n {2}\$ sudo nfqguard doctor --live/);
});


test('doctor: an unreadable file is a usage error', async () => {
  const x = io();
  assert.equal(await runCli(['doctor', '--iptables-save', 'no/such/file'], x), 2);
  assert.match(x.err, /cannot read no\/such\/file: ENOENT/);
});

test('doctor --json: the issue\'s shape, masks as 0x%08x, exit 1 on conflicts', async () => {
  const x = io();
  const code = await runCli(['doctor', '--iptables-save', `${F}/mixes/kubelet+kube-proxy+seed.iptables-save`, '--mask', '0x8000', '--json'], x);
  assert.equal(code, 1);
  const j = JSON.parse(x.out);
  for (const k of ['owners', 'bits', 'conflicts', 'free', 'suggestedMask']) assert.ok(k in j, k);
  assert.equal(j.bits.length, 32);
  assert.deepEqual(Object.keys(j.bits[0]).slice(0, 4), ['bit', 'owners', 'writers', 'readers']);
  assert.match(j.free, HEX8);
  assert.match(j.suggestedMask, HEX8);
  for (const o of j.owners) {
    assert.match(o.mask, HEX8);
    for (const e of o.evidence) assert.deepEqual(Object.keys(e), ['source', 'line', 'table', 'chain', 'text']);
  }
  assert.deepEqual(j.owners.map((o: { name: string; mask: string }) => [o.name, o.mask]), [
    ['kubelet', '0x00008000'],
    ['kube-proxy (iptables)', '0x00004000'],
    ['NFQUEUE consumer', '0x00000000'],
  ]);
  const insp = j.conflicts.find((c: { kind: string }) => c.kind === 'inspector');
  assert.equal(insp.mask, '0x00008000');
  assert.deepEqual(insp.parties, ['inspector (0x00008000)', 'kubelet']);
  assert.match(insp.consequence, /an inspector setting it would drop all queued traffic/);
  assert.equal(j.bits[15].owners[0], 'kubelet');
});

test('doctor: exit 0 without conflicts; text with the map, several files merged', async () => {
  const x = io();
  const code = await runCli(['doctor', '--iptables-save', `${F}/calico/iptables.iptables-save`, `${F}/kube-proxy/iptables.iptables-save`], x);
  assert.equal(code, 0, x.out + x.err);
  assert.match(x.out, /packet mark/);
  assert.match(x.out, /\n {6}( {2}C){16}( {2}K)( {2}P)( {2}\.){14}\n/);
  assert.match(x.out, /conflicts: 0/);
  assert.match(x.out, /--mask 0x[0-9a-f]{8}: bits/);
  assert.ok(!x.out.includes('\x1b['), 'no colour when not asked and not a terminal');
  const c = io();
  await runCli(['doctor', '--iptables-save', `${F}/calico/iptables.iptables-save`, '--color'], c);
  assert.ok(c.out.includes('\x1b[48;5;'), '--color colours the map');
});

test('doctor --html writes one self-contained page', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-doc-'));
  try {
    const x = io();
    const file = join(dir, 'd.html');
    await runCli(['doctor', '--iptables-save', `${F}/mixes/kubelet+kube-proxy+seed.iptables-save`, '--html', file], x);
    assert.ok(existsSync(file));
    const html = readFileSync(file, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /id="markgrid"/);
    assert.equal((html.match(/class="c"/g) ?? []).length, 64);
    assert.ok(!/<script|<link|https?:\/\//.test(html));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
