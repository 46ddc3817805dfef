// Small builders for ruleset models in simulator tests (the parsers' output, written by hand).
import type { Action, BaseChain, Chain, Expr, Family, Hook, Match, Origin, Rule, Ruleset, Table } from '../../src/ruleset/model.js';
import { IPTABLES_CHAIN_HOOK, iptablesPriority } from '../../src/ruleset/priorities.js';

let line = 0;

export function rule(text: string, ...exprs: Expr[]): Rule {
  return { exprs, text, pos: { source: 'test', line: ++line, column: 1 } };
}

export const m = {
  proto: (...protos: number[]): Match => ({ type: 'match', key: 'proto', protos }),
  tcp: (): Match => ({ type: 'match', key: 'proto', protos: [6] }),
  udp: (): Match => ({ type: 'match', key: 'proto', protos: [17] }),
  saddr: (cidrs: string | string[], invert = false): Match => ({ type: 'match', key: 'saddr', cidrs: ([] as string[]).concat(cidrs), invert }),
  daddr: (cidrs: string | string[], invert = false): Match => ({ type: 'match', key: 'daddr', cidrs: ([] as string[]).concat(cidrs), invert }),
  iif: (names: string | string[], invert = false): Match => ({ type: 'match', key: 'iif', names: ([] as string[]).concat(names), invert }),
  oif: (names: string | string[], invert = false): Match => ({ type: 'match', key: 'oif', names: ([] as string[]).concat(names), invert }),
  dport: (lo: number, hi = lo, proto?: number, invert = false): Match => ({ type: 'match', key: 'dport', ranges: [[lo, hi]], proto, invert }),
  sport: (lo: number, hi = lo, proto?: number, invert = false): Match => ({ type: 'match', key: 'sport', ranges: [[lo, hi]], proto, invert }),
  mark: (value: number, mask = 0xffffffff, invert = false): Match => ({ type: 'match', key: 'mark', value, mask, invert }),
  ctmark: (value: number, mask = 0xffffffff, invert = false): Match => ({ type: 'match', key: 'ctmark', value, mask, invert }),
  ctstate: (states: Array<'new' | 'established' | 'related' | 'invalid' | 'untracked' | 'snat' | 'dnat'>, invert = false): Match => ({ type: 'match', key: 'ctstate', states, invert }),
  addrtype: (o: { src?: string[]; dst?: string[]; limitIfaceIn?: boolean; limitIfaceOut?: boolean; dstInvert?: boolean }): Match => ({ type: 'match', key: 'addrtype', ...o }),
  set: (name: string, dirs: Array<'src' | 'dst'>, invert = false): Match => ({ type: 'match', key: 'set', name, dirs, invert }),
  other: (module: string, text: string, invert = false): Match => ({ type: 'match', key: 'other', module, text, invert }),
  tcpflags: (mask: number, comp: number, invert = false): Match => ({ type: 'match', key: 'tcpflags', mask, comp, invert }),
};

export const a = {
  accept: (): Action => ({ type: 'action', kind: 'accept' }),
  drop: (): Action => ({ type: 'action', kind: 'drop' }),
  reject: (): Action => ({ type: 'action', kind: 'reject' }),
  ret: (): Action => ({ type: 'action', kind: 'return' }),
  cont: (): Action => ({ type: 'action', kind: 'continue' }),
  jump: (chain: string): Action => ({ type: 'action', kind: 'jump', chain }),
  goto: (chain: string): Action => ({ type: 'action', kind: 'goto', chain }),
  queue: (num: number, bypass = false, numTo?: number): Action => ({ type: 'action', kind: 'queue', num, bypass, fanout: false, ...(numTo !== undefined ? { numTo } : {}) }),
  /** MARK --set-xmark value/mask: mark = (mark & ~mask) ^ value. */
  xmark: (value: number, mask = 0xffffffff): Action => ({ type: 'action', kind: 'mark', and: ~mask >>> 0, xor: value >>> 0 }),
  ctxmark: (value: number, mask = 0xffffffff): Action => ({ type: 'action', kind: 'ctmark', and: ~mask >>> 0, xor: value >>> 0 }),
  save: (nfmask = 0xffffffff, ctmask = 0xffffffff): Action => ({ type: 'action', kind: 'connmark-save', nfmask, ctmask }),
  restore: (nfmask = 0xffffffff, ctmask = 0xffffffff): Action => ({ type: 'action', kind: 'connmark-restore', nfmask, ctmask }),
  dnat: (to: string): Action => ({ type: 'action', kind: 'dnat', to }),
  snat: (to: string): Action => ({ type: 'action', kind: 'snat', to }),
  masquerade: (): Action => ({ type: 'action', kind: 'masquerade' }),
  redirect: (to?: string): Action => ({ type: 'action', kind: 'redirect', ...(to ? { to } : {}) }),
  notrack: (): Action => ({ type: 'action', kind: 'notrack' }),
  other: (name: string, text: string, terminal: boolean | 'unknown'): Action => ({ type: 'action', kind: 'other', name, text, terminal }),
};

export interface ChainSpec {
  policy?: 'accept' | 'drop';
  rules: Rule[];
}

/** An iptables table: built-in chains get their hook and the table's fixed priority. */
export function iptTable(name: string, chains: Record<string, ChainSpec | Rule[]>, family: Family = 'ip', origin: Origin = 'iptables-nft'): Table {
  const out: Chain[] = [];
  for (const [cname, spec] of Object.entries(chains)) {
    const s: ChainSpec = Array.isArray(spec) ? { rules: spec } : spec;
    const hook = IPTABLES_CHAIN_HOOK[cname];
    const prio = hook ? iptablesPriority(name, hook, origin) : undefined;
    const base: BaseChain | undefined =
      hook && prio !== undefined ? { hook, priority: prio, type: name === 'nat' ? 'nat' : name === 'mangle' && hook === 'output' ? 'route' : 'filter', policy: s.policy ?? 'accept' } : undefined;
    out.push({ name: cname, ...(base ? { base } : {}), rules: s.rules });
  }
  return { family, name, origin, chains: out, sets: [] };
}

export function nftChain(name: string, base: { hook: Hook; priority: number; type?: 'filter' | 'nat' | 'route'; policy?: 'accept' | 'drop' } | undefined, rules: Rule[]): Chain {
  return { name, ...(base ? { base: { hook: base.hook, priority: base.priority, type: base.type ?? 'filter', policy: base.policy ?? 'accept' } } : {}), rules };
}

export function nftTable(family: Family, name: string, chains: Chain[], sets: Table['sets'] = []): Table {
  return { family, name, origin: 'nft', chains, sets };
}

export function ruleset(...tables: Table[]): Ruleset {
  return { tables, ipRules: [], problems: [] };
}
