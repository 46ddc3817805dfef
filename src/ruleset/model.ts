// The one typed model of a node's packet-filtering state, produced by every parser (iptables-save text,
// nft JSON, ip rule) and consumed by the simulator (src/sim) and the doctor (src/marks).
//
// Two layers per rule:
// - `exprs`: the SEMANTICS, in evaluation order: matches (all must hold) and actions (statements and
//   verdicts). This is what analysis reads. It is normalised: every mark write is (mark & and) ^ xor, as
//   the kernel computes it, whichever syntax wrote it (--set-xmark, --or-mark, `meta mark set mark or x`).
// - `syntax`: parser-private data needed to write the rule back byte for byte (iptables-save order of
//   modules and options, the nft JSON expression list). Analysis never reads it.
// Anything a parser does not understand is kept, never dropped: an `other` match or action with its text,
// so that the simulator can answer "undetermined" instead of guessing (the habit of Iptables_Semantics).

export type Family = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';

/** Where a table came from: iptables-save of either backend, or a native nft table. */
export type Origin = 'iptables-legacy' | 'iptables-nft' | 'iptables' | 'nft';

/** 1-based line and column in a named source (a file path, '<stdin>', or 'live:<command>'). */
export interface SourcePos {
  source: string;
  line: number;
  column: number;
}

export interface Counters {
  packets: number;
  bytes: number;
}

export interface Ruleset {
  tables: Table[];
  /** Policy routing rules (ip rule / ip -6 rule), for fwmark readers. */
  ipRules: IpRule[];
  problems: Problem[];
}

export interface Table {
  family: Family;
  /** raw, mangle, nat, filter, security for iptables; any name for nft. */
  name: string;
  origin: Origin;
  chains: Chain[];
  /** nft named sets and maps (iptables ipsets are not in the ruleset text: only referenced by name). */
  sets: NamedSet[];
  pos?: SourcePos;
}

export interface BaseChain {
  hook: Hook;
  /** Numeric hook priority; lower runs first (iptables tables get their fixed NF_IP_PRI_* value). */
  priority: number;
  /** The priority as the source wrote it, e.g. 'mangle + 1' or '-150'. */
  priorityText?: string;
  type: 'filter' | 'nat' | 'route';
  policy: 'accept' | 'drop';
  /** nft netdev/ingress chains name a device. */
  device?: string;
}

export interface Chain {
  name: string;
  /** Present for base chains (iptables built-in chains and nft chains with a hook). */
  base?: BaseChain;
  /** Chain counters from iptables-save `:CHAIN POLICY [packets:bytes]`. */
  counters?: Counters;
  rules: Rule[];
  pos?: SourcePos;
}

export interface Rule {
  exprs: Expr[];
  /** The rule as a human reads it: the iptables-save rule without `-A CHAIN`, or nft's text form. */
  text: string;
  comment?: string;
  counters?: Counters;
  pos: SourcePos;
  /**
   * The rule's 1-based number in its chain as the source lists it, where that is not its index in
   * `rules`: set on the parts of a rule the parser split (an nft verdict map, one rule per element) and
   * on the rules after them, so a trace names the rule `nft -a list` shows.
   */
  number?: number;
  /** Parser-private: what the serializer needs to reproduce the source exactly. */
  syntax?: unknown;
}

export type Expr = Match | Action;

// ---------------------------------------------------------------------------------------------------
// Matches. Each may be inverted (`!` in iptables, `!=` in nft). A list-valued match holds if ANY value
// matches (before inversion).

export type CtState = 'new' | 'established' | 'related' | 'invalid' | 'untracked' | 'snat' | 'dnat';

export type Match =
  | { type: 'match'; key: 'proto'; protos: number[]; invert?: boolean }
  | { type: 'match'; key: 'saddr' | 'daddr'; cidrs: string[]; invert?: boolean }
  | { type: 'match'; key: 'iif' | 'oif'; names: string[]; invert?: boolean } // a trailing '+' is a prefix wildcard
  | { type: 'match'; key: 'sport' | 'dport'; proto?: number; ranges: Array<[number, number]>; invert?: boolean }
  | { type: 'match'; key: 'tcpflags'; mask: number; comp: number; invert?: boolean } // (flags & mask) == comp
  | { type: 'match'; key: 'icmp'; family: 'ip' | 'ip6'; icmpType?: number; code?: number; invert?: boolean }
  /** (skb->mark & mask) == value */
  | { type: 'match'; key: 'mark'; value: number; mask: number; invert?: boolean }
  /** (ct->mark & mask) == value */
  | { type: 'match'; key: 'ctmark'; value: number; mask: number; invert?: boolean }
  | { type: 'match'; key: 'ctstate'; states: CtState[]; invert?: boolean }
  | { type: 'match'; key: 'ctdir'; dir: 'original' | 'reply'; invert?: boolean }
  /** addrtype: LOCAL, UNICAST, BROADCAST, ... as iptables names them. */
  | { type: 'match'; key: 'addrtype'; src?: string[]; dst?: string[]; srcInvert?: boolean; dstInvert?: boolean; limitIfaceIn?: boolean; limitIfaceOut?: boolean; invert?: boolean }
  /** Membership in a named set (ipset or nft set): `dirs` are the tuple fields looked up, e.g. ['dst', 'dst']. */
  | { type: 'match'; key: 'set'; name: string; dirs: Array<'src' | 'dst'>; invert?: boolean }
  /** What the model keeps but does not interpret: evaluation of it is undetermined. */
  | { type: 'match'; key: 'other'; module: string; text: string; invert?: boolean };

// ---------------------------------------------------------------------------------------------------
// Actions: statements (the rule goes on) and verdicts (it ends). `terminal` is explicit where the kind
// alone does not say it.

export type Action =
  /** accept / drop end the packet's traversal of this hook entry; continue goes on; return pops a chain. */
  | { type: 'action'; kind: 'accept' | 'drop' | 'continue' | 'return' }
  | { type: 'action'; kind: 'reject'; with?: string }
  | { type: 'action'; kind: 'jump' | 'goto'; chain: string }
  /** NFQUEUE: queue `num` (to `numTo` when balanced), bypass = accept if nobody listens. */
  | { type: 'action'; kind: 'queue'; num: number; numTo?: number; bypass: boolean; fanout: boolean }
  /** skb->mark = (skb->mark & and) ^ xor. An unmasked set of V is { and: 0, xor: V }. */
  | { type: 'action'; kind: 'mark'; and: number; xor: number }
  /** ct->mark = (ct->mark & and) ^ xor. */
  | { type: 'action'; kind: 'ctmark'; and: number; xor: number }
  /** CONNMARK --save-mark: ct->mark = (ct->mark & ~ctmask) ^ (skb->mark & nfmask). */
  | { type: 'action'; kind: 'connmark-save'; nfmask: number; ctmask: number }
  /** CONNMARK --restore-mark: skb->mark = (skb->mark & ~nfmask) ^ (ct->mark & ctmask). */
  | { type: 'action'; kind: 'connmark-restore'; nfmask: number; ctmask: number }
  /** NAT targets and statements; terminal (the packet is accepted by the nat hook). */
  | { type: 'action'; kind: 'snat' | 'dnat' | 'masquerade' | 'redirect' | 'netmap'; to?: string; flags?: string[] }
  /** TPROXY: terminal; optionally sets skb->mark = (skb->mark & ~mask) ^ value. */
  | { type: 'action'; kind: 'tproxy'; port?: number; addr?: string; mark?: { value: number; mask: number } }
  /** CT --notrack / NOTRACK / nft notrack: the packet gets no conntrack entry. */
  | { type: 'action'; kind: 'notrack' }
  /**
   * Everything else: LOG, NFLOG, counter, TRACE, DSCP, TCPMSS, CHECKSUM, CT --zone/--helper, SET, nft
   * vmaps, unknown targets... `terminal`: true/false when known, 'unknown' when not (the simulator then
   * answers undetermined).
   */
  | { type: 'action'; kind: 'other'; name: string; text: string; terminal: boolean | 'unknown' };

export interface NamedSet {
  name: string;
  /** nft type, e.g. 'ipv4_addr', 'mark', 'inet_service', or a concatenation 'ipv4_addr . inet_service'. */
  keyType: string;
  /** For maps: the data type, e.g. 'verdict' or 'mark'. */
  dataType?: string;
  /** Elements as nft writes them ('10.0.0.0/8', '80', 'accept'); unknown contents: undefined. */
  elements?: Array<{ key: string; value?: string }>;
  flags?: string[];
  pos?: SourcePos;
}

/** One policy-routing rule (`ip rule` / `ip -6 rule`). */
export interface IpRule {
  family: 'ip' | 'ip6';
  priority: number;
  /** `not fwmark ...` and the like. */
  invert: boolean;
  fwmark?: { value: number; mask: number };
  /** lookup TABLE (name or number), or an action such as unreachable/prohibit/blackhole. */
  table?: string;
  action: 'lookup' | 'unreachable' | 'prohibit' | 'blackhole' | 'goto' | 'nop' | 'other';
  suppressPrefixLength?: number;
  text: string;
  pos: SourcePos;
}

// ---------------------------------------------------------------------------------------------------
// Problems are data (the habit of eemeli/yaml): a stable code, a severity, where, and the offending token.

export type Severity = 'error' | 'warning';

export interface Problem {
  /** Stable, e.g. 'MISSING_COMMIT', 'UNKNOWN_MATCH', 'INVALID_MASK', 'UNDECLARED_CHAIN', 'TABLE_INFERRED'. */
  code: string;
  severity: Severity;
  message: string;
  source: string;
  line: number;
  column: number;
  token?: string;
}

/** A match or an action, told apart. */
export function isMatch(e: Expr): e is Match {
  return e.type === 'match';
}

/** Whether an action ends the rule's chain traversal for this packet (undefined: not known). */
export function isTerminal(a: Action): boolean | undefined {
  switch (a.kind) {
    case 'accept':
    case 'drop':
    case 'reject':
    case 'return':
    case 'goto':
    case 'queue':
    case 'snat':
    case 'dnat':
    case 'masquerade':
    case 'redirect':
    case 'netmap':
    case 'tproxy':
      return true;
    case 'jump': // returns to the next rule unless the called chain decides
    case 'continue':
    case 'mark':
    case 'ctmark':
    case 'connmark-save':
    case 'connmark-restore':
    case 'notrack':
      return false;
    case 'other':
      return a.terminal === 'unknown' ? undefined : a.terminal;
  }
}

export function emptyRuleset(): Ruleset {
  return { tables: [], ipRules: [], problems: [] };
}
