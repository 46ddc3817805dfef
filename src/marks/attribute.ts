// Which catalog entry a rule belongs to. Precedence, most specific first: the rule's comment, an
// NFQUEUE action, the nft table, the chain name (exact before prefix, longer prefix first), the chain a
// base-chain rule jumps to, and last a mark expression that by itself identifies a component
// (Tailscale's 0xff0000 mask). Two answers wait for the whole ruleset (facts.ts resolves them): chains
// and comments several components share (an id starting with SHARED), and modes told apart by marks
// (Calico eBPF, see variantHit).
import type { Chain, Expr, IpRule, Rule, Table } from '../ruleset/model.js';

import type { ComponentEntry, Space } from './types.js';

/** Owner id of a rule several entries write identically: `shared:<entry>|<entry>`, resolved in facts.ts. */
export const SHARED = 'shared:';

/** The candidate entries of a SHARED id. */
export function sharedCandidates(id: string): string[] {
  return id.slice(SHARED.length).split('|');
}

interface NamePattern {
  text: string;
  prefix: boolean;
  id: string;
}

function compileNames(list: Array<{ names: string[] | undefined; id: string }>): { exact: Map<string, string>; prefixes: NamePattern[] } {
  const exact = new Map<string, string>();
  const prefixes: NamePattern[] = [];
  for (const { names, id } of list) {
    for (const n of names ?? []) {
      if (n.endsWith('*')) prefixes.push({ text: n.slice(0, -1), prefix: true, id });
      else if (!exact.has(n)) exact.set(n, id);
    }
  }
  prefixes.sort((a, b) => b.text.length - a.text.length);
  return { exact, prefixes };
}

function lookupName(name: string, c: { exact: Map<string, string>; prefixes: NamePattern[] }): string | null {
  const e = c.exact.get(name);
  if (e) return e;
  for (const p of c.prefixes) if (name.startsWith(p.text)) return p.id;
  return null;
}

/** The mark expressions of a rule: (space, value, mask) of matches and written masks of actions. */
export function markExprs(exprs: readonly Expr[]): Array<{ space: Space; value: number; mask: number }> {
  const out: Array<{ space: Space; value: number; mask: number }> = [];
  for (const e of exprs) {
    if (e.type === 'match') {
      if (e.key === 'mark' || e.key === 'ctmark') out.push({ space: e.key, value: e.value >>> 0, mask: e.mask >>> 0 });
    } else if (e.kind === 'mark' || e.kind === 'ctmark') {
      out.push({ space: e.kind, value: e.xor >>> 0, mask: (~e.and | e.xor) >>> 0 });
    } else if (e.kind === 'connmark-restore') {
      out.push({ space: 'mark', value: 0, mask: e.nfmask >>> 0 }, { space: 'ctmark', value: 0, mask: e.ctmask >>> 0 });
    } else if (e.kind === 'connmark-save') {
      out.push({ space: 'ctmark', value: 0, mask: e.ctmask >>> 0 }, { space: 'mark', value: 0, mask: e.nfmask >>> 0 });
    } else if (e.kind === 'tproxy' && e.mark) {
      out.push({ space: 'mark', value: e.mark.value >>> 0, mask: e.mark.mask >>> 0 });
    }
  }
  return out;
}

export class Attributor {
  private readonly comments: Array<{ re: RegExp; id: string }> = [];
  private readonly chains;
  private readonly tables;
  /** Per base entry, the modes of it told apart by marks (variantOf). */
  private readonly variants = new Map<string, Array<{ marks: Array<{ space: Space; valueWithin: number; valueHas: number }>; id: string }>>();
  private readonly signatures: Array<{ space: Space; mask: number; value?: number; id: string }> = [];
  private readonly queueId: string | null = null;
  private readonly commentCache = new Map<string, string | null>();
  /** All comment patterns in one expression: most comments match none, and one test says so. */
  private anyComment: RegExp = /$^/;

  constructor(readonly catalog: readonly ComponentEntry[]) {
    const shared: Array<{ names: string[] | undefined; id: string }> = [];
    const sharedTables: Array<{ names: string[] | undefined; id: string }> = [];
    const sharedComments: Array<{ re: RegExp; id: string }> = [];
    for (const e of catalog) {
      for (const c of e.identify.comments ?? []) this.comments.push({ re: new RegExp(c), id: e.id });
      const v = e.identify.variantOf;
      if (v) for (const base of v.entries) this.variants.set(base, [...(this.variants.get(base) ?? []), { marks: v.marks, id: e.id }]);
      const sh = e.identify.sharedWith;
      if (sh) {
        const id = `${SHARED}${e.id}|${sh.entry}`;
        shared.push({ names: sh.chains, id });
        sharedTables.push({ names: sh.tables, id });
        for (const c of sh.comments ?? []) sharedComments.push({ re: new RegExp(c), id });
      }
      for (const m of e.identify.marks ?? []) this.signatures.push({ ...m, id: e.id });
      if (e.identify.queue && this.queueId === null) this.queueId = e.id;
    }
    // A component's own comments and chain names come before the ones it shares.
    this.comments.push(...sharedComments);
    if (this.comments.length) this.anyComment = new RegExp(this.comments.map((c) => `(?:${c.re.source})`).join('|'));
    this.chains = compileNames([...catalog.map((e) => ({ names: e.identify.chains, id: e.id })), ...shared]);
    this.tables = compileNames([...catalog.map((e) => ({ names: e.identify.tables, id: e.id })), ...sharedTables]);
  }

  /** The owner every rule of this chain gets unless the rule itself says otherwise. */
  chainOwner(table: Table, chain: Chain): string | null {
    if (table.origin === 'nft') {
      const t = lookupName(table.name, this.tables);
      if (t) return t;
    }
    return lookupName(chain.name, this.chains);
  }

  commentOwner(comment: string): string | null {
    // Most comments match no pattern (kube-proxy's name services) and are nearly all different: the one
    // combined test says so without a cache entry, which on 100,000 comments costs more than the test.
    if (!this.anyComment.test(comment)) return null;
    let id = this.commentCache.get(comment);
    if (id !== undefined) return id;
    id = null;
    for (const c of this.comments) {
      if (c.re.test(comment)) {
        id = c.id;
        break;
      }
    }
    this.commentCache.set(comment, id);
    return id;
  }

  /**
   * The mode (variantOf entry) a rule of `owner` shows by its marks, if any: Calico's rules that test or
   * set the eBPF programs' marks say felix runs the eBPF dataplane.
   */
  variantHit(owner: string, rule: Rule): string | null {
    const vs = this.variants.get(owner);
    if (!vs) return null;
    const marks = markExprs(rule.exprs);
    for (const v of vs) {
      if (marks.some((m) => v.marks.some((s) => s.space === m.space && (m.value & ~s.valueWithin) === 0 && (m.value & s.valueHas) !== 0))) return v.id;
    }
    return null;
  }

  /** `hasMarks`/`hasQueue`: whether the rule has mark expressions or an NFQUEUE action (the caller has scanned it already). */
  ruleOwner(chain: Chain, rule: Rule, chainOwner: string | null, hasMarks: boolean, hasQueue: boolean): string | null {
    if (rule.comment) {
      const id = this.commentOwner(rule.comment);
      if (id) return id;
    }
    if (this.queueId && hasQueue) return this.queueId;
    if (chainOwner) return chainOwner;
    for (const e of rule.exprs) {
      if (e.type === 'action' && (e.kind === 'jump' || e.kind === 'goto')) {
        const id = lookupName(e.chain, this.chains);
        if (id) return id;
      }
    }
    if (!hasMarks) return null;
    for (const m of markExprs(rule.exprs)) {
      for (const s of this.signatures) {
        if (s.space === m.space && s.mask === m.mask && (s.value === undefined || s.value === m.value)) return s.id;
      }
    }
    return null;
  }

  ipRuleOwner(r: IpRule): string | null {
    for (const e of this.catalog) {
      const ip = e.identify.ipRules;
      if (!ip) continue;
      if (ip.priorities?.includes(r.priority)) return e.id;
      if (r.table !== undefined && ip.tables?.includes(r.table)) return e.id;
      if (r.fwmark && ip.fwmarks?.includes(r.fwmark.value >>> 0)) return e.id;
    }
    if (r.fwmark) {
      for (const s of this.signatures) {
        if (s.space === 'mark' && s.mask === (r.fwmark.mask >>> 0) && (s.value === undefined || s.value === r.fwmark.value >>> 0)) return s.id;
      }
    }
    return null;
  }
}
