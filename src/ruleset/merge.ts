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
