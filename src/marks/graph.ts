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
 * The entries of every chain (by index), given each chain's jump/goto targets (by index; chain i's are
 * targets[start[i] .. start[i + 1])): a walk from every base chain, in chain order. A kube-proxy nat table
 * has tens of thousands of chains, hence typed arrays, and chains reached from the same base chains share
 * one (read-only) list.
 */
export function reach(t: Table, start: Int32Array, targets: Int32Array): Entry[][] {
  const n = t.chains.length;
  const label = tableLabel(t);
  const seen = new Uint8Array(n);
  const stack = new Int32Array(Math.max(1, n));
  const bases: Entry[] = [];
  // Which base chains reach each chain: a bit each while there are at most 31 of them, else a list.
  const masks = new Int32Array(n);
  let lists: Entry[][] | undefined;
  for (let b = 0; b < n; b++) {
    const base = t.chains[b];
    if (!base.base) continue;
    const entry: Entry = { family: t.family, label: `${label} ${base.name}`, hook: base.base.hook, priority: base.base.priority };
    const k = bases.length;
    bases.push(entry);
    if (k === 31) lists = listsFromMasks(masks, bases);
    const bit = 1 << k;
    seen.fill(0);
    seen[b] = 1;
    let sp = 0;
    stack[sp++] = b;
    while (sp > 0) {
      const i = stack[--sp];
      if (lists) lists[i].push(entry);
      else masks[i] |= bit;
      for (let x = start[i]; x < start[i + 1]; x++) {
        const j = targets[x];
        if (!seen[j]) {
          seen[j] = 1;
          stack[sp++] = j;
        }
      }
    }
  }
  if (lists) return lists;
  const shared = new Map<number, Entry[]>();
  const out: Entry[][] = new Array(n);
  for (let i = 0; i < n; i++) {
    const m = masks[i];
    let list = shared.get(m);
    if (!list) {
      list = [];
      for (let k = 0; k < bases.length; k++) if (m & (1 << k)) list.push(bases[k]);
      shared.set(m, list);
    }
    out[i] = list;
  }
  return out;
}

/** Per chain, its own list of the entries its mask names (when the bases outgrow a 32-bit mask). */
function listsFromMasks(masks: Int32Array, bases: Entry[]): Entry[][] {
  const lists: Entry[][] = [];
  for (let i = 0; i < masks.length; i++) {
    const l: Entry[] = [];
    for (let k = 0; k < 31; k++) if (masks[i] & (1 << k)) l.push(bases[k]);
    lists.push(l);
  }
  return lists;
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
