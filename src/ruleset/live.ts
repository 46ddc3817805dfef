// The edge of the ruleset package: reading the running host (or a named network namespace) with the real
// tools, and loading nft's text form through a throwaway namespace. Everything else in src/ruleset is pure.
import { readFile } from 'node:fs/promises';
import { run, type RunResult } from '../lab/exec.js';
import { Netns } from '../lab/netns.js';
import type { Problem, Ruleset } from './model.js';
import { dropFakeBuiltins, mergeRulesets } from './merge.js';
import { IPTABLES_TABLES, parseIptablesSave } from './iptables/parser.js';
import { parseNftJson } from './nft/parser.js';
import { parseIpRules } from './iprule.js';

export interface LiveBackends {
  /** iptables-legacy tables present (from /proc/net/ip{,6}_tables_names) and whether they hold rules. */
  legacy: { ip: BackendState; ip6: BackendState };
  /** iptables-nft tables (as iptables-nft-save lists them). */
  nft: { ip: BackendState; ip6: BackendState };
  /** Native nftables tables (not made by iptables-nft). */
  nftNative: { tables: number; rules: number };
}

export interface BackendState {
  tables: number;
  rules: number;
}

export interface LiveResult {
  ruleset: Ruleset;
  backends: LiveBackends;
  warnings: string[];
}

interface ReadOpts {
  netns?: string;
  signal?: AbortSignal;
}

function exec(cmd: string, args: string[], opts: ReadOpts): Promise<RunResult> {
  const full = opts.netns ? ['ip', ['netns', 'exec', opts.netns, cmd, ...args]] as const : ([cmd, args] as const);
  return run(full[0], full[1], { timeoutMs: 30_000, signal: opts.signal });
}

const count = (r: Ruleset): BackendState => ({ tables: r.tables.length, rules: r.tables.reduce((s, t) => s + t.chains.reduce((c, ch) => c + ch.rules.length, 0), 0) });

function readFailed(source: string, message: string): Problem {
  return { code: 'READ_FAILED', severity: 'warning', message, source, line: 1, column: 1 };
}

/**
 * Reads iptables-legacy-save, iptables-nft-save, ip6tables-*, `nft -j list ruleset`, `ip rule` and
 * `ip -6 rule`, and merges them. Legacy tools run only when the legacy tables exist (reading
 * /proc/net/ip_tables_names), so that reading never loads the legacy modules.
 */
export async function readLiveRuleset(opts: ReadOpts = {}): Promise<LiveResult> {
  const warnings: string[] = [];
  const parts: Ruleset[] = [];
  const backends: LiveBackends = {
    legacy: { ip: { tables: 0, rules: 0 }, ip6: { tables: 0, rules: 0 } },
    nft: { ip: { tables: 0, rules: 0 }, ip6: { tables: 0, rules: 0 } },
    nftNative: { tables: 0, rules: 0 },
  };
  // A listing that failed is a READ_FAILED problem (every caller prints or weighs problems), not a warning too.
  const tool = async (cmd: string, args: string[]): Promise<string | undefined> => {
    try {
      const r = await exec(cmd, args, opts);
      if (r.code === 0) return r.stdout;
      parts.push({ tables: [], ipRules: [], problems: [readFailed(`live:${cmd}`, r.stderr.trim() || `exit ${r.code}`)] });
    } catch (e) {
      parts.push({ tables: [], ipRules: [], problems: [readFailed(`live:${cmd}`, (e as Error).message)] });
    }
    return undefined;
  };
  /** Families iptables-nft-save (ip6tables-nft-save) listed. */
  const savedFamilies = new Set<string>();
  for (const family of ['ip', 'ip6'] as const) {
    const names = await exec('cat', [`/proc/net/${family === 'ip' ? 'ip' : 'ip6'}_tables_names`], opts).catch(() => undefined);
    const legacyPresent = names !== undefined && names.code === 0 && names.stdout.trim() !== '';
    const prefix = family === 'ip' ? 'iptables' : 'ip6tables';
    if (legacyPresent) {
      const text = await tool(`${prefix}-legacy-save`, []);
      if (text !== undefined) {
        const r = parseIptablesSave(text, { source: `live:${prefix}-legacy-save`, family, origin: 'iptables-legacy' });
        for (const t of r.tables) t.origin = 'iptables-legacy';
        backends.legacy[family] = count(r);
        parts.push(r);
      }
    }
    const text = await tool(`${prefix}-nft-save`, []);
    if (text !== undefined) {
      savedFamilies.add(family);
      const r = parseIptablesSave(text, { source: `live:${prefix}-nft-save`, family, origin: 'iptables-nft' });
      backends.nft[family] = count(r);
      parts.push(r);
    }
  }
  const nftText = await tool('nft', ['-j', 'list', 'ruleset']);
  if (nftText !== undefined && nftText.trim() !== '') {
    const r = parseNftJson(nftText, { source: 'live:nft -j list ruleset' });
    // iptables-nft-save lists built-in chains nftables does not have: the listing says which exist.
    for (const p of parts) dropFakeBuiltins(p, r);
    // The tables iptables-nft-save printed are read above, with their options; keep the others. Decided by
    // name, not by the look of the JSON: an iptables-nft table without xt expressions or base chains looks
    // native, and one iptables-nft cannot read (`# Table `filter' is incompatible`) looks like iptables'.
    const fromSave = new Set(parts.flatMap((p) => p.tables.filter((t) => t.origin === 'iptables-nft').map((t) => `${t.family} ${t.name}`)));
    // (and the listing's XT_OPAQUE warnings about them: iptables-nft-save showed their options)
    const native = { ...r, tables: r.tables.filter((t) => !fromSave.has(`${t.family} ${t.name}`)), problems: r.problems.filter((p) => !(p.code === 'XT_OPAQUE' && fromSave.has(p.token ?? ''))) };
    // A table of a family iptables-nft-save did list, left out by it, is one it cannot read: native nft.
    for (const t of native.tables) if (t.origin === 'iptables-nft' && savedFamilies.has(t.family)) t.origin = 'nft';
    backends.nftNative = count({ ...native, tables: native.tables.filter((t) => t.origin === 'nft') });
    parts.push(native);
  }
  for (const family of ['ip', 'ip6'] as const) {
    const text = await tool('ip', family === 'ip' ? ['rule'] : ['-6', 'rule']);
    if (text !== undefined) parts.push(parseIpRules(text, { source: `live:ip${family === 'ip6' ? ' -6' : ''} rule`, family }));
  }
  const merged = mergeRulesets(...parts);
  const legacyRules = backends.legacy.ip.rules + backends.legacy.ip6.rules;
  const nftRules = backends.nft.ip.rules + backends.nft.ip6.rules + backends.nftNative.rules;
  if (legacyRules > 0 && nftRules > 0) {
    const msg = `both iptables-legacy (${legacyRules} rules) and nftables (${nftRules} rules, iptables-nft or native) hold rules: the kernel runs both, and rules added with one tool do not show in the other's listing`;
    warnings.push(msg);
    merged.problems.push({ code: 'BACKEND_CONFLICT', severity: 'warning', message: msg, source: 'live', line: 1, column: 1 });
  }
  return { ruleset: merged, backends, warnings };
}

/**
 * nft's text form (`nft list ruleset`, an nft -f script) read by the real nft: loaded into a throwaway
 * namespace, listed back as JSON, parsed. nft's own errors become problems at their line and column.
 */
export async function loadNftText(text: string, opts: { source: string; signal?: AbortSignal }): Promise<Ruleset> {
  const ns = await Netns.create('nftload');
  try {
    const load = await ns.exec('nft', ['-f', '-'], { input: text, timeoutMs: 30_000, signal: opts.signal });
    if (load.code !== 0) {
      const problems: Problem[] = [];
      for (const line of load.stderr.split('\n')) {
        const m = /^[^:]*:(\d+):(\d+)(?:-\d+)?: Error: (.*)$/.exec(line);
        if (m) problems.push({ code: 'BAD_JSON', severity: 'error', message: `nft: ${m[3]}`, source: opts.source, line: Number(m[1]), column: Number(m[2]) });
      }
      if (problems.length === 0) problems.push({ code: 'READ_FAILED', severity: 'error', message: `nft -f failed: ${load.stderr.trim()}`, source: opts.source, line: 1, column: 1 });
      for (const p of problems) if (p.code === 'BAD_JSON') p.code = 'READ_FAILED';
      return { tables: [], ipRules: [], problems };
    }
    const listed = await ns.execOk('nft', ['-j', 'list', 'ruleset'], { timeoutMs: 30_000 });
    const r = parseNftJson(listed, { source: `${opts.source} (listed back by nft -j)` });
    // nft lists the xt matches and targets of an iptables-nft table as their nft translations, which are
    // not always exact (`-m conntrack --ctstate NEW,DNAT` lists as `ct status dnat`): loaded back they
    // are native rules that may mean something else.
    for (const t of r.tables) {
      // After the reload a table is native either way: recognised by name and built-in chains (one with
      // only user chains, such as mangle with iptables' MARK rules alone, keeps no other trace).
      const iptablesLike = t.origin === 'iptables-nft' || ((t.family === 'ip' || t.family === 'ip6') && IPTABLES_TABLES.includes(t.name) && t.chains.every((c) => !c.base));
      if (!iptablesLike) continue;
      const at = tableLine(text, t.family, t.name);
      r.problems.push({ code: 'TRANSLATED_TABLE', severity: 'warning', message: `table ${t.family} ${t.name} looks like one of iptables-nft's: nft's text shows its iptables matches and targets translated, not always exactly; read it with ${t.family === 'ip6' ? 'ip6tables' : 'iptables'}-nft-save instead`, source: opts.source, line: at, column: 1, token: `table ${t.family} ${t.name}` });
    }
    return r;
  } finally {
    await ns.destroy();
  }
}

/** The 1-based line of `table FAMILY NAME` in nft text, or 1. */
function tableLine(text: string, family: string, name: string): number {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.trim().startsWith(`table ${family} ${name} `) || l.trim() === `table ${family} ${name}`);
  return i < 0 ? 1 : i + 1;
}

/**
 * Reads a file, or standard input for '-'. A byte order mark (files saved by Windows editors) becomes a blank,
 * so that JSON.parse and the line reader accept the text and every column stays where it was.
 */
export async function readInput(path: string, readStdin?: () => Promise<string>): Promise<string> {
  let text: string;
  if (path === '-') {
    if (!readStdin) throw new Error('standard input is not available');
    text = await readStdin();
  } else text = await readFile(path, 'utf8');
  return text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text;
}

/**
 * The fix for a save/restore tool that failed. iptables-legacy talks to the kernel through a raw socket,
 * which needs CAP_NET_RAW besides CAP_NET_ADMIN: a container with only NET_ADMIN (deploy/daemonset.yaml)
 * cannot read or change legacy tables, and would otherwise take a legacy node for an empty one.
 */
export function toolHint(tool: string, stderr: string): string {
  if (/legacy/.test(tool) && /Permission denied|must be root/i.test(stderr)) {
    return ' (iptables-legacy needs CAP_NET_RAW as well as CAP_NET_ADMIN: add NET_RAW to the capabilities of the container, see deploy/README.md)';
  }
  return '';
}

/** What a failed save/restore tool said (the first line of its stderr), with the fix when toolHint knows one. */
export function toolFailure(tool: string, stderr: string): string {
  return `${stderr.trim().split('\n')[0] ?? ''}${toolHint(tool, stderr)}`;
}

/**
 * The ruleset listings that failed (the reader records them as READ_FAILED problems, source
 * "live:TOOL"), as "TOOL: error (fix)". A listing that failed is not an empty one: with only
 * CAP_NET_ADMIN, iptables-legacy-save cannot read kube-proxy's legacy rules, and a check that skipped
 * them would pass on exactly the node where the mask conflicts.
 */
export function unreadableSources(ruleset: Ruleset): string[] {
  return ruleset.problems
    .filter((p) => p.code === 'READ_FAILED' && p.source.startsWith('live:'))
    // A kernel without IPv6 has no IPv6 rules to miss.
    .filter((p) => !/Address family not supported|Protocol not supported/i.test(p.message))
    .map((p) => {
      const tool = p.source.slice('live:'.length);
      return `${tool}: ${toolFailure(tool, p.message)}`;
    });
}
