// Every iptables extension this parser understands, by the name written after -m / -j.
import type { Extension } from './ext.js';
import { addrtype } from './matches/addrtype.js';
import { comment } from './matches/comment.js';
import { connmark } from './matches/connmark.js';
import { conntrack, state } from './matches/conntrack.js';
import { icmp, icmp6 } from './matches/icmp.js';
import { mark } from './matches/mark.js';
import { multiport } from './matches/multiport.js';
import { set } from './matches/set.js';
import { statistic } from './matches/statistic.js';
import { tcp } from './matches/tcp.js';
import { udp } from './matches/udp.js';
import { CONNMARK } from './targets/CONNMARK.js';
import { MARK } from './targets/MARK.js';
import { NFQUEUE } from './targets/NFQUEUE.js';
import { REJECT } from './targets/REJECT.js';
import { DNAT, MASQUERADE, REDIRECT, SNAT } from './targets/nat.js';

const MATCH_LIST: Extension<any>[] = [tcp, udp, multiport, mark, connmark, conntrack, state, comment, addrtype, set, icmp, icmp6, statistic];
const TARGET_LIST: Extension<any>[] = [MARK, CONNMARK, NFQUEUE, REJECT, SNAT, DNAT, MASQUERADE, REDIRECT];

export const MATCHES = new Map<string, Extension<any>>(MATCH_LIST.map((e) => [e.name, e]));
export const TARGETS = new Map<string, Extension<any>>(TARGET_LIST.map((e) => [e.name, e]));

/** Spellings that load another module (iptables aliases). */
export const MATCH_ALIASES: Record<string, string> = { icmpv6: 'icmp6', 'ipv6-icmp': 'icmp6' };

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
