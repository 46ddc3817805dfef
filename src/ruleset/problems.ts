// Problems are data: every parser reports through a Problems sink with a stable code, a severity, the
// position and the offending token, and carries on. The codes are a closed set so that callers (the doctor,
// tests, scripts reading --json) can rely on them.
import type { Problem, Severity } from './model.js';

export const PROBLEM_CODES = {
  // structure of an iptables-save file
  MISSING_COMMIT: 'a table was not ended with COMMIT',
  RULE_BEFORE_TABLE: 'a rule or chain line came before any *table header (or after COMMIT)',
  UNKNOWN_TABLE: 'not one of the iptables tables raw, mangle, nat, filter, security',
  TABLE_INFERRED: 'a fragment without a *table header: the table was inferred',
  WRONG_TABLE: 'a target only one table takes (DNAT/SNAT/MASQUERADE/REDIRECT/NETMAP: nat; TPROXY/DSCP/TOS/TTL/HL/CHECKSUM: mangle; CT/NOTRACK: raw) used in another',
  DUPLICATE_CHAIN: 'a chain was declared twice',
  UNDECLARED_CHAIN: 'a rule in, or a jump to, a chain that was not declared',
  BAD_CHAIN_LINE: 'a :CHAIN POLICY [packets:bytes] line that does not parse',
  BAD_POLICY: 'a policy other than ACCEPT or DROP, or a policy on a user chain',
  BAD_COUNTERS: 'counters that are not [packets:bytes] numbers',
  PROMPT_COMMAND: 'a line "# iptables ...": read as a command at a root prompt (it could be a rule commented out)',
  STRAY_LINE: 'a line that is not part of a ruleset (a shell prompt, grep output, iptables -L output)',
  UNSUPPORTED_COMMAND: 'an iptables command a ruleset cannot hold (-D, -F, -X, -Z, -E, -R)',
  // tokens and options
  UNTERMINATED_QUOTE: 'a double quote was not closed',
  UNKNOWN_MATCH: 'a match module this parser does not know: kept verbatim, evaluation undetermined',
  UNKNOWN_TARGET: 'a target this parser does not know: kept verbatim, evaluation undetermined',
  UNKNOWN_OPTION: 'an option no loaded module takes: the module is kept verbatim',
  MISSING_ARGUMENT: 'an option is missing its value',
  DUPLICATE_OPTION: 'an option given twice where iptables allows it once',
  MISPLACED_INVERT: 'a ! where no option can be inverted',
  MISSING_OPTION: 'a module lacks an option it requires',
  CONFLICTING_OPTIONS: 'options that cannot be combined',
  INVALID_VALUE: 'a value that does not parse for its option',
  INVALID_MASK: 'a mark or mask that is not a 32-bit number',
  INVALID_ADDRESS: 'an address or prefix that does not parse',
  INVALID_PORT: 'a port or port range that does not parse',
  INVALID_PROTOCOL: 'an unknown protocol name or number',
  INVALID_INTERFACE: 'an interface name longer than 15 characters',
  HOSTNAME_ADDRESS: 'a host name where an address was expected: it is not resolved',
  FAMILY_MISMATCH: 'an IPv6 value in an IPv4 table or the reverse',
  // nft JSON
  BAD_JSON: 'the text is not JSON, or not the shape nft -j writes',
  UNKNOWN_EXPRESSION: 'an nft expression this parser does not know: kept verbatim',
  XT_OPAQUE: 'an iptables-nft table in nft JSON: its xt matches and targets show no options (read it with iptables-nft-save)',
  UNKNOWN_CHAIN_TYPE: 'an nft chain type, hook or priority that does not parse',
  // ip rule
  BAD_IP_RULE: 'an ip rule line that does not parse',
  NO_IP_RULES: 'an ip rule input in which no line reads as ip rule output (the wrong file)',
  // live readers
  BACKEND_CONFLICT: 'both iptables-legacy and iptables-nft hold rules',
  INCOMPATIBLE_TABLE: 'iptables-nft-save left out a table it cannot read (native nft rules in an iptables table name)',
  READ_FAILED: 'a live reader command failed',
  // serializer
  NOT_EXPRESSIBLE: 'iptables-save text cannot say this (an nft-only expression, a native nft table): left out of the printed text',
  TRANSLATED_TABLE: "nft's text form of an iptables-nft table: its iptables rules appear translated, not always exactly",
} as const;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/** Collects problems for one source; never throws. */
export class Problems {
  readonly list: Problem[] = [];
  constructor(readonly source: string) {}

  add(code: ProblemCode, severity: Severity, message: string, line: number, column: number, token?: string): void {
    const p: Problem = { code, severity, message, source: this.source, line, column };
    if (token !== undefined) p.token = token;
    this.list.push(p);
  }

  error(code: ProblemCode, message: string, line: number, column: number, token?: string): void {
    this.add(code, 'error', message, line, column, token);
  }

  warn(code: ProblemCode, message: string, line: number, column: number, token?: string): void {
    this.add(code, 'warning', message, line, column, token);
  }
}

/** `file:line:col: severity CODE: message (token)`, as compilers print it. */
export function formatProblem(p: Problem): string {
  const tok = p.token !== undefined && p.token !== '' ? ` [${p.token.length > 60 ? p.token.slice(0, 57) + '...' : p.token}]` : '';
  return `${p.source}:${p.line}:${p.column}: ${p.severity} ${p.code}: ${p.message}${tok}`;
}
