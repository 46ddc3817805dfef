// iptables-save text (legacy and nft flavours, IPv4 and IPv6), `iptables -S` output, and fragments as
// people paste them, into the model. Line by line, never throwing: every oddity becomes a Problem and the
// parser carries on; what it does not understand is kept verbatim (opaque) with a warning.
import { table } from '../../util/table.js';
import type { Action, BaseChain, Chain, Counters, Expr, Family, Match, Origin, Rule, Ruleset, Table } from '../model.js';
import { IPTABLES_CHAIN_HOOK, IPTABLES_TABLE_HOOKS, iptablesPriority } from '../priorities.js';
import { Problems } from '../problems.js';
import { resolveOption, type ExtContext, type ExtOption, type Extension } from './ext.js';
import { inferTable } from './infer.js';
import { WARMUP_RULESET } from './warmup.js';
import { TokenLine, tokenize } from './lexer.js';
import { MATCHES, MATCH_ALIASES, TARGETS, isKnownOpaqueTarget, isStandardTarget, protoMatchName, targetExt } from './registry.js';
import type { AddrPart, IptRuleSyntax, ModulePart } from './syntax.js';
import { canonicalProtoName, looksLikeHostname, parseAddrMask, parseProto, parseUint, protoNumberText } from './values.js';

export interface IptablesParseOptions {
  /** Names the input in problems and positions (a path, '<stdin>', 'live:iptables-nft-save'). */
  source: string;
  /** The family when the text does not say (an ip6tables-save header does); else inferred from addresses. */
  family?: 'ip' | 'ip6';
  /** Origin when the header does not say (iptables-save headers carry "(nf_tables)" or "(legacy)"). */
  origin?: Origin;
}

export const IPTABLES_TABLES = ['raw', 'mangle', 'nat', 'filter', 'security'];
const HOOK_ORDER = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

interface TableBuild {
  table: Table;
  chains: Map<string, ChainSlot>;
  /** The slots in the order their chains were declared or first used, and where the next rule's chain is likely to be. */
  order: ChainSlot[];
  cursor: number;
  /** How often looking at the next declared chains found the rule's chain, out of how many tries. */
  predHits: number;
  predTries: number;
  /** From a *table header or an explicit -t. */
  explicit: boolean;
  /** Whether chains are declared (`:CHAIN`, -N, -P): then an undeclared chain is an error. */
  declares: boolean;
  committed: boolean;
  line: number;
  jumps: Array<{ chain: string; line: number; col: number }>;
  targets: Set<string>;
  builtins: Set<string>;
  /** -A/-N seen (for splitting `iptables -S` output of several tables at the next -P). */
  sawRules: boolean;
  /** Rules whose target name was neither a chain nor a known extension, resolved at the end. */
  unresolved: Array<{ rule: Rule; name: string; line: number; col: number }>;
  /** In a table not yet named (a fragment): the first use of each target only one table takes. */
  tableOnly: Map<string, { line: number; col: number }> | undefined;
}

/**
 * The generic option a token spells (-s/--source/--src -> 's', ... -6/--ipv6 -> '6'), or undefined. Compared
 * directly: a property lookup by a fresh string probes V8's string table, and every token comes here.
 */
function generic(t: string): string | undefined {
  if (t.charCodeAt(0) !== 45) return undefined;
  if (t.length === 2) {
    const c = t.charCodeAt(1);
    // s d i o p f j g m c 4 6
    return c === 115 || c === 100 || c === 105 || c === 111 || c === 112 || c === 102 || c === 106 || c === 103 || c === 109 || c === 99 || c === 52 || c === 54 ? t[1] : undefined;
  }
  if (t.charCodeAt(1) !== 45) return undefined;
  switch (t) {
    case '--source':
    case '--src':
      return 's';
    case '--destination':
    case '--dst':
      return 'd';
    case '--in-interface':
      return 'i';
    case '--out-interface':
      return 'o';
    case '--protocol':
      return 'p';
    case '--fragment':
      return 'f';
    case '--jump':
      return 'j';
    case '--goto':
      return 'g';
    case '--match':
      return 'm';
    case '--set-counters':
      return 'c';
    case '--ipv4':
      return '4';
    case '--ipv6':
      return '6';
    default:
      return undefined;
  }
}

/**
 * IPTABLES_CHAIN_HOOK[name] without a property lookup for names that cannot be one of its keys nor an
 * inherited property of Object.prototype (those start with a lower-case letter or an underscore).
 */
function chainHook(name: string): string | undefined {
  const c = name.charCodeAt(0);
  if ((c >= 97 && c <= 122) || c === 95 || isBuiltinName(name)) return IPTABLES_CHAIN_HOOK[name];
  return undefined;
}

/** Whether a chain name is one of the five built-in chain names. */
function isBuiltinName(n: string): boolean {
  switch (n) {
    case 'PREROUTING':
    case 'INPUT':
    case 'FORWARD':
    case 'OUTPUT':
    case 'POSTROUTING':
      return true;
    default:
      return false;
  }
}

/** OPS[op], with the usual spellings compared directly (no property lookup by a fresh string). */
function opKind(op: string): 'A' | 'I' | 'N' | 'P' | undefined {
  if (op.length === 2 && op.charCodeAt(0) === 45) {
    switch (op.charCodeAt(1)) {
      case 65:
        return 'A';
      case 73:
        return 'I';
      case 78:
        return 'N';
      case 80:
        return 'P';
    }
  }
  return OPS[op];
}

const OPS: Readonly<Record<string, 'A' | 'I' | 'N' | 'P' | undefined>> = table({ '-A': 'A', '--append': 'A', '-I': 'I', '--insert': 'I', '-N': 'N', '--new-chain': 'N', '--new': 'N', '-P': 'P', '--policy': 'P' });

/**
 * A shell prompt before a pasted command: `$ `, `% `, `> `, `user@host:~$ `, `root@node:/x# `,
 * `[root@node ~]# ` (`# ` alone is read where comments are).
 */
const PROMPT_RE = /^(?:[\w.-]+@[\w.-]+(?::\S*?)?\s?[$#]|\[[^\]\n]*\][$#]|[$%>])\s*/;
const COMMAND_RE = /^\s*(?:sudo\s+(?:-\S+\s+)*)?(ip6?tables(?:-legacy|-nft)?)\s/;

/** Where the options of an `[sudo] iptables ...` command starting at line[from] begin, or undefined. */
function pastedCommand(line: string, from: number): { end: number; family: 'ip' | 'ip6' } | undefined {
  const m = COMMAND_RE.exec(from === 0 ? line : line.slice(from));
  if (!m) return undefined;
  return { end: from + m[0].length - 1, family: m[1].startsWith('ip6') ? 'ip6' : 'ip' };
}

/** Whether line[i] opens a `[user@host dir]$ ` prompt rather than `[packets:bytes]` counters. */
function bracketPrompt(line: string, i: number): boolean {
  const close = line.indexOf(']', i);
  const after = close < 0 ? -1 : line.charCodeAt(close + 1);
  return after === 36 || after === 35;
}

/** The index of a line's continuation backslash (the last character but blanks), or -1. */
function continuation(line: string): number {
  let e = line.length - 1;
  while (e >= 0 && (line.charCodeAt(e) === 32 || line.charCodeAt(e) === 9)) e--;
  return e >= 0 && line.charCodeAt(e) === 92 && (e === 0 || line.charCodeAt(e - 1) !== 92) ? e : -1;
}

const HEADER_RE = /^#\s*Generated by (ip6?tables)(?:-nft|-legacy)?-save v[\w.]+(?: \((nf_tables|legacy)\))?/;
const NFQ_HEADER_RE = /^#\s*Generated by nfqguard \(iptables-save format, family (ip6?), origin ([\w-]+)\)/;

/**
 * A module (-m NAME / -j NAME) while its rule is read. Its tokens and options are not kept in arrays of
 * its own: the parser marks each token with the module's id (tokMod) and records options in scratch
 * arrays, and builds ExtOption objects only when the module's text is not in the memo.
 */
class ModBuild {
  opaque = false;
  /** First and last token index owned, and how many (contiguous when last - first + 1 === count). */
  first = -1;
  last = -1;
  count = 0;
  /** Options recorded for this module. */
  nOpts = 0;
  /** The module's token indices in the order given, kept only when they came out of order (rare). */
  toks: number[] | undefined = undefined;
  constructor(
    readonly kind: 'match' | 'target',
    readonly name: string,
    readonly ext: Extension | undefined,
  ) {}
}

/** The rule being read: one per parser, reset for every rule (fields instead of a dozen locals, so that the
 * reading can be split into methods). */
class RuleState {
  b!: TableBuild;
  family: 'ip' | 'ip6' = 'ip';
  line = 0;
  syn: IptRuleSyntax | undefined = undefined;
  srcs: string[] | undefined = undefined;
  dsts: string[] | undefined = undefined;
  srcInv = false;
  dstInv = false;
  /** The -p protocol number, -1 when none was given. */
  proto = -1;
  protoInv = false;
  iif: AddrPart | undefined = undefined;
  oif: AddrPart | undefined = undefined;
  /** Column of the -i / -o option. */
  iifCol = 0;
  oifCol = 0;
  /** -f: 0 absent, 1 given, 2 inverted. */
  frag = 0;
  jump: { chain: string; goto: boolean } | undefined = undefined;
  /** The -j target was found among the standard verdicts or declared chains. */
  jumpKnown = false;
  /** The table's slot for the -j/-g chain, when it is declared. */
  jumpSlot: ChainSlot | undefined = undefined;
  jumpCol = 1;
  counters: Counters | undefined = undefined;
  /** Generic options seen (bits for -s -d -i -o -p -f). */
  seen = 0;
  current: ModBuild | undefined = undefined;
  targetMod: ModBuild | undefined = undefined;
  nMods = 0;
}

/**
 * A chain of a table being read, with the jump and goto actions that target it (made once, shared by
 * every rule that jumps there: one lookup of the name finds both the chain and its action).
 */
class ChainSlot {
  jump: Action | undefined = undefined;
  goto: Action | undefined = undefined;
  constructor(
    readonly ch: Chain,
    /** Position in TableBuild.order (-1 when not there). */
    readonly index: number,
  ) {}
}

/** A new slot for chain `ch` of table `b` (in b.chains and b.order). */
function addSlot(b: TableBuild, ch: Chain): void {
  const slot = new ChainSlot(ch, b.order.length);
  b.order.push(slot);
  b.chains.set(ch.name, slot);
}

/**
 * The chain named `name` in table `b`, or undefined. iptables-save prints the rules chain after chain in
 * the order it declared the chains: the next declared chains are compared first (no hash lookup).
 */
function findChain(b: TableBuild, name: string): Chain | undefined {
  // Other writers (iptables-restore input such as kube-proxy's) order them otherwise: the guess is given
  // up while it fails more than three times in four.
  if (b.predHits * 4 + 16 >= b.predTries) {
    b.predTries++;
    const order = b.order;
    const end = Math.min(order.length, b.cursor + 2);
    for (let p = b.cursor; p < end; p++) {
      const ch = order[p].ch;
      if (ch.name === name) {
        b.cursor = p + 1;
        b.predHits++;
        return ch;
      }
    }
  }
  const slot = b.chains.get(name);
  if (slot === undefined) return undefined;
  if (slot.index >= 0) b.cursor = slot.index + 1;
  return slot.ch;
}

function builtinBase(table: string, chain: string, policy: 'accept' | 'drop', origin: Origin): BaseChain | undefined {
  if (!isBuiltinName(chain)) return undefined;
  const hook = IPTABLES_CHAIN_HOOK[chain];
  if (!hook) return undefined;
  const priority = iptablesPriority(table, hook, origin);
  if (priority === undefined) return undefined;
  const type = table === 'nat' ? 'nat' : table === 'mangle' && hook === 'output' ? 'route' : 'filter';
  return { hook, priority, type, policy };
}

/** A pre-scan for the family when nothing says it: IPv6 addresses or ICMPv6 anywhere. */
function sniffFamily(text: string): 'ip' | 'ip6' {
  if (/^#\s*Generated by ip6tables(-nft|-legacy)?-save/m.test(text)) return 'ip6';
  if (/(?:^|\s)-[sd]\s+!?\s*[0-9a-fA-F]*:[0-9a-fA-F:.]*(?:\/\d+)?(?:\s|$)/m.test(text)) return 'ip6';
  if (/icmpv6|ipv6-icmp|-m icmp6|--icmpv6-type|icmp6-/.test(text)) return 'ip6';
  return 'ip';
}

export function parseIptablesSave(text: string, opts: IptablesParseOptions): Ruleset {
  if (!warmedUp && text.length > WARMUP_ABOVE) {
    warmedUp = true;
    for (let i = 0; i < 3; i++) new IptablesParser(WARMUP_RULESET, { source: '', family: 'ip' }).run();
  }
  return new IptablesParser(text, opts).run();
}

/** Inputs above this size (characters) are preceded, once per process, by a parse of WARMUP_RULESET. */
const WARMUP_ABOVE = 1_000_000;
let warmedUp = false;

/** Rule.syntax as the parser leaves it: a reference shared by the rules of a chain; see ruleSyntax. */
export interface LazySyntax {
  format: 'iptables-lazy';
  chain: string;
  family: 'ip' | 'ip6';
  /** The rule came from a pasted shell command (single quotes group). */
  shell: boolean;
  /** Which of the rules a comma list in -s/-d expanded into (-1: none). */
  expand: number;
}

/** The full syntax of a rule parsed from iptables text (re-read from Rule.text), or undefined. */
export function ruleSyntax(rule: Rule): IptRuleSyntax | undefined {
  const s = rule.syntax as LazySyntax | IptRuleSyntax | undefined;
  if (!s || typeof s !== 'object') return undefined;
  if (s.format === 'iptables') return s;
  if (s.format !== 'iptables-lazy') return undefined;
  return new IptablesParser('', { source: '', family: s.family }).reparse(rule.text, s);
}

class IptablesParser {
  private readonly problems: Problems;
  private readonly builds: TableBuild[] = [];
  private cur: TableBuild | undefined;
  /** The headerless segment being filled (fragments), if any. */
  private loose: TableBuild | undefined;
  private readonly anyHeader: boolean;
  private readonly defaultFamily: 'ip' | 'ip6';
  private headerFamily: 'ip' | 'ip6' | undefined;
  private headerOrigin: Origin | undefined;
  private readonly tl = new TokenLine();
  private lineNo = 0;

  constructor(
    private readonly text: string,
    private readonly opts: IptablesParseOptions,
  ) {
    this.problems = new Problems(opts.source);
    this.ctx = { family: 'ip', line: 0, problems: this.problems, proto: undefined };
    this.anyHeader = /^\s*\*[a-z]/m.test(text);
    this.defaultFamily = opts.family ?? sniffFamily(text);
  }

  run(): Ruleset {
    const text = this.text;
    let pos = 0;
    const len = text.length;
    while (pos < len) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = len;
      let line = text.slice(pos, nl);
      if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      this.lineNo++;
      pos = nl + 1;
      // A pasted shell command continued with a backslash: one line (iptables-save never ends a line so).
      // Problems on the continuation lines are reported at the first line, with columns in the joined line.
      let joined = 0;
      for (let e = continuation(line); e >= 0 && pos < len; e = continuation(line)) {
        nl = text.indexOf('\n', pos);
        if (nl < 0) nl = len;
        let next = text.slice(pos, nl);
        if (next.charCodeAt(next.length - 1) === 13) next = next.slice(0, -1);
        line = line.slice(0, e) + ' ' + next;
        pos = nl + 1;
        joined++;
      }
      this.line(line);
      this.lineNo += joined;
    }
    this.flushPending();
    if (this.cur && !this.cur.committed) {
      this.problems.error('MISSING_COMMIT', `table ${this.cur.table.name} (line ${this.cur.line}) has no COMMIT: iptables-restore would load nothing of it`, Math.max(1, this.lineNo), 1);
    }
    return this.finish();
  }

  // -------------------------------------------------------------------------------------------------
  // Lines

  private line(line: string): void {
    let i = 0;
    while (i < line.length && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    if (i === line.length) return;
    const c = line[i];
    if (c === '#') {
      // `# iptables -A ...`: a command at a root prompt (or a rule commented out: said in the warning).
      const at = pastedCommand(line, i + 1);
      if (at === undefined) return this.comment(line.slice(i));
      this.problems.warn('PROMPT_COMMAND', 'a command after "#": read as typed at a root prompt (if it was commented out, remove the line)', this.lineNo, i + 1, line.trim());
      return this.command(line.slice(at.end), true, at.family, at.end);
    }
    if (c === '*') return this.tableHeader(line.slice(i).trimEnd(), i);
    if (c === ':') return this.chainLine(line, i);
    if (c === '-' || (c === '[' && !bracketPrompt(line, i))) return this.command(line, false);
    const trimmed = line.trim();
    if (trimmed === 'COMMIT') return this.commit(i);
    // A pasted command: `iptables -t nat -A ...`, `sudo ip6tables-nft -A ...`, after a shell prompt or not.
    const prompt = PROMPT_RE.exec(line.slice(i));
    const at = pastedCommand(line, prompt ? i + prompt[0].length : i);
    if (at) return this.command(line.slice(at.end), true, at.family, at.end);
    if (/^Chain \S+ \((policy \w+|\d+ references)/.test(trimmed) || /^(pkts|target)\s+/.test(trimmed)) {
      return this.problems.warn('STRAY_LINE', 'iptables -L output is not a ruleset: paste `iptables-save` or `iptables -S` output instead', this.lineNo, i + 1, trimmed);
    }
    this.problems.warn('STRAY_LINE', 'not an iptables-save line (shell prompt, command output or grep prefix?): skipped', this.lineNo, i + 1, trimmed);
  }

  private comment(line: string): void {
    const m = HEADER_RE.exec(line);
    if (m) {
      this.headerFamily = m[1] === 'ip6tables' ? 'ip6' : 'ip';
      // Only the nft variant names itself; legacy (and every iptables before 1.8) prints no flavour.
      this.headerOrigin = m[2] === 'nf_tables' ? 'iptables-nft' : 'iptables-legacy';
      return;
    }
    const n = NFQ_HEADER_RE.exec(line);
    if (n) {
      this.headerFamily = n[1] as 'ip' | 'ip6';
      const o = n[2] as Origin;
      this.headerOrigin = ['iptables-legacy', 'iptables-nft', 'iptables'].includes(o) ? o : undefined;
      return;
    }
    const incompatible = /^#\s*Table `(\S+)' is incompatible, use 'nft' tool\./.exec(line);
    if (incompatible) {
      this.problems.warn('INCOMPATIBLE_TABLE', `iptables-nft-save does not show table ${incompatible[1]}: nftables has a table of that name with rules iptables cannot read (see nft -j list ruleset)`, this.lineNo, 1, incompatible[1]);
      return;
    }
    if (/^#\s*Warning: iptables-legacy tables present/.test(line)) {
      this.problems.warn('BACKEND_CONFLICT', 'iptables-nft-save says iptables-legacy tables are present too: the kernel runs both rule sets (see iptables-legacy-save)', this.lineNo, 1, line);
    }
  }

  private newBuild(name: string, explicit: boolean, family: 'ip' | 'ip6', origin: Origin): TableBuild {
    const b: TableBuild = {
      table: { family, name, origin, chains: [], sets: [], pos: { source: this.opts.source, line: this.lineNo, column: 1 } },
      chains: new Map(),
      order: [],
      cursor: 0,
      predHits: 0,
      predTries: 0,
      explicit,
      declares: explicit,
      committed: false,
      line: this.lineNo,
      jumps: [],
      targets: new Set(),
      builtins: new Set(),
      sawRules: false,
      unresolved: [],
      tableOnly: undefined,
    };
    this.builds.push(b);
    return b;
  }

  private tableHeader(line: string, col: number): void {
    if (this.cur && !this.cur.committed) {
      this.problems.error('MISSING_COMMIT', `table ${this.cur.table.name} (line ${this.cur.line}) ends without COMMIT where *${line.slice(1)} begins`, this.lineNo, col + 1, line);
    }
    const name = line.slice(1).trim();
    if (!IPTABLES_TABLES.includes(name)) {
      this.problems.error('UNKNOWN_TABLE', `unknown table "${name}" (raw, mangle, nat, filter, security)`, this.lineNo, col + 2, name);
    }
    const family = this.headerFamily ?? this.opts.family ?? this.defaultFamily;
    this.cur = this.newBuild(name, true, family, this.headerOrigin ?? this.opts.origin ?? 'iptables');
    this.loose = undefined;
  }

  private commit(col: number): void {
    if (!this.cur || this.cur.committed) {
      this.problems.error('RULE_BEFORE_TABLE', 'COMMIT without a *table header before it', this.lineNo, col + 1, 'COMMIT');
      return;
    }
    this.cur.committed = true;
  }

  /** The table a line outside *table ... COMMIT goes to: the current headerless segment. */
  private looseTable(col: number, line: string, startsSegment: boolean): TableBuild {
    if (this.anyHeader) {
      this.problems.error('RULE_BEFORE_TABLE', 'a rule or chain outside *table ... COMMIT: iptables-restore would reject it', this.lineNo, col, line.trim());
    }
    if (!this.loose || (startsSegment && this.loose.sawRules)) {
      this.loose = this.newBuild('', false, this.opts.family ?? this.defaultFamily, this.opts.origin ?? 'iptables');
    }
    return this.loose;
  }

  private target(col: number, line: string, startsSegment = false): TableBuild {
    if (this.cur && !this.cur.committed) return this.cur;
    return this.looseTable(col, line, startsSegment);
  }

  private chainLine(line: string, i: number): void {
    const b = this.target(i + 1, line);
    if (this.chainLineFast(b, line, i)) return;
    const m = /^:(\S+)\s+(\S+)(?:\s+\[(\S*?):(\S*?)\])?\s*$/.exec(line.slice(i));
    if (!m) {
      this.problems.error('BAD_CHAIN_LINE', 'expected ":CHAIN POLICY [packets:bytes]"', this.lineNo, i + 1, line.trim());
      return;
    }
    let counters: Counters | undefined;
    if (m[3] !== undefined) {
      const p = parseUint(m[3], Number.MAX_SAFE_INTEGER);
      const by = parseUint(m[4], Number.MAX_SAFE_INTEGER);
      if (p === undefined || by === undefined) this.problems.error('BAD_COUNTERS', 'counters must be [packets:bytes] numbers', this.lineNo, line.indexOf('[') + 1, `[${m[3]}:${m[4]}]`);
      else counters = { packets: p, bytes: by };
    }
    this.declareChain(b, m[1], m[2], i + 2, line.indexOf(m[2], i + m[1].length + 1) + 1, counters, true);
  }

  /**
   * `:NAME POLICY [P:B]` as iptables-save writes it (single blanks, printable names, decimal counters
   * without leading zeros) read without the regular expression; false (nothing done) for anything else.
   */
  private chainLineFast(b: TableBuild, line: string, i: number): boolean {
    const len = line.length;
    const sp1 = line.indexOf(' ', i + 1);
    if (sp1 <= i + 1) return false;
    const sp2 = line.indexOf(' ', sp1 + 1);
    if (sp2 <= sp1 + 1 || line.charCodeAt(sp2 + 1) !== 91 || line.charCodeAt(len - 1) !== 93) return false;
    const colon = line.indexOf(':', sp2 + 2);
    if (colon < 0 || !printable(line, i + 1, sp1) || !printable(line, sp1 + 1, sp2)) return false;
    const p = decimal(line, sp2 + 2, colon);
    const by = decimal(line, colon + 1, len - 1);
    if (p < 0 || by < 0) return false;
    const counters: Counters = { packets: p, bytes: by };
    this.declareChain(b, line.slice(i + 1, sp1), line.slice(sp1 + 1, sp2), i + 2, sp1 + 2, counters, true);
    return true;
  }

  private declareChain(b: TableBuild, name: string, policyText: string | undefined, col: number, policyCol: number, counters: Counters | undefined, strictDup: boolean): Chain {
    b.declares = true;
    let ch = b.chains.get(name)?.ch;
    if (ch && strictDup && ch.pos) {
      this.problems.error('DUPLICATE_CHAIN', `chain ${name} is declared twice (first on line ${ch.pos.line})`, this.lineNo, col, name);
    }
    if (!ch) {
      const pos = { source: this.opts.source, line: this.lineNo, column: col };
      ch = counters ? { name, rules: [], pos, counters } : { name, rules: [], pos };
      addSlot(b, ch);
    } else {
      if (!ch.pos) ch.pos = { source: this.opts.source, line: this.lineNo, column: col };
      if (counters) ch.counters = counters;
    }
    if (policyText !== undefined) this.setPolicy(b, ch, policyText, policyCol);
    return ch;
  }

  private setPolicy(b: TableBuild, ch: Chain, policyText: string, col: number): void {
    const isBuiltin = chainHook(ch.name) !== undefined;
    if (policyText === '-') {
      if (isBuiltin && b.table.name && IPTABLES_TABLE_HOOKS[b.table.name]?.[IPTABLES_CHAIN_HOOK[ch.name]] !== undefined) {
        this.problems.error('BAD_POLICY', `built-in chain ${ch.name} needs a policy, ACCEPT or DROP`, this.lineNo, col, policyText);
      }
      return;
    }
    if (policyText !== 'ACCEPT' && policyText !== 'DROP') {
      this.problems.error('BAD_POLICY', `policy must be ACCEPT or DROP, got "${policyText}"`, this.lineNo, col, policyText);
      return;
    }
    if (!isBuiltin) {
      this.problems.error('BAD_POLICY', `only built-in chains have a policy; ${ch.name} is a user chain (write "-")`, this.lineNo, col, policyText);
      return;
    }
    b.builtins.add(ch.name);
    (ch as Chain & { _policy?: string })._policy = policyText;
  }

  /** -A/-I/-N/-P/... lines, optionally after `[p:b]` or as a pasted `iptables ...` command. */
  private command(line: string, pasted: boolean, pastedFamily?: 'ip' | 'ip6', offset = 0): void {
    const tl = this.tl;
    tokenize(line, tl, pasted);
    if (tl.openQuote >= 0) this.problems.error('UNTERMINATED_QUOTE', 'a double quote is not closed', this.lineNo, offset + tl.openQuote + 1, line.slice(tl.openQuote));
    let k = 0;
    let counters: Counters | undefined;
    this.off = offset;
    if (tl.n > 0 && tl.v[0].startsWith('[')) {
      const m = /^\[(\d+):(\d+)\]$/.exec(tl.v[0]);
      if (m) counters = { packets: Number(m[1]), bytes: Number(m[2]) };
      else this.problems.error('BAD_COUNTERS', 'counters must be [packets:bytes]', this.lineNo, this.c(0), tl.v[0]);
      k = 1;
    }
    // A pasted command may carry -t TABLE anywhere before the rule; so may -w/--wait and friends.
    let tableName: string | undefined;
    let op: string | undefined;
    let opIdx = -1;
    while (k < tl.n && op === undefined) {
      const t = tl.v[k];
      if (pasted && (t === '-t' || t === '--table')) {
        tableName = tl.v[k + 1];
        k += 2;
      } else if (pasted && (t === '-w' || t === '--wait' || t === '-W' || t === '--wait-interval')) {
        k += tl.v[k + 1] !== undefined && /^\d/.test(tl.v[k + 1]) ? 2 : 1;
      } else if (pasted && (t === '-v' || t === '-n' || t === '--verbose' || t === '--numeric')) {
        k++;
      } else {
        op = t;
        opIdx = k;
        k++;
      }
    }
    if (op === undefined) {
      this.problems.warn('STRAY_LINE', 'a command without an operation: skipped', this.lineNo, this.c(0), line.trim());
      return;
    }
    const kind = opKind(op);
    if (!kind) {
      if (/^-(S|L|-list|-list-rules)$/.test(op) || /^-[LSnv]+$/.test(op)) {
        this.problems.warn('STRAY_LINE', 'a listing command, not a rule: skipped', this.lineNo, this.c(opIdx), line.trim());
      } else if (/^(-[DFXZERC]|--(delete|flush|delete-chain|zero|rename-chain|replace|check))/.test(op)) {
        this.problems.warn('UNSUPPORTED_COMMAND', `${op} changes a ruleset, it is not part of one: skipped`, this.lineNo, this.c(opIdx), op);
      } else {
        this.problems.warn('STRAY_LINE', `unexpected "${op}" where -A, -I, -N or -P was expected: skipped`, this.lineNo, this.c(opIdx), line.trim());
      }
      return;
    }
    const chainName = tl.v[k];
    if (chainName === undefined || chainName === '') {
      this.problems.error('MISSING_ARGUMENT', `${op} needs a chain name`, this.lineNo, this.c(k), op);
      return;
    }
    const chainCol = this.c(k);
    k++;
    let b: TableBuild;
    if (pasted) {
      b = this.pastedTable(tableName ?? 'filter', pastedFamily ?? 'ip');
    } else {
      b = this.target(this.c(opIdx), line, kind === 'P');
    }
    if (kind === 'N') {
      this.declareChain(b, chainName, undefined, chainCol, 0, undefined, true);
      b.sawRules = true;
      return;
    }
    if (kind === 'P') {
      const pol = tl.v[k];
      if (pol === undefined) {
        this.problems.error('MISSING_ARGUMENT', '-P needs a policy, ACCEPT or DROP', this.lineNo, this.c(k), op);
        return;
      }
      // `iptables -v -S` prints the chain's counters after the policy: `-P INPUT ACCEPT -c 5 300`.
      const c = tl.v[k + 1];
      if (c === '-c' || c === '--set-counters') {
        const pn = parseUint(tl.v[k + 2] ?? '', Number.MAX_SAFE_INTEGER);
        const bn = parseUint(tl.v[k + 3] ?? '', Number.MAX_SAFE_INTEGER);
        if (pn === undefined || bn === undefined) this.problems.error('BAD_COUNTERS', '-c wants two numbers, packets and bytes', this.lineNo, this.c(k + 1), tl.v.slice(k + 1, Math.min(tl.n, k + 4)).join(' '));
        else counters = { packets: pn, bytes: bn };
      } else if (c !== undefined) {
        this.problems.warn('INVALID_VALUE', `unexpected "${c}" after the policy: ignored`, this.lineNo, this.c(k + 1), c);
      }
      this.declareChain(b, chainName, pol, chainCol, this.c(k), counters, false);
      return;
    }
    b.sawRules = true;
    let position: number | undefined;
    if (kind === 'I' && k < tl.n && /^\d+$/.test(tl.v[k])) {
      position = Number(tl.v[k]);
      k++;
    }
    // Rules of one chain come in a row: the previous rule's chain usually fits (one string compare
    // instead of a hash lookup).
    let ch = this.lastRuleB === b && this.lastRuleChain !== undefined && this.lastRuleChain.name === chainName ? this.lastRuleChain : findChain(b, chainName);
    if (!ch) {
      // Built-in chains always exist; a user chain must be declared (in a fragment, a warning only).
      if (b.declares && !isBuiltinName(chainName)) {
        this.problems.add('UNDECLARED_CHAIN', b.explicit ? 'error' : 'warning', `chain ${chainName} was not declared (no :${chainName} or -N line)`, this.lineNo, chainCol, chainName);
      }
      ch = { name: chainName, rules: [] };
      addSlot(b, ch);
    }
    if (isBuiltinName(chainName)) b.builtins.add(chainName);
    this.lastRuleB = b;
    this.lastRuleChain = ch;
    const count = this.rule(b, ch, k, counters, offset, pasted);
    if (this.st.iif !== undefined || this.st.oif !== undefined) this.hookInterfaces(chainName);
    const out = this.outRules;
    if (kind === 'I') {
      this.flushPending();
      const at = Math.max(0, Math.min(ch.rules.length, (position ?? 1) - 1));
      ch.rules.splice(at, 0, ...out.slice(0, count));
    } else {
      if (this.pendChain !== ch) {
        this.flushPending();
        this.pendChain = ch;
      }
      for (let x = 0; x < count; x++) this.pend[this.nPend++] = out[x];
    }
  }

  /**
   * A built-in chain's hook has no output interface yet (PREROUTING, INPUT) or no input interface any more
   * (OUTPUT, POSTROUTING): iptables refuses -o / -i there ("Can't use -o with INPUT").
   */
  private hookInterfaces(chain: string): void {
    const st = this.st;
    if (st.oif !== undefined && (chain === 'INPUT' || chain === 'PREROUTING')) {
      this.problems.error('CONFLICTING_OPTIONS', `-o cannot be used in ${chain}: a packet there has no output interface yet (iptables-restore refuses the rule)`, st.line, st.oifCol, '-o');
    }
    if (st.iif !== undefined && (chain === 'OUTPUT' || chain === 'POSTROUTING')) {
      this.problems.error('CONFLICTING_OPTIONS', `-i cannot be used in ${chain}: a locally sent packet has no input interface (iptables-restore refuses the rule)`, st.line, st.iifCol, '-i');
    }
  }

  // Appended rules wait here while their chain's rules come in a row, and go to the chain in one array
  // of the exact size (an array grown by push keeps up to 16 spare slots: megabytes on 40k chains).
  private pendChain: Chain | undefined;
  private readonly pend: Rule[] = [];
  private nPend = 0;

  private flushPending(): void {
    const ch = this.pendChain;
    if (ch !== undefined && this.nPend > 0) {
      if (ch.rules.length === 0) ch.rules = this.pend.slice(0, this.nPend);
      else for (let x = 0; x < this.nPend; x++) ch.rules.push(this.pend[x]);
    }
    this.nPend = 0;
    this.pendChain = undefined;
  }

  private lastRuleB: TableBuild | undefined;
  private lastRuleChain: Chain | undefined;

  private pastedTable(name: string, family: 'ip' | 'ip6'): TableBuild {
    let b = this.builds.find((x) => !x.explicit && x.table.name === name && x.table.family === family && (x as TableBuild & { pasted?: boolean }).pasted);
    if (!b) {
      b = this.newBuild(name, false, family, this.opts.origin ?? 'iptables');
      (b as TableBuild & { pasted?: boolean }).pasted = true;
      if (!IPTABLES_TABLES.includes(name)) this.problems.error('UNKNOWN_TABLE', `unknown table "${name}"`, this.lineNo, 1, name);
    }
    return b;
  }

  // -------------------------------------------------------------------------------------------------
  // One rule: the tokens after `-A CHAIN`.

  /**
   * Reads the tokens after `-A CHAIN` into rules (several when -s/-d list addresses), left in
   * this.outRules[0..count); returns the count. The reading is split into small methods so that the JIT
   * compiles (and, when a new kind of rule shows up, recompiles) small units.
   */
  private rule(b: TableBuild, ch: Chain, start: number, prefixCounters: Counters | undefined, offset: number, pasted = false): number {
    const st = this.st;
    st.b = b;
    st.family = b.table.family === 'ip6' ? 'ip6' : 'ip';
    st.line = this.lineNo;
    // The full syntax is built only when asked (re-reading one rule); otherwise the generic parts live in
    // the state's fields and only the semantics are built.
    st.syn = this.fullSyntax ? { format: 'iptables', chain: ch.name, matches: [] } : undefined;
    st.srcs = undefined;
    st.dsts = undefined;
    st.srcInv = false;
    st.dstInv = false;
    st.proto = -1;
    st.protoInv = false;
    st.iif = undefined;
    st.oif = undefined;
    st.frag = 0;
    st.jump = undefined;
    st.jumpKnown = false;
    st.jumpSlot = undefined;
    st.jumpCol = 1;
    st.counters = prefixCounters;
    st.seen = 0;
    st.current = undefined;
    st.targetMod = undefined;
    st.nMods = 0;
    this.off = offset;
    this.pi = -1;
    this.nOpts = 0;

    const tl = this.tl;
    const n = tl.n;
    let i = start;
    while (i < n) {
      const t = tl.v[i];
      if (t === '!') {
        if (this.pi >= 0) this.problems.error('MISPLACED_INVERT', 'two ! in a row', st.line, this.c(i), '!');
        this.pi = i;
        i++;
        continue;
      }
      const g = generic(t);
      if (g !== undefined) i = this.genericOption(g, t, i);
      // A module option: --name or an unknown short option.
      else if (t.length > 1 && t.charCodeAt(0) === 45 && !(t.charCodeAt(1) >= 48 && t.charCodeAt(1) <= 57)) i = this.moduleOption(t, i);
      else i = this.bareWord(t, i);
    }
    if (this.pi >= 0) this.problems.error('MISPLACED_INVERT', 'a ! at the end of the rule inverts nothing', st.line, this.c(this.pi), '!');
    return this.buildRules(ch, start, pasted);
  }

  /** -s -d -i -o -p -f -m -j -g -c -4 -6 at token optIdx; returns the next token index. */
  private genericOption(g: string, t: string, optIdx: number): number {
    const st = this.st;
    const P = this.problems;
    const line = st.line;
    let i = optIdx + 1;
    if (g === 'm' || g === 'j' || g === 'g') return this.moduleSwitch(g, t, optIdx);
    if (g === '4' || g === '6') return i;
    if (g === 'c') {
      const p = this.argOf(i, t);
      const by = p === undefined ? undefined : this.argOf(i + 1, t);
      if (p !== undefined && by !== undefined) {
        const pn = parseUint(p, Number.MAX_SAFE_INTEGER);
        const bn = parseUint(by, Number.MAX_SAFE_INTEGER);
        if (pn === undefined || bn === undefined) P.error('BAD_COUNTERS', '-c wants two numbers, packets and bytes', line, this.c(i), `${p} ${by}`);
        else st.counters = { packets: pn, bytes: bn };
        return i + 2;
      }
      return i + (p === undefined ? 0 : 1);
    }
    const gbit = g === 's' ? 1 : g === 'd' ? 2 : g === 'i' ? 4 : g === 'o' ? 8 : g === 'p' ? 16 : 32;
    if (st.seen & gbit) P.error('DUPLICATE_OPTION', `${t} given twice in one rule (iptables refuses it)`, line, this.c(optIdx), t);
    st.seen |= gbit;
    if (g === 'f') {
      if (st.family === 'ip6') P.error('FAMILY_MISMATCH', '-f does not exist for IPv6 (use -m frag)', line, this.c(optIdx), t);
      st.frag = this.pi >= 0 ? 2 : 1;
      if (st.syn) st.syn.frag = { invert: this.pi >= 0 };
      this.pi = -1;
      return i;
    }
    i = this.takeInvertAfter(i);
    const invert = this.pi >= 0;
    this.pi = -1;
    const val = this.argOf(i, t);
    if (val === undefined) return i;
    const valCol = this.c(i);
    i++;
    if (g === 's' || g === 'd') {
      this.address(g === 's', t, val, valCol, invert);
      return i;
    }
    if (g === 'i' || g === 'o') {
      if (val.length > 15) P.error('INVALID_INTERFACE', `interface name "${val}" is longer than 15 characters`, line, valCol, val);
      const part: AddrPart = { invert, text: val };
      if (g === 'i') {
        st.iif = part;
        st.iifCol = this.c(optIdx);
        if (st.syn) st.syn.iif = part;
      } else {
        st.oif = part;
        st.oifCol = this.c(optIdx);
        if (st.syn) st.syn.oif = part;
      }
      return i;
    }
    // -p
    const pn = parseProto(val);
    if (pn === undefined) {
      P.error('INVALID_PROTOCOL', `unknown protocol "${val}"`, line, valCol, val);
      return i;
    }
    st.proto = pn;
    st.protoInv = invert;
    // Numbers stay numbers (iptables >= 1.8.10 prints protocols outside its own table that way; 1.8.9
    // looked them up in /etc/protocols), names are printed as iptables names them (icmpv6 -> ipv6-icmp).
    if (st.syn) st.syn.proto = { invert, text: isDigits(val) ? protoNumberText(val, pn, st.family) : canonicalProtoName(val.toLowerCase(), pn, st.family) };
    return i;
  }

  /** -s / -d ADDR[,ADDR...]: canonical entries appended to the rule's list. */
  private address(isSrc: boolean, t: string, val: string, valCol: number, invert: boolean): void {
    const st = this.st;
    if (isSrc) st.srcInv = invert;
    else st.dstInv = invert;
    if (val.indexOf(',') < 0) {
      const e = this.addrEntry(val, t, st.family, st.line, valCol);
      if (e === undefined) return;
      // One address (the usual case): a one-element list.
      const list = isSrc ? st.srcs : st.dsts;
      if (list !== undefined) list.push(e);
      else if (isSrc) st.srcs = [e];
      else st.dsts = [e];
      return;
    }
    let list = isSrc ? st.srcs : st.dsts;
    if (list === undefined) {
      list = [];
      if (isSrc) st.srcs = list;
      else st.dsts = list;
    }
    for (const part of val.split(',')) {
      const e = this.addrEntry(part, t, st.family, st.line, valCol);
      if (e !== undefined) list.push(e);
    }
  }

  /** -m NAME, -j NAME, -g CHAIN at token optIdx; returns the next token index. */
  private moduleSwitch(g: string, t: string, optIdx: number): number {
    const st = this.st;
    const P = this.problems;
    const line = st.line;
    const family = st.family;
    const b = st.b;
    let i = optIdx + 1;
    if (this.pi >= 0) {
      P.error('MISPLACED_INVERT', `! cannot invert ${t}`, line, this.c(this.pi), '!');
      this.pi = -1;
    }
    const name = this.argOf(i, t);
    if (name === undefined) return i;
    i++;
    if (g === 'm') {
      // A registered name is its own canonical name (no alias is one); else the alias table.
      let ext = MATCHES.get(name);
      const canon = ext !== undefined ? name : (MATCH_ALIASES[name] ?? name);
      if (ext === undefined && canon !== name) ext = MATCHES.get(canon);
      const mb = new ModBuild('match', canon, ext && (!ext.families || ext.families.includes(family)) ? ext : undefined);
      if (!mb.ext) {
        mb.opaque = true;
        P.warn('UNKNOWN_MATCH', ext ? `match ${name} does not exist for ${family === 'ip6' ? 'IPv6' : 'IPv4'}: kept verbatim` : `unknown match module "${name}": kept verbatim, the simulator treats it as undetermined`, line, this.c(optIdx + 1), name);
      }
      this.mods[st.nMods++] = mb;
      st.current = mb;
      return i;
    }
    if (g === 'g') {
      if (st.jump || st.targetMod) P.error('DUPLICATE_OPTION', 'more than one -j/-g', line, this.c(optIdx), t);
      else {
        st.jump = { chain: name, goto: true };
        if (st.syn) st.syn.jump = st.jump;
        st.jumpCol = this.c(optIdx + 1);
        st.jumpSlot = isStandardTarget(name) ? undefined : b.chains.get(name);
        st.jumpKnown = st.jumpSlot !== undefined || isStandardTarget(name);
      }
      st.current = undefined;
      return i;
    }
    if (st.jump || st.targetMod) {
      P.error('DUPLICATE_OPTION', 'more than one -j/-g', line, this.c(optIdx), t);
      return i;
    }
    const only = targetTable(name);
    if (only !== undefined && only !== b.table.name) {
      if (b.table.name !== '') this.wrongTable(name, only, b.table.name, true, line, this.c(optIdx + 1));
      else if (!(b.tableOnly ??= new Map()).has(name)) b.tableOnly.set(name, { line, col: this.c(optIdx + 1) });
    }
    const ext = targetExt(name);
    if (ext?.families && !ext.families.includes(family)) {
      P.warn('FAMILY_MISMATCH', `target ${name} does not exist for ${family === 'ip6' ? 'IPv6' : 'IPv4'}: kept verbatim`, line, this.c(optIdx + 1), name);
      st.targetMod = new ModBuild('target', name, undefined);
      st.targetMod.opaque = true;
      st.current = st.targetMod;
      if (!b.explicit) b.targets.add(name); // evidence for inferring a fragment's table
      return i;
    }
    if (ext) {
      st.targetMod = new ModBuild('target', name, ext);
      st.current = st.targetMod;
    } else if ((st.jumpKnown = isStandardTarget(name) || (st.jumpSlot = b.chains.get(name)) !== undefined)) {
      st.jump = { chain: name, goto: false };
      if (st.syn) st.syn.jump = st.jump;
      if (!isStandardTarget(name)) st.jumpCol = this.c(optIdx + 1);
      st.current = undefined;
    } else if (isKnownOpaqueTarget(name) || (i < this.tl.n && this.tl.v[i].startsWith('--'))) {
      st.targetMod = new ModBuild('target', name, undefined);
      st.targetMod.opaque = true;
      st.current = st.targetMod;
      if (!isKnownOpaqueTarget(name)) {
        P.warn('UNKNOWN_TARGET', `unknown target "${name}": kept verbatim, the simulator treats it as undetermined`, line, this.c(optIdx + 1), name);
      }
    } else {
      // A chain declared later (fragments) or never: decided at the end of the table.
      st.jump = { chain: name, goto: false };
      if (st.syn) st.syn.jump = st.jump;
      st.jumpCol = this.c(optIdx + 1);
      st.current = undefined;
    }
    if (!b.explicit) b.targets.add(name); // evidence for inferring a fragment's table
    return i;
  }

  /** The module that takes option `name`, with the option's canonical name in this.canon. */
  private optionOwner(t: string, name: string, optIdx: number): ModBuild {
    const st = this.st;
    const mods = this.mods;
    const current = st.current;
    const targetMod = st.targetMod;
    let owner: ModBuild | undefined;
    let canon: string | undefined;
    if (current && !current.ext) owner = current;
    else {
      // The current module, then the other loaded matches (latest first), the target, and last the
      // protocol match that -p loads on demand.
      canon = optionOf(current, name);
      if (canon !== undefined) owner = current;
      for (let j = st.nMods - 1; j >= 0 && owner === undefined; j--) {
        canon = optionOf(mods[j], name);
        if (canon !== undefined) owner = mods[j];
      }
      if (owner === undefined) {
        canon = optionOf(targetMod, name);
        if (canon !== undefined) owner = targetMod;
      }
      if (owner === undefined && st.proto >= 0 && !st.protoInv) {
        const pm = protoMatchName(st.proto, st.family);
        const ext = pm === undefined ? undefined : MATCHES.get(pm);
        if (ext) {
          let loaded = false;
          for (let j = 0; j < st.nMods; j++) if (mods[j].name === pm) loaded = true;
          if (!loaded) {
            canon = resolveOption(ext, name);
            if (canon !== undefined) {
              owner = new ModBuild('match', pm!, ext);
              mods[st.nMods++] = owner;
            }
          }
        }
      }
    }
    if (!owner) {
      const host = current ?? targetMod ?? (st.nMods > 0 ? mods[st.nMods - 1] : undefined);
      this.problems.warn('UNKNOWN_OPTION', host ? `${t} is not an option of ${host.kind === 'target' ? '-j' : '-m'} ${host.name}: the module is kept verbatim` : `${t} belongs to no module (missing -m?): kept verbatim`, st.line, this.c(optIdx), t);
      if (host) owner = host;
      else {
        owner = new ModBuild('match', '', undefined);
        mods[st.nMods++] = owner;
      }
      owner.opaque = true;
    }
    this.canon = canon;
    return owner;
  }

  /** `[!] --name [!] [args]` at token optIdx, recorded for the module that takes it; returns the next index. */
  private moduleOption(t: string, optIdx: number): number {
    const st = this.st;
    const tl = this.tl;
    const n = tl.n;
    const name = t.charCodeAt(1) === 45 ? t.slice(2) : t.slice(1);
    const owner = this.optionOwner(t, name, optIdx);
    const canon = this.canon;
    // Recorded in the scratch arrays; an ExtOption is built only if the module gets parsed.
    const k = this.nOpts++;
    this.oMod[k] = owner;
    this.oName[k] = canon ?? name;
    this.oTok[k] = optIdx;
    let oInvert = this.pi >= 0;
    owner.nOpts++;
    if (this.pi >= 0) this.own(owner, this.pi);
    this.pi = -1;
    this.own(owner, optIdx);
    let i = optIdx + 1;
    const arity = owner.ext && canon !== undefined ? owner.ext.options[canon] : -1;
    if (arity !== 0 && tl.v[i] === '!' && i + 1 < n && !this.looksLikeOption(i + 1)) {
      oInvert = true;
      this.own(owner, i);
      i++;
    }
    this.oInvert[k] = oInvert;
    this.oArg[k] = i;
    let argN = 0;
    if (arity < 0) {
      while (i < n && tl.v[i] !== '!' && !this.looksLikeOption(i)) {
        this.own(owner, i);
        argN++;
        i++;
      }
      this.oRaw[k] = false;
    } else {
      for (let a = 0; a < arity; a++) {
        const v = this.argOf(i, t);
        if (v === undefined) {
          owner.opaque = true;
          break;
        }
        this.own(owner, i);
        argN++;
        i++;
      }
      this.oRaw[k] = argN > 0 && owner.ext?.verbatim === true;
    }
    this.oArgN[k] = argN;
    if (owner === st.targetMod || owner.kind === 'match') st.current = owner;
    return i;
  }

  /** A bare word where an option was expected. */
  private bareWord(t: string, i: number): number {
    const st = this.st;
    this.problems.error('INVALID_VALUE', `unexpected "${t}" (not an option or a value of one)`, st.line, this.c(i), t);
    const host = st.current ?? st.targetMod;
    if (host) {
      host.opaque = true;
      this.own(host, i);
    }
    return i + 1;
  }

  /** The rule's modules parsed and its rules built (see rule()). */
  private buildRules(ch: Chain, start: number, pasted: boolean): number {
    const st = this.st;
    const syn = st.syn;
    const tl = this.tl;
    const family = st.family;
    const line = st.line;
    const proto = st.proto;
    const protoInv = st.protoInv;
    // Modules: parse their options with their extension; anything unusable stays verbatim.
    const ctx = this.ctx;
    ctx.family = family;
    ctx.line = line;
    ctx.proto = proto >= 0 && !protoInv ? proto : undefined;
    const matchExprs = this.matchScratch;
    let nMatch = 0;
    let comment: string | undefined;
    for (let j = 0; j < st.nMods; j++) {
      const m = this.mods[j];
      const r = this.moduleResult(m, ctx);
      const part = r.part;
      if (syn) syn.matches.push(part);
      const es = r.exprs;
      for (let x = 0; x < es.length; x++) matchExprs[nMatch++] = es[x];
      if (part.data !== undefined && m.name === 'comment') comment = comment === undefined ? (part.data as { comment: string }).comment : `${comment} ${(part.data as { comment: string }).comment}`;
    }
    let actions: Expr[] | undefined;
    let jumpAct: Action | undefined;
    if (st.targetMod) {
      const r = this.moduleResult(st.targetMod, ctx);
      if (syn) syn.target = r.part;
      actions = r.exprs;
    } else if (st.jump) {
      const slot = st.jumpSlot;
      if (slot === undefined) jumpAct = this.jumpAction(st.jump.chain, st.jump.goto);
      // Named by the chain's own name string: a lookup by it then finds the chain by identity.
      else if (st.jump.goto) jumpAct = slot.goto ??= jumpAction(slot.ch.name, true);
      else jumpAct = slot.jump ??= jumpAction(slot.ch.name, false);
    }

    // Generic part; comma lists in -s/-d become one rule per address pair, as iptables expands them.
    const head = this.headScratch;
    let nHead = 0;
    const iif = st.iif;
    const oif = st.oif;
    if (iif && !(iif.text === '+' && !iif.invert)) head[nHead++] = ifMatch('iif', iif);
    if (oif && !(oif.text === '+' && !oif.invert)) head[nHead++] = ifMatch('oif', oif);
    if (proto > 0) head[nHead++] = this.protoMatch(proto, protoInv);
    if (st.frag !== 0) head[nHead++] = st.frag === 2 ? FRAG_INV : FRAG;
    if (syn && proto === 0) delete syn.proto;

    // Everything after `-A CHAIN` as written (one slice; trailing blanks are rare and trimmed).
    let text = start < tl.n ? tl.line.slice(tl.startOf(start)) : '';
    const last = text.charCodeAt(text.length - 1);
    if (last === 32 || last === 9) text = text.trimEnd();
    const out = this.outRules;
    let nOut = 0;
    const srcs = st.srcs;
    const dsts = st.dsts;
    const expand = (srcs !== undefined && srcs.length > 1) || (dsts !== undefined && dsts.length > 1);
    const nS = srcs !== undefined && srcs.length > 0 ? srcs.length : 1;
    const nD = dsts !== undefined && dsts.length > 0 ? dsts.length : 1;
    const scratch = this.scratch;
    const counters = st.counters;
    for (let si = 0; si < nS; si++) {
      const s = srcs !== undefined && srcs.length > 0 ? srcs[si] : undefined;
      for (let di = 0; di < nD; di++) {
        const d = dsts !== undefined && dsts.length > 0 ? dsts[di] : undefined;
        const rs: IptRuleSyntax | undefined = syn === undefined ? undefined : expand ? { ...syn } : syn;
        // Built in a reused scratch array and copied at its exact length: an array grown by push keeps
        // spare capacity, which on 100k rules is tens of megabytes.
        let k = 0;
        if (s !== undefined) k = addrMatch('saddr', s, st.srcInv, rs, scratch, k);
        if (d !== undefined) k = addrMatch('daddr', d, st.dstInv, rs, scratch, k);
        for (let x = 0; x < nHead; x++) scratch[k++] = head[x];
        for (let x = 0; x < nMatch; x++) scratch[k++] = matchExprs[x];
        if (actions !== undefined) for (let x = 0; x < actions.length; x++) scratch[k++] = actions[x];
        else if (jumpAct !== undefined) scratch[k++] = jumpAct;
        const exprs = scratch.slice(0, k);
        // A 100k-rule model keeps a small shared reference instead of the full syntax, and the serializer
        // re-reads Rule.text (see ruleSyntax above).
        const syntax = rs ?? this.lazySyntax(ch, family, pasted, expand ? nOut : -1);
        // One literal per shape, so that no rule object grows an out-of-object property store.
        const pos = { source: this.opts.source, line, column: 1 };
        const rule: Rule =
          comment === undefined
            ? counters
              ? { exprs, text, pos, syntax, counters }
              : { exprs, text, pos, syntax }
            : counters
              ? { exprs, text, comment, pos, syntax, counters }
              : { exprs, text, comment, pos, syntax };
        out[nOut++] = rule;
      }
    }
    const jump = st.jump;
    // jumpKnown: a standard verdict or a chain found in the table when the -j/-g was read (the table's
    // chains do not change while a rule is read).
    if (jump && !st.jumpKnown) {
      for (let x = 0; x < nOut; x++) st.b.unresolved.push({ rule: out[x], name: jump.chain, line, col: st.jumpCol });
    }
    return nOut;
  }

  /** One -s/-d entry: a canonical address (marked '!any' for 0/0), '@host' for a host name, or undefined. */
  private addrEntry(part: string, t: string, family: 'ip' | 'ip6', line: number, valCol: number): string | undefined {
    const a = parseAddrMask(part, family);
    if (typeof a === 'string') {
      if (looksLikeHostname(part)) {
        this.problems.warn('HOSTNAME_ADDRESS', `"${part}" is a host name: iptables resolves it when loading; kept unresolved`, line, valCol, part);
        return '@' + part;
      }
      this.problems.error(a.includes('rule') ? 'FAMILY_MISMATCH' : 'INVALID_ADDRESS', `${t}: ${a}`, line, valCol, part);
      return undefined;
    }
    return a.any ? a.cidr + '!any' : a.cidr;
  }

  /** Marks token i as module m's (see ModBuild). */
  private own(m: ModBuild, i: number): void {
    if (m.toks !== undefined) {
      m.toks.push(i);
      return;
    }
    if (m.count > 0 && i < m.last) {
      // Out of token order (a ! kept back over a stray word): keep the module's own list from here on.
      m.toks = this.tokensOf(m);
      m.toks.push(i);
      return;
    }
    this.tokMod[i] = m;
    if (m.count === 0) m.first = i;
    m.last = i;
    m.count++;
  }

  /** The token indices of module m, in the order they were given to it. */
  private tokensOf(m: ModBuild): number[] {
    if (m.toks !== undefined) return m.toks;
    const out: number[] = [];
    if (m.count === 0) return out;
    const tm = this.tokMod;
    for (let i = m.first; i <= m.last; i++) if (tm[i] === m) out.push(i);
    return out;
  }

  /** Module m's options as its extension's parse takes them. */
  private modOpts(m: ModBuild): ExtOption[] {
    const opts: ExtOption[] = [];
    if (m.nOpts === 0) return opts;
    if (m.nOpts === 1) {
      // The usual case, as a one-element literal (a push would reserve 17 slots).
      for (let k = 0; k < this.nOpts; k++) if (this.oMod[k] === m) return [this.extOption(k)];
    }
    for (let k = 0; k < this.nOpts; k++) if (this.oMod[k] === m) opts.push(this.extOption(k));
    return opts;
  }

  private extOption(k: number): ExtOption {
    const tl = this.tl;
    const a0 = this.oArg[k];
    const an = this.oArgN[k];
    const args: string[] = an === 1 ? [tl.v[a0]] : tl.v.slice(a0, a0 + an);
    const argCols: number[] = an === 1 ? [this.c(a0)] : [];
    if (an !== 1) for (let a = 0; a < an; a++) argCols.push(this.c(a0 + a));
    const o: ExtOption = { name: this.oName[k], invert: this.oInvert[k], args, col: this.c(this.oTok[k]), argCols };
    if (this.oRaw[k]) {
      const raw: string[] = [];
      for (let a = 0; a < an; a++) raw.push(tl.raw(a0 + a));
      o.argRaw = raw;
    }
    return o;
  }

  // Per-rule scratch state (fields rather than closures: a 100k-rule file calls rule() 100k times).
  // Arrays are reused by index with a count: `length = 0` would drop their backing store.
  private readonly scratch: Expr[] = [];
  private readonly matchScratch: Expr[] = [];
  private readonly headScratch: Expr[] = [];
  private readonly outRules: Rule[] = [];
  private readonly mods: ModBuild[] = [];
  private readonly st = new RuleState();
  /** The canonical option name optionOwner found (a second return value). */
  private canon: string | undefined = undefined;
  /** Per token of the current line: the module that owns it (stale entries belong to earlier rules' modules). */
  private readonly tokMod: Array<ModBuild | undefined> = [];
  /** Options of the current rule: owner, canonical name, token, inverted, first argument token, count, raw args wanted. */
  private nOpts = 0;
  private readonly oMod: ModBuild[] = [];
  private readonly oName: string[] = [];
  private readonly oTok: number[] = [];
  private readonly oInvert: boolean[] = [];
  private readonly oArg: number[] = [];
  private readonly oArgN: number[] = [];
  private readonly oRaw: boolean[] = [];
  private readonly ctx: ExtContext;
  private off = 0;
  private pi = -1;

  /** Old style `-s ! addr` / `--dport ! 80`. */
  private takeInvertAfter(i: number): number {
    const tl = this.tl;
    if (tl.v[i] === '!' && i + 1 < tl.n) {
      if (this.pi >= 0) this.problems.error('MISPLACED_INVERT', 'two ! for one option', this.lineNo, this.off + tl.col(i), '!');
      this.pi = i;
      return i + 1;
    }
    return i;
  }

  private c(i: number): number {
    return this.off + this.tl.col(i);
  }

  private looksLikeOption(i: number): boolean {
    const tl = this.tl;
    const v = tl.v[i];
    if (v === undefined || v.length < 2 || v.charCodeAt(0) !== 45) return false;
    const c1 = v.charCodeAt(1);
    return !(c1 >= 48 && c1 <= 57) && (tl.simple || tl.line.charCodeAt(tl.start[i]) !== 34);
  }

  private argOf(i: number, opt: string): string | undefined {
    const tl = this.tl;
    // getopt gives a required argument whatever it looks like (a comment may well be "-c"): only the end
    // of the line makes it missing. A forgotten value then shows up as an invalid value instead.
    if (i >= tl.n) {
      this.problems.error('MISSING_ARGUMENT', `${opt} needs a value`, this.lineNo, this.off + tl.col(Math.min(i, tl.n)), opt);
      return undefined;
    }
    return tl.v[i];
  }

  /** When set, rules carry their full IptRuleSyntax (used when re-reading one rule). */
  fullSyntax = false;

  private lastLazy: LazySyntax | undefined;
  private lastLazyChain: Chain | undefined;

  private lazySyntax(ch: Chain, family: 'ip' | 'ip6', shell: boolean, expand: number): LazySyntax {
    if (expand >= 0) return { format: 'iptables-lazy', chain: ch.name, family, shell, expand };
    // iptables-save groups rules by chain: rules in a row of one chain share one reference.
    const last = this.lastLazy;
    if (last && this.lastLazyChain === ch && last.family === family && last.shell === shell) return last;
    const s: LazySyntax = { format: 'iptables-lazy', chain: ch.name, family, shell, expand: -1 };
    this.lastLazy = s;
    this.lastLazyChain = ch;
    return s;
  }

  /** Re-reads one rule's text (after `-A CHAIN`) with its full syntax. */
  reparse(text: string, lazy: LazySyntax): IptRuleSyntax | undefined {
    this.fullSyntax = true;
    tokenize(text, this.tl, lazy.shell);
    const b = this.newBuild('', false, lazy.family, 'iptables');
    const ch: Chain = { name: lazy.chain, rules: [] };
    const count = this.rule(b, ch, 0, undefined, 0, lazy.shell);
    const at = lazy.expand < 0 ? 0 : lazy.expand;
    return at < count ? (this.outRules[at].syntax as IptRuleSyntax) : undefined;
  }

  // Identical module text parses to identical data: kube-proxy repeats `-m tcp --dport 80`, the same
  // statistic probabilities and targets thousands of times. Results without problems are reused, and so
  // are their expression objects (the model's expressions are shared and must be treated as read-only).
  private readonly memo = new Map<Extension, Map<number, Map<string, MemoEntry>>>();
  private memoSize = 0;
  private readonly jumps = new Map<string, Action>();
  private readonly protos = new Map<number, Match>();

  private moduleResult(m: ModBuild, ctx: ExtContext): { part: ModulePart; exprs: Expr[] } {
    let byText: Map<string, MemoEntry> | undefined;
    let text: string | undefined;
    // Comments and NAT destinations are nearly always unique: not worth a memo entry.
    if (!m.opaque && m.ext && !NO_MEMO_EXT.has(m.ext)) {
      let first = m.first;
      let last = m.last;
      let count = m.count;
      if (m.toks !== undefined) {
        count = m.toks.length;
        first = m.toks[0];
        last = m.toks[count - 1];
      }
      // A module without options (`-m tcp` before -j DNAT) has the empty text as its key.
      if (count === 0 || last - first === count - 1) {
        // Keyed by extension, then family and protocol, then the module's text as written.
        let byCtx = this.memo.get(m.ext);
        if (!byCtx) this.memo.set(m.ext, (byCtx = new Map()));
        const ck = (ctx.family === 'ip6' ? 1024 : 0) + (ctx.proto ?? 512);
        byText = byCtx.get(ck);
        if (!byText) byCtx.set(ck, (byText = new Map()));
        text = count === 0 ? '' : this.tl.line.slice(this.tl.startOf(first), this.tl.endOf(last));
        const hit = byText.get(text);
        if (hit) return hit;
      }
    }
    const before = this.problems.list.length;
    const part = this.finishModule(m, ctx);
    let exprs: Expr[];
    if (part.data !== undefined) exprs = m.ext!.exprs(part.data, ctx.family) as Expr[];
    else if (m.kind === 'match') exprs = [{ type: 'match', key: 'other', module: m.name || '?', text: part.raw ?? '' }];
    else exprs = [{ type: 'action', kind: 'other', name: m.name, text: `-j ${m.name}${part.raw ? ' ' + part.raw : ''}`, terminal: OPAQUE_TERMINAL[m.name] ?? 'unknown' }];
    const r = { part, exprs };
    if (byText !== undefined && this.problems.list.length === before && this.memoSize < 200_000) {
      byText.set(text!, r);
      this.memoSize++;
    }
    return r;
  }

  private readonly gotos = new Map<string, Action>();

  private jumpAction(chain: string, goto: boolean): Action {
    const map = goto ? this.gotos : this.jumps;
    let a = map.get(chain);
    if (!a) {
      a = jumpAction(chain, goto);
      map.set(chain, a);
    }
    return a;
  }

  private protoMatch(proto: number, invert: boolean): Match {
    const k = invert ? -1 - proto : proto;
    let m = this.protos.get(k);
    if (!m) {
      m = invert ? { type: 'match', key: 'proto', protos: [proto], invert: true } : { type: 'match', key: 'proto', protos: [proto] };
      this.protos.set(k, m);
    }
    return m;
  }

  private finishModule(m: ModBuild, ctx: ExtContext): ModulePart {
    if (!m.opaque && m.ext) {
      const data = m.ext.parse(this.modOpts(m), ctx);
      if (data !== undefined) return { name: m.name, data };
    }
    const raw = this.tokensOf(m).map((i) => this.tl.raw(i)).join(' ');
    return { name: m.name, raw };
  }

  // -------------------------------------------------------------------------------------------------
  // End of input: decide loose tables, built-in chains and policies, jumps.

  private finish(): Ruleset {
    const kept: TableBuild[] = [];
    const byKey = new Map<string, TableBuild>();
    for (const b of this.builds) {
      if (!b.explicit && b.table.name === '') {
        const { table, why } = inferTable({ builtins: b.builtins, targets: b.targets, chains: new Set(b.chains.keys()) });
        b.table.name = table;
        this.problems.warn('TABLE_INFERRED', `no *table header: assumed the ${table} table (${why})`, b.line, 1, table);
      }
      const key = `${b.table.family}/${b.table.name}`;
      const prev = byKey.get(key);
      if (!prev || (prev.explicit && b.explicit)) {
        byKey.set(key, b);
        kept.push(b);
        continue;
      }
      // A fragment of a table seen elsewhere joins it (the explicit one survives, in the first place).
      const [survivor, other] = prev.explicit || !b.explicit ? [prev, b] : [b, prev];
      mergeBuild(survivor, other);
      if (survivor === b) {
        kept[kept.indexOf(prev)] = b;
        byKey.set(key, b);
      }
    }
    for (const b of kept) this.finishTable(b);
    // Problems in reading order (the end-of-table checks come last otherwise).
    const problems = this.problems.list.map((p, i) => [p, i] as const).sort((a, b) => a[0].line - b[0].line || a[0].column - b[0].column || a[1] - b[1]).map(([p]) => p);
    return { tables: kept.map((b) => b.table), ipRules: [], problems };
  }

  /** `named`: the table was given (*table, -t, or iptables' default filter), not inferred. */
  private wrongTable(target: string, only: string, table: string, named: boolean, line: number, col: number): void {
    this.problems.add('WRONG_TABLE', named ? 'error' : 'warning', `target ${target} is only valid in the ${only} table, not in ${table} (iptables${named ? '-restore' : ''} refuses it)${named ? '' : ': the fragment may mix rules of several tables'}`, line, col, target);
  }

  private finishTable(b: TableBuild): void {
    const t = b.table;
    if (b.tableOnly) for (const [name, at] of b.tableOnly) if (targetTable(name) !== t.name) this.wrongTable(name, targetTable(name)!, t.name, false, at.line, at.col);
    const builtins: Chain[] = [];
    const users: Chain[] = [];
    const hooks = IPTABLES_TABLE_HOOKS[t.name];
    // A legacy table registers all its built-in chains, declared or not. iptables-nft makes only the base
    // chains a restore declares or appends to: a hook without one has no chain of that table. (Its -save
    // prints every built-in chain of a table anyway, so a dump cannot tell; see fakeBuiltins in merge.ts.)
    // Unknown origin: as both save tools print it.
    if (hooks && t.origin !== 'iptables-nft') {
      for (const name of HOOK_ORDER) {
        if (hooks[IPTABLES_CHAIN_HOOK[name]] !== undefined && !b.chains.has(name)) b.chains.set(name, new ChainSlot({ name, rules: [] }, -1));
      }
    }
    for (const { ch } of b.chains.values()) {
      const pol = (ch as Chain & { _policy?: string })._policy;
      delete (ch as Chain & { _policy?: string })._policy;
      const base = builtinBase(t.name, ch.name, pol === 'DROP' ? 'drop' : 'accept', t.origin);
      if (base) {
        ch.base = base;
        builtins.push(ch);
      } else users.push(ch);
    }
    builtins.sort((a, b2) => HOOK_ORDER.indexOf(a.name) - HOOK_ORDER.indexOf(b2.name));
    t.chains = [...builtins, ...users];
    for (const u of b.unresolved) {
      if (b.chains.has(u.name)) continue;
      this.problems.add('UNDECLARED_CHAIN', b.explicit ? 'error' : 'warning', `jump to chain ${u.name}, which is not declared in table ${t.name}`, u.line, u.col, u.name);
    }
  }
}

/** The one table a target is valid in (the kernel's xt_target.table), or undefined for any table. */
function targetTable(name: string): string | undefined {
  switch (name) {
    case 'DNAT':
    case 'SNAT':
    case 'MASQUERADE':
    case 'REDIRECT':
    case 'NETMAP':
      return 'nat';
    case 'TPROXY':
    case 'DSCP':
    case 'TOS':
    case 'TTL':
    case 'HL':
    case 'CHECKSUM':
      return 'mangle';
    case 'CT':
    case 'NOTRACK':
      return 'raw';
    default:
      return undefined;
  }
}

function mergeBuild(into: TableBuild, from: TableBuild): void {
  for (const [name, slot] of from.chains) {
    const ps = into.chains.get(name);
    if (!ps) into.chains.set(name, slot);
    else {
      const p = ps.ch;
      const ch = slot.ch;
      for (const r of ch.rules) p.rules.push(r);
      const pol = (ch as Chain & { _policy?: string })._policy;
      if (pol) (p as Chain & { _policy?: string })._policy = pol;
    }
  }
  for (const u of from.unresolved) into.unresolved.push(u);
  if (from.tableOnly) for (const [k, v] of from.tableOnly) if (!(into.tableOnly ??= new Map()).has(k)) into.tableOnly.set(k, v);
  for (const c of from.builtins) into.builtins.add(c);
  into.declares ||= from.declares;
}

const NO_MEMO = ['comment', 'DNAT', 'SNAT'];
/** NO_MEMO as extension objects (an identity lookup instead of a string hash per module). */
const NO_MEMO_EXT = new Set<Extension>(NO_MEMO.map((n) => (MATCHES.get(n) ?? TARGETS.get(n))!));

function optionOf(m: ModBuild | undefined, name: string): string | undefined {
  return m?.ext ? resolveOption(m.ext, name) : undefined;
}

const OPAQUE_TERMINAL: Readonly<Record<string, boolean>> = table({
  LOG: false, NFLOG: false, ULOG: false, TRACE: false, CHECKSUM: false, TCPMSS: false, DSCP: false, TOS: false, TTL: false,
  HL: false, CLASSIFY: false, SET: false, AUDIT: false, CT: false, NOTRACK: false, CONNSECMARK: false, SECMARK: false,
  IDLETIMER: false, LED: false, RATEEST: false, HMARK: false, TEE: false, ECN: false, TCPOPTSTRIP: false,
  NETMAP: true, TPROXY: true, SYNPROXY: true, CLUSTERIP: false, DNPT: false, SNPT: false,
});

function jumpAction(chain: string, goto: boolean): Action {
  switch (chain) {
    case 'ACCEPT':
      return { type: 'action', kind: 'accept' };
    case 'DROP':
      return { type: 'action', kind: 'drop' };
    case 'RETURN':
      return { type: 'action', kind: 'return' };
    case 'QUEUE':
      return { type: 'action', kind: 'queue', num: 0, bypass: false, fanout: false };
    default:
      return { type: 'action', kind: goto ? 'goto' : 'jump', chain };
  }
}

function ifMatch(key: 'iif' | 'oif', p: AddrPart): Match {
  return p.invert ? { type: 'match', key, names: [p.text], invert: true } : { type: 'match', key, names: [p.text] };
}

/** Address entries carry markers: '@host' unresolved, '!any' suffix for 0.0.0.0/0. Writes exprs[k...], returns the new k. */
function addrMatch(key: 'saddr' | 'daddr', entry: string, invert: boolean, syn: IptRuleSyntax | undefined, exprs: Expr[], k: number): number {
  const which = key === 'saddr' ? 'src' : 'dst';
  if (entry.charCodeAt(0) === 64) {
    const host = entry.slice(1);
    if (syn) syn[which] = { invert, text: host };
    exprs[k++] = { type: 'match', key: 'other', module: 'address', text: `${key === 'saddr' ? '-s' : '-d'} ${host}`, ...(invert ? { invert: true } : {}) };
    return k;
  }
  const any = entry.endsWith('!any');
  const cidr = any ? entry.slice(0, -4) : entry;
  if (any && !invert) return k; // matches everything: iptables-save prints nothing
  if (syn) syn[which] = { invert, text: cidr };
  exprs[k++] = invert ? { type: 'match', key, cidrs: [cidr], invert: true } : { type: 'match', key, cidrs: [cidr] };
  return k;
}

/** Whether s[from, to) is all printable ASCII other than the blank (so \S+ would take all of it). */
function printable(s: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = s.charCodeAt(k);
    if (c <= 32 || c >= 127) return false;
  }
  return true;
}

/** s[from, to) as a decimal number of 1 to 15 digits without a leading zero (what parseUint reads as decimal), else -1. */
function decimal(s: string, from: number, to: number): number {
  const n = to - from;
  if (n < 1 || n > 15 || (n > 1 && s.charCodeAt(from) === 48)) return -1;
  let v = 0;
  for (let k = from; k < to; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** /^\d+$/ without a regular expression. */
function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

type MemoEntry = { part: ModulePart; exprs: Expr[] };

const FRAG: Match = { type: 'match', key: 'other', module: 'fragment', text: '-f' };
const FRAG_INV: Match = { type: 'match', key: 'other', module: 'fragment', text: '-f', invert: true };

export type { Family };
