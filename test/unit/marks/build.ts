// Builders for hand-made rulesets in the model's semantic layer, for unit tests of the doctor. Each rule
// gets a distinct line in a fake source so evidence can be checked.
import type { Action, Chain, Expr, Hook, IpRule, Match, Rule, Ruleset, Table } from '../../../src/ruleset/model.js';
import { IPTABLES_CHAIN_HOOK, IPTABLES_TABLE_HOOKS } from '../../../src/ruleset/priorities.js';

let line = 0;
export const SOURCE = 'test.rules';

export function rule(text: string, exprs: Expr[], comment?: string): Rule {
  return { exprs, text, comment, pos: { source: SOURCE, line: ++line, column: 1 } };
}

/** A chain of an iptables table: built-in chains get their hook and the table's priority. */
export function chain(table: string, name: string, rules: Rule[]): Chain {
  const hook = IPTABLES_CHAIN_HOOK[name];
  const priority = hook ? IPTABLES_TABLE_HOOKS[table]?.[hook] : undefined;
  if (hook && priority !== undefined) return { name, rules, base: { hook, priority, type: table === 'nat' ? 'nat' : 'filter', policy: 'accept' } };
  return { name, rules };
}

/** An iptables table from { CHAIN: rules }. */
export function ipt(name: string, chains: Record<string, Rule[]>, family: 'ip' | 'ip6' = 'ip'): Table {
  return { family, name, origin: 'iptables-nft', chains: Object.entries(chains).map(([c, rs]) => chain(name, c, rs)), sets: [] };
}

/** An nft table; chains with a hook are base chains. */
export function nft(family: Table['family'], name: string, chains: Array<{ name: string; hook?: Hook; priority?: number; rules: Rule[] }>): Table {
  return {
    family,
    name,
    origin: 'nft',
    sets: [],
    chains: chains.map((c) => ({ name: c.name, rules: c.rules, base: c.hook ? { hook: c.hook, priority: c.priority ?? 0, type: 'filter', policy: 'accept' } : undefined })),
  };
}

export function ipRule(priority: number, text: string, fwmark: { value: number; mask: number } | undefined, table: string, invert = false): IpRule {
  return { family: 'ip', priority, invert, fwmark, table, action: 'lookup', text, pos: { source: 'ip-rule.txt', line: ++line, column: 1 } };
}

export function ruleset(tables: Table[], ipRules: IpRule[] = []): Ruleset {
  return { tables, ipRules, problems: [] };
}

export const M = {
  mark: (value: number, mask = 0xffffffff, invert = false): Match => ({ type: 'match', key: 'mark', value, mask, invert }),
  ctmark: (value: number, mask = 0xffffffff, invert = false): Match => ({ type: 'match', key: 'ctmark', value, mask, invert }),
  dport: (p: number): Match => ({ type: 'match', key: 'dport', proto: 6, ranges: [[p, p]] }),
};

export const A = {
  accept: { type: 'action', kind: 'accept' } as Action,
  drop: { type: 'action', kind: 'drop' } as Action,
  ret: { type: 'action', kind: 'return' } as Action,
  masq: { type: 'action', kind: 'masquerade' } as Action,
  jump: (chain: string): Action => ({ type: 'action', kind: 'jump', chain }),
  /** --set-xmark value/mask: (mark & ~mask) ^ value. */
  setXmark: (value: number, mask = 0xffffffff): Action => ({ type: 'action', kind: 'mark', and: ~mask >>> 0, xor: value >>> 0 }),
  /** --set-mark value/mask: (mark & ~mask) | value. */
  setMark: (value: number, mask = 0xffffffff): Action => ({ type: 'action', kind: 'mark', and: ~mask >>> 0, xor: value >>> 0 }),
  orMark: (v: number): Action => ({ type: 'action', kind: 'mark', and: ~v >>> 0, xor: v >>> 0 }),
  xorMark: (v: number): Action => ({ type: 'action', kind: 'mark', and: 0xffffffff, xor: v >>> 0 }),
  ctSetXmark: (value: number, mask = 0xffffffff): Action => ({ type: 'action', kind: 'ctmark', and: ~mask >>> 0, xor: value >>> 0 }),
  restore: (nfmask = 0xffffffff, ctmask = 0xffffffff): Action => ({ type: 'action', kind: 'connmark-restore', nfmask, ctmask }),
  save: (nfmask = 0xffffffff, ctmask = 0xffffffff): Action => ({ type: 'action', kind: 'connmark-save', nfmask, ctmask }),
  queue: (num: number, bypass = true): Action => ({ type: 'action', kind: 'queue', num, bypass, fanout: false }),
};

/** The seed's node: kubelet's drop bit and kube-proxy's masquerade bit, as iptables-save shows them. */
export function kubeNode(): Table[] {
  return [
    ipt('filter', {
      INPUT: [rule('-j KUBE-FIREWALL', [A.jump('KUBE-FIREWALL')])],
      FORWARD: [rule('-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD', [A.jump('KUBE-FORWARD')], 'kubernetes forwarding rules')],
      OUTPUT: [rule('-j KUBE-FIREWALL', [A.jump('KUBE-FIREWALL')])],
      'KUBE-FIREWALL': [
        rule('-m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP', [M.mark(0x8000, 0x8000), A.drop], 'kubernetes firewall for dropping marked packets'),
      ],
      'KUBE-FORWARD': [rule('-m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT', [M.mark(0x4000, 0x4000), A.accept], 'kubernetes forwarding rules')],
    }),
    ipt('nat', {
      PREROUTING: [rule('-m comment --comment "kubernetes service portals" -j KUBE-SERVICES', [A.jump('KUBE-SERVICES')], 'kubernetes service portals')],
      OUTPUT: [rule('-m comment --comment "kubernetes service portals" -j KUBE-SERVICES', [A.jump('KUBE-SERVICES')], 'kubernetes service portals')],
      POSTROUTING: [rule('-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING', [A.jump('KUBE-POSTROUTING')], 'kubernetes postrouting rules')],
      'KUBE-SERVICES': [rule('-d 10.96.0.1/32 -p tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y', [M.dport(443), A.jump('KUBE-SVC-NPX46M4PTMTKRN6Y')])],
      'KUBE-SVC-NPX46M4PTMTKRN6Y': [rule('! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp --dport 443 -j KUBE-MARK-MASQ', [A.jump('KUBE-MARK-MASQ')])],
      'KUBE-MARK-MASQ': [rule('-j MARK --or-mark 0x4000', [A.orMark(0x4000)])],
      'KUBE-MARK-DROP': [rule('-j MARK --or-mark 0x8000', [A.orMark(0x8000)])],
      'KUBE-POSTROUTING': [
        rule('-m mark ! --mark 0x4000/0x4000 -j RETURN', [M.mark(0x4000, 0x4000, true), A.ret]),
        rule('-j MARK --xor-mark 0x4000', [A.xorMark(0x4000)]),
        rule('-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully', [A.masq], 'kubernetes service traffic requiring SNAT'),
      ],
    }),
  ];
}
