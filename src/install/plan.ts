// Steering rules: which traffic goes to the queues. Pure: the config's steering section becomes
// normalized rules, then iptables-restore or nft text, and saved rulesets are read back into what
// nfqguard installed. Every rule carries the bypass flag (a dead consumer must not black-hole traffic)
// and spreads flows over the worker queues; a flow-bypass rule in front lets flows whose ctmark has
// the owned bypass bit skip the queue. Everything installed is tagged, so uninstall removes exactly it:
// iptables rules by the comment "nfqguard:NAME:HASH" and chains named NFQG-NAME-HOOK, nft by its own
// table inet nfqguard_NAME.
import { createHash } from 'node:crypto';
import { parseCidr } from '../util/ip.js';

export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
export type Family = 4 | 6;

export interface SteeringSpec {
  hook: Hook;
  protocol: 'tcp' | 'udp' | 'sctp' | 'all';
  dports?: Array<number | string>;
  sports?: Array<number | string>;
  in_interface?: string;
  out_interface?: string;
  sources?: string[];
  destinations?: string[];
}

/** One normalized steering rule for one address family. */
export interface SteeringRule {
  index: number;
  family: Family;
  hook: Hook;
  protocol: 'tcp' | 'udp' | 'sctp' | null;
  /** Port ranges [lo, hi]. */
  dports: Array<[number, number]>;
  sports: Array<[number, number]>;
  inInterface?: string;
  outInterface?: string;
  source?: string;
  destination?: string;
}

export class SteeringError extends Error {
  constructor(
    readonly path: Array<string | number>,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'SteeringError';
  }
}

const IN_HOOKS: Hook[] = ['prerouting', 'input', 'forward'];
const OUT_HOOKS: Hook[] = ['forward', 'output', 'postrouting'];

function ports(list: Array<number | string> | undefined, path: Array<string | number>): Array<[number, number]> {
  return (list ?? []).map((p, k) => {
    const m = /^\s*(\d{1,5})\s*(?:[-:]\s*(\d{1,5}))?\s*$/.exec(String(p));
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || hi > 65535 || lo > hi) throw new SteeringError([...path, k], `"${p}" is not a port or port range`, 'write 443 or 8000-8080');
    return [lo, hi];
  });
}

/** Normalizes the steering section: one rule per family and address pair it applies to. */
export function compileSteering(specs: SteeringSpec[], families: Array<'ipv4' | 'ipv6'>): SteeringRule[] {
  const out: SteeringRule[] = [];
  specs.forEach((s, index) => {
    const protocol = s.protocol === 'all' ? null : s.protocol;
    const dports = ports(s.dports, [index, 'dports']);
    const sports = ports(s.sports, [index, 'sports']);
    if (protocol === null && (dports.length > 0 || sports.length > 0)) {
      throw new SteeringError([index, 'protocol'], 'ports need a protocol', 'add protocol: tcp (or udp, sctp)');
    }
    if (dports.length > 15 || sports.length > 15) throw new SteeringError([index, dports.length > 15 ? 'dports' : 'sports'], 'at most 15 ports or ranges per rule (the multiport limit)', 'split the rule in two');
    if (s.in_interface !== undefined && !IN_HOOKS.includes(s.hook)) {
      throw new SteeringError([index, 'in_interface'], `hook ${s.hook} has no input interface`, 'use out_interface, or hook prerouting/input/forward');
    }
    if (s.out_interface !== undefined && !OUT_HOOKS.includes(s.hook)) {
      throw new SteeringError([index, 'out_interface'], `hook ${s.hook} has no output interface`, 'use in_interface, or hook forward/output/postrouting');
    }
    const addrs = (list: string[] | undefined, key: string): Array<{ text: string; family: Family }> | null =>
      list === undefined
        ? null
        : list.map((t, k) => {
            const c = parseCidr(t);
            if (c === null) throw new SteeringError([index, key, k], `"${t}" is not an IP address or CIDR`, 'write e.g. 10.0.0.0/8 or fd00::/8');
            return { text: t.trim(), family: c.family };
          });
    const srcs = addrs(s.sources, 'sources');
    const dsts = addrs(s.destinations, 'destinations');
    const before = out.length;
    for (const fam of families) {
      const f: Family = fam === 'ipv4' ? 4 : 6;
      const ss = srcs === null ? [undefined] : srcs.filter((a) => a.family === f).map((a) => a.text);
      const ds = dsts === null ? [undefined] : dsts.filter((a) => a.family === f).map((a) => a.text);
      for (const source of ss) {
        for (const destination of ds) {
          out.push({ index, family: f, hook: s.hook, protocol, dports, sports, inInterface: s.in_interface, outInterface: s.out_interface, source, destination });
        }
      }
    }
    if (out.length === before) {
      // Its addresses are all of families the config does not steer (or sources and destinations never meet).
      const fams = (list: Array<{ family: Family }>): string => [...new Set(list.map((a) => `ipv${a.family}`))].join('+');
      const steered = families.map((f) => (f === 'ipv4' ? 4 : 6));
      const usable = (list: Array<{ family: Family }> | null): boolean => list === null || list.some((a) => steered.includes(a.family));
      if (srcs !== null && dsts !== null && usable(srcs) && usable(dsts)) {
        throw new SteeringError([index, 'destinations'], `this rule steers nothing: its sources (${fams(srcs)}) and destinations (${fams(dsts)}) are never of the same family`, 'split it into one rule per family');
      }
      const key = srcs !== null && !usable(srcs) ? 'sources' : 'destinations';
      if ((key === 'sources' ? srcs : dsts)?.length === 0) throw new SteeringError([index, key], `this rule steers nothing: ${key} is an empty list`, `list addresses, or leave ${key} out for any address`);
      throw new SteeringError(
        [index, key],
        `this rule steers nothing: its ${key} are ${fams((key === 'sources' ? srcs : dsts) ?? [])} and steering.families is [${families.join(', ')}]`,
        `give ${key} of a steered family, or add the family to steering.families`,
      );
    }
  });
  return out;
}

export interface InstallSpec {
  /** Instance name (tags). */
  name: string;
  queues: number[];
  fanout: 'hash' | 'cpu';
  bypassCtMark: number;
  /** Owned packet-mark bit a bypass verdict (NF_REPEAT) carries; the chain turns it into the ctmark bit. 0: none. */
  bypassMark?: number;
  rules: SteeringRule[];
}

const HOOK_CHAIN: Record<Hook, string> = { prerouting: 'PREROUTING', input: 'INPUT', forward: 'FORWARD', output: 'OUTPUT', postrouting: 'POSTROUTING' };
const HOOK_SUFFIX: Record<Hook, string> = { prerouting: 'PRE', input: 'IN', forward: 'FWD', output: 'OUT', postrouting: 'POST' };
const HOOKS: Hook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];

export function chainName(name: string, hook: Hook): string {
  return `NFQG-${name}-${HOOK_SUFFIX[hook]}`;
}

/**
 * The chains of instance `name`, exactly: a prefix would also take in another instance's chains
 * (NFQG-a- is a prefix of NFQG-a-b-IN, instance "a-b").
 */
export function ownChains(name: string): ReadonlySet<string> {
  return new Set(HOOKS.map((h) => chainName(name, h)));
}

export function tagPrefix(name: string): string {
  return `nfqguard:${name}:`;
}

function tag(name: string, text: string): string {
  return `${tagPrefix(name)}${createHash('sha256').update(text).digest('hex').slice(0, 10)}`;
}

function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}

function queueTarget(spec: InstallSpec): string {
  const q = spec.queues;
  const base = q.length === 1 ? `--queue-num ${q[0]}` : `--queue-balance ${q[0]}:${q[q.length - 1]}`;
  return `-j NFQUEUE ${base} --queue-bypass${spec.fanout === 'cpu' && q.length > 1 ? ' --queue-cpu-fanout' : ''}`;
}

function portMatch(proto: string, flag: 'sport' | 'dport', list: Array<[number, number]>): string {
  const one = (r: [number, number]): string => (r[0] === r[1] ? `${r[0]}` : `${r[0]}:${r[1]}`);
  if (list.length === 0) return '';
  if (list.length === 1) return ` -m ${proto} --${flag} ${one(list[0])}`;
  return ` -m multiport --${flag}s ${list.map(one).join(',')}`;
}

/** One line of iptables-restore input, with its tag. */
export interface IptLine {
  chain: string;
  tag: string;
  /** The rule spec after "-A CHAIN ", comment included. */
  spec: string;
  what: string;
}

/** The rules nfqguard installs for one family, in order: per hook chain, the bypass rule, the queue rules; then the jumps. */
export function iptablesLines(spec: InstallSpec, family: Family): { chains: string[]; lines: IptLine[] } {
  const lines: IptLine[] = [];
  const chains: string[] = [];
  const jumps: IptLine[] = [];
  for (const hook of HOOKS) {
    const rules = spec.rules.filter((r) => r.family === family && r.hook === hook);
    if (rules.length === 0) continue;
    const chain = chainName(spec.name, hook);
    chains.push(chain);
    const add = (body: string, target: string, what: string, on = chain): IptLine => {
      const t = tag(spec.name, `${family} ${on} ${body} ${target}`);
      return { chain: on, tag: t, spec: `${body}${body ? ' ' : ''}-m comment --comment "${t}" ${target}`, what };
    };
    if (spec.bypassMark && spec.bypassCtMark !== 0) {
      const p = hex(spec.bypassMark);
      const b = hex(spec.bypassCtMark);
      lines.push(add(`-m mark --mark ${p}/${p}`, `-j CONNMARK --set-xmark ${b}/${b}`, `a bypass verdict (mark bit ${p}) sets ctmark bit ${b}`));
      lines.push(add(`-m mark --mark ${p}/${p}`, '-j RETURN', `a packet with mark bit ${p} is not queued again`));
    }
    if (spec.bypassCtMark !== 0) {
      const b = hex(spec.bypassCtMark);
      lines.push(add(`-m connmark --mark ${b}/${b}`, '-j RETURN', `flows with ctmark bit ${b} skip the queue`));
    }
    for (const r of rules) {
      let body = '';
      if (r.inInterface) body += ` -i ${r.inInterface}`;
      if (r.outInterface) body += ` -o ${r.outInterface}`;
      if (r.source) body += ` -s ${r.source}`;
      if (r.destination) body += ` -d ${r.destination}`;
      if (r.protocol) body += ` -p ${r.protocol}`;
      if (r.protocol) body += portMatch(r.protocol, 'sport', r.sports) + portMatch(r.protocol, 'dport', r.dports);
      lines.push(add(body.trim(), queueTarget(spec), `steering rule ${r.index}`));
    }
    jumps.push(add('', `-j ${chain}`, `jump from mangle ${HOOK_CHAIN[hook]}`, HOOK_CHAIN[hook]));
  }
  return { chains, lines: [...lines, ...jumps] };
}

/** What a saved mangle table (iptables-save text) holds of nfqguard instance `name`. */
export interface IptState {
  /** Our chains that exist. */
  chains: string[];
  /** Lines (as saved, starting with "-A ") that carry our tag or sit in our chains. */
  lines: Array<{ chain: string; tag: string | null; text: string }>;
  /** Built-in chains where a rule follows our jump: those rules never run for queued packets. */
  shadowed: Array<{ chain: string; text: string }>;
}

export function readIptablesSave(save: string, name: string): IptState {
  const prefix = tagPrefix(name);
  const own = ownChains(name);
  const state: IptState = { chains: [], lines: [], shadowed: [] };
  let inMangle = false;
  const afterJump = new Set<string>();
  for (const raw of save.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) inMangle = line === '*mangle';
    if (!inMangle) continue;
    if (line.startsWith(':')) {
      const chain = line.slice(1).split(/\s+/)[0];
      if (own.has(chain)) state.chains.push(chain);
      continue;
    }
    if (!line.startsWith('-A ')) continue;
    const chain = line.split(/\s+/)[1];
    const m = /--comment "?(nfqguard:[^"\s]+)"?/.exec(line);
    const t = m && m[1].startsWith(prefix) ? m[1] : null;
    const target = /(?:^|\s)-[jg] (\S+)/.exec(line)?.[1];
    const jumpsToOurs = target !== undefined && own.has(target);
    if (t !== null || own.has(chain) || jumpsToOurs) {
      state.lines.push({ chain, tag: t, text: line });
      if (!own.has(chain)) afterJump.add(chain);
    } else if (afterJump.has(chain)) {
      state.shadowed.push({ chain, text: line });
    }
  }
  return state;
}

export interface Drift {
  missing: string[];
  unexpected: string[];
  shadowed: string[];
}

export function iptablesDrift(spec: InstallSpec, family: Family, state: IptState): Drift {
  const want = iptablesLines(spec, family);
  const have = new Set(state.lines.map((l) => l.tag).filter((t): t is string => t !== null));
  const wantTags = new Set(want.lines.map((l) => l.tag));
  const fam = family === 4 ? 'ipv4' : 'ipv6';
  return {
    missing: [
      ...want.chains.filter((c) => !state.chains.includes(c)).map((c) => `${fam}: chain ${c} is missing`),
      ...want.lines.filter((l) => !have.has(l.tag)).map((l) => `${fam}: ${l.what} is missing: -A ${l.chain} ${l.spec}`),
    ],
    unexpected: [
      ...state.chains.filter((c) => !want.chains.includes(c)).map((c) => `${fam}: chain ${c} is not in the config`),
      ...state.lines.filter((l) => l.tag === null || !wantTags.has(l.tag)).map((l) => `${fam}: not in the config: ${l.text}`),
    ],
    shadowed: state.shadowed.map((s) => `${fam}: mangle ${s.chain}: "${s.text}" follows nfqguard's jump: it never runs for packets the queue accepts`),
  };
}

/** iptables-restore --noflush input removing everything of instance `name` that `state` shows. */
export function iptablesRemoval(state: IptState, name: string): string[] {
  const own = ownChains(name);
  const out: string[] = [];
  for (const l of state.lines) if (!own.has(l.chain)) out.push(l.text.replace(/^-A /, '-D '));
  for (const c of state.chains) out.push(`-F ${c}`);
  for (const c of state.chains) out.push(`-X ${c}`);
  return out;
}

/** iptables-restore --noflush input that replaces whatever is installed with the config's rules, atomically. */
export function iptablesInstallScript(spec: InstallSpec, family: Family, state: IptState): string {
  const want = iptablesLines(spec, family);
  const lines = ['*mangle', ...iptablesRemoval(state, spec.name)];
  for (const c of want.chains) lines.push(`:${c} - [0:0]`);
  for (const l of want.lines) lines.push(`-A ${l.chain} ${l.spec}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

export function iptablesUninstallScript(state: IptState, name: string): string | null {
  const body = iptablesRemoval(state, name);
  return body.length === 0 ? null : ['*mangle', ...body, 'COMMIT', ''].join('\n');
}

// ---- nft backend: one table of our own ----

export function nftTableName(name: string): string {
  return `nfqguard_${name.replace(/-/g, '_')}`;
}

const NFT_PRIORITY = 'mangle + 1';

function nftPorts(proto: string, dir: 'sport' | 'dport', list: Array<[number, number]>): string {
  if (list.length === 0) return '';
  const one = (r: [number, number]): string => (r[0] === r[1] ? `${r[0]}` : `${r[0]}-${r[1]}`);
  return ` ${proto} ${dir} ${list.length === 1 ? one(list[0]) : `{ ${list.map(one).join(', ')} }`}`;
}

/** The nft rules (one per line, comment = tag) for each hook chain. */
export function nftRules(spec: InstallSpec): Array<{ hook: Hook; tag: string; text: string }> {
  const q = spec.queues;
  const flags = spec.fanout === 'cpu' && q.length > 1 ? 'bypass,fanout' : 'bypass';
  const target = `queue flags ${flags} to ${q.length === 1 ? q[0] : `${q[0]}-${q[q.length - 1]}`}`;
  const out: Array<{ hook: Hook; tag: string; text: string }> = [];
  for (const hook of HOOKS) {
    const rules = spec.rules.filter((r) => r.hook === hook);
    if (rules.length === 0) continue;
    const pre: string[] = [];
    if (spec.bypassMark && spec.bypassCtMark !== 0) {
      const p = hex(spec.bypassMark);
      const b = hex(spec.bypassCtMark);
      pre.push(`meta mark & ${p} == ${p} ct mark set ct mark | ${b}`, `meta mark & ${p} == ${p} return`);
    }
    if (spec.bypassCtMark !== 0) {
      const b = hex(spec.bypassCtMark);
      pre.push(`ct mark & ${b} == ${b} return`);
    }
    for (const body of pre) out.push({ hook, tag: tag(spec.name, `nft ${hook} ${body}`), text: body });
    for (const r of rules) {
      const ip = r.family === 4 ? 'ip' : 'ip6';
      let body = `meta nfproto ${r.family === 4 ? 'ipv4' : 'ipv6'}`;
      if (r.inInterface) body += ` iifname "${r.inInterface}"`;
      if (r.outInterface) body += ` oifname "${r.outInterface}"`;
      if (r.source) body += ` ${ip} saddr ${r.source}`;
      if (r.destination) body += ` ${ip} daddr ${r.destination}`;
      if (r.protocol) {
        body += ` meta l4proto ${r.protocol}`;
        body += nftPorts('th', 'sport', r.sports) + nftPorts('th', 'dport', r.dports);
      }
      body += ` ${target}`;
      out.push({ hook, tag: tag(spec.name, `nft ${hook} ${body}`), text: body });
    }
  }
  return out;
}

/** An nft script that replaces table inet nfqguard_NAME with the config's rules in one transaction. */
export function nftInstallScript(spec: InstallSpec): string {
  const t = nftTableName(spec.name);
  const rules = nftRules(spec);
  const lines = [`table inet ${t}`, `delete table inet ${t}`, `table inet ${t} {`];
  for (const hook of HOOKS) {
    const rs = rules.filter((r) => r.hook === hook);
    if (rs.length === 0) continue;
    lines.push(`  chain ${hook} {`, `    type filter hook ${hook} priority ${NFT_PRIORITY}; policy accept;`);
    for (const r of rs) lines.push(`    ${r.text} comment "${r.tag}"`);
    lines.push('  }');
  }
  lines.push('}', '');
  return lines.join('\n');
}

export function nftUninstallScript(name: string): string {
  const t = nftTableName(name);
  return `table inet ${t}\ndelete table inet ${t}\n`;
}

/** The tags of rules in `nft -j list table inet nfqguard_NAME` output (rules without a comment: null). */
export function readNftJson(json: string): Array<{ chain: string; tag: string | null }> {
  const out: Array<{ chain: string; tag: string | null }> = [];
  try {
    const doc = JSON.parse(json) as { nftables?: Array<{ rule?: { chain: string; comment?: string } }> };
    for (const item of doc.nftables ?? []) if (item.rule) out.push({ chain: item.rule.chain, tag: item.rule.comment ?? null });
  } catch {
    // not JSON: nothing of ours can be read from it
  }
  return out;
}

export function nftDrift(spec: InstallSpec, have: Array<{ chain: string; tag: string | null }> | null): Drift {
  const want = nftRules(spec);
  const t = nftTableName(spec.name);
  if (have === null) return { missing: [`table inet ${t} is missing`], unexpected: [], shadowed: [] };
  const haveTags = new Set(have.map((h) => h.tag));
  const wantTags = new Set(want.map((w) => w.tag));
  return {
    missing: want.filter((w) => !haveTags.has(w.tag)).map((w) => `nft ${w.hook}: missing: ${w.text}`),
    unexpected: have.filter((h) => h.tag === null || !wantTags.has(h.tag)).map((h) => `nft chain ${h.chain}: a rule not in the config (${h.tag ?? 'no comment'})`),
    shadowed: [],
  };
}
