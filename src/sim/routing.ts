// Policy routing as far as marks change it: which table `ip rule` sends a packet to, given its mark
// (fwmark/mask selectors, `not`, priorities, goto/nop, suppress_prefixlength), and what that table does
// with its destination. Pure: the rules come from the ruleset model (src/ruleset/iprule.ts), the tables'
// routes from --route / `ip route show table all`.
//
// Kernel facts this follows (net/core/fib_rules.c, net/ipv4/fib_rules.c, net/ipv6/fib6_rules.c):
// - Rules run by ascending priority. A rule applies when all its selectors hold (iif, oif, fwmark:
//   (rule.mark ^ mark) & mask == 0, uid range, and from/to/tos/ipproto/ports), `not` inverting the
//   whole; a rule without selectors always applies.
// - lookup T: a route found in T decides, unless suppress_prefixlength N and the route's prefix is
//   N bits or shorter (then the next rule runs: wg-quick's `lookup main suppress_prefixlength 0`).
//   No route, a throw route, or a table that does not exist: the next rule runs. blackhole,
//   unreachable and prohibit routes (and rule actions) end the lookup with an error: the packet is
//   dropped. goto jumps to the rule of that priority; nop goes on; no rule left: unreachable.
// - Locally generated packets are looked up with iif lo and the socket's mark (the packet's mark at
//   the start of OUTPUT); a forwarded or delivered one with its input device, uid 0 and the mark it
//   has at the end of PREROUTING.
import type { IpRule } from '../ruleset/model.js';
import { formatAddr, inPrefix, parsePrefix, type Addr, type Prefix } from './addr.js';
import { NO, UNKNOWN, YES, type NodeView } from './matches.js';
import { tableName, type RouteSpec, type RouteType } from './options.js';
import { PROTO_NUMBERS } from './packet.js';

export interface PolicyRule {
  priority: number;
  invert: boolean;
  /** fwmark value and mask; mask 0 when the rule has no fwmark selector. */
  mark: number;
  markMask: number;
  from?: Prefix;
  to?: Prefix;
  iif?: string;
  oif?: string;
  ipproto?: number;
  sport?: [number, number];
  dport?: [number, number];
  uidrange?: [number, number];
  /** Selectors the simulator does not evaluate (tos, l3mdev, tun_id...): whether the rule applies is unknown. */
  opaque: string[];
  /** iif/oif naming a device that is not there, or a goto without target: the rule never applies. */
  inert: boolean;
  /** Has selectors besides fwmark. */
  others: boolean;
  action: IpRule['action'];
  table?: string;
  gotoTarget?: number;
  suppressPrefixLength?: number;
  suppressIfgroup?: string;
  /** As `ip rule` prints it, a space for its tab (batch lines are tab-separated): `32765: not from all fwmark 0xca6c lookup 51820`. */
  text: string;
}

export interface TableRoute {
  prefix: Prefix;
  type: RouteType;
  dev: string;
  text: string;
}

export interface FamilyRouting {
  rules: PolicyRule[];
  /** Routes by table name; 'main' holds --route's own. */
  tables: Map<string, TableRoute[]>;
  /** More than the kernel's three default rules and unicast main routes: the decision runs in full and shows in the steps. */
  policy: boolean;
}

export interface Routing {
  ip: FamilyRouting;
  ip6: FamilyRouting;
  /** The routes of every table are known (--live): a table without routes does not exist, main has no implicit default. */
  allTablesKnown: boolean;
  notes: string[];
}

const DEFAULT_RULE_TEXTS = ['0: from all lookup local', '32766: from all lookup main', '32767: from all lookup default'];

function plainRule(priority: number, table: string, text: string): PolicyRule {
  return { priority, invert: false, mark: 0, markMask: 0, opaque: [], inert: false, others: false, action: 'lookup', table, text };
}

function defaultRules(): PolicyRule[] {
  return [plainRule(0, 'local', DEFAULT_RULE_TEXTS[0]), plainRule(32766, 'main', DEFAULT_RULE_TEXTS[1]), plainRule(32767, 'default', DEFAULT_RULE_TEXTS[2])];
}

function portRange(t: string | undefined): [number, number] | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(t ?? '');
  return m ? [Number(m[1]), Number(m[2] ?? m[1])] : undefined;
}

/** The rule with the selectors the model does not keep, read from its text. */
export function policyRule(r: IpRule, notes: string[]): PolicyRule {
  const out: PolicyRule = {
    priority: r.priority,
    invert: r.invert,
    mark: r.fwmark ? r.fwmark.value >>> 0 : 0,
    markMask: r.fwmark ? r.fwmark.mask >>> 0 : 0,
    opaque: [],
    inert: false,
    others: false,
    action: r.action,
    text: `${r.priority}: ${r.text}`,
    ...(r.table !== undefined ? { table: tableName(r.table) } : {}),
    ...(r.suppressPrefixLength !== undefined && r.suppressPrefixLength >= 0 ? { suppressPrefixLength: r.suppressPrefixLength } : {}),
  };
  const w = r.text.split(/\s+/).filter(Boolean);
  const where = `ip rule ${r.priority} (${r.pos.source}:${r.pos.line})`;
  for (let i = 0; i < w.length; i++) {
    const k = w[i];
    const v = w[i + 1];
    switch (k) {
      case 'from':
      case 'to': {
        i++;
        if (v === 'all') break;
        const p = v === undefined ? undefined : parsePrefix(v); // host prefixes print without a length
        if (p) out[k] = p;
        else out.opaque.push(`${k} ${v ?? ''}`.trim());
        break;
      }
      case 'iif':
      case 'oif':
        i++;
        if (v !== undefined) out[k] = v;
        break;
      case '[detached]':
        // The device of iif/oif does not exist: the rule matches nothing.
        out.inert = true;
        break;
      case 'unresolved':
        // A goto whose target rule does not exist: skipped.
        if (out.action === 'goto') out.inert = true;
        break;
      case 'ipproto': {
        i++;
        const n = v === undefined ? undefined : (PROTO_NUMBERS[v.toLowerCase()] ?? (/^\d{1,3}$/.test(v) ? Number(v) : undefined));
        if (n === undefined) out.opaque.push(`ipproto ${v ?? ''}`.trim());
        else out.ipproto = n;
        break;
      }
      case 'sport':
      case 'dport': {
        i++;
        const range = portRange(v);
        if (range) out[k] = range;
        else out.opaque.push(`${k} ${v ?? ''}`.trim());
        break;
      }
      case 'uidrange': {
        i++;
        const m = /^(\d+)-(\d+)$/.exec(v ?? '');
        if (m) out.uidrange = [Number(m[1]), Number(m[2])];
        else out.opaque.push(`uidrange ${v ?? ''}`.trim());
        break;
      }
      case 'tos':
      case 'dsfield':
        i++;
        // The simulator's packets carry TOS 0: only `tos 0` (no selector) is known to hold.
        if (!/^(0|0x0+|default)$/i.test(v ?? '')) out.opaque.push(`${k} ${v ?? ''}`.trim());
        break;
      case 'tun_id':
      case 'l3mdev':
        if (k === 'tun_id') i++;
        out.opaque.push(k === 'tun_id' ? `tun_id ${v ?? ''}` : 'l3mdev');
        break;
      case 'suppress_ifgroup':
        i++;
        if (v !== undefined) out.suppressIfgroup = v;
        break;
      case 'goto':
        i++;
        if (v !== undefined && /^\d+$/.test(v)) out.gotoTarget = Number(v);
        break;
      case 'fwmark':
      case 'lookup':
      case 'table':
      case 'suppress_prefixlength':
      case 'realms':
      case 'proto':
      case 'protocol':
      case 'pref':
      case 'priority':
        i++;
        break;
      default:
        break;
    }
  }
  if (out.action === 'goto' && out.gotoTarget === undefined) out.inert = true;
  out.others = otherSelectors(out);
  if (out.action === 'other') notes.push(`${where}: action not understood ("${r.text}"): a packet that reaches it has an undetermined route`);
  for (const o of out.opaque) notes.push(`${where}: the simulator does not evaluate "${o}": where it matters, both ways are followed`);
  return out;
}

function isDefaultSet(rules: readonly PolicyRule[]): boolean {
  const plain = rules.every((r) => r.action === 'lookup' && !r.invert && r.markMask === 0 && !r.from && !r.to && !r.iif && !r.oif && r.ipproto === undefined && !r.sport && !r.dport && !r.uidrange && r.opaque.length === 0 && !r.inert && r.suppressPrefixLength === undefined && r.suppressIfgroup === undefined);
  const seq = rules.map((r) => r.table).join(' ');
  return plain && (seq === 'local main default' || seq === 'local main');
}

/** Rules (by priority) and tables per family, from the model's ip rules and --route / live routes. */
export function compileRouting(ipRules: readonly IpRule[], routes: readonly RouteSpec[], allTablesKnown = false): Routing {
  const notes: string[] = [];
  const fam = (v: 4 | 6): FamilyRouting => {
    const given = ipRules.filter((r) => r.family === (v === 4 ? 'ip' : 'ip6'));
    const rules = given.length ? given.map((r) => policyRule(r, notes)) : defaultRules();
    // Stable: rules of equal priority keep their order (the kernel appends after the last of a priority).
    rules.sort((a, b) => a.priority - b.priority);
    const tables = new Map<string, TableRoute[]>();
    for (const r of routes) {
      if (r.prefix.v !== v) continue;
      const t = r.table ?? 'main';
      const list = tables.get(t) ?? [];
      list.push({ prefix: r.prefix, type: r.type ?? 'unicast', dev: r.dev, text: r.text });
      tables.set(t, list);
    }
    // Longest prefix first; equal lengths keep their order.
    for (const list of tables.values()) list.sort((a, b) => b.prefix.len - a.prefix.len);
    const odd = [...tables].some(([t, list]) => t !== 'main' || list.some((x) => x.type !== 'unicast'));
    return { rules, tables, policy: odd || !isDefaultSet(rules) };
  };
  return { ip: fam(4), ip6: fam(6), allTablesKnown, notes };
}

// ---------------------------------------------------------------------------------------------------
// The decision.

export interface RouteQuery {
  daddr: Addr;
  /** After MASQUERADE/REDIRECT: one of the node's addresses, not known which. */
  daddrLocal: boolean;
  saddr: Addr;
  saddrUnknown: boolean;
  mark: number;
  markKnown: number;
  /** Locally generated (OUTPUT): iif lo, the socket's uid (unknown) and bound device (unknown). */
  output: boolean;
  /** Input routing: the device the packet came in on. */
  iif: string | undefined;
  proto: number;
  /** -1 without ports. */
  sport: number;
  dport: number;
}

export interface RouteEnv {
  node: NodeView;
  /** --out: the device main's unicast routes are taken to use. */
  outIf: string | undefined;
  /** The device of main's implicit default route (when tables are not all known). */
  defaultOut: string;
  /** Asked where a selector cannot be decided: returns the index of the label taken. */
  decide(labels: string[], rule: PolicyRule, reason: string): number;
}

export type RouteDecision =
  | { kind: 'local'; rule: PolicyRule; table: string; route: string; passed: string[] }
  | { kind: 'dev'; dev: string; rule: PolicyRule; table: string; route: string; passed: string[] }
  | { kind: 'drop'; rule: PolicyRule | null; why: string; passed: string[] }
  | { kind: 'unknown'; rule: PolicyRule; why: string; passed: string[] };

function tri(b: boolean): number {
  return b ? YES : NO;
}

function inRange(x: number, r: [number, number] | undefined): boolean {
  return r === undefined || (x >= r[0] && x <= r[1]);
}

/** Whether a rule's selectors hold (before `not`): YES, NO, or UNKNOWN with the reasons. */
function selectorsHold(r: PolicyRule, q: RouteQuery, why: string[]): number {
  if (r.inert) return NO;
  let res = YES;
  const and = (t: number, reason?: string): void => {
    if (res === NO) return;
    if (t === NO) res = NO;
    else if (t === UNKNOWN) {
      res = UNKNOWN;
      if (reason) why.push(reason);
    }
  };
  if (r.iif !== undefined) and(tri((q.output ? 'lo' : q.iif) === r.iif));
  // An input lookup has no output device; a socket may be bound to one (SO_BINDTODEVICE): not known.
  if (r.oif !== undefined) and(q.output ? UNKNOWN : NO, `oif ${r.oif}: the socket's bound device is not known`);
  if (r.markMask !== 0) {
    const diff = (r.mark ^ q.mark) & r.markMask;
    const unknownBits = r.markMask & ~q.markKnown;
    and((diff & q.markKnown) !== 0 ? NO : unknownBits !== 0 ? UNKNOWN : YES, `fwmark ${hexMark(r.mark)}/${hexMark(r.markMask)}: bits of the mark are not known`);
  }
  if (r.uidrange) and(q.output ? UNKNOWN : tri(inRange(0, r.uidrange)), `uidrange ${r.uidrange[0]}-${r.uidrange[1]}: the socket's owner is not known`);
  if (r.from) and(q.saddrUnknown ? UNKNOWN : tri(q.saddr.v === r.from.v && inPrefix(q.saddr, r.from)), 'from: the source after NAT is not known');
  if (r.to) and(q.daddrLocal ? UNKNOWN : tri(q.daddr.v === r.to.v && inPrefix(q.daddr, r.to)), 'to: the destination after NAT is not known');
  if (r.ipproto !== undefined) and(tri(q.proto === r.ipproto));
  if (r.sport) and(tri(inRange(Math.max(q.sport, 0), r.sport)));
  if (r.dport) and(tri(inRange(Math.max(q.dport, 0), r.dport)));
  if (r.opaque.length) and(UNKNOWN, `the simulator does not evaluate ${r.opaque.join(', ')}`);
  return res;
}

function hexMark(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}

function prefixText(p: Prefix): string {
  const a: Addr = p.v === 4 ? { v: 4, n: p.net } : { v: 6, w: [p.net[0], p.net[1], p.net[2], p.net[3]] };
  return p.len === 0 ? 'default' : `${formatAddr(a)}/${p.len}`;
}

const PREFIX0_4: Prefix = { v: 4, net: 0, mask: 0, len: 0 };
const PREFIX0_6: Prefix = { v: 6, net: [0, 0, 0, 0], mask: [0, 0, 0, 0], len: 0 };
const LOCAL_ROUTE_4: TableRoute = { prefix: { v: 4, net: 0, mask: 0, len: 32 }, type: 'local', dev: 'lo', text: 'local' };
const LOCAL_ROUTE_6: TableRoute = { prefix: { v: 6, net: [0, 0, 0, 0], mask: [0, 0, 0, 0], len: 128 }, type: 'local', dev: 'lo', text: 'local' };

// What lookup() found: a route (FOUND, in `found`), nothing (MISS: the next rule runs), or UNKNOWN_TABLE.
const MISS = 0;
const FOUND = 1;
const UNKNOWN_TABLE = 2;

/** Main's implicit default route by device (one object per device, made once). */
const implicitDefaults = new Map<string, TableRoute>();

function implicitDefault(v: 4 | 6, dev: string): TableRoute {
  const key = `${v}${dev}`;
  let r = implicitDefaults.get(key);
  if (!r) implicitDefaults.set(key, (r = { prefix: v === 4 ? PREFIX0_4 : PREFIX0_6, type: 'unicast', dev, text: `default@${dev}` }));
  return r;
}

/** Looks the destination up in a table; `found` receives the route and its device. */
function lookup(fr: FamilyRouting, table: string, q: RouteQuery, env: RouteEnv, allKnown: boolean, found: { route: TableRoute; dev: string }): number {
  const v = q.daddr.v;
  if (table === 'local') {
    if (!q.daddrLocal && !env.node.isLocal(q.daddr)) return MISS;
    found.route = v === 4 ? LOCAL_ROUTE_4 : LOCAL_ROUTE_6;
    found.dev = 'lo';
    return FOUND;
  }
  if (q.daddrLocal) return UNKNOWN_TABLE;
  const routes = fr.tables.get(table);
  if (routes) {
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i];
      if (!inPrefix(q.daddr, r.prefix)) continue;
      found.route = r;
      found.dev = table === 'main' && r.type === 'unicast' ? (env.outIf ?? r.dev) : r.dev;
      return FOUND;
    }
  }
  if (table === 'main' && !allKnown) {
    // Main's routes are --route's; anything else leaves by --out or eth0 (an implicit default route).
    found.dev = env.outIf ?? env.defaultOut;
    found.route = implicitDefault(v, found.dev);
    return FOUND;
  }
  return routes || allKnown || table === 'main' || table === 'default' ? MISS : UNKNOWN_TABLE;
}

/** Why a lookup found nothing (explanations only). */
function missText(fr: FamilyRouting, table: string, q: RouteQuery, allKnown: boolean): string {
  if (table === 'local') return 'not a local address';
  if (fr.tables.has(table)) return `no route for ${formatAddr(q.daddr)}`;
  if (table === 'default' && !allKnown) return 'empty (no --route gave it routes)';
  return 'no such table';
}

function unknownTableText(table: string, q: RouteQuery): string {
  return q.daddrLocal
    ? `the destination is one of the node's addresses, not known which, and table ${table} is looked up before local`
    : `the routes of table ${table} are not known: give them with --route CIDR@DEV,table=${table} (or trace --live)`;
}

/** Selectors besides fwmark (the common rules have none, or fwmark alone). */
function otherSelectors(r: PolicyRule): boolean {
  return r.opaque.length !== 0 || r.iif !== undefined || r.oif !== undefined || !!r.uidrange || !!r.from || !!r.to || r.ipproto !== undefined || !!r.sport || !!r.dport;
}

const NO_NOTES: string[] = [];

/**
 * The routing decision for a packet: which rule and table, and where it goes. `explain`: also say which
 * rules were passed over and the route as text (for a recorded step); batch mode leaves it off.
 */
export function decideRoute(routing: Routing, family: 'ip' | 'ip6', q: RouteQuery, env: RouteEnv, explain = true): RouteDecision {
  const fr = routing[family];
  const rules = fr.rules;
  const passed: string[] = explain ? [] : NO_NOTES;
  // What was assumed about an undecidable selector holds for every rule of this decision that asks
  // the same (Tailscale's three rules on fwmark 0x80000/0xff0000 agree with each other).
  let assumed: Map<string, number> | undefined;
  const found = { route: LOCAL_ROUTE_4, dev: '' };
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (r.inert) continue;
    let a = YES;
    if (r.markMask !== 0 && !r.others && (((r.mark ^ q.mark) & r.markMask & q.markKnown) !== 0 || (r.markMask & ~q.markKnown) === 0)) {
      // fwmark alone, decided by known bits (the common case: no array, no strings).
      a = ((r.mark ^ q.mark) & r.markMask) === 0 ? YES : NO;
    } else if (r.markMask !== 0 || r.others) {
      const why: string[] = [];
      a = selectorsHold(r, q, why);
      if (a === UNKNOWN) {
        const key = why.join('; ');
        const prev = (assumed ??= new Map()).get(key);
        if (prev !== undefined) a = prev;
        else {
          a = env.decide(['holds', 'does not hold'], r, key) === 0 ? YES : NO;
          assumed.set(key, a);
        }
      }
    }
    if (r.invert) a = a === YES ? NO : YES;
    if (a === NO) continue;
    switch (r.action) {
      case 'nop':
        if (explain) passed.push(`${r.priority}: nop`);
        continue;
      case 'goto': {
        const j = rules.findIndex((x) => x.priority === r.gotoTarget);
        if (j < 0 || j <= i) continue;
        if (explain) passed.push(`${r.priority}: goto ${r.gotoTarget}`);
        i = j - 1;
        continue;
      }
      case 'blackhole':
      case 'unreachable':
      case 'prohibit':
        return { kind: 'drop', rule: r, why: `ip rule ${r.priority} is ${r.action}`, passed };
      case 'other':
        return { kind: 'unknown', rule: r, why: `ip rule ${r.priority}: the simulator does not know what "${r.text}" does`, passed };
      case 'lookup': {
        const t = r.table ?? 'main';
        const l = lookup(fr, t, q, env, routing.allTablesKnown, found);
        if (l === UNKNOWN_TABLE) return { kind: 'unknown', rule: r, why: unknownTableText(t, q), passed };
        if (l === MISS) {
          if (explain) passed.push(`${r.priority}: table ${t}: ${missText(fr, t, q, routing.allTablesKnown)}`);
          continue;
        }
        const rt = found.route;
        const dev = found.dev;
        if (rt.type === 'throw') {
          if (explain) passed.push(`${r.priority}: table ${t}: throw ${prefixText(rt.prefix)}`);
          continue;
        }
        if (rt.type === 'blackhole' || rt.type === 'unreachable' || rt.type === 'prohibit') {
          return { kind: 'drop', rule: r, why: `table ${t} has a ${rt.type} route for ${prefixText(rt.prefix)}`, passed };
        }
        if (r.suppressPrefixLength !== undefined && rt.prefix.len <= r.suppressPrefixLength) {
          if (explain) passed.push(`${r.priority}: table ${t}: ${prefixText(rt.prefix)} suppressed (suppress_prefixlength ${r.suppressPrefixLength})`);
          continue;
        }
        if (r.suppressIfgroup !== undefined) {
          const c = env.decide(['not suppressed', 'suppressed'], r, `suppress_ifgroup ${r.suppressIfgroup}: the group of ${dev} is not known`);
          if (c === 1) {
            if (explain) passed.push(`${r.priority}: table ${t}: suppressed (suppress_ifgroup ${r.suppressIfgroup})`);
            continue;
          }
        }
        const route = !explain ? '' : t === 'local' ? `local ${q.daddrLocal ? '(a local address)' : formatAddr(q.daddr)}` : `${prefixText(rt.prefix)}${rt.type === 'local' ? ' local' : ` dev ${dev}`}`;
        return rt.type === 'local' ? { kind: 'local', rule: r, table: t, route, passed } : { kind: 'dev', dev, rule: r, table: t, route, passed };
      }
    }
  }
  return { kind: 'drop', rule: null, why: 'no rule found a route: unreachable', passed };
}

/** What the decision says, for a trace step: 'fwmark 0x80000/0xff0000 -> table main: default dev eth0'. */
export function decisionText(d: RouteDecision): string {
  if (d.rule === null) return `routing: ${d.kind === 'drop' ? d.why : ''}`;
  const r = d.rule;
  const sel = `${r.priority}${r.invert ? ' not' : ''}${r.markMask ? ` fwmark ${hexMark(r.mark)}${r.markMask !== 0xffffffff ? `/${hexMark(r.markMask)}` : ''}` : ''}`;
  switch (d.kind) {
    case 'local':
    case 'dev':
      return `routing: ${sel} -> table ${d.table}: ${d.route}`;
    case 'drop':
    case 'unknown':
      return `routing: ${sel} -> ${d.why}`;
  }
}
