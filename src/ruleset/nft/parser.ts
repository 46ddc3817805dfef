// `nft -j list ruleset` into the model: tables, base chains (type, hook, priority as a number or a name
// such as 'mangle + 1', policy, device), named sets and maps, rules. Each rule keeps its JSON expression
// list as syntax; its semantics come from exprs.ts. Problems are data, with the position of the object.
import { table } from '../../util/table.js';
import type { Action, BaseChain, Chain, Expr, Family, Hook, NamedSet, Rule, Ruleset, Table } from '../model.js';
import { IPTABLES_CHAIN_HOOK, iptablesPriority, parseNftPriority } from '../priorities.js';
import { Problems } from '../problems.js';
import { elementPositions, jsonErrorOffset, offsetPos, type TextPos } from './positions.js';
import { exprText, matchExprs, PASSIVE_STATEMENTS, statementActions } from './exprs.js';

export interface NftParseOptions {
  source: string;
}

/** Rule.syntax of a rule read from nft JSON: the rule's own expression list, as nft wrote it. */
export interface NftRuleSyntax {
  format: 'nft';
  handle?: number;
  expr: unknown[];
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

const FAMILIES: Family[] = ['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'];
const HOOKS: Hook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress'];
const IPT_TABLES = ['raw', 'mangle', 'nat', 'filter', 'security'];

// xt targets iptables-nft leaves in a rule: whether they end the rule (MARK & co. change the packet in a way
// the JSON does not show, but do not end it).
const XT_TERMINAL: Readonly<Record<string, boolean>> = table({
  MARK: false, CONNMARK: false, LOG: false, NFLOG: false, CHECKSUM: false, TCPMSS: false, DSCP: false, TOS: false, TTL: false,
  HL: false, CLASSIFY: false, SET: false, AUDIT: false, CT: false, NOTRACK: false, TRACE: false, SECMARK: false, CONNSECMARK: false,
  REJECT: true, DNAT: true, SNAT: true, MASQUERADE: true, REDIRECT: true, NETMAP: true, TPROXY: true, NFQUEUE: true,
});

export function parseNftJson(text: string, opts: NftParseOptions): Ruleset {
  const P = new Problems(opts.source);
  const out: Ruleset = { tables: [], ipRules: [], problems: P.list };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const off = jsonErrorOffset(text);
    const pos = offsetPos(text, off < 0 ? 0 : off);
    P.error('BAD_JSON', `not JSON: ${(e as Error).message}`, pos.line, pos.column);
    return out;
  }
  if (!isObj(doc) || !Array.isArray(doc.nftables)) {
    P.error('BAD_JSON', 'expected {"nftables": [...]}, as `nft -j list ruleset` writes it', 1, 1);
    return out;
  }
  const positions = elementPositions(text);
  const tables = new Map<string, Table>();
  const chains = new Map<string, Chain>();
  /** Elements of named verdict maps ("family table name"), as nft lists them, for expandVmaps. */
  const verdictMaps = new Map<string, unknown[]>();
  const at = (i: number): TextPos => positions[i] ?? { line: 1, column: 1 };
  const posOf = (i: number) => ({ source: opts.source, line: at(i).line, column: at(i).column });

  const tableFor = (i: number, family: unknown, name: unknown): Table | undefined => {
    if (typeof family !== 'string' || typeof name !== 'string') {
      P.error('BAD_JSON', 'an object without a family and table name', at(i).line, at(i).column);
      return undefined;
    }
    let t = tables.get(`${family} ${name}`);
    if (!t) {
      // Objects may come before their table in hand-written JSON; the table is created for them.
      t = { family: family as Family, name, origin: 'nft', chains: [], sets: [], pos: posOf(i) };
      tables.set(`${family} ${name}`, t);
      out.tables.push(t);
    }
    return t;
  };

  doc.nftables.forEach((item: unknown, i: number) => {
    if (!isObj(item)) {
      P.error('BAD_JSON', 'an element of "nftables" that is not an object', at(i).line, at(i).column);
      return;
    }
    const kind = Object.keys(item)[0];
    const v = item[kind];
    if (!isObj(v)) {
      P.error('BAD_JSON', `"${kind}" is not an object`, at(i).line, at(i).column, kind);
      return;
    }
    switch (kind) {
      case 'metainfo':
        return;
      case 'table': {
        if (typeof v.family !== 'string' || !FAMILIES.includes(v.family as Family)) {
          P.error('BAD_JSON', `unknown table family "${String(v.family)}"`, at(i).line, at(i).column, String(v.family));
          return;
        }
        tableFor(i, v.family, v.name);
        return;
      }
      case 'chain': {
        const t = tableFor(i, v.family, v.table);
        if (!t || typeof v.name !== 'string') return;
        const ch: Chain = { name: v.name, rules: [], pos: posOf(i) };
        if (v.hook !== undefined) {
          const base = baseChain(v, t.family, P, at(i));
          if (base) ch.base = base;
        }
        t.chains.push(ch);
        chains.set(`${t.family} ${t.name} ${v.name}`, ch);
        return;
      }
      case 'set':
      case 'map': {
        const t = tableFor(i, v.family, v.table);
        if (!t || typeof v.name !== 'string') return;
        t.sets.push(namedSet(v, kind === 'map', posOf(i)));
        if (kind === 'map' && v.map === 'verdict' && Array.isArray(v.elem)) verdictMaps.set(`${t.family} ${t.name} ${v.name}`, v.elem);
        return;
      }
      case 'rule': {
        const t = tableFor(i, v.family, v.table);
        if (!t || typeof v.chain !== 'string') return;
        let ch = chains.get(`${t.family} ${t.name} ${v.chain}`);
        if (!ch) {
          P.error('UNDECLARED_CHAIN', `rule in chain ${v.chain}, which was not listed before it`, at(i).line, at(i).column, v.chain);
          ch = { name: v.chain, rules: [] };
          t.chains.push(ch);
          chains.set(`${t.family} ${t.name} ${v.chain}`, ch);
        }
        ch.rules.push(rule(v, posOf(i), P));
        return;
      }
      case 'element':
      case 'flowtable':
      case 'counter':
      case 'quota':
      case 'ct helper':
      case 'ct timeout':
      case 'ct expectation':
      case 'limit':
      case 'secmark':
      case 'synproxy':
        return; // stateful objects: not part of the packet path the model describes
      default:
        P.warn('UNKNOWN_EXPRESSION', `unknown object "${kind}": ignored`, at(i).line, at(i).column, kind);
    }
  });
  for (const t of out.tables) if (looksLikeIptablesNft(t)) t.origin = 'iptables-nft';
  // nft -j shows iptables-nft's matches and targets as bare `xt` names: said once per table.
  for (const t of out.tables) {
    const xt = t.chains.reduce((n, c) => n + c.rules.filter(hasXt).length, 0);
    if (xt === 0) continue;
    const at = t.pos ?? { line: 1, column: 1 };
    P.warn('XT_OPAQUE', `table ${t.family} ${t.name}: ${xt} rule${xt === 1 ? '' : 's'} with iptables-nft (xt) matches or targets, whose options nft -j does not show: kept opaque, evaluation undetermined; give ${t.family === 'ip6' ? 'ip6tables' : 'iptables'}-nft-save output for this table`, at.line, at.column, `${t.family} ${t.name}`);
  }
  for (const t of out.tables) for (const c of t.chains) c.rules = expandVmaps(c.rules, t, verdictMaps);
  // Jumps to chains that do not exist.
  for (const t of out.tables) {
    const names = new Set(t.chains.map((c) => c.name));
    for (const c of t.chains) {
      for (const r of c.rules) {
        for (const e of r.exprs) {
          if (e.type === 'action' && (e.kind === 'jump' || e.kind === 'goto') && !names.has(e.chain)) {
            P.error('UNDECLARED_CHAIN', `${e.kind} to chain ${e.chain}, which is not in table ${t.family} ${t.name}`, r.pos.line, r.pos.column, e.chain);
          }
        }
      }
    }
  }
  return out;
}

function baseChain(v: Obj, family: Family, P: Problems, at: TextPos): BaseChain | undefined {
  const hook = v.hook as Hook;
  if (!HOOKS.includes(hook)) {
    P.error('UNKNOWN_CHAIN_TYPE', `unknown hook "${String(v.hook)}"`, at.line, at.column, String(v.hook));
    return undefined;
  }
  const type = (v.type ?? 'filter') as BaseChain['type'];
  if (!['filter', 'nat', 'route'].includes(type)) {
    P.error('UNKNOWN_CHAIN_TYPE', `unknown chain type "${String(v.type)}"`, at.line, at.column, String(v.type));
    return undefined;
  }
  let priority: number | undefined;
  let priorityText: string | undefined;
  if (typeof v.prio === 'number') priority = v.prio;
  else if (typeof v.prio === 'string') {
    priorityText = v.prio;
    priority = parseNftPriority(v.prio, family);
  }
  if (priority === undefined) {
    P.error('UNKNOWN_CHAIN_TYPE', `priority "${String(v.prio)}" is not a number or a named priority`, at.line, at.column, String(v.prio));
    return undefined;
  }
  const base: BaseChain = { hook, priority, type, policy: v.policy === 'drop' ? 'drop' : 'accept' };
  if (priorityText !== undefined) base.priorityText = priorityText;
  const dev = v.dev ?? v.device;
  if (typeof dev === 'string') base.device = dev;
  else if (Array.isArray(dev)) base.device = dev.join(',');
  return base;
}

function elemText(x: unknown): string {
  if (isObj(x) && isObj(x.elem)) return exprText(x.elem.val);
  return exprText(x);
}

function namedSet(v: Obj, isMap: boolean, pos: Rule['pos']): NamedSet {
  const keyType = Array.isArray(v.type) ? v.type.join(' . ') : String(v.type ?? '');
  const s: NamedSet = { name: String(v.name), keyType, pos };
  if (isMap && v.map !== undefined) s.dataType = Array.isArray(v.map) ? v.map.join(' . ') : String(v.map);
  if (Array.isArray(v.flags)) s.flags = v.flags.map(String);
  else if (typeof v.flags === 'string') s.flags = [v.flags];
  if (Array.isArray(v.elem)) {
    s.elements = v.elem.map((e) => (isMap && Array.isArray(e) ? { key: elemText(e[0]), value: exprText(e[1]) } : { key: elemText(e) }));
  }
  return s;
}

function rule(v: Obj, pos: Rule['pos'], P: Problems): Rule {
  const list = Array.isArray(v.expr) ? v.expr : [];
  const exprs: Expr[] = [];
  const r: Rule = { exprs, text: '', pos };
  for (const x of list) {
    if (!isObj(x)) {
      P.warn('UNKNOWN_EXPRESSION', 'a rule expression that is not an object: kept as other', pos.line, pos.column, JSON.stringify(x));
      exprs.push({ type: 'match', key: 'other', module: 'nft', text: JSON.stringify(x) });
      continue;
    }
    const k = Object.keys(x)[0];
    const val = x[k];
    if (k === 'match' && isObj(val)) {
      const ms = matchExprs(val, '');
      if (ms) for (const m of ms) exprs.push(m);
      else exprs.push({ type: 'match', key: 'other', module: 'nft', text: exprText(x) });
      continue;
    }
    if (k === 'counter') {
      if (isObj(val) && typeof val.packets === 'number' && typeof val.bytes === 'number') r.counters = { packets: val.packets, bytes: val.bytes };
      continue;
    }
    if (k === 'xt' && isObj(val)) {
      const name = String(val.name ?? '?');
      if (val.type === 'match') exprs.push({ type: 'match', key: 'other', module: name, text: `xt match ${name}` });
      else exprs.push({ type: 'action', kind: 'other', name, text: `xt target ${name}`, terminal: XT_TERMINAL[name] ?? 'unknown' });
      continue;
    }
    const acts = statementActions(x);
    if (acts) {
      for (const a of acts) exprs.push(a);
      continue;
    }
    const known = PASSIVE_STATEMENTS.has(k) || ['mangle', 'vmap', 'queue', 'tproxy', 'reject', 'snat', 'dnat', 'masquerade', 'redirect', 'ct', 'fwd', 'dup'].includes(k);
    if (!known) P.warn('UNKNOWN_EXPRESSION', `unknown statement "${k}": kept as other, evaluation undetermined`, pos.line, pos.column, k);
    const terminal: boolean | 'unknown' = PASSIVE_STATEMENTS.has(k) || k === 'mangle' || k === 'ct' ? false : k === 'fwd' ? true : 'unknown';
    const a: Action = { type: 'action', kind: 'other', name: k, text: exprText(x), terminal };
    exprs.push(a);
  }
  r.text = list.map(exprText).join(' ');
  if (typeof v.comment === 'string') r.comment = v.comment;
  const syntax: NftRuleSyntax = { format: 'nft', expr: list };
  if (typeof v.handle === 'number') syntax.handle = v.handle;
  r.syntax = syntax;
  return r;
}

/**
 * A rule ending in a verdict map (`ip daddr . meta l4proto . th dport vmap @service-ips`, `tcp dport vmap
 * { 22 : accept }`) becomes one rule per element: the rule's matches, the element's key as matches, the
 * element's verdict. The same packets get the same verdicts: a vmap's elements do not overlap, so at most
 * one of the rules matches, and a packet no element matches goes on to the next rule either way. Done only
 * when the rule has nothing but matches before the vmap (statements there run whatever the key) and every
 * element's key and verdict are expressible; otherwise (and for an empty map) the rule keeps its `other`
 * action, evaluation undetermined. The expanded rules share the rule's position and syntax.
 */
function expandVmaps(rules: Rule[], t: Table, verdictMaps: Map<string, unknown[]>): Rule[] {
  let out: Rule[] | undefined;
  for (let i = 0; i < rules.length; i++) {
    const expanded = expandVmap(rules[i], t, verdictMaps);
    if (expanded !== undefined && out === undefined) out = rules.slice(0, i);
    if (out !== undefined) {
      for (const r of expanded ?? [rules[i]]) {
        if (expanded !== undefined || out.length !== i) r.number = i + 1;
        out.push(r);
      }
    }
  }
  return out ?? rules;
}

function expandVmap(r: Rule, t: Table, verdictMaps: Map<string, unknown[]>): Rule[] | undefined {
  const last = r.exprs[r.exprs.length - 1];
  if (last === undefined || last.type !== 'action' || last.kind !== 'other' || last.name !== 'vmap') return undefined;
  const before = r.exprs.slice(0, -1);
  if (!before.every((e) => e.type === 'match')) return undefined;
  const list = (r.syntax as NftRuleSyntax | undefined)?.expr ?? [];
  const stmt = list[list.length - 1];
  const vmap = isObj(stmt) && isObj(stmt.vmap) ? stmt.vmap : undefined;
  if (!vmap) return undefined;
  const elems = typeof vmap.data === 'string' && vmap.data.startsWith('@') ? verdictMaps.get(`${t.family} ${t.name} ${vmap.data.slice(1)}`) : isObj(vmap.data) && Array.isArray(vmap.data.set) ? vmap.data.set : undefined;
  if (!elems || elems.length === 0) return undefined;
  const fields = isObj(vmap.key) && Array.isArray(vmap.key.concat) ? vmap.key.concat : [vmap.key];
  const out: Rule[] = [];
  for (const e of elems) {
    if (!Array.isArray(e) || e.length !== 2 || !isObj(e[1])) return undefined;
    let key = e[0];
    if (isObj(key) && isObj(key.elem)) key = key.elem.val;
    const values = fields.length > 1 ? (isObj(key) && Array.isArray(key.concat) ? key.concat : undefined) : [key];
    if (!values || values.length !== fields.length) return undefined;
    const exprs: Expr[] = [...before];
    for (let f = 0; f < fields.length; f++) {
      const ms = matchExprs({ op: '==', left: fields[f], right: values[f] }, t.family);
      if (!ms || ms.some((m) => m.key === 'other')) return undefined;
      for (const m of ms) exprs.push(m);
    }
    const verdict = statementActions(e[1]);
    if (!verdict || verdict.length !== 1) return undefined;
    exprs.push(verdict[0]);
    const x: Rule = { exprs, text: `${r.text} [element ${exprText(key)} : ${exprText(e[1])}]`, pos: r.pos, syntax: r.syntax };
    if (r.comment !== undefined) x.comment = r.comment;
    out.push(x);
  }
  return out;
}

/** A rule with an iptables-nft match or target, which nft -j shows as a bare `xt NAME`. */
function hasXt(r: Rule): boolean {
  return r.exprs.some((e) => (e.type === 'match' ? e.key === 'other' && e.text.startsWith('xt ') : e.kind === 'other' && e.text.startsWith('xt ')));
}

/** A table iptables-nft made: an iptables table name whose base chains are the built-ins at their priorities. */
function looksLikeIptablesNft(t: Table): boolean {
  if ((t.family !== 'ip' && t.family !== 'ip6') || !IPT_TABLES.includes(t.name)) return false;
  const bases = t.chains.filter((c) => c.base);
  if (bases.length === 0) return t.chains.some((c) => c.rules.some(hasXt));
  return bases.every((c) => IPTABLES_CHAIN_HOOK[c.name] === c.base!.hook && iptablesPriority(t.name, c.base!.hook, 'iptables-nft') === c.base!.priority);
}
