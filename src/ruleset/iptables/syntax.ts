// Rule.syntax for rules parsed from iptables-save text: the parts in iptables-save order, each module's
// parsed data (its extension saves it back), or the module's tokens verbatim when it was not understood.

export interface AddrPart {
  invert: boolean;
  /** Canonical text as iptables-save prints it (e.g. 10.0.0.0/8), or the text as written if unresolved. */
  text: string;
}

export interface ModulePart {
  name: string;
  /** Parsed data for the extension's save(); absent when opaque. */
  data?: unknown;
  /** The module's options exactly as written (without `-m NAME` / `-j NAME`), when opaque. */
  raw?: string;
}

export interface IptRuleSyntax {
  format: 'iptables';
  chain: string;
  src?: AddrPart;
  dst?: AddrPart;
  iif?: AddrPart;
  oif?: AddrPart;
  proto?: AddrPart;
  frag?: { invert: boolean };
  matches: ModulePart[];
  target?: ModulePart;
  /** -j CHAIN / -j ACCEPT... (standard verdicts and user chains), or -g CHAIN. */
  jump?: { chain: string; goto: boolean };
}

export function isIptSyntax(s: unknown): s is IptRuleSyntax {
  return typeof s === 'object' && s !== null && (s as { format?: unknown }).format === 'iptables';
}
