// Hook priorities: include/uapi/linux/netfilter_ipv4.h (enum nf_ip_hook_priorities; IPv6 uses the same
// values) and nft's named priorities (nft(8), "CHAIN PRIORITIES"). Lower runs first.
import { table } from '../util/table.js';
import type { Family, Hook, Origin } from './model.js';

export const NF_IP_PRI_FIRST = -2147483648;
export const NF_IP_PRI_RAW_BEFORE_DEFRAG = -450;
export const NF_IP_PRI_CONNTRACK_DEFRAG = -400;
export const NF_IP_PRI_RAW = -300;
export const NF_IP_PRI_SELINUX_FIRST = -225;
export const NF_IP_PRI_CONNTRACK = -200;
export const NF_IP_PRI_MANGLE = -150;
export const NF_IP_PRI_NAT_DST = -100;
export const NF_IP_PRI_FILTER = 0;
export const NF_IP_PRI_SECURITY = 50;
export const NF_IP_PRI_NAT_SRC = 100;
export const NF_IP_PRI_SELINUX_LAST = 225;
export const NF_IP_PRI_CONNTRACK_HELPER = 300;
export const NF_IP_PRI_CONNTRACK_CONFIRM = 2147483647;
export const NF_IP_PRI_LAST = 2147483647;

/** The hooks each iptables table registers, and at which priority (nat differs by hook). */
export const IPTABLES_TABLE_HOOKS: Readonly<Record<string, Partial<Record<Hook, number>>>> = table({
  raw: { prerouting: NF_IP_PRI_RAW, output: NF_IP_PRI_RAW },
  mangle: {
    prerouting: NF_IP_PRI_MANGLE,
    input: NF_IP_PRI_MANGLE,
    forward: NF_IP_PRI_MANGLE,
    output: NF_IP_PRI_MANGLE,
    postrouting: NF_IP_PRI_MANGLE,
  },
  nat: { prerouting: NF_IP_PRI_NAT_DST, output: NF_IP_PRI_NAT_DST, input: NF_IP_PRI_NAT_SRC, postrouting: NF_IP_PRI_NAT_SRC },
  filter: { input: NF_IP_PRI_FILTER, forward: NF_IP_PRI_FILTER, output: NF_IP_PRI_FILTER },
  security: { input: NF_IP_PRI_SECURITY, forward: NF_IP_PRI_SECURITY, output: NF_IP_PRI_SECURITY },
});

/**
 * iptables-nft registers the security table's base chains at 150, not at NF_IP_PRI_SECURITY (50) as the
 * legacy iptable_security module does: `iptables-nft -t security -A INPUT -j ACCEPT` then `nft list table
 * ip security` shows "type filter hook input priority 150" (iptables v1.8.9 (nf_tables), kernel 6.18, measured
 * here). So a chain between 50 and 150, or SNAT in INPUT (100), runs before it on an nft node, after on legacy.
 */
export const IPTABLES_NFT_SECURITY_PRIORITY = 150;

/**
 * The priority of an iptables table's built-in chain at a hook, as the backend that made it registers it;
 * an unknown backend (a fragment without a save header) gets the kernel's NF_IP_PRI_* value.
 */
export function iptablesPriority(table: string, hook: Hook, origin: Origin): number | undefined {
  const prio = IPTABLES_TABLE_HOOKS[table]?.[hook];
  if (prio !== undefined && table === 'security' && origin === 'iptables-nft') return IPTABLES_NFT_SECURITY_PRIORITY;
  return prio;
}

/** iptables built-in chain name -> hook. */
export const IPTABLES_CHAIN_HOOK: Readonly<Record<string, Hook>> = table({
  PREROUTING: 'prerouting',
  INPUT: 'input',
  FORWARD: 'forward',
  OUTPUT: 'output',
  POSTROUTING: 'postrouting',
});

/** nft named priorities for the ip, ip6, inet, arp and netdev families. */
const NFT_NAMED: Readonly<Record<string, number>> = table({
  raw: NF_IP_PRI_RAW,
  mangle: NF_IP_PRI_MANGLE,
  dstnat: NF_IP_PRI_NAT_DST,
  filter: NF_IP_PRI_FILTER,
  security: NF_IP_PRI_SECURITY,
  srcnat: NF_IP_PRI_NAT_SRC,
});

/** The bridge family has its own named priorities. */
const NFT_NAMED_BRIDGE: Readonly<Record<string, number>> = table({ dstnat: -300, filter: -200, out: 100, srcnat: 300 });

/**
 * Parses an nft priority as written ('mangle + 1', 'filter - 10', '-150', 'dstnat'); undefined if it is
 * not one.
 */
export function parseNftPriority(text: string, family: Family = 'ip'): number | undefined {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return Number(t);
  const m = /^([a-z]+)\s*(?:([+-])\s*(\d+))?$/.exec(t);
  if (!m) return undefined;
  const table = family === 'bridge' ? NFT_NAMED_BRIDGE : NFT_NAMED;
  const base = table[m[1]];
  if (base === undefined) return undefined;
  const off = m[3] === undefined ? 0 : Number(m[3]) * (m[2] === '-' ? -1 : 1);
  return base + off;
}

/** The name nft would print for a numeric priority, e.g. -149 -> 'mangle + 1' (for display). */
export function nftPriorityName(priority: number, family: Family = 'ip'): string {
  const table = family === 'bridge' ? NFT_NAMED_BRIDGE : NFT_NAMED;
  let best: [string, number] | undefined;
  for (const [name, value] of Object.entries(table)) {
    const d = Math.abs(priority - value);
    if (d <= 10 && (best === undefined || d < Math.abs(priority - best[1]))) best = [name, value];
  }
  if (!best) return String(priority);
  const d = priority - best[1];
  return d === 0 ? best[0] : `${best[0]} ${d > 0 ? '+' : '-'} ${Math.abs(d)}`;
}
