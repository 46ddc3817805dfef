// One pass over the ruleset: attribute every rule to a catalog entry (or to "unattributed" by chain),
// and collect the mark facts: readers (matches, ip rule fwmarks), writers (mark/ctmark statements,
// CONNMARK save/restore, TPROXY marks) and NFQUEUE sites.
import type { Chain, Expr, Ruleset } from '../ruleset/model.js';
import { Attributor, SHARED, sharedCandidates } from './attribute.js';
import { ALL } from './bits.js';
import { reach, ruleEffect, tableLabel } from './graph.js';
import type { ComponentEntry, Effect, IpRuleSite, QueueSite, Reader, RuleRef, UnattributedChain, Writer } from './types.js';

export const UNATTRIBUTED = 'unattributed:';

export interface Facts {
  readers: Reader[];
  writers: Writer[];
  queues: QueueSite[];
  /** Attributed policy-routing rules, in the order read. */
  ipRules: IpRuleSite[];
  /** Rules attributed per owner id (all rules, mark-related or not). */
  ruleCounts: Map<string, number>;
  /** One identifying rule per owner, for owners whose rules touch no mark. */
  firstRule: Map<string, RuleRef>;
  unattributed: UnattributedChain[];
  stats: { tables: number; chains: number; rules: number; ipRules: number; markRules: number };
}

/** `--tproxy-mark value[/mask]` in an opaque TPROXY target's text (the mask defaults to all 32 bits). */
export function tproxyMark(text: string): { value: number; mask: number } | undefined {
  const m = /--tproxy-mark\s+(0x[0-9a-fA-F]+|\d+)(?:\/(0x[0-9a-fA-F]+|\d+))?/.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]) >>> 0;
  const mask = m[2] === undefined ? ALL : Number(m[2]) >>> 0;
  return { value: value & mask, mask };
}

/**
 * The jump graph of one table, read in the one pass over its rules (on 100,000 rules each pass costs):
 * chain ci's targets (chain indices, each once) are targets[targetStart[ci] .. targetStart[ci + 1]).
 */
class JumpGraph {
  readonly targetStart: Int32Array;
  targets: Int32Array;
  private readonly index = new Map<string, number>();
  /** added[j]: the last chain that listed j. */
  private readonly added: Int32Array;
  private n = 0;

  constructor(private readonly chains: readonly Chain[]) {
    const count = chains.length;
    for (let i = 0; i < count; i++) this.index.set(chains[i].name, i);
    this.targetStart = new Int32Array(count + 1);
    this.targets = new Int32Array(Math.max(16, count));
    this.added = new Int32Array(count).fill(-1);
  }

  /** Starts chain ci (chains are read in order). */
  begin(ci: number): void {
    this.targetStart[ci] = this.n;
  }

  end(): void {
    this.targetStart[this.chains.length] = this.n;
  }

  /**
   * One rule of chain ci: its jump/goto targets are recorded; returns 1 when it reads or writes a mark,
   * 3 when it also has an NFQUEUE action.
   */
  scan(ci: number, exprs: readonly Expr[]): number {
    let f = 0;
    for (const e of exprs) {
      if (e.type === 'match') {
        if (e.key === 'mark' || e.key === 'ctmark') f |= 1;
      } else if (e.kind === 'jump' || e.kind === 'goto') {
        const j = this.index.get(e.chain);
        if (j !== undefined && this.added[j] !== ci) {
          this.added[j] = ci;
          if (this.n === this.targets.length) {
            const grown = new Int32Array(this.n * 2);
            grown.set(this.targets);
            this.targets = grown;
          }
          this.targets[this.n++] = j;
        }
      } else if (e.kind === 'queue') f |= 3;
      else if (e.kind === 'mark' || e.kind === 'ctmark' || e.kind === 'connmark-save' || e.kind === 'connmark-restore' || (e.kind === 'tproxy' && e.mark)) f |= 1;
      else if (e.kind === 'other' && e.name === 'TPROXY' && e.text.includes('--tproxy-mark')) f |= 1;
    }
    return f;
  }
}

export function collectFacts(rs: Ruleset, catalog: readonly ComponentEntry[]): Facts {
  const attr = new Attributor(catalog);
  const readers: Reader[] = [];
  const writers: Writer[] = [];
  const queues: QueueSite[] = [];
  const ipRules: IpRuleSite[] = [];
  const ruleCounts = new Map<string, number>();
  const firstRule = new Map<string, RuleRef>();
  const unattributed: UnattributedChain[] = [];
  const stats = { tables: rs.tables.length, chains: 0, rules: 0, ipRules: rs.ipRules.length, markRules: 0 };

  for (const r of rs.ipRules) {
    const owner = attr.ipRuleOwner(r) ?? (r.fwmark ? `${UNATTRIBUTED}ip rule/pref ${r.priority}` : null);
    if (owner === null) continue;
    ruleCounts.set(owner, (ruleCounts.get(owner) ?? 0) + 1);
    const ref: RuleRef = { source: r.pos.source, line: r.pos.line, table: r.family === 'ip6' ? 'ip -6 rule' : 'ip rule', chain: `pref ${r.priority}`, text: r.text, family: r.family };
    if (!firstRule.has(owner)) firstRule.set(owner, ref);
    ipRules.push({ owner, family: r.family, priority: r.priority, ref });
    if (!r.fwmark) continue;
    stats.markRules++;
    const target = r.action === 'lookup' ? r.table ?? 'main' : r.action;
    const entry = { family: r.family, label: 'routing decision', hook: 'routing', priority: 0 };
    readers.push({ space: 'mark', value: r.fwmark.value >>> 0, mask: r.fwmark.mask >>> 0, invert: r.invert, effect: { kind: 'routing', target }, owner, ref, entries: [entry] });
  }
  // A rule no entry claims that sets exactly the mark an attributed routing rule looks for belongs to
  // that rule's owner (kube-router's IPVS/DSR fwmarks are written without a comment).
  const fwmarkOwner = new Map<number, string>();
  for (const r of readers) if (r.effect.kind === 'routing' && !r.owner.startsWith(UNATTRIBUTED)) fwmarkOwner.set(r.value, r.owner);

  // Entries the node shows by a chain of their own (an empty KUBE-KUBELET-CANARY says kubelet is there),
  // and the modes rules revealed by their marks: both settle owners only the whole ruleset can.
  const present = new Set<string>();
  const modes = new Set<string>();

  for (const table of rs.tables) {
    const chains = table.chains;
    const graph = new JumpGraph(chains);
    const tlabel = tableLabel(table);
    // One pass over the rules: owners, counts and the jump graph. The mark facts of the (few) rules that
    // touch marks name where their chain is reached from, known only once the graph is complete: they
    // wait here (chain, rule, owner, ref).
    const waitChain: number[] = [];
    const waitRule: number[] = [];
    const waitOwner: string[] = [];
    const waitRef: RuleRef[] = [];
    for (let ci = 0; ci < chains.length; ci++) {
      const chain = chains[ci];
      graph.begin(ci);
      stats.chains++;
      const chainOwner = attr.chainOwner(table, chain);
      if (chainOwner) present.add(chainOwner);
      let un: UnattributedChain | undefined;
      const rules = chain.rules;
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i];
        stats.rules++;
        const rf = graph.scan(ci, rule.exprs);
        const markRelevant = rf !== 0;
        let owner = attr.ruleOwner(chain, rule, chainOwner, markRelevant, (rf & 2) !== 0);
        if (owner === null && markRelevant && fwmarkOwner.size) owner = ownerByFwmark(rule.exprs, fwmarkOwner);
        if (owner === null) {
          if (!un) {
            un = { table: tlabel, chain: chain.name, family: table.family, rules: 0, markRules: 0 };
            unattributed.push(un);
          }
          un.rules++;
          if (markRelevant) un.markRules++;
          if (!markRelevant) continue;
          owner = `${UNATTRIBUTED}${tlabel}/${chain.name}`;
        }
        ruleCounts.set(owner, (ruleCounts.get(owner) ?? 0) + 1);
        if (!markRelevant) {
          if (!firstRule.has(owner)) firstRule.set(owner, refOf(rule, tlabel, chain.name, table.family));
          continue;
        }
        stats.markRules++;
        const mode = attr.variantHit(owner, rule);
        if (mode) modes.add(mode);
        const ref = refOf(rule, tlabel, chain.name, table.family);
        if (!firstRule.has(owner)) firstRule.set(owner, ref);
        waitChain.push(ci);
        waitRule.push(i);
        waitOwner.push(owner);
        waitRef.push(ref);
      }
    }
    graph.end();
    const entries = reach(table, graph.targetStart, graph.targets);
    for (let w = 0; w < waitChain.length; w++) {
      const ci = waitChain[w];
      const i = waitRule[w];
      const owner = waitOwner[w];
      const ref = waitRef[w];
      const rules = chains[ci].rules;
      const rule = rules[i];
      const chainEntriesList = entries[ci];
      let effect: Effect | undefined;
      for (const e of rule.exprs) {
        if (e.type === 'match') {
          if (e.key !== 'mark' && e.key !== 'ctmark') continue;
          effect ??= ruleEffect(rule);
          const reader: Reader = { space: e.key, value: e.value >>> 0, mask: e.mask >>> 0, invert: !!e.invert, effect, owner, ref, entries: chainEntriesList };
          if (effect.kind === 'return' || effect.kind === 'accept' || effect.kind === 'jump' || effect.kind === 'goto') {
            reader.fallthrough = rules.slice(i + 1, i + 4).map(ruleEffect);
          }
          readers.push(reader);
          continue;
        }
        switch (e.kind) {
          case 'mark':
          case 'ctmark': {
            const and = e.and >>> 0;
            const xor = e.xor >>> 0;
            writers.push({ space: e.kind, kind: 'set', touches: (~and | xor) >>> 0, sets: xor, clears: (~and & ~xor) >>> 0, full: and === 0, owner, ref, entries: chainEntriesList });
            break;
          }
          case 'connmark-restore': {
            const touches = (e.nfmask | e.ctmask) >>> 0;
            const full = touches === ALL;
            writers.push({ space: 'mark', kind: 'restore', touches, sets: full ? exactValue(rule.exprs, 'ctmark') : touches, clears: touches, full, owner, ref, entries: chainEntriesList });
            break;
          }
          case 'connmark-save': {
            const touches = (e.nfmask | e.ctmask) >>> 0;
            const full = touches === ALL;
            writers.push({ space: 'ctmark', kind: 'save', touches, sets: full ? exactValue(rule.exprs, 'mark') : touches, clears: touches, full, owner, ref, entries: chainEntriesList });
            break;
          }
          case 'tproxy':
            if (e.mark) {
              const touches = (e.mark.mask | e.mark.value) >>> 0;
              writers.push({ space: 'mark', kind: 'tproxy', touches, sets: e.mark.value >>> 0, clears: (e.mark.mask & ~e.mark.value) >>> 0, full: e.mark.mask >>> 0 === ALL, owner, ref, entries: chainEntriesList });
            }
            break;
          case 'other': {
            // The iptables parser keeps TPROXY as an opaque target; its --tproxy-mark is still a write.
            const t = e.name === 'TPROXY' ? tproxyMark(e.text) : undefined;
            if (t) {
              const touches = (t.mask | t.value) >>> 0;
              writers.push({ space: 'mark', kind: 'tproxy', touches, sets: t.value, clears: (t.mask & ~t.value) >>> 0, full: t.mask === ALL, owner, ref, entries: chainEntriesList });
            }
            break;
          }
          case 'queue':
            queues.push({ num: e.num, numTo: e.numTo, bypass: e.bypass, owner, ref, entries: chainEntriesList });
            break;
          default:
            break;
        }
      }
    }
  }

  const facts = { readers, writers, queues, ipRules, ruleCounts, firstRule, unattributed, stats };
  for (const id of [...ruleCounts.keys()]) {
    if (!id.startsWith(SHARED)) continue;
    const candidates = sharedCandidates(id);
    const found = candidates.filter((c) => ruleCounts.has(c) || present.has(c));
    reassign(facts, new Map([[id, found.length ? found : candidates]]));
  }
  for (const mode of modes) {
    const base = catalog.find((e) => e.id === mode)?.identify.variantOf?.entries ?? [];
    reassign(facts, new Map(base.map((b) => [b, [mode]])));
  }
  return facts;
}

/** Gives the facts and rule counts of each owner id in `to` to the owners it maps to (the first one leads). */
function reassign(facts: Pick<Facts, 'readers' | 'writers' | 'queues' | 'ruleCounts' | 'firstRule'>, to: Map<string, string[]>): void {
  const remap = (x: { owner: string; coOwners?: string[] }): void => {
    const all = [x.owner, ...(x.coOwners ?? [])].flatMap((o) => to.get(o) ?? [o]);
    const owners = [...new Set(all)];
    x.owner = owners[0];
    if (owners.length > 1) x.coOwners = owners.slice(1);
    else delete x.coOwners;
  };
  for (const list of [facts.readers, facts.writers, facts.queues]) for (const x of list) if (to.has(x.owner) || x.coOwners?.some((o) => to.has(o))) remap(x);
  for (const [from, owners] of to) {
    const n = facts.ruleCounts.get(from);
    if (n !== undefined) {
      facts.ruleCounts.delete(from);
      for (const o of owners) facts.ruleCounts.set(o, (facts.ruleCounts.get(o) ?? 0) + n);
    }
    const first = facts.firstRule.get(from);
    if (first) {
      facts.firstRule.delete(from);
      for (const o of owners) if (!facts.firstRule.has(o)) facts.firstRule.set(o, first);
    }
  }
}

/**
 * The value a whole-word copy writes when the rule only matches one: wg-quick saves the mark into the
 * connmark only for packets whose mark is 51820, so the connmark gets 0xca6c. 0 when the rule does not say.
 */
function exactValue(exprs: readonly Expr[], key: 'mark' | 'ctmark'): number {
  for (const e of exprs) if (e.type === 'match' && e.key === key && e.mask >>> 0 === ALL && !e.invert) return e.value >>> 0;
  return 0;
}

/** Whether a fact belongs to an owner, as its leading owner or one of the others. */
export function ownedBy(x: { owner: string; coOwners?: string[] }, id: string): boolean {
  return x.owner === id || (x.coOwners !== undefined && x.coOwners.includes(id));
}

function refOf(rule: import('../ruleset/model.js').Rule, table: string, chain: string, family: string): RuleRef {
  return { source: rule.pos.source, line: rule.pos.line, table, chain, text: rule.text, family };
}

function ownerByFwmark(exprs: import('../ruleset/model.js').Expr[], fwmarkOwner: Map<number, string>): string | null {
  for (const e of exprs) {
    if (e.type === 'action' && e.kind === 'mark' && e.and >>> 0 === 0) {
      const o = fwmarkOwner.get(e.xor >>> 0);
      if (o) return o;
    }
  }
  return null;
}
