// The packet as the simulator carries it through the hooks: header fields (which NAT may rewrite),
// the skb mark and the conntrack entry's state and mark, each with the bits whose value is known.
import type { CtState, Hook } from '../ruleset/model.js';
import type { Addr } from './addr.js';

/**
 * Where the packet stands with conntrack. 'none': before the conntrack hook (priority -200 in
 * PREROUTING/OUTPUT) no entry is attached yet; 'tracked': an entry is attached; 'untracked': notrack
 * ran first; 'invalid': conntrack ran and attached nothing.
 */
export type CtPhase = 'none' | 'tracked' | 'untracked' | 'invalid';

export interface PacketState {
  family: 'ip' | 'ip6';
  proto: number;
  saddr: Addr;
  daddr: Addr;
  /** After MASQUERADE / REDIRECT the address is one of the node's own, but which one is not known. */
  saddrUnknown: boolean;
  daddrUnknown: boolean;
  /** -1 when the protocol has no ports. */
  sport: number;
  dport: number;
  tcpFlags: number;
  icmpType: number;
  icmpCode: number;
  mark: number;
  /** Bits of `mark` whose value is known (an uninterpreted statement may have written the others). */
  markKnown: number;
  ctmark: number;
  ctmarkKnown: number;
  ct: CtPhase;
  /** The state conntrack gives the packet when it attaches an entry (an input of the trace). */
  ctInput: CtState;
  /** NAT bindings already set up for this connection (nf_nat_initialized), per manip type. */
  natDst: boolean;
  natSrc: boolean;
  /** The connection's tuple was changed by DNAT / SNAT (IPS_DST_NAT / IPS_SRC_NAT). */
  dnatApplied: boolean;
  snatApplied: boolean;
  hook: Hook;
  iif: string | undefined;
  oif: string | undefined;
}

// The last mark written (batch mode writes the same few marks 100,000 times).
let lastHex = 0;
let lastHexText = '0x00000000';

export function hex8(n: number): string {
  const u = n >>> 0;
  if (u === lastHex) return lastHexText;
  lastHex = u;
  return (lastHexText = '0x' + u.toString(16).padStart(8, '0'));
}

/** A mark as 0x........, with '?' for each hex digit that has an unknown bit. */
export function formatMark(mark: number, known: number): string {
  if (known >>> 0 === 0xffffffff) return hex8(mark);
  let s = '';
  for (let i = 7; i >= 0; i--) {
    const k = (known >>> (i * 4)) & 0xf;
    s += k === 0xf ? ((mark >>> (i * 4)) & 0xf).toString(16) : '?';
  }
  return '0x' + s;
}
