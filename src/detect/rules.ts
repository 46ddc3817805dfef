// Detection rules as the configuration states them (plain data, checked by the config schema) and
// the errors the compiler reports, each with the path of the offending field so that the config
// loader can point at its line and column.

export type TextSpec = string | { equals?: string; prefix?: string; suffix?: string; contains?: string; nocase?: boolean };

export interface ContentSpec {
  /** Exactly one of text or hex ("de ad be ef", "deadbeef", "|de ad|" style spaces allowed). */
  text?: string;
  hex?: string;
  nocase?: boolean;
  /** The match must start at or after this payload offset. */
  offset?: number;
  /** ...and end within this many bytes after `offset` (Snort's depth). */
  depth?: number;
}

export type PortSpec = number | string | Array<number | string>;

export interface HttpSpec {
  method?: string | string[];
  host?: TextSpec;
  path?: TextSpec;
  header?: Array<{ name: string; value?: TextSpec }>;
}

export type Direction = 'in' | 'out' | 'forward';
export type Action = 'accept' | 'drop' | 'mark' | 'log' | 'bypass';

export interface MatchSpec {
  family?: 'ipv4' | 'ipv6';
  protocol?: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | number;
  src?: string[];
  dst?: string[];
  src_port?: PortSpec;
  dst_port?: PortSpec;
  /** Comma-separated flags that must be set, "!" for ones that must be clear: "syn,!ack". */
  tcp_flags?: string;
  direction?: Direction;
  content?: ContentSpec[];
  http?: HttpSpec;
  tls_sni?: TextSpec;
  dns_name?: TextSpec;
}

export interface RuleSpec {
  id: string;
  match: MatchSpec;
  action: Action;
  /** For action mark: the bits to set, inside the owned mark mask. */
  mark?: number;
  /** Emit a detection event when the rule matches (default: every action but accept). */
  log?: boolean;
}

export class RuleCompileError extends Error {
  readonly code = 'ERR_RULE';
  constructor(
    /** Path of the field in the config, e.g. ['rules', 3, 'match', 'src', 0]. */
    readonly path: Array<string | number>,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'RuleCompileError';
  }
}
