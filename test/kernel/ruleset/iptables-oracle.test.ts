// The oracle for the iptables-save parser and serializer: the real iptables-restore and iptables-save,
// legacy and nft, in a fresh namespace. For every restore input under test/fixtures/parser (*.rules):
//  1. serialize(parse(dump)) equals the dump byte for byte (header comments aside);
//  2. parsing the dump reports no problem;
//  3. the hand-written input means the same as the kernel's dump (same semantics rule by rule) and
//     serializes, chain by chain, to exactly what iptables-save printed (the serializer canonicalises);
//  4. with iptables-nft, the chains nft -j lists are those of the input read with origin iptables-nft.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropFakeBuiltins, parseIptablesSave, parseNftJson, serializeIptablesSave, type Ruleset } from '../../../src/ruleset/index.js';
import { kernelTest } from '../../helpers/kernel.js';
import { restoreAndCheckDump, withoutComments } from '../../helpers/ruleset-fixtures.js';

const DIR = 'test/fixtures/parser';
const inputs = readdirSync(DIR).filter((f) => f.endsWith('.rules')).sort();

/** table -> chain -> rule lines (chain order and table order are the tool's business, not semantics). */
function byChain(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let table = '';
  for (const line of withoutComments(text).split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) out.set(`${table} ${line}`, []);
    else if (line.startsWith('-A ') || /^\[\d+:\d+\] -A /.test(line)) {
      const chain = line.replace(/^\[\d+:\d+\] /, '').split(' ')[1];
      const key = [...out.keys()].find((k) => k.startsWith(`${table} :${chain} `))!;
      out.get(key)!.push(line);
    }
  }
  return out;
}

/** Every chain as "family table chain hook/priority/policy", sorted. */
function chainSet(r: Ruleset): string[] {
  return r.tables.flatMap((t) => t.chains.map((c) => `${t.family} ${t.name} ${c.name} ${c.base ? `${c.base.hook}/${c.base.priority}/${c.base.policy}` : '-'}`)).sort();
}

function semantics(r: Ruleset): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const t of r.tables) for (const c of t.chains) m.set(`${t.family} ${t.name} ${c.name}`, { base: c.base, rules: c.rules.map((x) => ({ exprs: x.exprs, comment: x.comment })) });
  return m;
}

for (const file of inputs) {
  const family = file.includes('ipv6') ? 'ip6' : 'ip';
  for (const backend of ['legacy', 'nft'] as const) {
    const tool = `${family === 'ip6' ? 'ip6tables' : 'iptables'}-${backend}`;
    kernelTest(`${file} through ${tool}-restore and ${tool}-save`, 'rsoracle', async (ns) => {
      const input = readFileSync(join(DIR, file), 'utf8');
      const { dump, parsed } = await restoreAndCheckDump(ns, family, backend, input);

      const fromInput = parseIptablesSave(input, { source: file });
      assert.deepEqual(fromInput.problems, [], 'the input parses without problems');
      assert.deepEqual(semantics({ ...fromInput, tables: fromInput.tables.map((t) => ({ ...t, family })) }), semantics(parsed), 'input and dump mean the same');
      assert.deepEqual(byChain(serializeIptablesSave(fromInput)), byChain(dump), 'the serializer canonicalises as iptables-save does');

      if (backend === 'nft') {
        // 4. The chains nftables really has (its -save also prints built-ins that do not exist): the input
        // read as iptables-nft input, and the dump reconciled with the listing, have exactly those.
        const listing = parseNftJson(await ns.execOk('nft', ['-j', 'list', 'ruleset'], { timeoutMs: 20_000 }), { source: 'nft -j' });
        const asNft = parseIptablesSave(input, { source: file, family, origin: 'iptables-nft' });
        assert.deepEqual(chainSet(asNft), chainSet(listing), 'iptables-nft makes the chains the input names');
        dropFakeBuiltins(parsed, listing);
        assert.deepEqual(chainSet(parsed), chainSet(listing), 'the dump without the chains nft does not list');
      }
    }, { timeout: 60_000 });
  }
}
