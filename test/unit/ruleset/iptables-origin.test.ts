// Which built-in chains exist depends on the backend: iptables-legacy registers every built-in chain of a
// table, iptables-nft only those a restore declares or appends to. The expected chains come from the
// kernel: nft-builtins.nft.json (nft -j after iptables-nft-restore of nft-builtins.rules) and
// nft-builtins.legacy.save (iptables-legacy-save after iptables-legacy-restore of it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropFakeBuiltins, parseIptablesSave, parseNftJson, serializeIptablesSave, type Ruleset } from '../../../src/ruleset/index.js';
import { readFixture, withoutComments } from '../../helpers/ruleset-fixtures.js';

const DIR = 'test/fixtures/parser';
const input = readFixture(`${DIR}/nft-builtins.rules`);
const nftSave = readFixture(`${DIR}/nft-builtins.nft.save`);
const legacySave = readFixture(`${DIR}/nft-builtins.legacy.save`);
const kernel = parseNftJson(readFixture(`${DIR}/nft-builtins.nft.json`), { source: 'nft-builtins.nft.json' });

/** "table chain hook/priority/policy" for every chain, sorted (table and chain order are the tools' business). */
function chains(r: Ruleset): string[] {
  return r.tables.flatMap((t) => t.chains.map((c) => `${t.family} ${t.name} ${c.name} ${c.base ? `${c.base.hook}/${c.base.priority}/${c.base.policy}` : '-'}`)).sort();
}

test('the nft capture is what iptables-nft made: some tables lack built-in chains', () => {
  // Only the warnings that nft -j hides the xt expressions' options (one per table that has some).
  assert.deepEqual(kernel.problems.map((p) => [p.code, p.token]), [['XT_OPAQUE', 'ip raw'], ['XT_OPAQUE', 'ip mangle'], ['XT_OPAQUE', 'ip nat'], ['XT_OPAQUE', 'ip filter']]);
  assert.ok(kernel.tables.every((t) => t.origin === 'iptables-nft'));
  // The fixture is only useful while it has tables with missing built-ins.
  assert.ok(kernel.tables.some((t) => t.name === 'mangle' && t.chains.every((c) => !c.base)));
});

test('iptables-nft origin: only the built-in chains the input declares or appends to, as nft -j lists them', () => {
  const r = parseIptablesSave(input, { source: 'nft-builtins.rules', origin: 'iptables-nft' });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(chains(r), chains(kernel));
});

test('legacy and unknown origin: every built-in chain of each table, as iptables-legacy-save lists them', () => {
  const legacy = parseIptablesSave(legacySave, { source: 'nft-builtins.legacy.save' });
  assert.ok(legacy.tables.every((t) => t.origin === 'iptables-legacy'));
  for (const origin of ['iptables-legacy', undefined] as const) {
    const r = parseIptablesSave(input, { source: 'nft-builtins.rules', ...(origin ? { origin } : {}) });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(chains(r), chains(legacy), String(origin));
  }
});

test('iptables-nft-save prints the missing built-ins too: the dump keeps them (exact round trip), the nft listing removes them', () => {
  const r = parseIptablesSave(nftSave, { source: 'nft-builtins.nft.save' });
  assert.deepEqual(r.problems, []);
  assert.ok(r.tables.every((t) => t.origin === 'iptables-nft'), 'the header names the backend');
  assert.equal(withoutComments(serializeIptablesSave(r)), withoutComments(nftSave).replace(/\n*$/, '\n'));
  // Printed chains = legacy's chains (the dump fakes the rest); after the listing: the kernel's chains.
  assert.deepEqual(chains(r), chains(parseIptablesSave(legacySave, { source: 'l' })));
  const before = new Set(chains(r));
  const removed = dropFakeBuiltins(r, kernel);
  assert.deepEqual(chains(r), chains(kernel));
  assert.equal(removed.length, before.size - chains(kernel).length);
  assert.ok(removed.includes('ip raw OUTPUT') && removed.includes('ip nat PREROUTING'), removed.join(', '));
  // Once reconciled, the serializer writes what iptables-nft-restore needs to make the same chains.
  const again = parseIptablesSave(serializeIptablesSave(r), { source: 'again', origin: 'iptables-nft' });
  assert.deepEqual(chains(again), chains(kernel));
});

test('dropFakeBuiltins keeps what the listing cannot vouch for: other origins, tables it lacks, chains with rules or a DROP policy', () => {
  const legacy = parseIptablesSave(legacySave, { source: 'l' });
  const n = chains(legacy).length;
  assert.deepEqual(dropFakeBuiltins(legacy, kernel), []);
  assert.equal(chains(legacy).length, n);
  const r = parseIptablesSave(nftSave, { source: 's' });
  assert.deepEqual(dropFakeBuiltins(r, { tables: [], ipRules: [], problems: [] }), []);
  const empty = { ...kernel, tables: kernel.tables.map((t) => ({ ...t, chains: [] })) };
  const removed = dropFakeBuiltins(r, empty);
  // filter INPUT (policy DROP), FORWARD and OUTPUT, raw and nat chains with rules stay.
  for (const kept of ['ip filter INPUT', 'ip filter FORWARD', 'ip filter OUTPUT', 'ip raw PREROUTING', 'ip nat POSTROUTING']) assert.ok(!removed.includes(kept), kept);
});

test('the header decides the origin: the same body under a legacy header gets every built-in chain back', () => {
  const body = withoutComments(input);
  const asNft = parseIptablesSave(`# Generated by iptables-nft-save v1.8.9 (nf_tables) on Thu Jan  1 00:00:00 1970\n${body}`, { source: 'n' });
  const asLegacy = parseIptablesSave(`# Generated by iptables-save v1.8.9 on Thu Jan  1 00:00:00 1970\n${body}`, { source: 'l' });
  assert.deepEqual(chains(asNft), chains(kernel));
  assert.deepEqual(chains(asLegacy), chains(parseIptablesSave(legacySave, { source: 'l' })));
  // The option counts when no header says otherwise; a header wins over it.
  assert.deepEqual(chains(parseIptablesSave(`# Generated by iptables-save v1.8.9 on x\n${body}`, { source: 'l', origin: 'iptables-nft' })), chains(asLegacy));
});

test('CT --notrack with other options is notrack alone (the kernel ignores the rest), in the captures too', () => {
  for (const text of [nftSave, legacySave]) {
    const raw = parseIptablesSave(text, { source: 's' }).tables.find((t) => t.name === 'raw')!;
    const pre = raw.chains.find((c) => c.name === 'PREROUTING')!;
    assert.deepEqual(
      pre.rules.map((x) => x.exprs.at(-1)),
      [{ type: 'action', kind: 'notrack' }, { type: 'action', kind: 'notrack' }],
    );
  }
});
