// `nfqguard parse --format nft` loads the text into a throwaway namespace: Ctrl-C while nft is loading
// removes the namespace and exits 130, instead of reporting the stopped nft as the file's problem.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { kernelSkipReason } from '../../helpers/kernel.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'bin', 'nfqguard');

test('parse --format nft: Ctrl-C during the load removes the namespace and exits 130', { skip: kernelSkipReason() ?? false, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-nftint-'));
  try {
    // Big enough that nft takes seconds to load it.
    const rules: string[] = [];
    for (let i = 0; i < 60_000; i++) rules.push(`    ip saddr 10.${i >> 16}.${(i >> 8) & 255}.${i & 255} tcp dport ${(i % 65535) + 1} accept`);
    const file = join(dir, 'big.nft');
    writeFileSync(file, `table inet big {\n  chain c {\n${rules.join('\n')}\n  }\n}\n`);
    const child = spawn(process.execPath, [BIN, 'parse', '--format', 'nft', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const mine = (): string[] => (existsSync('/var/run/netns') ? readdirSync('/var/run/netns').filter((n) => n.startsWith(`nfqg-nftload-${child.pid}-`)) : []);
    for (let i = 0; i < 500 && mine().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(mine().length, 1, 'the load namespace exists');
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGINT');
    assert.equal(await exited, 130, err);
    assert.match(err, /interrupted/);
    assert.doesNotMatch(err, /READ_FAILED/);
    assert.equal(out, '');
    assert.deepEqual(mine(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
