// The `nft monitor trace` reader the lab uses to report marks as the kernel saw them, on text captured
// from the kernel (test/fixtures/lab/nft-monitor-trace.txt says how).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { droppedBy, groupTrace, markAtPolicy, parseTraceLine } from '../../../src/lab/nft-trace.js';
import { FIXTURES } from '../../helpers/fixtures.js';

const TEXT = readFileSync(join(FIXTURES, 'lab', 'nft-monitor-trace.txt'), 'utf8');

test('one packet per SYN; marks at the observer policies; the rule that dropped, without its counter', () => {
  const packets = groupTrace(TEXT, 'nfqguard_lab', 'trace');
  assert.deepEqual(
    packets.map((p) => [p.fields['ip saddr'], p.fields['tcp dport'], p.fields['tcp flags']]),
    [
      ['127.0.0.2', '80', 'syn'],
      ['127.0.0.1', '80', 'syn'],
    ],
  );
  const [marked, masq] = packets;
  assert.equal(markAtPolicy(marked, 'nfqguard_lab', 'before_verdict'), 0x8000);
  assert.equal(markAtPolicy(marked, 'nfqguard_lab', 'after_verdict'), 0x8000);
  assert.equal(markAtPolicy(masq, 'nfqguard_lab', 'after_verdict'), 0x4000);
  assert.equal(markAtPolicy(marked, 'nfqguard_lab', 'trace'), 0, 'a policy line without "meta mark": mark 0');
  assert.equal(markAtPolicy(marked, 'nfqguard_lab', 'no_such_chain'), undefined);
  assert.equal(droppedBy(marked), 'ip filter KUBE-FIREWALL: meta mark & 0x00008000 == 0x00008000 drop');
  assert.equal(droppedBy(masq), undefined);
});

test('a trace id the kernel reuses starts a new packet at the start chain', () => {
  const twice = TEXT.split('\n').filter((l) => l.startsWith('trace')).slice(0, 3).join('\n');
  const packets = groupTrace(`${twice}\n${twice}\n`, 'nfqguard_lab', 'trace');
  assert.equal(packets.length, 2);
  assert.equal(packets[0].id, packets[1].id);
  assert.equal(packets[0].events.length, 3);
});

test('lines that are not trace events are skipped; arbitrary text never throws', () => {
  assert.equal(parseTraceLine('# a comment'), null);
  assert.equal(parseTraceLine(''), null);
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      const ev = parseTraceLine(`trace id 0a ip t c ${s}`);
      assert.ok(ev === null || typeof ev.kind === 'string');
      groupTrace(s, 't', 'c');
    }),
  );
});
