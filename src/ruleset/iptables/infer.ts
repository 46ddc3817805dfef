// Which table a fragment without a *table header belongs to, from the built-in chains it uses, the targets
// it jumps to and the names of its chains. Every conclusion says why, so the TABLE_INFERRED warning can.
import { table } from '../../util/table.js';
import { IPTABLES_TABLE_HOOKS, IPTABLES_CHAIN_HOOK } from '../priorities.js';

export interface TableEvidence {
  builtins: Set<string>;
  targets: Set<string>;
  chains: Set<string>;
}

const TARGET_TABLE: Readonly<Record<string, string>> = table({
  DNAT: 'nat', SNAT: 'nat', MASQUERADE: 'nat', REDIRECT: 'nat', NETMAP: 'nat',
  TPROXY: 'mangle', TOS: 'mangle', DSCP: 'mangle', TTL: 'mangle', HL: 'mangle', CHECKSUM: 'mangle', CLASSIFY: 'mangle', ECN: 'mangle',
  CT: 'raw', NOTRACK: 'raw',
  SECMARK: 'security', CONNSECMARK: 'security',
  REJECT: 'filter',
});

// Chain names whose owner and table are well known (kube-proxy iptables mode, kubelet).
const CHAIN_TABLE: Array<[RegExp, string]> = [
  [/^KUBE-(MARK-MASQ|MARK-DROP|SVC-|SEP-|SVL-|EXT-|FW-|POSTROUTING$|NODEPORTS$|SERVICES$)/, 'nat'],
  [/^KUBE-(FIREWALL|FORWARD|EXTERNAL-SERVICES|PROXY-FIREWALL|NODE-PORT|PROXY-CANARY)$/, 'filter'],
];

const ORDER = ['filter', 'nat', 'mangle', 'raw', 'security'];

export function inferTable(ev: TableEvidence): { table: string; why: string } {
  const scores = new Map<string, number>(ORDER.map((t) => [t, 0]));
  const why: string[] = [];
  // Tables that have every built-in chain used.
  const candidates = ORDER.filter((t) => [...ev.builtins].every((c) => IPTABLES_TABLE_HOOKS[t][IPTABLES_CHAIN_HOOK[c]] !== undefined));
  for (const t of ev.targets) {
    const tab = TARGET_TABLE[t];
    if (tab) {
      scores.set(tab, scores.get(tab)! + 3);
      why.push(`target ${t}`);
    } else if (t === 'MARK' || t === 'CONNMARK') {
      scores.set('mangle', scores.get('mangle')! + 1);
    }
  }
  for (const c of ev.chains) {
    for (const [re, tab] of CHAIN_TABLE) {
      if (re.test(c)) {
        scores.set(tab, scores.get(tab)! + 2);
        if (why.length < 4) why.push(`chain ${c}`);
        break;
      }
    }
  }
  const pool = candidates.length ? candidates : ORDER;
  let best = pool[0];
  for (const t of pool) if (scores.get(t)! > scores.get(best)!) best = t;
  if (ev.builtins.size) why.push(`built-in chains ${[...ev.builtins].join(', ')}`);
  return { table: best, why: why.length ? why.join(', ') : 'no evidence: the filter table, as iptables assumes without -t' };
}
