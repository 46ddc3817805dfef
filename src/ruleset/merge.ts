// Several sources (iptables-nft-save, iptables-legacy-save, ip6tables-*, nft -j, ip rule) as one model.
import type { Ruleset } from './model.js';

/** Concatenates tables, ip rules and problems in argument order; tables keep their origin and family. */
export function mergeRulesets(...r: Ruleset[]): Ruleset {
  return {
    tables: r.flatMap((x) => x.tables),
    ipRules: r.flatMap((x) => x.ipRules),
    problems: r.flatMap((x) => x.problems),
  };
}

/**
 * iptables-nft-save (1.8.9) prints every built-in chain of a table, also those nftables does not have:
 * iptables-nft makes a base chain only when a rule or a policy needs it, and fakes the others, empty
 * with policy ACCEPT and counters [0:0]. A hook without a chain of the table is not the same as one with
 * an empty chain (hook order, traces, NAT). Removes, from the iptables-nft tables of `saved`, the built-in
 * chains that `kernel` (`nft -j list ruleset` of the same host, read at the same time) lacks in a table it
 * has; a chain with rules or another policy is kept whatever the listing says. Returns the removed chains
 * as "family table chain".
 */
export function dropFakeBuiltins(saved: Ruleset, kernel: Ruleset): string[] {
  const removed: string[] = [];
  for (const t of saved.tables) {
    if (t.origin !== 'iptables-nft') continue;
    const k = kernel.tables.find((x) => x.family === t.family && x.name === t.name);
    if (!k) continue;
    const have = new Set(k.chains.map((c) => c.name));
    t.chains = t.chains.filter((c) => {
      const fake = c.base !== undefined && c.rules.length === 0 && c.base.policy === 'accept' && !have.has(c.name);
      if (fake) removed.push(`${t.family} ${t.name} ${c.name}`);
      return !fake;
    });
  }
  return removed;
}
