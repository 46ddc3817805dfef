// The daemon's one configuration file: YAML (the `yaml` package keeps source positions), checked with
// a zod schema, then compiled (detection rules, steering rules) so that every mistake is reported with
// its line, column and the fix, all of them at once, before anything touches the node.
import { LineCounter, isMap, isNode, isPair, isScalar, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { Engine } from '../detect/engine.js';
import { hex32 } from '../netlink/bytes.js';
import { RuleCompileError, type RuleSpec } from '../detect/rules.js';
import { compileSteering, SteeringError, type SteeringRule, type SteeringSpec } from '../install/plan.js';

export interface ConfigIssue {
  line: number;
  col: number;
  /** Dotted path of the field, e.g. rules.3.match.dst_port. */
  path: string;
  message: string;
  hint?: string;
}

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(issues.map((i) => `${file}:${i.line}:${i.col}: ${i.path ? i.path + ': ' : ''}${i.message}${i.hint ? ` (fix: ${i.hint})` : ''}`).join('\n'));
    this.name = 'ConfigError';
  }
}

const u32 = z.union([
  z.number().int().min(0).max(0xffffffff),
  z.string().regex(/^\s*(0x[0-9a-fA-F]{1,8}|0b[01]{1,32}|\d+)\s*$/, { error: 'write a 32-bit number such as 0x00f00000' }).transform((s) => Number(s.trim()) >>> 0),
]);
const port = z.union([z.number().int().min(0).max(65535), z.string().regex(/^\s*\d{1,5}(\s*[-:]\s*\d{1,5})?\s*$/, { error: 'write a port (443) or a range (8000-8080)' })]);
const textSpec = z.union([
  z.string().min(1),
  z.strictObject({ equals: z.string().optional(), prefix: z.string().optional(), suffix: z.string().optional(), contains: z.string().optional(), nocase: z.boolean().optional() }),
]);
const hookName = z.enum(['prerouting', 'input', 'forward', 'output', 'postrouting']);

const contentSchema = z.strictObject({
  text: z.string().optional(),
  hex: z.string().optional(),
  nocase: z.boolean().optional(),
  offset: z.number().int().min(0).max(65535).optional(),
  depth: z.number().int().min(1).max(65535).optional(),
});

const matchSchema = z.strictObject({
  family: z.enum(['ipv4', 'ipv6']).optional(),
  protocol: z.union([z.enum(['tcp', 'udp', 'icmp', 'icmpv6', 'sctp']), z.number().int().min(0).max(255)]).optional(),
  src: z.array(z.string()).optional(),
  dst: z.array(z.string()).optional(),
  src_port: z.union([port, z.array(port)]).optional(),
  dst_port: z.union([port, z.array(port)]).optional(),
  tcp_flags: z.string().optional(),
  direction: z.enum(['in', 'out', 'forward']).optional(),
  content: z.array(contentSchema).optional(),
  http: z
    .strictObject({
      method: z.union([z.string(), z.array(z.string())]).optional(),
      host: textSpec.optional(),
      path: textSpec.optional(),
      header: z.array(z.strictObject({ name: z.string().min(1), value: textSpec.optional() })).optional(),
    })
    .optional(),
  tls_sni: textSpec.optional(),
  dns_name: textSpec.optional(),
});

const ruleSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'rule ids are 1-64 letters, digits, _ . : -' }),
  match: matchSchema.default({}),
  action: z.enum(['accept', 'drop', 'mark', 'log', 'bypass']),
  mark: u32.optional(),
  log: z.boolean().optional(),
});

const steeringRuleSchema = z.strictObject({
  hook: hookName.default('input'),
  protocol: z.enum(['tcp', 'udp', 'sctp', 'all']).default('all'),
  dports: z.array(port).optional(),
  sports: z.array(port).optional(),
  in_interface: z.string().regex(/^[A-Za-z0-9_.@+-]{1,15}$/).optional(),
  out_interface: z.string().regex(/^[A-Za-z0-9_.@+-]{1,15}$/).optional(),
  sources: z.array(z.string()).optional(),
  destinations: z.array(z.string()).optional(),
});

const familiesSchema = z.array(z.enum(['ipv4', 'ipv6'])).min(1).default(['ipv4']);

const markSchema = z
  .strictObject({
    mask: u32.default(0),
    bypass_ctmark: u32.default(0),
    /** Owned packet-mark bit used to request a flow bypass on kernels without NFQA_CT verdicts (0: use NFQA_CT). */
    bypass_mark: u32.default(0),
  })
  .default({ mask: 0, bypass_ctmark: 0, bypass_mark: 0 });

export const configSchema = z.strictObject({
  /** Instance name: tags every rule installed (comment nfqguard:NAME, nft table nfqguard_NAME). */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,15}$/, { error: 'name is 1-16 lowercase letters, digits or -' }).default('default'),
  queue: z
    .strictObject({
      first: z.number().int().min(0).max(65535),
      workers: z.number().int().min(1).max(64).default(1),
      max_len: z.number().int().min(1).max(1 << 20).default(4096),
      copy_range: z.number().int().min(64).max(65535).default(4096),
      fail_open: z.boolean().default(true),
    }),
  mark: markSchema,
  steering: z.strictObject({
    backend: z.enum(['auto', 'iptables', 'iptables-legacy', 'nft']).default('auto'),
    families: familiesSchema,
    fanout: z.enum(['hash', 'cpu']).default('hash'),
    rules: z.array(steeringRuleSchema).min(1, { error: 'steering needs at least one rule, or no traffic reaches the queue' }),
  }),
  rules: z.array(ruleSchema).default([]),
  metrics: z
    .strictObject({
      listen: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost):\d{1,5}$/, { error: 'write HOST:PORT, e.g. 127.0.0.1:9477' }).default('127.0.0.1:9477'),
      enabled: z.boolean().default(true),
    })
    .default({ listen: '127.0.0.1:9477', enabled: true }),
  log: z
    .strictObject({
      format: z.enum(['json', 'text']).default('json'),
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      /** Detection events logged per second per worker; the rest are counted (nfqguard_events_suppressed_total). */
      max_events_per_second: z.number().int().min(0).max(100000).default(200),
    })
    .default({ format: 'json', level: 'info', max_events_per_second: 200 }),
});

type Parsed = z.output<typeof configSchema>;

export interface Config extends Omit<Parsed, 'rules'> {
  rules: RuleSpec[];
  /** Queue numbers, one per worker. */
  queues: number[];
  steeringRules: SteeringRule[];
  source: string;
}

const HINTS: Array<[RegExp, string]> = [
  [/^queue$/, 'add e.g. `queue: { first: 100, workers: 2 }`'],
  [/^queue\.first$/, 'pick a queue number from 0 to 65535 that no other consumer uses'],
  [/^steering$/, 'add e.g. `steering: { rules: [ { hook: input, protocol: tcp, dports: [80] } ] }`'],
  [/^rules\.\d+\.action$/, 'one of accept, drop, mark, log, bypass'],
  [/^steering\.rules\.\d+\.hook$/, 'one of prerouting, input, forward, output, postrouting'],
  [/(ports\.\d+|_port(\.\d+)?)$/, 'a port from 0 to 65535, or a range such as 8000-8080'],
  [/^mark\.(mask|bypass_ctmark|bypass_mark)$/, 'a 32-bit value such as 0x00f00000; check it with `nfqguard doctor --mask`'],
  [/^name$/, 'e.g. name: default (it tags the rules: chains NFQG-NAME-*, comments nfqguard:NAME:*)'],
  [/^metrics\.listen$/, 'write HOST:PORT, e.g. listen: 127.0.0.1:9477 (loopback keeps the metrics on the node)'],
  [/^log\.format$/, 'json or text'],
  [/^log\.level$/, 'one of debug, info, warn, error'],
  [/^steering\.families(\.\d+)?$/, 'a list of ipv4 and/or ipv6, e.g. families: [ipv4, ipv6]'],
  [/^steering\.backend$/, 'one of auto, iptables, iptables-legacy, nft'],
  [/^rules\.\d+\.id$/, 'e.g. id: block-admin (letters, digits, _ . : -)'],
  [/^rules\.\d+\.match\.(src|dst)(\.\d+)?$/, 'a list of addresses or CIDRs, e.g. [10.0.0.0/8, fd00::/8]'],
  [/^rules\.\d+\.match\.protocol$/, 'tcp, udp, icmp, icmpv6, sctp or a protocol number'],
  [/^rules\.\d+\.match\.http\.method$/, 'a method such as GET, or a list: [GET, POST]'],
  [/^rules\.\d+\.match\.(tls_sni|dns_name|http\.(host|path)|http\.header\.\d+\.value)$/, 'a text ("example.com", "*.example.com" for names), or { equals | prefix | suffix | contains: TEXT, nocase: true }'],
  [/^rules\.\d+\.match\.content(\.\d+)?$/, 'a list of { text: TEXT } or { hex: "de ad be ef" }, with nocase, offset, depth'],
];

function hintFor(path: string, fallback?: string): string | undefined {
  for (const [re, h] of HINTS) if (re.test(path)) return h;
  return fallback;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** Known keys of the object schema at `path` (for "did you mean"). */
function knownKeys(path: Array<string | number>): string[] {
  let s: unknown = configSchema;
  for (const p of path) {
    s = unwrap(s);
    if (typeof p === 'number') s = (s as { element?: unknown }).element;
    else s = (s as { shape?: Record<string, unknown> }).shape?.[p];
    if (s === undefined) return [];
  }
  s = unwrap(s);
  const shape = (s as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

function unwrap(s: unknown): unknown {
  let cur = s as { def?: { innerType?: unknown; type?: string; options?: unknown[] } };
  for (let i = 0; i < 5 && cur?.def; i++) {
    if (cur.def.innerType) cur = cur.def.innerType as typeof cur;
    else if (cur.def.type === 'union' && cur.def.options) cur = (cur.def.options.find((o) => (o as { shape?: unknown }).shape) ?? cur) as typeof cur;
    else break;
  }
  return cur;
}

class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lc: LineCounter,
  ) {}

  /** Position of the node at `path`, or of the nearest existing parent. `key`: point at a key of that map. */
  at(path: Array<string | number>, key?: string): { line: number; col: number } {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true);
      if (!isNode(node)) continue;
      if (n === path.length && key !== undefined && isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
        if (pair && isNode(pair.key) && pair.key.range) return this.pos(pair.key.range[0]);
      }
      if (n < path.length && isMap(node)) {
        // The key that is missing or wrong is not a node: point at the map's first key instead of its value.
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === path[n]);
        if (pair && isNode(pair.key) && pair.key.range) return this.pos(pair.key.range[0]);
      }
      if (node.range) return this.pos(node.range[0]);
    }
    return { line: 1, col: 1 };
  }

  pos(offset: number): { line: number; col: number } {
    const p = this.lc.linePos(offset);
    return { line: p.line, col: p.col };
  }
}

/** Parses and checks a config. Throws ConfigError with every problem found. */
export function parseConfig(text: string, file = 'config.yaml'): Config {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const p = e.linePos?.[0] ?? { line: 1, col: 1 };
        const first = e.message.split('\n')[0] ?? '';
        // A binary or minified file would put the whole offending token in the message.
        const message = first.length > 160 ? `${first.slice(0, 160)}...` : first;
        return { line: p.line, col: p.col, path: '', message: `YAML: ${message}`, hint: 'fix the YAML syntax at this place (indentation, brackets, quotes)' };
      }),
    );
  }
  const loc = new Locator(doc, lc);
  const raw = doc.toJS() ?? {};
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issues: ConfigIssue[] = result.error.issues.map((iss) => {
      const path = iss.path.filter((p): p is string | number => typeof p !== 'symbol');
      const dotted = path.join('.');
      if (iss.code === 'unrecognized_keys') {
        const key = iss.keys[0];
        const known = knownKeys(path);
        const near = known.map((k) => [k, editDistance(k, key)] as const).sort((a, b) => a[1] - b[1])[0];
        const { line, col } = loc.at(path, key);
        return {
          line,
          col,
          path: [...path, key].join('.'),
          message: `unknown key "${iss.keys.join('", "')}"`,
          hint: near && near[1] <= 3 ? `did you mean "${near[0]}"?` : `known keys here: ${known.join(', ')}`,
        };
      }
      const { line, col } = loc.at(path);
      const missing = iss.code === 'invalid_type' && doc.getIn(path) === undefined;
      return {
        line,
        col,
        path: dotted,
        message: missing ? `"${String(path[path.length - 1])}" is required` : iss.message,
        hint: hintFor(dotted),
      };
    });
    // The rules that are well-formed are compiled all the same, so that one run reports every problem.
    issues.push(...partialRuleIssues(raw as Record<string, unknown>, loc));
    throw new ConfigError(file, sortIssues(issues));
  }
  const c = result.data;
  const issues: ConfigIssue[] = [];
  const fail = (path: Array<string | number>, message: string, hint?: string): void => {
    const { line, col } = loc.at(path);
    issues.push({ line, col, path: path.join('.'), message, hint });
  };
  const last = c.queue.first + c.queue.workers - 1;
  if (last > 65535) fail(['queue', 'workers'], `queues ${c.queue.first}..${last} run past 65535`, `lower queue.first to at most ${65536 - c.queue.workers}`);
  if ((c.mark.bypass_ctmark & (c.mark.bypass_ctmark - 1)) !== 0) {
    fail(['mark', 'bypass_ctmark'], `bypass_ctmark ${hex32(c.mark.bypass_ctmark)} has more than one bit`, 'own exactly one ctmark bit for flow bypass, e.g. 0x01000000');
  }
  const bm = c.mark.bypass_mark;
  if (bm !== 0) {
    if ((bm & (bm - 1)) !== 0) fail(['mark', 'bypass_mark'], `bypass_mark ${hex32(bm)} has more than one bit`, 'use one bit inside mark.mask');
    else if ((bm & ~c.mark.mask) !== 0) fail(['mark', 'bypass_mark'], `bypass_mark ${hex32(bm)} is outside the owned mask ${hex32(c.mark.mask)}`, 'use one bit inside mark.mask');
    if (c.mark.bypass_ctmark === 0) fail(['mark', 'bypass_mark'], 'bypass_mark needs bypass_ctmark: the steering rules turn the packet bit into that ctmark bit', 'set mark.bypass_ctmark too, e.g. 0x01000000');
  }
  const ids = new Map<string, number>();
  c.rules.forEach((r, i) => {
    const prev = ids.get(r.id);
    if (prev !== undefined) fail(['rules', i, 'id'], `rule id "${r.id}" is also used by rule ${prev}`, 'give each rule its own id: metrics and logs name rules by id');
    else ids.set(r.id, i);
    if (r.mark !== undefined && r.action !== 'mark') fail(['rules', i, 'mark'], `mark is only used by action mark (this rule's action is ${r.action})`, 'remove mark, or set action: mark');
  });
  const rules = c.rules as RuleSpec[];
  for (const e of ruleErrors(rules, { markMask: c.mark.mask, bypassCtMark: c.mark.bypass_ctmark, bypassMark: c.mark.bypass_mark })) fail(e.path, e.message, e.hint);
  const steering = steeringErrors(c.steering.rules, c.steering.families);
  for (const e of steering.errors) fail(['steering', 'rules', ...e.path], e.message, e.hint);
  const steeringRules = steering.rules;
  if (issues.length > 0) throw new ConfigError(file, sortIssues(issues));
  return {
    ...c,
    rules,
    queues: Array.from({ length: c.queue.workers }, (_, i) => c.queue.first + i),
    steeringRules,
    source: file,
  };
}

/** Problems in file order (line, then column), as an editor lists them; sort() is stable, so ties keep theirs. */
function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Compiles each detection rule on its own, so that every rule's problem is found (not only the first). */
function ruleErrors(rules: RuleSpec[], opts: { markMask: number; bypassCtMark: number; bypassMark: number }): RuleCompileError[] {
  const errors: RuleCompileError[] = [];
  rules.forEach((rule, i) => {
    try {
      new Engine([rule], { ...opts, path: [] });
    } catch (e) {
      if (!(e instanceof RuleCompileError)) throw e;
      errors.push(new RuleCompileError(['rules', i, ...e.path.slice(1)], e.message, e.hint));
    }
  });
  return errors;
}

/** Compiles each steering rule on its own; the paths are relative to steering.rules. */
function steeringErrors(specs: SteeringSpec[], families: Array<'ipv4' | 'ipv6'>): { rules: SteeringRule[]; errors: SteeringError[] } {
  const rules: SteeringRule[] = [];
  const errors: SteeringError[] = [];
  specs.forEach((spec, i) => {
    try {
      rules.push(...compileSteering([spec], families).map((r) => ({ ...r, index: i })));
    } catch (e) {
      if (!(e instanceof SteeringError)) throw e;
      errors.push(new SteeringError([i, ...e.path.slice(1)], e.message, e.hint));
    }
  });
  return { rules, errors };
}

/**
 * When the schema refused the file: the problems of the detection and steering rules that are
 * themselves well-formed (checked with the mark section if it is valid, else without mark limits).
 */
function partialRuleIssues(raw: Record<string, unknown>, loc: Locator): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const add = (path: Array<string | number>, message: string, hint?: string): void => {
    const { line, col } = loc.at(path);
    out.push({ line, col, path: path.join('.'), message, hint });
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return out;
  const mark = markSchema.safeParse(raw.mark);
  const opts = mark.success
    ? { markMask: mark.data.mask, bypassCtMark: mark.data.bypass_ctmark, bypassMark: mark.data.bypass_mark }
    : { markMask: 0xffffffff, bypassCtMark: 0x80000000, bypassMark: 0 };
  if (Array.isArray(raw.rules)) {
    raw.rules.forEach((r, i) => {
      const p = ruleSchema.safeParse(r);
      if (!p.success) return;
      for (const e of ruleErrors([p.data as RuleSpec], opts)) add(['rules', i, ...e.path.slice(2)], e.message, e.hint);
    });
  }
  const steering = raw.steering as Record<string, unknown> | undefined;
  if (steering !== null && typeof steering === 'object' && Array.isArray(steering.rules)) {
    const fam = familiesSchema.safeParse(steering.families);
    steering.rules.forEach((r, i) => {
      const p = steeringRuleSchema.safeParse(r);
      if (!p.success) return;
      for (const e of steeringErrors([p.data], fam.success ? fam.data : ['ipv4']).errors) add(['steering', 'rules', i, ...e.path.slice(1)], e.message, e.hint);
    });
  }
  return out;
}
