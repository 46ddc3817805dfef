// Where each chain is entered from (its base chains: hook and priority), and what a rule does to the
// packet (its effect), read from the model's semantic layer only.
import type { Action, Rule, Table } from '../ruleset/model.js';
import type { Effect, Entry } from './types.js';

/** How the report names a table: 'nat' for iptables ('ip6 nat' for ip6tables), 'inet firewalld' for nft. */
export function tableLabel(t: Table): string {
  if (t.origin === 'nft') return `${t.family} ${t.name}`;
  return t.family === 'ip' ? t.name : `${t.family} ${t.name}`;
}

/**
 * The entries of every chain (by index), given each chain's jump/goto targets (by index): a walk from
 * every base chain. A kube-proxy nat table has tens of thousands of chains, hence arrays, not maps.
 */
export function reach(t: Table, targets: readonly number[][]): Entry[][] {
  const reached: Entry[][] = t.chains.map(() => []);
  const label = tableLabel(t);
  const seen = new Uint8Array(t.chains.length);
  t.chains.forEach((base, b) => {
    if (!base.base) return;
    const entry: Entry = { family: t.family, label: `${label} ${base.name}`, hook: base.base.hook, priority: base.base.priority };
    seen.fill(0);
    seen[b] = 1;
    const stack = [b];
    while (stack.length) {
      const i = stack.pop()!;
      reached[i].push(entry);
      for (const j of targets[i]) {
        if (!seen[j]) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
  });
  return reached;
}

const DECISIVE = new Set<Action['kind']>(['accept', 'drop', 'reject', 'return', 'jump', 'goto', 'queue', 'snat', 'dnat', 'masquerade', 'redirect', 'netmap', 'tproxy']);

/** What the rule does when it matches: its first verdict, jump or NAT; else its mark write; else other. */
export function ruleEffect(rule: Rule): Effect {
  let markWrite: string | undefined;
  let notrack = false;
  let other: string | undefined;
  for (const e of rule.exprs) {
    if (e.type !== 'action') continue;
    if (DECISIVE.has(e.kind)) {
      switch (e.kind) {
        case 'jump':
        case 'goto':
          return { kind: e.kind, target: e.chain };
        case 'queue':
          return { kind: 'queue', target: e.numTo !== undefined ? `${e.num}-${e.numTo}` : String(e.num) };
        case 'netmap':
          return { kind: 'snat', target: 'NETMAP' };
        case 'tproxy':
          return { kind: 'tproxy', target: e.port !== undefined ? String(e.port) : undefined };
        default:
          return { kind: e.kind as Effect['kind'] };
      }
    }
    if (e.kind === 'mark' || e.kind === 'ctmark' || e.kind === 'connmark-save' || e.kind === 'connmark-restore') markWrite ??= e.kind;
    else if (e.kind === 'notrack') notrack = true;
    else if (e.kind === 'other' && e.name === 'TPROXY') return { kind: 'tproxy' }; // opaque in the iptables parser
    else if (e.kind === 'other' && other === undefined) other = e.name;
  }
  if (markWrite) return { kind: 'mark', target: markWrite };
  if (notrack) return { kind: 'notrack' };
  return { kind: 'other', target: other ?? 'no action' };
}
