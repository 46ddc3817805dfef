// Files as users save them: a byte order mark and CRLF line ends still read as the ruleset they hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../../helpers/cli.js';

test('parse: a file with a byte order mark and CRLF line ends (iptables-save and nft JSON)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-bom-'));
  try {
    const ipt = join(dir, 'rules.txt');
    writeFileSync(ipt, '\ufeff*filter\r\n:INPUT ACCEPT [0:0]\r\n-A INPUT -m mark --mark 0xzz -j ACCEPT\r\nCOMMIT\r\n');
    const a = await cli(['parse', ipt, '--emit', 'iptables-save']);
    assert.equal(a.code, 1);
    // the only problem is the one in the text, at its real column
    assert.deepEqual(a.stderr.trim().split('\n').map((l) => l.replace(/^.*?:(\d+:\d+): \w+ (\w+).*$/, '$1 $2')), ['3:25 INVALID_MASK']);
    assert.match(a.stdout, /^\*filter\n:INPUT ACCEPT \[0:0\]\n/m);
    const json = join(dir, 'ruleset.json');
    writeFileSync(json, '\ufeff' + readFileSync('test/fixtures/parser/nft-mixed.json', 'utf8'));
    const b = await cli(['parse', json, '--json']);
    // exit 1 for the capture's iptables-nft table only (XT_OPAQUE), not for the byte order mark
    assert.equal(b.code, 1, b.stderr);
    assert.deepEqual(b.stderr.trim().split('\n').map((l) => l.replace(/^.*? warning (\w+):.*$/, '$1')), ['XT_OPAQUE']);
    assert.ok((JSON.parse(b.stdout) as { tables: unknown[] }).tables.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
