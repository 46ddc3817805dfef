// Generated rulesets for the differential test of the simulator against the kernel. One small AST per
// case is written out three ways by hand-written emitters: iptables-restore text and an nft script for
// the kernel, and the ruleset model for the simulator. The vocabulary is what the simulator claims to
// get right: marks with masks, CONNMARK save/restore, ct state, jumps/gotos/returns, policies, NFQUEUE
// with and without bypass, NAT that changes the path, notrack, several iptables tables, and nft chains
// at odd priorities (ties with iptables priorities included).
import fc from 'fast-check';
import type { Action, Chain, CtState, Expr, Hook, Match, Ruleset, Table } from '../../src/ruleset/model.js';
import { IPTABLES_CHAIN_HOOK, iptablesPriority } from '../../src/ruleset/priorities.js';
import { parseAddr } from '../../src/sim/addr.js';
import type { LabPlan } from '../../src/sim/kernel/lab.js';
import { parseIpRules } from '../../src/ruleset/iprule.js';
import type { IpRule } from '../../src/ruleset/model.js';
import { parseRoute, type LocalAddress, type RouteSpec } from '../../src/sim/options.js';

export type GMatch =
  | { k: 'l4'; p: 'tcp' | 'udp'; dport?: number; inv: boolean }
  | { k: 'mark'; v: number; m: number; inv: boolean }
  | { k: 'ctmark'; v: number; m: number; inv: boolean }
  | { k: 'ctstate'; s: CtState[]; inv: boolean }
  | { k: 'iif' | 'oif'; name: string; inv: boolean }
  | { k: 'saddr' | 'daddr'; cidr: string; inv: boolean };

export type GAction =
  | { k: 'accept' | 'drop' | 'return' | 'masquerade' | 'notrack' }
  | { k: 'jump' | 'goto'; chain: string }
  | { k: 'mark' | 'ctmark'; v: number; m: number }
  | { k: 'save' | 'restore'; nf: number; ct: number }
  | { k: 'queue'; num: number; bypass: boolean }
  | { k: 'dnat' | 'snat'; to: string };

export interface GRule {
  matches: GMatch[];
  action: GAction;
}

export interface GChain {
  name: string;
  base?: { hook: Hook; priority: number; policy: 'accept' | 'drop'; type: 'filter' | 'nat' | 'route' };
  rules: GRule[];
}

export interface GTable {
  kind: 'ipt' | 'nft';
  family: 'ip' | 'ip6' | 'inet';
  name: string;
  chains: GChain[];
}

export type PacketKind = 'in' | 'fwd' | 'out' | 'lo' | 'local' | 'in1';

export interface GPacket {
  kind: PacketKind;
  /** IPv6 addresses of the same plan (fd00::/64 on eth0, fd00:1::/64 on eth1, ::1). */
  v6?: boolean;
  proto: 'tcp' | 'udp';
  dport: number;
  mark: number;
}

/**
 * One policy routing rule between the kernel's local (0) and main (32766) rules, for both families:
 * `[not] from all [iif X] [fwmark V/M] lookup T [suppress_prefixlength N]` or an action that drops.
 */
export interface GRoutingRule {
  priority: number;
  not: boolean;
  iif?: 'lo' | 'eth0' | 'eth1';
  fwmark?: { v: number; m: number };
  action: 'lookup' | 'blackhole' | 'unreachable';
  table?: 'main' | '100' | 'default';
  suppress?: number;
}

/** What table 100 holds (for both families): the routes a marked packet may be sent by. */
export type GTable100Route = 'default' | 'net0' | 'net1' | 'host1-blackhole' | 'net1-throw';

export interface GRouting {
  rules: GRoutingRule[];
  table100: GTable100Route[];
  dev: 'eth0' | 'eth1';
}

export interface GCase {
  tables: GTable[];
  packets: GPacket[];
  /** --queue-verdict for queue 5 (queue 6 never has a consumer); undefined: no consumer. */
  queue5?: string;
  /** ip rules and table 100 in the namespace; undefined: the kernel's default rules. */
  routing?: GRouting;
}

// ---------------------------------------------------------------------------------------------------
// The fixed address plan of the differential lab.

export const PLAN_TEXT = {
  eth0Remote: '10.0.0.1',
  eth0Local: '10.0.0.2',
  eth1Remote: '10.1.0.1',
  eth1Local: '10.1.0.2',
  lo: '127.0.0.1',
};

export const PLAN_TEXT6: typeof PLAN_TEXT = {
  eth0Remote: 'fd00::1',
  eth0Local: 'fd00::2',
  eth1Remote: 'fd00:1::1',
  eth1Local: 'fd00:1::2',
  lo: '::1',
};

export function labPlan(): LabPlan {
  const a = (s: string) => parseAddr(s) as NonNullable<ReturnType<typeof parseAddr>>;
  return {
    links: [
      { name: 'eth0', remotes: [a(PLAN_TEXT.eth0Remote), a(PLAN_TEXT6.eth0Remote)] },
      { name: 'eth1', remotes: [a(PLAN_TEXT.eth1Remote), a(PLAN_TEXT6.eth1Remote)] },
    ],
    locals: [
      { addr: a(PLAN_TEXT.eth0Local), iface: 'eth0' },
      { addr: a(PLAN_TEXT.eth1Local), iface: 'eth1' },
      { addr: a(PLAN_TEXT6.eth0Local), iface: 'eth0' },
      { addr: a(PLAN_TEXT6.eth1Local), iface: 'eth1' },
    ],
  };
}

export function planLocals(): LocalAddress[] {
  return labPlan().locals.map((l) => ({ addr: l.addr, iface: l.iface, text: `${l.iface}` }));
}

/** Source, destination, where it starts, and the interface it comes in on. */
export function packetEnds(kind: PacketKind, v6 = false): { saddr: string; daddr: string; start: 'prerouting' | 'output'; inLink?: string } {
  const p = v6 ? PLAN_TEXT6 : PLAN_TEXT;
  switch (kind) {
    case 'in':
      return { saddr: p.eth0Remote, daddr: p.eth0Local, start: 'prerouting', inLink: 'eth0' };
    case 'in1':
      return { saddr: p.eth1Remote, daddr: p.eth0Local, start: 'prerouting', inLink: 'eth1' };
    case 'fwd':
      return { saddr: p.eth0Remote, daddr: p.eth1Remote, start: 'prerouting', inLink: 'eth0' };
    case 'out':
      return { saddr: p.eth0Local, daddr: p.eth1Remote, start: 'output' };
    case 'lo':
      return { saddr: p.lo, daddr: p.lo, start: 'output' };
    case 'local':
      return { saddr: p.eth1Local, daddr: p.eth0Local, start: 'output' };
  }
}

// ---------------------------------------------------------------------------------------------------
// Emitters.

const hex = (n: number): string => '0x' + (n >>> 0).toString(16);

function l4Of(r: GRule): Extract<GMatch, { k: 'l4' }> | undefined {
  return r.matches.find((m): m is Extract<GMatch, { k: 'l4' }> => m.k === 'l4');
}

export function iptRuleText(r: GRule): string {
  const parts: string[] = [];
  for (const m of r.matches) {
    const not = m.inv ? '! ' : '';
    switch (m.k) {
      case 'l4':
        parts.push(`-p ${m.p}`);
        if (m.dport !== undefined) parts.push(`-m ${m.p} ${not}--dport ${m.dport}`);
        break;
      case 'mark':
        parts.push(`-m mark ${not}--mark ${hex(m.v)}/${hex(m.m)}`);
        break;
      case 'ctmark':
        parts.push(`-m connmark ${not}--mark ${hex(m.v)}/${hex(m.m)}`);
        break;
      case 'ctstate':
        parts.push(`-m conntrack ${not}--ctstate ${m.s.map((s) => s.toUpperCase()).join(',')}`);
        break;
      case 'iif':
        parts.push(`${not}-i ${m.name}`);
        break;
      case 'oif':
        parts.push(`${not}-o ${m.name}`);
        break;
      case 'saddr':
        parts.push(`${not}-s ${m.cidr}`);
        break;
      case 'daddr':
        parts.push(`${not}-d ${m.cidr}`);
        break;
    }
  }
  const a = r.action;
  switch (a.k) {
    case 'accept':
    case 'drop':
    case 'return':
    case 'masquerade':
      parts.push(`-j ${a.k.toUpperCase()}`);
      break;
    case 'notrack':
      parts.push('-j CT --notrack');
      break;
    case 'jump':
      parts.push(`-j ${a.chain}`);
      break;
    case 'goto':
      parts.push(`-g ${a.chain}`);
      break;
    case 'mark':
      parts.push(`-j MARK --set-xmark ${hex(a.v)}/${hex(a.m)}`);
      break;
    case 'ctmark':
      parts.push(`-j CONNMARK --set-xmark ${hex(a.v)}/${hex(a.m)}`);
      break;
    case 'save':
      parts.push(`-j CONNMARK --save-mark --nfmask ${hex(a.nf)} --ctmask ${hex(a.ct)}`);
      break;
    case 'restore':
      parts.push(`-j CONNMARK --restore-mark --nfmask ${hex(a.nf)} --ctmask ${hex(a.ct)}`);
      break;
    case 'queue':
      parts.push(`-j NFQUEUE --queue-num ${a.num}${a.bypass ? ' --queue-bypass' : ''}`);
      break;
    case 'dnat':
      parts.push(`-j DNAT --to-destination ${a.to}`);
      break;
    case 'snat':
      parts.push(`-j SNAT --to-source ${a.to}`);
      break;
  }
  return parts.join(' ');
}

export function nftRuleText(r: GRule, family: 'ip' | 'ip6' | 'inet'): string {
  const parts: string[] = [];
  for (const m of r.matches) {
    const ne = m.inv ? '!= ' : '';
    switch (m.k) {
      case 'l4':
        parts.push(`meta l4proto ${m.p}`);
        if (m.dport !== undefined) parts.push(`${m.p} dport ${ne}${m.dport}`);
        break;
      case 'mark':
        parts.push(`meta mark & ${hex(m.m)} ${m.inv ? '!=' : '=='} ${hex(m.v)}`);
        break;
      case 'ctmark':
        parts.push(`ct mark & ${hex(m.m)} ${m.inv ? '!=' : '=='} ${hex(m.v)}`);
        break;
      case 'ctstate':
        // Not `ct state != a,b`: nft 1.0.6 compiles that to `cmp neq state (a|b)`, true for every
        // packet. The set form is the negated membership the model means.
        parts.push(m.inv && m.s.length > 1 ? `ct state != { ${m.s.join(', ')} }` : `ct state ${ne}${m.s.join(',')}`);
        break;
      case 'iif':
        parts.push(`iifname ${ne}"${m.name.replace(/\+$/, '*')}"`);
        break;
      case 'oif':
        parts.push(`oifname ${ne}"${m.name.replace(/\+$/, '*')}"`);
        break;
      case 'saddr':
      case 'daddr':
        parts.push(`${m.cidr.includes(':') ? 'ip6' : 'ip'} ${m.k} ${ne}${m.cidr}`);
        break;
    }
  }
  const a = r.action;
  const ipTo = (to: string): string => (family !== 'inet' ? 'to' : to.includes(':') && !/^[0-9.]+:\d+$/.test(to) ? 'ip6 to' : 'ip to');
  switch (a.k) {
    case 'accept':
    case 'drop':
    case 'return':
    case 'masquerade':
    case 'notrack':
      parts.push(a.k);
      break;
    case 'jump':
    case 'goto':
      parts.push(`${a.k} ${a.chain}`);
      break;
    case 'mark':
      parts.push(`meta mark set meta mark and ${hex(~a.m)} xor ${hex(a.v)}`);
      break;
    case 'ctmark':
      parts.push(`ct mark set ct mark and ${hex(~a.m)} xor ${hex(a.v)}`);
      break;
    case 'save':
      parts.push('ct mark set meta mark');
      break;
    case 'restore':
      parts.push('meta mark set ct mark');
      break;
    case 'queue':
      parts.push(`queue num ${a.num}${a.bypass ? ' bypass' : ''}`);
      break;
    case 'dnat':
    case 'snat':
      parts.push(`${a.k} ${ipTo(a.to)} ${a.to}`);
      break;
  }
  return parts.join(' ');
}

/** iptables-restore (ip6tables-restore for 'ip6') text for the case's iptables tables ('' when none). */
export function emitIptables(c: GCase, family: 'ip' | 'ip6' = 'ip'): string {
  let out = '';
  for (const t of c.tables) {
    if (t.kind !== 'ipt' || t.family !== family) continue;
    out += `*${t.name}\n`;
    for (const ch of t.chains) out += `:${ch.name} ${ch.base ? ch.base.policy.toUpperCase() : '-'} [0:0]\n`;
    for (const ch of t.chains) for (const r of ch.rules) out += `-A ${ch.name} ${iptRuleText(r)}\n`;
    out += 'COMMIT\n';
  }
  return out;
}

/** nft script for the case's nft tables ('' when none). */
export function emitNft(c: GCase): string {
  let out = '';
  for (const t of c.tables) {
    if (t.kind !== 'nft') continue;
    out += `table ${t.family} ${t.name} {\n`;
    // A chain must exist before a rule jumps to it: regular chains first, last-declared first
    // (they only jump to later ones); base chains keep their order (it is their registration order).
    const regular = t.chains.filter((ch) => !ch.base).reverse();
    for (const ch of [...regular, ...t.chains.filter((ch) => ch.base)]) {
      out += `  chain ${ch.name} {\n`;
      if (ch.base) out += `    type ${ch.base.type} hook ${ch.base.hook} priority ${ch.base.priority}; policy ${ch.base.policy};\n`;
      for (const r of ch.rules) out += `    ${nftRuleText(r, t.family)}\n`;
      out += '  }\n';
    }
    out += '}\n';
  }
  return out;
}

function modelMatch(m: GMatch): Match[] {
  const invert = m.inv;
  switch (m.k) {
    case 'l4': {
      const proto = m.p === 'tcp' ? 6 : 17;
      const out: Match[] = [{ type: 'match', key: 'proto', protos: [proto] }];
      if (m.dport !== undefined) out.push({ type: 'match', key: 'dport', proto, ranges: [[m.dport, m.dport]], invert });
      return out;
    }
    case 'mark':
    case 'ctmark':
      return [{ type: 'match', key: m.k, value: m.v >>> 0, mask: m.m >>> 0, invert }];
    case 'ctstate':
      return [{ type: 'match', key: 'ctstate', states: m.s, invert }];
    case 'iif':
    case 'oif':
      return [{ type: 'match', key: m.k, names: [m.name], invert }];
    case 'saddr':
    case 'daddr':
      return [{ type: 'match', key: m.k, cidrs: [m.cidr], invert }];
  }
}

function modelAction(a: GAction, kind: 'ipt' | 'nft'): Action {
  switch (a.k) {
    case 'accept':
    case 'drop':
    case 'return':
      return { type: 'action', kind: a.k };
    case 'masquerade':
      return { type: 'action', kind: 'masquerade' };
    case 'notrack':
      return { type: 'action', kind: 'notrack' };
    case 'jump':
    case 'goto':
      return { type: 'action', kind: a.k, chain: a.chain };
    case 'mark':
      return { type: 'action', kind: 'mark', and: ~a.m >>> 0, xor: a.v >>> 0 };
    case 'ctmark':
      return { type: 'action', kind: 'ctmark', and: ~a.m >>> 0, xor: a.v >>> 0 };
    case 'save':
      return kind === 'nft' ? { type: 'action', kind: 'connmark-save', nfmask: 0xffffffff, ctmask: 0xffffffff } : { type: 'action', kind: 'connmark-save', nfmask: a.nf >>> 0, ctmask: a.ct >>> 0 };
    case 'restore':
      return kind === 'nft' ? { type: 'action', kind: 'connmark-restore', nfmask: 0xffffffff, ctmask: 0xffffffff } : { type: 'action', kind: 'connmark-restore', nfmask: a.nf >>> 0, ctmask: a.ct >>> 0 };
    case 'queue':
      return { type: 'action', kind: 'queue', num: a.num, bypass: a.bypass, fanout: false };
    case 'dnat':
    case 'snat':
      return { type: 'action', kind: a.k, to: a.to };
  }
}

/** The ruleset model of the case, as a parser would produce it. */
export function toModel(c: GCase): Ruleset {
  const tables: Table[] = [];
  let line = 0;
  for (const t of c.tables) {
    const chains: Chain[] = t.chains.map((ch) => {
      let base: Chain['base'];
      if (ch.base) {
        const priority = t.kind === 'ipt' ? (iptablesPriority(t.name, ch.base.hook, 'iptables-nft') as number) : ch.base.priority;
        const type = t.kind === 'ipt' ? (t.name === 'nat' ? 'nat' : t.name === 'mangle' && ch.base.hook === 'output' ? 'route' : 'filter') : ch.base.type;
        base = { hook: ch.base.hook, priority, type, policy: ch.base.policy };
      }
      return {
        name: ch.name,
        ...(base ? { base } : {}),
        rules: ch.rules.map((r) => {
          const exprs: Expr[] = [...r.matches.flatMap(modelMatch), modelAction(r.action, t.kind)];
          return { exprs, text: t.kind === 'ipt' ? iptRuleText(r) : nftRuleText(r, t.family), pos: { source: 'generated', line: ++line, column: 1 } };
        }),
      };
    });
    tables.push({ family: t.family, name: t.name, origin: t.kind === 'ipt' ? 'iptables-nft' : 'nft', chains, sets: [] });
  }
  return { tables, ipRules: ipRulesOf(c), problems: [] };
}

// ---------------------------------------------------------------------------------------------------
// Policy routing: `ip rule` text (read by the project's parser, as --ip-rules / --live do) and routes.

/** The case's `ip rule` listing (the same rules for `ip -6 rule`), with the kernel's three default rules. */
export function ipRuleText(g: GRouting): string {
  let out = '0:\tfrom all lookup local\n';
  for (const r of [...g.rules].sort((a, b) => a.priority - b.priority)) {
    const sel = `${r.not ? 'not ' : ''}from all${r.iif ? ` iif ${r.iif}` : ''}${r.fwmark ? ` fwmark ${hex(r.fwmark.v)}/${hex(r.fwmark.m)}` : ''}`;
    const act = r.action === 'lookup' ? `lookup ${r.table ?? '100'}${r.suppress !== undefined ? ` suppress_prefixlength ${r.suppress}` : ''}` : r.action;
    out += `${r.priority}:\t${sel} ${act}\n`;
  }
  return out + '32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n';
}

/** The case's ip rules as the model holds them, for both families. */
export function ipRulesOf(c: GCase): IpRule[] {
  if (!c.routing) return [];
  const text = ipRuleText(c.routing);
  return [...parseIpRules(text, { source: 'generated ip rule', family: 'ip' }).ipRules, ...parseIpRules(text, { source: 'generated ip -6 rule', family: 'ip6' }).ipRules];
}

/** Table 100's routes as --route would give them. */
export function table100Routes(c: GCase): RouteSpec[] {
  const g = c.routing;
  if (!g) return [];
  const out: string[] = [];
  for (const r of g.table100) {
    switch (r) {
      case 'default':
        out.push(`default@${g.dev}`, `default6@${g.dev}`);
        break;
      case 'net0':
        out.push(`10.0.0.0/24@${g.dev}`, `fd00::/64@${g.dev}`);
        break;
      case 'net1':
        out.push(`10.1.0.0/24@${g.dev}`, `fd00:1::/64@${g.dev}`);
        break;
      case 'host1-blackhole':
        out.push('10.1.0.1/32@blackhole', 'fd00:1::1/128@blackhole');
        break;
      case 'net1-throw':
        out.push('10.1.0.0/24@throw', 'fd00:1::/64@throw');
        break;
    }
  }
  return out.map((x) => parseRoute(`${x},table=100`));
}

// ---------------------------------------------------------------------------------------------------
// Arbitraries.

const BITS = [0x1, 0x10, 0x100, 0x4000, 0x8000, 0x10000, 0x100000];
const bitsArb = (min: number, max: number) => fc.subarray(BITS, { minLength: min, maxLength: max }).map((xs) => xs.reduce((a, b) => a | b, 0) >>> 0);
/** A mask and a value inside it (for matches). */
const maskedArb = fc.tuple(bitsArb(1, 3), fc.nat()).map(([m, r]) => {
  const inside = BITS.filter((b) => (m & b) !== 0);
  let v = 0;
  inside.forEach((b, i) => {
    if ((r >> i) & 1) v |= b;
  });
  return { m, v: v >>> 0 };
});
/** A mask and any value (for --set-xmark: bits outside the mask are flipped). */
const xmarkArb = fc.record({ m: bitsArb(1, 3), v: bitsArb(0, 2) });

const CIDRS4 = ['10.0.0.0/24', '10.0.0.1/32', '10.0.0.2/32', '10.1.0.0/24', '10.1.0.1/32', '127.0.0.0/8', '10.0.0.0/8'];
const CIDRS6 = ['fd00::/64', 'fd00::1/128', 'fd00::2/128', 'fd00:1::/64', 'fd00:1::1/128', '::1/128', 'fd00::/16'];
const cidrsOf = (f: GTable['family']): string[] => (f === 'ip' ? CIDRS4 : f === 'ip6' ? CIDRS6 : [...CIDRS4, ...CIDRS6]);
const IFACES = ['eth0', 'eth1', 'lo', 'eth+'];

function matchArb(family: GTable['family'], hasIn: boolean, hasOut: boolean, ct: boolean): fc.Arbitrary<GMatch> {
  const opts: Array<fc.Arbitrary<GMatch>> = [
    fc.record({ k: fc.constant('l4' as const), p: fc.constantFrom('tcp' as const, 'udp' as const), dport: fc.option(fc.constantFrom(22, 80, 443), { nil: undefined }), inv: fc.boolean() }),
    fc.tuple(maskedArb, fc.boolean()).map(([x, inv]) => ({ k: 'mark' as const, v: x.v, m: x.m, inv })),
    fc.tuple(fc.constantFrom('saddr' as const, 'daddr' as const), fc.constantFrom(...cidrsOf(family)), fc.boolean()).map(([k, cidr, inv]) => ({ k, cidr, inv })),
  ];
  if (ct) {
    opts.push(fc.tuple(maskedArb, fc.boolean()).map(([x, inv]) => ({ k: 'ctmark' as const, v: x.v, m: x.m, inv })));
    opts.push(fc.record({ k: fc.constant('ctstate' as const), s: fc.subarray(['new', 'established', 'related', 'invalid', 'untracked'] as CtState[], { minLength: 1, maxLength: 2 }), inv: fc.boolean() }));
  }
  if (hasIn) opts.push(fc.record({ k: fc.constant('iif' as const), name: fc.constantFrom(...IFACES), inv: fc.boolean() }));
  if (hasOut) opts.push(fc.record({ k: fc.constant('oif' as const), name: fc.constantFrom(...IFACES), inv: fc.boolean() }));
  return fc.oneof(...opts);
}

interface ChainCtx {
  kind: 'ipt' | 'nft';
  family: GTable['family'];
  table: string;
  hook?: Hook;
  natChain: boolean;
  /** User chains this chain may jump to (later ones only: no loops). */
  targets: string[];
  queue: boolean;
}

function actionArb(ctx: ChainCtx): fc.Arbitrary<GAction> {
  // iptables refuses DROP in the nat table ("not intended for filtering"); nft nat chains likewise here.
  const nat = ctx.natChain || ctx.table === 'nat';
  const verdicts: GAction[] = nat ? [{ k: 'accept' }, { k: 'return' }] : [{ k: 'accept' }, { k: 'drop' }, { k: 'return' }];
  const opts: Array<{ weight: number; arbitrary: fc.Arbitrary<GAction> }> = [
    { weight: 3, arbitrary: fc.constantFrom(...verdicts) },
    { weight: 5, arbitrary: xmarkArb.map((x) => ({ k: 'mark' as const, ...x })) },
    { weight: 2, arbitrary: xmarkArb.map((x) => ({ k: 'ctmark' as const, ...x })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('save' as const, 'restore' as const), bitsArb(1, 3), bitsArb(1, 3)).map(([k, nf, ct]) => ({ k, nf, ct })) },
  ];
  if (ctx.targets.length) opts.push({ weight: 4, arbitrary: fc.tuple(fc.constantFrom('jump' as const, 'goto' as const), fc.constantFrom(...ctx.targets)).map(([k, chain]) => ({ k, chain })) });
  if (ctx.queue) opts.push({ weight: 2, arbitrary: fc.record({ k: fc.constant('queue' as const), num: fc.constantFrom(5, 6), bypass: fc.boolean() }) });
  // NAT targets of the table's family (inet: either; the other family's does nothing to a packet).
  const dnat4 = ['10.0.0.2', '10.1.0.1', '127.0.0.1', '10.0.0.2:8080'];
  const dnat6 = ['fd00::2', 'fd00:1::1', '::1', '[fd00::2]:8080'];
  const dnatTo = ctx.family === 'ip' ? dnat4 : ctx.family === 'ip6' ? dnat6 : [...dnat4, ...dnat6];
  const snatTo = ctx.family === 'ip' ? ['10.1.0.2'] : ctx.family === 'ip6' ? ['fd00:1::2'] : ['10.1.0.2', 'fd00:1::2'];
  if (ctx.natChain && (ctx.hook === 'prerouting' || ctx.hook === 'output')) {
    opts.push({ weight: 3, arbitrary: fc.constantFrom(...dnatTo).map((to) => ({ k: 'dnat' as const, to })) });
  }
  if (ctx.natChain && ctx.hook === 'postrouting') {
    opts.push({ weight: 3, arbitrary: fc.oneof(fc.constantFrom(...snatTo).map((to) => ({ k: 'snat' as const, to })), fc.constant({ k: 'masquerade' as const })) });
  }
  if (ctx.table === 'raw' || (ctx.kind === 'nft' && (ctx.hook === 'prerouting' || ctx.hook === 'output') && !ctx.natChain)) opts.push({ weight: 1, arbitrary: fc.constant({ k: 'notrack' as const }) });
  return fc.oneof(...opts);
}

function rulesArb(ctx: ChainCtx, max: number): fc.Arbitrary<GRule[]> {
  const hasIn = ctx.hook === undefined || ctx.hook === 'prerouting' || ctx.hook === 'input' || ctx.hook === 'forward';
  const hasOut = ctx.hook === undefined || ctx.hook === 'output' || ctx.hook === 'postrouting' || ctx.hook === 'forward';
  const rule = fc
    .record({ matches: fc.array(matchArb(ctx.family, hasIn, hasOut, true), { maxLength: 3 }), action: actionArb(ctx) })
    .map((r) => {
      // At most one match of each kind (iptables takes one -p, -s, -d, -i, -o per rule).
      const seen = new Set<string>();
      const unique = r.matches.filter((m) => (seen.has(m.k) ? false : (seen.add(m.k), true)));
      // nft refuses an ip6 match with an `ip` NAT (and the reverse) in one rule of an inet table.
      const a = r.action;
      const natV6 = (a.k === 'dnat' || a.k === 'snat') && ctx.family === 'inet' ? a.to.includes(':') && !/^[0-9.]+:\d+$/.test(a.to) : undefined;
      // ... and a rule matching both ip and ip6 addresses: the first address match sets the family.
      const firstAddr = unique.find((m): m is Extract<GMatch, { k: 'saddr' | 'daddr' }> => m.k === 'saddr' || m.k === 'daddr');
      const v6 = natV6 ?? (firstAddr ? firstAddr.cidr.includes(':') : undefined);
      const fits = (m: GMatch): boolean => v6 === undefined || !(m.k === 'saddr' || m.k === 'daddr') || m.cidr.includes(':') === v6;
      const l4 = unique.filter((m) => m.k === 'l4');
      const rest = unique.filter((m) => m.k !== 'l4' && fits(m));
      const matches = l4.length ? [l4[0], ...rest] : rest;
      // NAT needs a protocol for a port.
      if ((r.action.k === 'dnat' || r.action.k === 'snat') && /(^[0-9.]+:\d+$)|\]:/.test(r.action.to) && !l4.length) {
        return { matches: [{ k: 'l4' as const, p: 'tcp' as const, inv: false }, ...rest], action: r.action };
      }
      return { matches, action: r.action };
    })
    .filter((r) => !(r.matches[0]?.k === 'l4' && r.matches[0].inv && r.matches[0].dport === undefined));
  return fc.array(rule, { maxLength: max });
}

const IPT_TABLE_CHAINS: Record<string, Hook[]> = {
  raw: ['prerouting', 'output'],
  mangle: ['prerouting', 'input', 'forward', 'output', 'postrouting'],
  nat: ['prerouting', 'input', 'output', 'postrouting'],
  filter: ['input', 'forward', 'output'],
  security: ['input', 'forward', 'output'],
};

const HOOK_CHAIN: Record<string, string> = { prerouting: 'PREROUTING', input: 'INPUT', forward: 'FORWARD', output: 'OUTPUT', postrouting: 'POSTROUTING' };

function iptTableArb(name: string, family: 'ip' | 'ip6'): fc.Arbitrary<GTable> {
  const hooks = IPT_TABLE_CHAINS[name];
  const nat = name === 'nat';
  return fc.record({ hooks: fc.subarray(hooks, { minLength: 1 }), users: fc.integer({ min: 0, max: nat ? 1 : 3 }) }).chain(({ hooks: hs, users }) => {
    const userNames = Array.from({ length: users }, (_, i) => `U${i}`);
    const base = hs.map((h) =>
      fc.record({
        policy: nat ? fc.constant('accept' as const) : fc.constantFrom('accept' as const, 'accept' as const, 'drop' as const),
        rules: rulesArb({ kind: 'ipt', family, table: name, hook: h, natChain: nat, targets: userNames, queue: !nat }, 4),
      }).map(({ policy, rules }) => ({ name: HOOK_CHAIN[h], base: { hook: h, priority: iptablesPriority(name, h, 'iptables-nft') as number, policy, type: nat ? ('nat' as const) : ('filter' as const) }, rules })),
    );
    // NAT targets only in nat base chains (the kernel checks which hooks reach a target).
    const user = userNames.map((u, i) => rulesArb({ kind: 'ipt', family, table: name, natChain: false, targets: userNames.slice(i + 1), queue: !nat }, 3).map((rules) => ({ name: u, rules })));
    return fc.tuple(fc.tuple(...base), user.length ? fc.tuple(...user) : fc.constant([] as GChain[])).map(([b, u]) => ({ kind: 'ipt' as const, family, name, chains: [...b, ...u] }));
  });
}

const NFT_PRIORITIES = [-450, -301, -300, -299, -151, -150, -149, -101, -100, -99, -1, 0, 1, 49, 50, 51, 99, 100, 101, 149, 150, 151, 299];

function nftTableArb(name: string): fc.Arbitrary<GTable> {
  const baseArb = fc.record({
    hook: fc.constantFrom<Hook>('prerouting', 'input', 'forward', 'output', 'postrouting'),
    priority: fc.constantFrom(...NFT_PRIORITIES),
    policy: fc.constantFrom('accept' as const, 'accept' as const, 'drop' as const),
    // route: an OUTPUT chain that routes the packet again when it changes the mark (other hooks: filter).
    type: fc.constantFrom('filter' as const, 'filter' as const, 'nat' as const, 'nat' as const, 'route' as const),
  });
  return fc.record({ family: fc.constantFrom('ip' as const, 'ip6' as const, 'inet' as const, 'inet' as const), bases: fc.array(baseArb, { minLength: 1, maxLength: 3 }), users: fc.integer({ min: 0, max: 2 }) }).chain(({ family, bases, users }) => {
    const userNames = Array.from({ length: users }, (_, i) => `u${i}`);
    const base = bases.map((b, i) => {
      // The kernel refuses NAT chains at or below conntrack's priority (-200).
      const nat = b.type === 'nat' && b.hook !== 'forward' && b.priority > -200;
      const type = nat ? ('nat' as const) : b.type === 'route' && b.hook === 'output' ? ('route' as const) : ('filter' as const);
      return rulesArb({ kind: 'nft', family, table: name, hook: b.hook, natChain: nat, targets: userNames, queue: false }, 4).map((rules) => ({
        name: `b${i}`,
        base: { hook: b.hook, priority: b.priority, policy: nat ? ('accept' as const) : b.policy, type },
        rules,
      }));
    });
    const user = userNames.map((u, i) => rulesArb({ kind: 'nft', family, table: name, natChain: false, targets: userNames.slice(i + 1), queue: false }, 3).map((rules) => ({ name: u, rules })));
    return fc.tuple(fc.tuple(...base), user.length ? fc.tuple(...user) : fc.constant([] as GChain[])).map(([b, u]) => ({ kind: 'nft' as const, family, name, chains: [...b, ...u] }));
  });
}

export const packetArb: fc.Arbitrary<GPacket> = fc.record({
  kind: fc.constantFrom<PacketKind>('in', 'fwd', 'out', 'lo', 'local', 'in1'),
  v6: fc.boolean(),
  proto: fc.constantFrom('tcp' as const, 'udp' as const),
  dport: fc.constantFrom(22, 80, 443),
  mark: fc.oneof(fc.constant(0), fc.constant(0), bitsArb(1, 2)),
});

/** `arb` in `weight` cases out of `outOf`, else undefined. */
function sometimes<T>(arb: fc.Arbitrary<T>, weight: number, outOf: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: outOf - weight, arbitrary: fc.constant(undefined) }, { weight, arbitrary: arb });
}

const routingRuleArb: fc.Arbitrary<GRoutingRule> = fc
  .record({
    not: fc.boolean(),
    iif: sometimes(fc.constantFrom('lo' as const, 'eth0' as const, 'eth1' as const), 1, 4),
    fwmark: sometimes(maskedArb, 5, 6),
    action: fc.oneof({ weight: 10, arbitrary: fc.constant('lookup' as const) }, { weight: 1, arbitrary: fc.constantFrom('blackhole' as const, 'unreachable' as const) }),
    table: fc.constantFrom('100' as const, '100' as const, '100' as const, 'main' as const, 'default' as const),
    suppress: sometimes(fc.constantFrom(0, 24, 32), 1, 3),
  })
  .map((r) => ({
    priority: 0,
    not: r.not,
    ...(r.iif ? { iif: r.iif } : {}),
    ...(r.fwmark ? { fwmark: r.fwmark } : {}),
    action: r.action,
    ...(r.action === 'lookup' ? { table: r.table } : {}),
    // main's routes differ in length between the lab (/32 hosts) and the plan (/24): only 0 there.
    ...(r.action === 'lookup' && r.suppress !== undefined && (r.table !== 'main' || r.suppress === 0) ? { suppress: r.suppress } : {}),
  }));

export const routingArb: fc.Arbitrary<GRouting> = fc
  .record({
    rules: fc.array(routingRuleArb, { minLength: 1, maxLength: 3 }),
    // net1 and net1-throw are the same prefix: a table holds one route of a prefix.
    // Mostly routes that send a packet somewhere; net1 and net1-throw are the same prefix (a table
    // holds one route of a prefix).
    table100: fc
      .tuple(fc.constantFrom<GTable100Route>('default', 'net1', 'net1'), fc.subarray(['net0', 'host1-blackhole', 'net1-throw'] as GTable100Route[], { maxLength: 1 }))
      .map(([a, b]) => [a, ...b])
      .filter((t) => !(t.includes('net1') && t.includes('net1-throw'))),
    dev: fc.constantFrom('eth0' as const, 'eth1' as const),
  })
  .map((g) => ({ ...g, rules: g.rules.map((r, i) => ({ ...r, priority: 100 * (i + 1) })) }));

/** The packets of a case with routing: more of them leave the node (the local table decides the rest first). */
function routedPackets(packets: GPacket[], g: GRouting | undefined): GPacket[] {
  if (!g) return packets;
  return packets.map((p) => ({ ...p, kind: p.kind === 'in1' ? 'fwd' : p.kind === 'local' ? 'out' : p.kind }));
}

export const caseArb: fc.Arbitrary<GCase> = fc
  .record({
    // ip tables first, then ip6 (iptables-restore, then ip6tables-restore): the order they register in.
    ipt: fc.subarray(['ip raw', 'ip mangle', 'ip nat', 'ip filter', 'ip security', 'ip6 raw', 'ip6 mangle', 'ip6 nat', 'ip6 filter', 'ip6 security'], { maxLength: 4 }),
    nft: fc.integer({ min: 0, max: 2 }),
    packets: fc.array(packetArb, { minLength: 1, maxLength: 4 }),
    queue5: fc.option(fc.constantFrom('accept', 'accept,mark=0x8000', 'accept,mark=0x100/0x100', 'accept,mark=0x0', 'drop'), { nil: undefined }),
    routing: sometimes(routingArb, 2, 5),
  })
  .filter((c) => c.ipt.length + c.nft > 0)
  .chain((c) =>
    fc
      .tuple(
        ...c.ipt.map((x) => {
          const [family, name] = x.split(' ') as ['ip' | 'ip6', string];
          return iptTableArb(name, family);
        }),
        ...Array.from({ length: c.nft }, (_, i) => nftTableArb(`t${i}`)),
      )
      .map((tables) => ({
        tables,
        packets: routedPackets(c.packets, c.routing),
        ...(c.queue5 !== undefined ? { queue5: c.queue5 } : {}),
        ...(c.routing ? { routing: c.routing } : {}),
      })),
  );

/** Queue numbers the case's rules use. */
export function queueNums(c: GCase): number[] {
  const out = new Set<number>();
  for (const t of c.tables) for (const ch of t.chains) for (const r of ch.rules) if (r.action.k === 'queue') out.add(r.action.num);
  return [...out];
}

export { IPTABLES_CHAIN_HOOK };
