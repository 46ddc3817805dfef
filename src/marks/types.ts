// The doctor's vocabulary: catalog entries (data), the facts read from a ruleset (readers, writers,
// queue sites), owners, conflicts and the report. Masks are unsigned 32-bit numbers here; they become
// "0x%08x" strings only in the JSON the command prints.

/** The packet mark (skb->mark) or the connection mark (ct->mark). */
export type Space = 'mark' | 'ctmark';

/** Where a public fact came from: repository, path and the version it was read at. */
export interface Source {
  repo: string;
  path: string;
  version: string;
  note?: string;
}

/** Bits a component uses, with what they mean. */
export interface MarkUse {
  space: Space;
  mask: number;
  /**
   * Meaning key shared across components: two owners using the same bit with the same key agree
   * (kube-proxy, flannel and Cilium all mean 'k8s-masq' by 0x4000) and do not conflict.
   */
  meaning: string;
  /** Human name, used in sentences: "drop bit", "mark range (IptablesMarkMask)". */
  name: string;
  /** Counts as owned whenever the component is present, even if this node's rules do not touch it. */
  reserved?: boolean;
}

/** A mark expression that identifies a component by itself (exact mask, optionally exact value). */
export interface MarkSignature {
  space: Space;
  mask: number;
  value?: number;
}

export interface Identify {
  /** Chain names; a trailing '*' makes a prefix ('cali-*'). Matched in iptables tables and nft tables. */
  chains?: string[];
  /** nft table names (any family); a trailing '*' makes a prefix. */
  tables?: string[];
  /** Regular expressions (source text) tested against rule comments. */
  comments?: string[];
  /** Mark expressions that identify the component when chain, table and comment say nothing. */
  marks?: MarkSignature[];
  /**
   * A mode of another component told apart by its marks (Calico's eBPF dataplane): when any rule of one
   * of `entries` carries a mark expression whose value lies within `valueWithin` and has a bit of
   * `valueHas`, that component runs in this mode on the node, and all of its rules belong to this entry.
   */
  variantOf?: { entries: string[]; marks: Array<{ space: Space; valueWithin: number; valueHas: number }> };
  /**
   * Chains, comments and nft tables this component writes identically with another entry (kube-proxy and
   * kubelet before v1.28 both create KUBE-MARK-MASQ and KUBE-POSTROUTING; felix creates "arp calico-arp"
   * in iptables and nftables modes alike). Their rules belong to whichever of the two the node shows by
   * rules or chains of its own; to both when both are there, or when neither is.
   */
  sharedWith?: { entry: string; chains?: string[]; comments?: string[]; tables?: string[] };
  /** Policy routing rules: routing table names/numbers, priorities, fwmark values. */
  ipRules?: { tables?: string[]; priorities?: number[]; fwmarks?: number[] };
  /** Every rule whose action is NFQUEUE. */
  queue?: boolean;
}

export interface ComponentEntry {
  id: string;
  name: string;
  /** Entries of one family (kube-proxy and kubelet; Calico's three dataplanes) never conflict among themselves. */
  family: string;
  identify: Identify;
  uses: MarkUse[];
  sources: Source[];
  notes?: string;
}

// ---------------------------------------------------------------------------------------------------
// Facts read from the ruleset.

/** A rule as the report cites it. */
export interface RuleRef {
  source: string;
  line: number;
  table: string;
  chain: string;
  text: string;
  /** 'ip', 'ip6', 'inet'... */
  family: string;
}

/** Where a chain is entered from: a base chain's hook and priority. */
export interface Entry {
  family: string;
  /** 'filter INPUT', 'inet firewalld filter_INPUT'. */
  label: string;
  hook: string;
  priority: number;
}

/** What a matching rule does to the packet: the thing that depends on the bits it reads. */
export interface Effect {
  kind:
    | 'drop'
    | 'reject'
    | 'accept'
    | 'return'
    | 'masquerade'
    | 'snat'
    | 'dnat'
    | 'redirect'
    | 'jump'
    | 'goto'
    | 'tproxy'
    | 'queue'
    | 'notrack'
    | 'mark'
    | 'routing'
    | 'other';
  /** Jump/goto target chain, routing table, or the 'other' action's text. */
  target?: string;
}

export interface Reader {
  space: Space;
  value: number;
  mask: number;
  invert: boolean;
  effect: Effect;
  owner: string;
  /** Further owners of a rule several components write identically (see Identify.sharedWith). */
  coOwners?: string[];
  ref: RuleRef;
  entries: Entry[];
  /** For effect 'return' and friends: what the rest of the chain does (for "would no longer return"). */
  fallthrough?: Effect[];
}

export type WriterKind = 'set' | 'restore' | 'save' | 'tproxy';

export interface Writer {
  space: Space;
  kind: WriterKind;
  /** Bits the write may change: ~and | xor for set, nfmask for restore, ctmask for save, mask for tproxy. */
  touches: number;
  /** Bits it may turn on (the xor, the tproxy value; all of `touches` for copies). */
  sets: number;
  /** Bits it may turn off: forced to 0 by a set, or replaced by a copy (restore/save). */
  clears: number;
  /** Writes every one of the 32 bits (unmasked --set-mark, restore/save without a mask). */
  full: boolean;
  owner: string;
  coOwners?: string[];
  ref: RuleRef;
  entries: Entry[];
}

/** A policy-routing rule (`ip rule`) attributed to an owner, fwmark or not (the routing conflict lists the ones after). */
export interface IpRuleSite {
  owner: string;
  family: string;
  priority: number;
  ref: RuleRef;
}

export interface QueueSite {
  num: number;
  numTo?: number;
  bypass: boolean;
  owner: string;
  coOwners?: string[];
  ref: RuleRef;
  entries: Entry[];
}

// ---------------------------------------------------------------------------------------------------
// The report.

export interface Owner {
  /** Catalog id, or 'unattributed:<table>/<chain>'. */
  id: string;
  name: string;
  family: string;
  mask: number;
  ctmask: number;
  /** Part of the masks that is reserved by the catalog but not touched by this node's rules. */
  reservedOnly: { mark: number; ctmask: number };
  evidence: RuleRef[];
  /** Total mark-related rules (evidence may be cut short). */
  evidenceCount: number;
  /** Rules of any kind attributed to it. */
  ruleCount: number;
  sources: Source[];
}

export interface BitInfo {
  bit: number;
  owners: string[];
  writers: number;
  readers: number;
}

export type ConflictKind = 'overlap' | 'clobber' | 'exact-reader' | 'routing' | 'queue' | 'inspector';

export interface Conflict {
  kind: ConflictKind;
  space: Space;
  mask: number;
  parties: string[];
  consequence: string;
  evidence: RuleRef[];
  /** Sample-packet traces from the simulator, when one is plugged in (see SampleTracer). */
  traces?: TraceEvidence[];
}

export interface TraceEvidence {
  packet: string;
  verdict: string;
  steps: string[];
}

/**
 * The hook for simulator evidence: given the ruleset and a sample packet entering a hook with a mark,
 * answer what happens to it. The doctor calls it for inspector conflicts when one is supplied.
 */
export type SampleTracer = (sample: { hook: string; family: 'ip' | 'ip6'; mark: number; description: string }) => TraceEvidence | undefined;

export interface Suggestion {
  /** The suggested mask, or null when no run of `need` free bits exists. */
  mask: number | null;
  need: number;
  /** Well-known components (not on this node) that reserve bits of the suggestion. */
  reservedElsewhereBy: string[];
  reason: string;
}

export interface UnattributedChain {
  table: string;
  chain: string;
  family: string;
  rules: number;
  markRules: number;
}

export interface DoctorReport {
  owners: Owner[];
  bits: BitInfo[];
  ctBits: BitInfo[];
  conflicts: Conflict[];
  /** Bits no owner, reserved range, reader or writer uses. */
  free: number;
  suggestion: Suggestion;
  /** The planned inspector mask that was checked, if any. */
  mask?: number;
  /** The connection-mark bits checked with it (--ctmask), if any. */
  ctmask?: number;
  unattributed: UnattributedChain[];
  stats: { tables: number; chains: number; rules: number; ipRules: number; markRules: number };
}
