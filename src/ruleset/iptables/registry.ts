// Every iptables extension this parser understands, by the name written after -m / -j.
import { table } from '../../util/table.js';
import type { Extension } from './ext.js';
import { addrtype } from './matches/addrtype.js';
import { ah } from './matches/ah.js';
import { bpf } from './matches/bpf.js';
import { cgroup } from './matches/cgroup.js';
import { comment } from './matches/comment.js';
import { connmark } from './matches/connmark.js';
import { conntrack, state } from './matches/conntrack.js';
import { dscp } from './matches/dscp.js';
import { esp } from './matches/esp.js';
import { frag } from './matches/frag.js';
import { hashlimit } from './matches/hashlimit.js';
import { hl } from './matches/hl.js';
import { icmp, icmp6 } from './matches/icmp.js';
import { iprange } from './matches/iprange.js';
import { ipv6header } from './matches/ipv6header.js';
import { length } from './matches/length.js';
import { limit } from './matches/limit.js';
import { mac } from './matches/mac.js';
import { mark } from './matches/mark.js';
import { multiport } from './matches/multiport.js';
import { nfacct } from './matches/nfacct.js';
import { owner } from './matches/owner.js';
import { physdev } from './matches/physdev.js';
import { pkttype } from './matches/pkttype.js';
import { policy } from './matches/policy.js';
import { recent } from './matches/recent.js';
import { rpfilter } from './matches/rpfilter.js';
import { set } from './matches/set.js';
import { socket } from './matches/socket.js';
import { statistic } from './matches/statistic.js';
import { tcp } from './matches/tcp.js';
import { tos } from './matches/tos.js';
import { ttl } from './matches/ttl.js';
import { u32 } from './matches/u32.js';
import { udp } from './matches/udp.js';
import { AUDIT } from './targets/AUDIT.js';
import { CHECKSUM } from './targets/CHECKSUM.js';
import { CLASSIFY } from './targets/CLASSIFY.js';
import { CONNMARK } from './targets/CONNMARK.js';
import { CT, NOTRACK } from './targets/CT.js';
import { DSCP } from './targets/DSCP.js';
import { HL } from './targets/HL.js';
import { LOG } from './targets/LOG.js';
import { MARK } from './targets/MARK.js';
import { NETMAP } from './targets/NETMAP.js';
import { NFLOG } from './targets/NFLOG.js';
import { NFQUEUE } from './targets/NFQUEUE.js';
import { REJECT } from './targets/REJECT.js';
import { SET } from './targets/SET.js';
import { TCPMSS } from './targets/TCPMSS.js';
import { TOS } from './targets/TOS.js';
import { TPROXY } from './targets/TPROXY.js';
import { TRACE } from './targets/TRACE.js';
import { TTL } from './targets/TTL.js';
import { SNAT, DNAT, MASQUERADE, REDIRECT } from './targets/nat.js';

const MATCH_LIST: Extension<any>[] = [addrtype, ah, bpf, cgroup, comment, connmark, conntrack, state, dscp, esp, frag, hashlimit, hl, icmp, icmp6, iprange, ipv6header, length, limit, mac, mark, multiport, nfacct, owner, physdev, pkttype, policy, recent, rpfilter, set, socket, statistic, tcp, tos, ttl, u32, udp];
const TARGET_LIST: Extension<any>[] = [AUDIT, CHECKSUM, CLASSIFY, CONNMARK, CT, NOTRACK, DSCP, HL, LOG, MARK, NETMAP, NFLOG, NFQUEUE, REJECT, SET, TCPMSS, TOS, TPROXY, TRACE, TTL, SNAT, DNAT, MASQUERADE, REDIRECT];

export const MATCHES = new Map<string, Extension<any>>(MATCH_LIST.map((e) => [e.name, e]));
export const TARGETS = new Map<string, Extension<any>>(TARGET_LIST.map((e) => [e.name, e]));

/** Spellings that load another module (iptables aliases). */
export const MATCH_ALIASES: Readonly<Record<string, string>> = table({ icmpv6: 'icmp6', 'ipv6-icmp': 'icmp6' });

/** Built-in verdicts written with -j. */
export const STANDARD_TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);

/**
 * xt targets that exist but are not modelled here: a -j to one of these is an opaque target (not a jump
 * to an undeclared chain), even without options.
 */
export const KNOWN_OPAQUE_TARGETS = new Set([
  'AUDIT', 'CHECKSUM', 'CLASSIFY', 'CLUSTERIP', 'CONNSECMARK', 'CT', 'DNPT', 'DSCP', 'ECN', 'HL', 'HMARK', 'IDLETIMER',
  'LED', 'LOG', 'NETMAP', 'NFLOG', 'NOTRACK', 'RATEEST', 'SECMARK', 'SET', 'SNPT', 'SYNPROXY', 'TCPMSS', 'TCPOPTSTRIP',
  'TEE', 'TOS', 'TPROXY', 'TRACE', 'TTL', 'ULOG', 'MIRROR', 'SAME',
]);

// Names longer than every registered target cannot be one: a rule's -j to a chain (KUBE-SEP-...) then
// skips the set lookups, which cost a string hash each on a 100k-rule file.
const MAX_TARGET_NAME = Math.max(...[...TARGETS.keys(), ...STANDARD_TARGETS, ...KNOWN_OPAQUE_TARGETS].map((n) => n.length));

/** TARGETS.get(name), skipped for names too long to be a target. */
export function targetExt(name: string): Extension<any> | undefined {
  return name.length > MAX_TARGET_NAME ? undefined : TARGETS.get(name);
}

export function isStandardTarget(name: string): boolean {
  return name.length <= MAX_TARGET_NAME && STANDARD_TARGETS.has(name);
}

export function isKnownOpaqueTarget(name: string): boolean {
  return name.length <= MAX_TARGET_NAME && KNOWN_OPAQUE_TARGETS.has(name);
}

/** The protocol match -p NAME loads on demand (`-p tcp --dport 80` means `-p tcp -m tcp --dport 80`). */
export function protoMatchName(proto: number, family: 'ip' | 'ip6'): string | undefined {
  switch (proto) {
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 1:
      return family === 'ip' ? 'icmp' : undefined;
    case 58:
      return family === 'ip6' ? 'icmp6' : undefined;
    default:
      return undefined;
  }
}
