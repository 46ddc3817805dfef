// The ruleset compiled for tracing: for each family (ip, ip6) and hook, the list of hook entries in the
// order the kernel calls them, and every chain's rules as compiled matches and resolved actions.
// Compilation is lazy: a chain is prepared (its index built) when a walk first enters it, and a rule is
// compiled when a walk first evaluates it. A 120,000-rule node traced for three packets compiles the
// few dozen rules they meet, not the ruleset; a batch compiles what its packets reach, once.
//
// Kernel facts this follows (net/netfilter/core.c, nf_nat_core.c):
// - Entries run by ascending priority. At equal priority the entry registered LAST runs first
//   (nf_hook_entries_grow inserts a new entry before the first one whose priority is >= its own).
//   Registration order is taken as the ruleset's order of tables and chains; declared hooks (--hook)
//   come after it; conntrack (-200 in PREROUTING/OUTPUT) is taken as registered last of all.
// - All NAT chains of a hook run inside ONE hook entry of the NAT core, at NF_IP_PRI_NAT_DST (-100,
//   PREROUTING/OUTPUT) or NF_IP_PRI_NAT_SRC (100, INPUT/POSTROUTING), whatever their declared priority;
//   that priority only orders the NAT chains among themselves. The NAT core registers its entries when
//   the first NAT chain of the family is created.
// - inet tables register for both IPv4 and IPv6.
import type { Action, BaseChain, Chain, Family, Hook, IpRule, NamedSet, Rule, Ruleset, Table } from '../ruleset/model.js';
import { isMatch } from '../ruleset/model.js';
import { NF_IP_PRI_CONNTRACK, NF_IP_PRI_NAT_DST, NF_IP_PRI_NAT_SRC } from '../ruleset/priorities.js';
import { addrKey, inPrefix, isLoopback, parsePrefix, type Addr } from './addr.js';
import { K_FN, compileMatch, setInline, type CompiledMatch, type InlineFields, type NodeView } from './matches.js';
import { parseNatTo, type NatTo } from './nat.js';
import type { ExtraHook, LocalAddress, RouteSpec } from './options.js';
import { compileRouting, type Routing } from './routing.js';

export type SimFamily = 'ip' | 'ip6';
export const SIM_HOOKS: readonly Hook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];

/** A rule (or a policy, rule null) as the trace names it. */
export interface RuleRef {
  family: string;
  table: string;
  chain: string;
  /** 1-based index in the chain; null for a policy, a declared hook or a queue consumer. */
  rule: number | null;
  text: string;
}

// Action codes: the runner switches on a number, and the values it needs sit in the action itself.
export const A_ACCEPT = 1;
export const A_DROP = 2;
export const A_REJECT = 3;
export const A_CONTINUE = 4;
export const A_RETURN = 5;
export const A_JUMP = 6;
export const A_GOTO = 7;
export const A_QUEUE = 8;
export const A_MARK = 9;
export const A_CTMARK = 10;
export const A_SAVE = 11;
export const A_RESTORE = 12;
export const A_NOTRACK = 13;
export const A_NAT = 14;
export const A_TPROXY = 15;
export const A_OTHER = 16;
/** iptables-nft's CT target read from `nft -j`: shown as a bare "xt target CT", it may be CT --notrack. */
export const A_XT_CT = 17;

export interface CompiledAction {
  isMatch: false;
  op: number;
  /** A_MARK / A_CTMARK: (x & and) ^ xor. A_SAVE / A_RESTORE: nfmask in `and`, ctmask in `xor`. Signed (| 0), see CompiledMatch.a. */
  and: number;
  xor: number;
  /** jump/goto: the chain, undefined when the table does not declare it. */
  target: CompiledChain | undefined;
  action: Action;
  /** The action's kind (the runner reads this, not the model's object). */
  kind: Action['kind'];
  nat: NatTo | undefined;
  /** An uninterpreted statement that looks like it writes the mark / ctmark. */
  writesMark: boolean;
  writesCtmark: boolean;
}

/** One expression of a rule, in order: matches (all must hold) and actions. */
export type Instr = CompiledMatch | CompiledAction;

/**
 * A rule, with its first match's inline fields (InlineFields) when that match has an inline kind
 * (k !== K_FN): most rules fail their first match, and then only this object is read.
 */
export interface CompiledRule extends InlineFields {
  index: number;
  /**
   * The rule's expressions, compiled when a walk first gets past the rule's first match (codeOf): most
   * rules of a long ruleset fail their first match every time, and are never compiled further.
   */
  code: Instr[] | undefined;
  /** How the trace names the rule: made when first needed (refOf), as most rules never decide anything. */
  ref: RuleRef | undefined;
  chain: CompiledChain;
  /** The rule in the model. */
  model: Rule;
}

export interface DispatchIndex {
  /** What the keys are: destination addresses (kube-proxy's KUBE-SERVICES) or ports (KUBE-NODEPORTS). */
  field: 'daddr' | 'dport';
  /** Positions (0-based) of rules that may match any key. */
  wild: Int32Array;
  /** Positions of rules that match only these keys: one position as a number (the usual case: no array to read). */
  byKey: Map<string | number, Int32Array | number>;
}

export interface CompiledChain {
  name: string;
  table: CompiledTable;
  base?: BaseChain;
  /** The chain in the model. */
  src: Chain;
  /** Set by prepareChain() when a walk first enters the chain: `rules` sized and the index built. */
  prepared: boolean;
  /** Compiled rules by position: a hole until a walk first evaluates the rule (ruleAt()). */
  rules: Array<CompiledRule | undefined>;
  /** For long chains: the rules to look at for a given destination address. */
  index?: DispatchIndex;
  policyRef?: RuleRef;
  /** Implicit return at the end of a regular chain (endRefOf makes it when a step shows it). */
  endRef: RuleRef | undefined;
}

export interface CompiledTable {
  family: Family;
  name: string;
  /** Native nft rules stop (NFT_BREAK) where they read a ct mark the packet does not have. */
  nftExprs: boolean;
  /** The chains made so far (chainOf() makes them on demand). */
  chains: Map<string, CompiledChain>;
  src: Table;
  node: NodeView;
  /** The model's chains by name and the table's named sets, built on first need. */
  byName?: Map<string, Chain>;
  sets?: Map<string, NamedSet>;
}

export type Entry =
  | { kind: 'chain'; priority: number; reg: number; chain: CompiledChain }
  | { kind: 'nat'; priority: number; reg: number; manip: 'dst' | 'src'; chains: CompiledChain[] }
  | { kind: 'conntrack'; priority: number; reg: number }
  | { kind: 'extra'; priority: number; reg: number; hook: ExtraHook; ref: RuleRef };

export interface Program {
  entries: Record<SimFamily, Record<Hook, Entry[]>>;
  tables: CompiledTable[];
  node: NodeView;
  /** Whether conntrack runs for the family (something holds a reference on it). */
  conntrack: Record<SimFamily, boolean>;
  /** `ip rule` and the routing tables: where a packet with a given mark goes. */
  routing: Routing;
  /** Things the trace should say about the ruleset as a whole (skipped tables, ties...). */
  notes: string[];
}

/**
 * Conntrack runs in a network namespace only while something takes a reference on it
 * (nf_ct_netns_get): ct expressions and conntrack/state/connmark matches, CONNMARK/CT targets, NAT
 * targets and statements. A NAT chain alone does not. 'auto' decides from the ruleset.
 */
export type ConntrackMode = 'auto' | 'on' | 'off';

/** Which families a rule takes a conntrack reference for: bit 1 IPv4, bit 2 IPv6 (0: none). */
const CT_IP = 1;
const CT_IP6 = 2;

function usesConntrack(rule: Rule, tableFamilies: number): number {
  let out = 0;
  for (const e of rule.exprs) {
    if (e.type === 'match') {
      if (e.key === 'ctmark' || e.key === 'ctstate' || e.key === 'ctdir') return tableFamilies;
      if (e.key === 'other' && /conntrack|\bstate\b|connmark|\bct\b|connlimit|helper|conntrack/i.test(`${e.module} ${e.text}`)) return tableFamilies;
    } else {
      switch (e.kind) {
        case 'ctmark':
        case 'connmark-save':
        case 'connmark-restore':
        case 'masquerade':
        case 'redirect':
          return tableFamilies;
        case 'snat':
        case 'dnat':
        case 'netmap': {
          // nft_nat_init takes the reference for the NAT's own family (NFTA_NAT_FAMILY), not the
          // table's: an inet table's `dnat ip6 to ...` makes conntrack run for IPv6 only.
          const to = parseNatTo(e.to, e.kind);
          const v = to.addr?.v ?? to.prefix?.v;
          out |= v === 4 ? CT_IP & tableFamilies : v === 6 ? CT_IP6 & tableFamilies : tableFamilies;
          if (out === tableFamilies) return out;
          break;
        }
        case 'notrack':
          return out;
        case 'other':
          if (/\bCT\b|CONNMARK|\bct\b|conntrack|helper|NOTRACK|CONNSECMARK/.test(`${e.name} ${e.text}`)) return tableFamilies;
          break;
        default:
          break;
      }
    }
  }
  return out;
}

const INDEX_MIN_RULES = 16;
/** Whether an uninterpreted statement looks like it writes the packet mark (MARK, meta mark set, restore). */
function writesMark(text: string): boolean {
  return /(^|[^\w-])MARK\b/.test(text) || /(^|[^\w.])(meta\s+)?mark\s+set\b/i.test(text.replace(/ct\s+mark\s+set/gi, '')) || /restore-mark/i.test(text);
}

function writesCtmark(text: string): boolean {
  return (/CONNMARK/.test(text) && !/restore-mark/i.test(text)) || /ct\s+mark\s+set/i.test(text);
}

export function nodeView(locals: readonly LocalAddress[], routes: readonly RouteSpec[] = []): NodeView {
  // The main table's unicast routes (other tables and route types are routing.ts's).
  const byLen = routes.filter((r) => (r.table ?? 'main') === 'main' && (r.type ?? 'unicast') === 'unicast').sort((x, y) => y.prefix.len - x.prefix.len);
  const byKey = new Map<string | number, string | undefined>();
  const bcast = new Set<string | number>();
  for (const l of locals) {
    const k = addrKey(l.addr);
    if (!byKey.has(k) || byKey.get(k) === undefined) byKey.set(k, l.iface);
    if (l.broadcast) bcast.add(addrKey(l.broadcast));
  }
  return {
    isLocal: (a: Addr) => isLoopback(a) || byKey.has(addrKey(a)),
    localIface: (a: Addr) => {
      const k = addrKey(a);
      if (byKey.has(k)) return byKey.get(k) ?? (isLoopback(a) ? 'lo' : undefined);
      return isLoopback(a) ? 'lo' : null;
    },
    isSubnetBroadcast: (a: Addr) => bcast.has(addrKey(a)),
    primaryOn: (iface: string, v: 4 | 6) => {
      const on = locals.find((l) => l.iface === iface && l.addr.v === v && !isLoopback(l.addr))?.addr;
      if (on || iface !== 'lo') return on;
      // inet_select_addr on lo: 127.0.0.1 has host scope and is never chosen; the kernel takes the first
      // global address of the node in device order (the order `ip addr` lists, and --local's order).
      return locals.find((l) => l.addr.v === v && !isLoopback(l.addr) && !(l.addr.v === 6 && l.addr.w[0] >>> 22 === 0x3fa))?.addr;
    },
    routeDev: (a: Addr) => {
      for (let i = 0; i < byLen.length; i++) if (inPrefix(a, byLen[i].prefix)) return byLen[i].dev;
      return undefined;
    },
  };
}

const ACTION_CODES: Record<Action['kind'], number> = {
  accept: A_ACCEPT,
  drop: A_DROP,
  reject: A_REJECT,
  continue: A_CONTINUE,
  return: A_RETURN,
  jump: A_JUMP,
  goto: A_GOTO,
  queue: A_QUEUE,
  mark: A_MARK,
  ctmark: A_CTMARK,
  'connmark-save': A_SAVE,
  'connmark-restore': A_RESTORE,
  notrack: A_NOTRACK,
  snat: A_NAT,
  dnat: A_NAT,
  masquerade: A_NAT,
  redirect: A_NAT,
  netmap: A_NAT,
  tproxy: A_TPROXY,
  other: A_OTHER,
};

function compileAction(action: Action, table: CompiledTable): CompiledAction {
  const a = action;
  // nft -j prints every xt target CT (--notrack, --zone, --helper...) the same way, without its options.
  const op = a.kind === 'other' && a.name === 'CT' && a.text === 'xt target CT' ? A_XT_CT : ACTION_CODES[a.kind];
  const out: CompiledAction = { isMatch: false, op, and: 0, xor: 0, target: undefined, action: a, kind: a.kind, nat: undefined, writesMark: false, writesCtmark: false };
  switch (a.kind) {
    case 'mark':
    case 'ctmark':
      out.and = a.and | 0;
      out.xor = a.xor | 0;
      break;
    case 'connmark-save':
    case 'connmark-restore':
      out.and = a.nfmask | 0;
      out.xor = a.ctmask | 0;
      break;
    case 'jump':
    case 'goto':
      out.target = a.chain ? chainOf(table, a.chain) : undefined;
      break;
    case 'snat':
    case 'dnat':
    case 'masquerade':
    case 'redirect':
    case 'netmap':
      out.nat = parseNatTo(a.to, a.kind);
      break;
    case 'other':
      if (a.terminal !== true) {
        out.writesMark = writesMark(`${a.name} ${a.text}`);
        out.writesCtmark = writesCtmark(`${a.name} ${a.text}`);
      }
      break;
    default:
      break;
  }
  return out;
}

/**
 * The destination addresses (or ports) a rule is limited to before any of its statements run, or
 * undefined: a rule can only match a packet whose key is among these. Read from the model, so that
 * the index of a long chain is built without compiling its rules.
 */
function dispatchKeys(rule: Rule, field: DispatchIndex['field']): Array<string | number> | undefined {
  // Only matches before the rule's first action count (statements before a failing match still run).
  for (const m of rule.exprs) {
    if (!isMatch(m)) return undefined;
    if (m.key !== field || m.invert) continue;
    const keys: Array<string | number> = [];
    if (m.key === 'daddr') {
      if (m.cidrs.length === 0) continue;
      for (const c of m.cidrs) {
        const p = parsePrefix(c);
        if (!p || p.len !== (p.v === 4 ? 32 : 128)) return undefined;
        keys.push(addrKey(p.v === 4 ? { v: 4, n: p.net } : { v: 6, w: [p.net[0], p.net[1], p.net[2], p.net[3]] }));
      }
    } else if (m.key === 'dport') {
      if (m.ranges.length === 0) continue;
      for (const [lo, hi] of m.ranges) {
        if (hi - lo > 16) return undefined;
        for (let p = lo; p <= hi; p++) keys.push(p);
      }
    }
    return keys;
  }
  return undefined;
}

function buildIndex(chain: CompiledChain): void {
  const rules = chain.src.rules;
  if (rules.length < INDEX_MIN_RULES) return;
  for (const field of ['daddr', 'dport'] as const) {
    const wild: number[] = [];
    const byKey = new Map<string | number, number[]>();
    rules.forEach((r, i) => {
      const keys = dispatchKeys(r, field);
      if (!keys) {
        wild.push(i);
        return;
      }
      for (const k of new Set(keys)) {
        const list = byKey.get(k);
        if (list) list.push(i);
        else byKey.set(k, [i]);
      }
    });
    // Worth it only when most rules are keyed.
    if (wild.length * 2 > rules.length) continue;
    const index: DispatchIndex = { field, wild: Int32Array.from(wild), byKey: new Map() };
    for (const [k, v] of byKey) index.byKey.set(k, v.length === 1 ? v[0] : Int32Array.from(v));
    chain.index = index;
    return;
  }
}

function newTable(t: Table, node: NodeView): CompiledTable {
  return { family: t.family, name: t.name, nftExprs: t.origin === 'nft', chains: new Map(), src: t, node };
}

/** The table's chains in the model by name (made on first use). */
function modelChains(table: CompiledTable): Map<string, Chain> {
  if (!table.byName) {
    // The last chain of a name wins, as a Map built in order would have it.
    table.byName = new Map();
    for (const c of table.src.chains) table.byName.set(c.name, c);
  }
  return table.byName;
}

/** The table's chain of this name (made on first use), or undefined when the table has none. */
export function chainOf(table: CompiledTable, name: string): CompiledChain | undefined {
  const made = table.chains.get(name);
  if (made) return made;
  const c = modelChains(table).get(name);
  if (!c) return undefined;
  const t = table.src;
  const chain: CompiledChain = {
    name: c.name,
    table,
    base: c.base,
    src: c,
    prepared: false,
    rules: [],
    endRef: undefined,
    policyRef: c.base ? { family: t.family, table: t.name, chain: c.name, rule: null, text: `policy ${c.base.policy}` } : undefined,
  };
  table.chains.set(name, chain);
  return chain;
}

/**
 * A jump/goto loop through a chain, as chain names (the first repeated at the end), or undefined. Read
 * from the model, only once a walk has gone round more chains than the table has.
 */
export function loopFrom(chain: CompiledChain): string[] | undefined {
  const byName = modelChains(chain.table);
  const path: string[] = [];
  const done = new Set<string>();
  const visit = (name: string): string[] | undefined => {
    const at = path.indexOf(name);
    if (at >= 0) return [...path.slice(at), name];
    if (done.has(name)) return undefined;
    path.push(name);
    for (const r of byName.get(name)?.rules ?? []) {
      for (const e of r.exprs) {
        if (e.type === 'action' && (e.kind === 'jump' || e.kind === 'goto') && e.chain) {
          const found = visit(e.chain);
          if (found) return found;
        }
      }
    }
    path.pop();
    done.add(name);
    return undefined;
  };
  return visit(chain.name);
}

export function endRefOf(chain: CompiledChain): RuleRef {
  return (chain.endRef ??= { family: chain.table.family, table: chain.table.name, chain: chain.name, rule: null, text: 'end of chain: return' });
}

/** Readies a chain for its first walk: a slot per rule, and the index of a long chain. */
export function prepareChain(chain: CompiledChain): void {
  chain.rules = new Array<CompiledRule | undefined>(chain.src.rules.length);
  buildIndex(chain);
  chain.prepared = true;
}

/** The rule at a position (0-based) of a prepared chain, made on first use with its first match inline. */
export function ruleAt(chain: CompiledChain, pos: number): CompiledRule {
  const model = chain.src.rules[pos];
  // The first match's fields first: a walk that reads only them touches the start of the object.
  const r: CompiledRule = { k: K_FN, inv: false, a: 0, b: 0, c: -1, src: false, name: '', code: undefined, index: model.number ?? pos + 1, chain, model, ref: undefined };
  const e = model.exprs[0];
  if (e !== undefined && isMatch(e)) setInline(e, r);
  chain.rules[pos] = r;
  return r;
}

/** The rule's expressions, compiled on first need. */
export function codeOf(rule: CompiledRule): Instr[] {
  if (rule.code) return rule.code;
  const table = rule.chain.table;
  if (!table.sets) table.sets = new Map<string, NamedSet>(table.src.sets.map((s) => [s.name, s]));
  const sets = table.sets;
  const exprs = rule.model.exprs;
  const code: Instr[] = new Array<Instr>(exprs.length);
  for (let i = 0; i < exprs.length; i++) {
    const e = exprs[i];
    code[i] = isMatch(e) ? compileMatch(e, table.node, sets) : compileAction(e, table);
  }
  return (rule.code = code);
}

/** The rule as the trace names it (one object per rule, made on first use). */
export function refOf(rule: CompiledRule): RuleRef {
  if (rule.ref) return rule.ref;
  const chain = rule.chain;
  return (rule.ref = { family: chain.table.family, table: chain.table.name, chain: chain.name, rule: rule.index, text: rule.model.text });
}

function pfsOf(f: Family): SimFamily[] {
  return f === 'ip' ? ['ip'] : f === 'ip6' ? ['ip6'] : f === 'inet' ? ['ip', 'ip6'] : [];
}

function sortEntries(list: Entry[]): void {
  list.sort((a, b) => a.priority - b.priority || b.reg - a.reg);
}

function emptyHooks(): Record<Hook, Entry[]> {
  return { prerouting: [], input: [], forward: [], output: [], postrouting: [], ingress: [], egress: [] };
}

/** Compiles a ruleset with the declared hooks and local addresses. */
export function compileProgram(
  ruleset: Ruleset,
  extra: readonly ExtraHook[] = [],
  locals: readonly LocalAddress[] = [],
  routes: readonly RouteSpec[] = [],
  conntrackMode: ConntrackMode = 'auto',
  policy: { ipRules?: readonly IpRule[]; allTablesKnown?: boolean } = {},
): Program {
  const node = nodeView(locals, routes);
  const routing = compileRouting(policy.ipRules ?? [], routes, policy.allTablesKnown ?? false);
  const notes: string[] = [...routing.notes];
  const conntrack: Record<SimFamily, boolean> = { ip: conntrackMode === 'on', ip6: conntrackMode === 'on' };
  if (conntrackMode === 'auto') {
    for (const t of ruleset.tables) {
      const fams = (pfsOf(t.family).includes('ip') ? CT_IP : 0) | (pfsOf(t.family).includes('ip6') ? CT_IP6 : 0);
      let used = 0;
      for (const c of t.chains) {
        for (const r of c.rules) {
          used |= usesConntrack(r, fams);
          if (used === fams) break;
        }
        if (used === fams) break;
      }
      if (used & CT_IP) conntrack.ip = true;
      if (used & CT_IP6) conntrack.ip6 = true;
    }
    for (const pf of ['ip', 'ip6'] as SimFamily[]) {
      const natChains = ruleset.tables.some((t) => pfsOf(t.family).includes(pf) && t.chains.some((c) => c.base?.type === 'nat'));
      if (!conntrack[pf] && natChains) {
        notes.push(`no ${pf === 'ip' ? 'IPv4' : 'IPv6'} rule uses conntrack, so it does not run (no entry, NAT chains skipped); add --conntrack on if something else on the node uses it`);
      }
    }
  }
  const entries: Record<SimFamily, Record<Hook, Entry[]>> = { ip: emptyHooks(), ip6: emptyHooks() };
  const nat: Record<SimFamily, { reg: number; byHook: Map<Hook, Array<{ chain: CompiledChain; priority: number; reg: number }>> } | undefined> = { ip: undefined, ip6: undefined };
  const tables: CompiledTable[] = [];
  let reg = 0;
  const skippedFamilies = new Set<string>();
  for (const t of ruleset.tables) {
    const pfs = pfsOf(t.family);
    if (pfs.length === 0) {
      skippedFamilies.add(t.family);
      continue;
    }
    const table = newTable(t, node);
    tables.push(table);
    for (const c of t.chains as Chain[]) {
      if (!c.base) continue;
      reg++;
      const chain = chainOf(table, c.name) as CompiledChain;
      if (!SIM_HOOKS.includes(c.base.hook)) {
        notes.push(`${t.family} ${t.name} ${c.name}: hook ${c.base.hook} is not on the path the simulator follows; skipped`);
        continue;
      }
      for (const pf of pfs) {
        if (c.base.type === 'nat') {
          let n = nat[pf];
          if (!n) n = nat[pf] = { reg, byHook: new Map() };
          const list = n.byHook.get(c.base.hook) ?? [];
          list.push({ chain, priority: c.base.priority, reg });
          n.byHook.set(c.base.hook, list);
        } else {
          entries[pf][c.base.hook].push({ kind: 'chain', priority: c.base.priority, reg, chain });
          if (c.base.priority === NF_IP_PRI_CONNTRACK && (c.base.hook === 'prerouting' || c.base.hook === 'output')) {
            notes.push(`${t.family} ${t.name} ${c.name} has priority -200, the same as conntrack; the simulator runs conntrack first (which runs first at a tie depends on which was registered last)`);
          }
        }
      }
    }
  }
  for (const f of skippedFamilies) notes.push(`tables of family ${f} are not simulated (only ip, ip6 and inet)`);
  if (ruleset.tables.length === 0) notes.push('the ruleset is empty: nothing filters, every packet is accepted');
  for (const pf of ['ip', 'ip6'] as SimFamily[]) {
    const n = nat[pf];
    if (n) {
      // The NAT core registers all four NAT hooks with the family's first NAT chain: a hook without
      // NAT chains still sets up the null binding (which is why loopback skips PREROUTING NAT).
      for (const h of ['prerouting', 'input', 'output', 'postrouting'] as Hook[]) if (!n.byHook.has(h)) n.byHook.set(h, []);
      for (const [hook, list] of n.byHook) {
        list.sort((a, b) => a.priority - b.priority || b.reg - a.reg);
        const manip = hook === 'prerouting' || hook === 'output' ? 'dst' : 'src';
        const priority = manip === 'dst' ? NF_IP_PRI_NAT_DST : NF_IP_PRI_NAT_SRC;
        if (hook === 'forward') {
          notes.push(`${pf}: nat chains on the forward hook are not valid and were skipped`);
          continue;
        }
        entries[pf][hook].push({ kind: 'nat', priority, reg: n.reg, manip, chains: list.map((x) => x.chain) });
      }
    }
    entries[pf].prerouting.push({ kind: 'conntrack', priority: NF_IP_PRI_CONNTRACK, reg: 2e9 });
    entries[pf].output.push({ kind: 'conntrack', priority: NF_IP_PRI_CONNTRACK, reg: 2e9 });
  }
  extra.forEach((h, i) => {
    for (const pf of pfsOf(h.family)) {
      entries[pf][h.hook].push({
        kind: 'extra',
        priority: h.priority,
        reg: 1e9 + i,
        hook: h,
        ref: { family: h.family, table: '(hook)', chain: `${h.hook}:${h.priorityText}`, rule: null, text: h.text },
      });
    }
  });
  for (const pf of ['ip', 'ip6'] as SimFamily[]) for (const h of SIM_HOOKS) sortEntries(entries[pf][h]);
  return { entries, tables, node, notes, conntrack, routing };
}
