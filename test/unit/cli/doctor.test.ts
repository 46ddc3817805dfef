// `nfqguard doctor` in-process: usage errors, exit codes, the --json shape the issue specifies, --html.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../../helpers/cli.js';

const F = 'test/fixtures/rulesets';
const HEX8 = /^0x[0-9a-f]{8}$/;

test('doctor: usage errors exit 2 with a hint', async () => {
  let x = await cli(['doctor']);
  assert.equal(x.code, 2);
  assert.match(x.stderr, /nothing to read/);
  assert.match(x.stderr, /hint: give --live, or files/);
  x = await cli(['doctor', '--iptables-save', 'a', '--mask', '0']);
  assert.equal(x.code, 2);
  assert.match(x.stderr, /--mask must have at least one bit/);
  assert.equal((await cli(['doctor', '--iptables-save', 'a', '--mask', 'zz'])).code, 2);
  x = await cli(['doctor', '--iptables-save', 'a', '--need', '33']);
  assert.equal(x.code, 2);
  assert.match(x.stderr, /--need must be an integer from 1 to 32/);
  assert.equal((await cli(['doctor', '--live', '--iptables-save', 'a'])).code, 2);
  x = await cli(['doctor', '--netns', 'x', '--iptables-save', 'a']);
  assert.equal(x.code, 2);
  assert.match(x.stderr, /--netns goes with --live/);
});

test('doctor --help has examples', async () => {
  const x = await cli(['doctor', '--help']);
  assert.equal(x.code, 0);
  assert.match(x.stdout, /Examples:\n {2}\$ sudo nfqguard doctor --live/);
});


test('doctor: an unreadable file is a usage error', async () => {
  const x = await cli(['doctor', '--iptables-save', 'no/such/file']);
  assert.equal(x.code, 2);
  assert.match(x.stderr, /cannot read no\/such\/file: ENOENT/);
});

test('doctor --json: the issue\'s shape, masks as 0x%08x, exit 1 on conflicts', async () => {
  const x = await cli(['doctor', '--iptables-save', `${F}/mixes/kubelet+kube-proxy+seed.iptables-save`, '--mask', '0x8000', '--json']);
  assert.equal(x.code, 1);
  const j = JSON.parse(x.stdout);
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
    // kubelet before v1.28 writes the drop bit and, like kube-proxy, KUBE-MARK-MASQ and KUBE-POSTROUTING.
    ['kubelet', '0x0000c000'],
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
  const x = await cli(['doctor', '--iptables-save', `${F}/calico/iptables.iptables-save`, `${F}/kube-proxy/iptables.iptables-save`]);
  assert.equal(x.code, 0, x.stdout + x.stderr);
  assert.match(x.stdout, /packet mark/);
  // kube-proxy v1.28+ and Calico: bit 15 is nobody's (kube-proxy's KUBE-FIREWALL copy has no mark).
  assert.match(x.stdout, /\n {6}( {2}C){16}( {2}\.)( {2}P)( {2}\.){14}\n/);
  assert.match(x.stdout, /conflicts: 0/);
  assert.match(x.stdout, /--mask 0x[0-9a-f]{8}: bits/);
  assert.ok(!x.stdout.includes('\x1b['), 'no colour when not asked and not a terminal');
  const c = await cli(['doctor', '--iptables-save', `${F}/calico/iptables.iptables-save`, '--color']);
  assert.ok(c.stdout.includes('\x1b[48;5;'), '--color colours the map');
});

test('doctor --html writes one self-contained page', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-doc-'));
  try {
    const file = join(dir, 'd.html');
    await cli(['doctor', '--iptables-save', `${F}/mixes/kubelet+kube-proxy+seed.iptables-save`, '--html', file]);
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

test('--fail-on mask: exit 1 only when the planned bits conflict, not for conflicts between other components', async () => {
  const mix = `${F}/mixes/kube-proxy+calico+tailscale.iptables-save`;
  const strict = await cli(['doctor', '--iptables-save', mix, '--mask', '0x00003c00']);
  assert.equal(strict.code, 1, 'the node has Calico-vs-Tailscale conflicts');
  const gate = await cli(['doctor', '--iptables-save', mix, '--mask', '0x00003c00', '--fail-on', 'mask']);
  assert.equal(gate.code, 0, 'but none with 0x00003c00');
  const bad = await cli(['doctor', '--iptables-save', mix, '--mask', '0x00ff0000', '--fail-on', 'mask']);
  assert.equal(bad.code, 1, "Calico's and Tailscale's bits");
  const ct = await cli(['doctor', '--iptables-save', mix, '--mask', '0x00003c00', '--ctmask', '0x00ff0000', '--fail-on', 'mask', '--json']);
  assert.equal(ct.code, 1, 'the ctmask is checked too');
  assert.ok(JSON.parse(ct.stdout).conflicts.some((c: { kind?: string; mask: string }) => c.mask !== '0x00000000'));
  for (const argv of [
    ['doctor', '--iptables-save', mix, '--fail-on', 'mask'],
    ['doctor', '--iptables-save', mix, '--ctmask', '0x1'],
    ['doctor', '--iptables-save', mix, '--mask', '0x1', '--fail-on', 'some'],
  ]) {
    const r = await cli(argv);
    assert.equal(r.code, 2, argv.join(' '));
  }
});

test('doctor: errors inside an input exit 2, after a report of what was understood', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-doc-'));
  try {
    const bad = join(dir, 'bad.rules');
    writeFileSync(bad, '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m mark --mark 0x8000/0x8000 -j DROP\n-A INPUT -j MARK --set-mark zz\nCOMMIT\n');
    const x = await cli(['doctor', '--iptables-save', bad, '--mask', '0x0f000000']);
    assert.equal(x.code, 2, x.stderr);
    assert.match(x.stdout, /unattributed \(filter INPUT\) +mark 0x00008000/, 'the rule that parsed is analysed');
    assert.match(x.stdout, /bad\.rules:4:\d+: error INVALID_MASK/);
    assert.match(x.stderr, /1 input error .*exit 2/);
    const j = await cli(['doctor', '--iptables-save', bad, '--json']);
    assert.equal(j.code, 2);
    assert.equal(JSON.parse(j.stdout).problems[0].code, 'INVALID_MASK');
    // Warnings alone (a match module the parser keeps verbatim) do not change the exit code.
    const warn = join(dir, 'warn.rules');
    writeFileSync(warn, '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m bogus --x 1 -j ACCEPT\nCOMMIT\n');
    const w = await cli(['doctor', '--iptables-save', warn]);
    assert.equal(w.code, 0, w.stdout);
    assert.match(w.stdout, /warning UNKNOWN_MATCH/);
    // A file that is not what the option says is an input error, not an empty node.
    const notJson = await cli(['doctor', '--nft-json', warn]);
    assert.equal(notJson.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('doctor --mask: the text and the page say whether the planned mask is safe', async () => {
  const seed = `${F}/mixes/kubelet+kube-proxy+seed.iptables-save`;
  const bad = await cli(['doctor', '--iptables-save', seed, '--mask', '0x8000']);
  assert.match(bad.stdout, /\nplanned mask\n {2}0x00008000 is NOT safe on this node: 1 conflict \(#2\) with kubelet\n/);
  assert.match(bad.stdout, /\n {2}2\. inspector mark 0x00008000: inspector \(0x00008000\) vs kubelet\n/, '#2 is the inspector conflict');
  const ok = await cli(['doctor', '--iptables-save', seed, '--mask', '0x0f000000', '--ctmask', '0x10000000', '--json']);
  const j = JSON.parse(ok.stdout);
  assert.deepEqual([j.checkedMask, j.checkedCtmask, j.checkedMaskConflicts], ['0x0f000000', '0x10000000', 0]);
  const txt = await cli(['doctor', '--iptables-save', seed, '--mask', '0x0f000000', '--ctmask', '0x10000000']);
  assert.match(txt.stdout, /0x0f000000 with connmark 0x10000000 is free on this node: no owner, reserved range, reader or whole-mark writer uses bits 24-27 \(0x0f000000\) of the mark nor bit 28 \(0x10000000\) of the connmark/);
  const none = await cli(['doctor', '--iptables-save', seed]);
  assert.ok(!none.stdout.includes('planned mask'), 'no verdict without --mask');
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-doc-'));
  try {
    const file = join(dir, 'd.html');
    await cli(['doctor', '--iptables-save', seed, '--mask', '0x8000', '--html', file]);
    assert.match(readFileSync(file, 'utf8'), /<p id="planned">0x00008000 is NOT safe on this node: 1 conflict \(#2\) with kubelet<\/p>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('doctor: a file nothing could be read from is the wrong file (exit 2), not an empty node whose bits are all free', async () => {
  const kp = `${F}/mixes/cilium+kube-proxy.iptables-save`;
  const iprule = `${F}/mixes/cilium+kube-proxy.ip-rule`;
  const wrong: Array<[string[], RegExp]> = [
    // ip rule output given as iptables-save, iptables-save as ip rules, iptables-save as nft JSON
    [['--iptables-save', iprule, '--mask', '0x00f00000'], /nothing could be read from \S+cilium\+kube-proxy\.ip-rule \(given as --iptables-save\); wrong file\?/],
    [['--iptables-save', kp, '--ip-rules', kp], /nothing could be read from \S+\.iptables-save \(given as --ip-rules\)/],
    [['--nft-json', kp, '--json'], /nothing could be read from \S+\.iptables-save \(given as --nft-json\)/],
  ];
  for (const [args, re] of wrong) {
    const x = await cli(['doctor', ...args]);
    assert.equal(x.code, 2, args.join(' '));
    assert.match(x.stderr, re, args.join(' '));
  }
  // The right files, and an empty one (an empty ruleset, not a wrong file), are not flagged.
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-doctor-'));
  try {
    writeFileSync(join(dir, 'empty'), '');
    for (const args of [['--iptables-save', kp, '--ip-rules', iprule], ['--iptables-save', join(dir, 'empty')]]) {
      const x = await cli(['doctor', ...args]);
      assert.notEqual(x.code, 2, x.stderr);
      assert.doesNotMatch(x.stderr, /nothing could be read/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('doctor --html never overwrites an input or a file that is not an HTML page; a page of an earlier run is replaced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-doctor-html-'));
  try {
    const rules = join(dir, 'node.rules');
    writeFileSync(rules, readFileSync(`${F}/mixes/kubelet+kube-proxy+seed.iptables-save`));
    const before = readFileSync(rules);
    let x = await cli(['doctor', '--iptables-save', rules, '--html', rules]);
    assert.equal(x.code, 2);
    assert.match(x.stderr, /^nfqguard: --html \S+node\.rules is also an input: writing the page would destroy it\nhint: /);
    assert.deepEqual(readFileSync(rules), before, 'the input is intact');
    const binary = join(dir, 'tool');
    writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
    x = await cli(['doctor', '--iptables-save', rules, '--html', binary]);
    assert.equal(x.code, 2);
    assert.equal(x.stdout, '', 'refused before the analysis');
    assert.match(x.stderr, /^nfqguard: --html \S+tool exists and is not an HTML page: not overwritten\n/);
    assert.equal(readFileSync(binary).length, 8, 'the file is intact');
    x = await cli(['doctor', '--iptables-save', rules, '--html', dir]);
    assert.equal(x.code, 2);
    assert.match(x.stderr, /is not a regular file/);
    const page = join(dir, 'doctor.html');
    for (let i = 0; i < 2; i++) {
      x = await cli(['doctor', '--iptables-save', rules, '--html', page]);
      assert.notEqual(x.code, 2, x.stderr);
      assert.match(readFileSync(page, 'utf8'), /^<!doctype html>/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
