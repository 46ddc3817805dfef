// Files named on the command line: a binary file, a directory or a missing file is one usage error (exit 2)
// with the reason, for every command that reads files; nothing on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'nfqg-input-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const bin = join(dir, 'a.out');
// An ELF-like header, then text that would parse line by line: NUL bytes alone make it binary.
writeFileSync(bin, Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01\0\0\0'), Buffer.from('\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n')]));
const PKT = 'tcp 10.0.0.1:40240 > 127.0.0.1:80';

const commands: Array<(f: string) => string[]> = [
  (f) => ['parse', f],
  (f) => ['parse', '--format', 'nft-json', f],
  (f) => ['doctor', '--iptables-save', f],
  (f) => ['doctor', '--ip-rules', f, '--iptables-save', '-'],
  (f) => ['trace', '--iptables-save', f, '--packet', PKT],
  (f) => ['trace', '--nft-json', f, '--packet', PKT],
  (f) => ['trace', '--iptables-save', '-', '--packets', f],
  (f) => ['run', '--check', '--config', f],
];

test('a binary file: one line saying it is not text, exit 2', async () => {
  for (const argv of commands.map((c) => c(bin))) {
    const r = await cli(argv, { stdin: '*filter\nCOMMIT\n' });
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.stdout, '', argv.join(' '));
    assert.match(r.stderr, /^nfqguard: (config )?\S*a\.out is not a text file \(it contains NUL bytes\)\nhint: .+\n$/, argv.join(' '));
  }
});

test('binary standard input: the same error, naming standard input', async () => {
  const r = await cli(['parse', '-'], { stdin: 'COMMIT\n\0\0\0' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^nfqguard: standard input is not a text file/);
});

test('a directory or a missing file: the errno code and what it means, exit 2', async () => {
  for (const argv of commands.map((c) => c(dir))) {
    const r = await cli(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, /cannot read (config )?\S+: EISDIR \(a directory, not a file\)\nhint: /, argv.join(' '));
  }
  const r = await cli(['parse', join(dir, 'missing')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot read \S+missing: ENOENT \(no such file\)/);
});

test('standard input named twice: a usage error, not a second input read as empty', async () => {
  const rules = '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n';
  for (const argv of [['parse', '-', '-'], ['doctor', '--iptables-save', '-', '--ip-rules', '-'], ['doctor', '--iptables-save', '-', '--nft-json', '-']]) {
    const r = await cli(argv, { stdin: rules });
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.stdout, '', argv.join(' '));
    assert.match(r.stderr, /^nfqguard: standard input \(-\) given for more than one input\nhint: /, argv.join(' '));
  }
  const once = await cli(['parse', '-'], { stdin: rules });
  assert.equal(once.code, 0, once.stderr);
});
