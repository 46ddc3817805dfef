// Where each mark fact is reached from (its entries): the walk from every base chain over the jump graph,
// with the lists for up to 31 base chains kept as bits and beyond that as lists (nft tables can have many
// base chains). Expected entries are worked out from the hand-made graphs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOG } from '../../../src/marks/index.js';
import { collectFacts } from '../../../src/marks/facts.js';
import { A, M, nft, rule, ruleset } from './build.js';

/** An nft table with `bases` base chains (input hook, priority = index); base i jumps to target(i). */
function fanIn(bases: number, target: (i: number) => string | undefined) {
  const chains = [];
  for (let i = 0; i < bases; i++) {
    const t = target(i);
    chains.push({ name: `base${i}`, hook: 'input' as const, priority: i, rules: t ? [rule(`jump ${t}`, [A.jump(t)])] : [] });
  }
  chains.push({ name: 'mid', rules: [rule('jump leaf', [A.jump('leaf')]), rule('jump leaf again', [A.jump('leaf')])] });
  chains.push({ name: 'leaf', rules: [rule('meta mark 0x1 drop', [M.mark(1), A.drop])] });
  chains.push({ name: 'orphan', rules: [rule('meta mark 0x2 drop', [M.mark(2), A.drop])] });
  return ruleset([nft('inet', 'fan', chains)]);
}

for (const bases of [3, 31, 32, 40]) {
  test(`entries from ${bases} base chains, in chain order, each once`, () => {
    // Even bases jump to mid (then leaf), odd ones straight to leaf, every fifth to nothing.
    const f = collectFacts(
      fanIn(bases, (i) => (i % 5 === 4 ? undefined : i % 2 ? 'leaf' : 'mid')),
      CATALOG,
    );
    const leaf = f.readers.find((r) => r.ref.chain === 'leaf');
    const orphan = f.readers.find((r) => r.ref.chain === 'orphan');
    assert.ok(leaf && orphan);
    const expected: string[] = [];
    for (let i = 0; i < bases; i++) if (i % 5 !== 4) expected.push(`inet fan base${i}`);
    assert.deepEqual(
      leaf.entries.map((e) => e.label),
      expected,
    );
    assert.deepEqual(
      leaf.entries.map((e) => e.priority),
      expected.map((l) => Number(l.slice('inet fan base'.length))),
    );
    assert.deepEqual(orphan.entries, []);
  });
}

test('a chain that jumps to itself or back up the graph does not loop or repeat entries', () => {
  const rs = ruleset([
    nft('ip', 'loop', [
      { name: 'in', hook: 'input', rules: [rule('jump a', [A.jump('a')])] },
      { name: 'out', hook: 'output', rules: [rule('jump b', [A.jump('b')])] },
      { name: 'a', rules: [rule('jump a', [A.jump('a')]), rule('jump b', [A.jump('b')])] },
      { name: 'b', rules: [rule('jump a', [A.jump('a')]), rule('meta mark set 0x4', [A.setXmark(4, 4)])] },
    ]),
  ]);
  const f = collectFacts(rs, CATALOG);
  assert.equal(f.writers.length, 1);
  assert.deepEqual(
    f.writers[0].entries.map((e) => e.label),
    ['ip loop in', 'ip loop out'],
  );
  assert.equal(f.stats.chains, 4);
  assert.equal(f.stats.rules, 6);
  assert.equal(f.stats.markRules, 1);
});
