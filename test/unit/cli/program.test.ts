import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from '../../helpers/cli.js';

test('--help lists the commands and examples, exit 0', async () => {
  const r = await cli(['--help']);
  assert.equal(r.code, 0);
  for (const cmd of ['lab', 'queue', 'parse', 'gen', 'run', 'rules', 'doctor', 'trace']) assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'), cmd);
  assert.match(r.stdout, /Examples:/);
  assert.match(r.stdout, /Exit codes/);
});

test('each command has --help with examples', async () => {
  for (const cmd of ['lab', 'queue', 'parse', 'gen kube-proxy', 'run', 'rules install', 'doctor', 'trace']) {
    const r = await cli([...cmd.split(' '), '--help']);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, /Examples:\n(?:.*\n)*?\s+\$ .*nfqguard /, cmd);
  }
});

test('usage errors exit 2 with the fix in the message', async () => {
  let r = await cli(['queue', '--num', '80', '--set-mark', '0x100000']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--set-mark needs --mask/);
  assert.match(r.stderr, /hint: /);
  r = await cli(['queue', '--num', '80', '--mask', '0x00f00000', '--set-mark', '0x8000']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bits 0x00008000 outside --mask 0x00f00000/);
  r = await cli(['queue', '--num', '70000']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--num must be an integer from 0 to 65535/);
  r = await cli(['queue', '--num', '1', '--mask', 'banana']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--mask must be a 32-bit number/);
  r = await cli(['queue', '--num', '1', '--mask', '0x00f00000', '--unsafe-whole-mark', '0x8000']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--unsafe-whole-mark replaces all 32 bits of the mark, so it cannot be combined with --mask/);
  r = await cli(['no-such-command']);
  assert.equal(r.code, 2);
  r = await cli(['lab', '--only', '9']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--only takes scenario numbers/);
});

test('--version is the version in package.json, whatever npm_package_version says', async () => {
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
  const saved = process.env.npm_package_version;
  process.env.npm_package_version = '9.9.9-other-project';
  try {
    const r = await cli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), version);
  } finally {
    if (saved === undefined) delete process.env.npm_package_version;
    else process.env.npm_package_version = saved;
  }
});

test('help shown for a missing command or subcommand is a usage error (exit 2); help asked for is not', async () => {
  for (const argv of [[], ['rules']]) {
    const r = await cli(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, /Usage: nfqguard/, argv.join(' '));
  }
  let r = await cli(['help', 'bogus']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^nfqguard: unknown command "bogus"\nhint: the commands are .*\blab\b.*\btrace\b/);
  r = await cli(['help', 'lab']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: nfqguard lab/);
  r = await cli(['help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Commands:/);
});

test('every command --help states its exit codes', async () => {
  for (const cmd of ['lab', 'queue', 'parse', 'gen kube-proxy', 'run', 'rules install', 'rules status', 'rules uninstall', 'doctor', 'trace']) {
    const r = await cli([...cmd.split(' '), '--help']);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout.replace(/\s+/g, ' '), /\bExit (codes?:? )?\d/, cmd);
    assert.match(r.stdout.replace(/\s+/g, ' '), /\b2\b[^.]*(usage|root|config)/i, `${cmd}: says what exit 2 means`);
  }
});

test("commander's usage errors read like ours: one line \"nfqguard: ...\" (with a suggestion for a typo), then the hint; exit 2", async () => {
  const cases: Array<[string[], RegExp]> = [
    [['bogus'], /^nfqguard: unknown command 'bogus'\n/],
    [['lab', '--bogus'], /^nfqguard: unknown option '--bogus'\n/],
    [['parse', '--jsn', 'x'], /^nfqguard: unknown option '--jsn' \(did you mean --json\?\)\n/],
    [['rules', 'install'], /^nfqguard: required option '--config <file>' not specified\n/],
    [['gen', 'kube-proxy', '--services'], /^nfqguard: option '--services <n>' argument missing\n/],
  ];
  for (const [argv, re] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.stdout, '', argv.join(' '));
    assert.match(r.stderr, re, argv.join(' '));
    assert.match(r.stderr, /\nhint: add --help for usage and examples\n$/, argv.join(' '));
    assert.equal(r.stderr.split('\n').length, 3, `two lines: ${r.stderr}`);
  }
});
