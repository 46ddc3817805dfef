// A rule that did not come from iptables text (nft JSON, a generated model) printed as iptables options
// from its semantics. What iptables cannot say in one rule (several actions, lists where iptables takes
// one value, nft-only expressions) is named in a comment so the output still loads and nothing is hidden.
import type { Action, Match, Rule } from '../model.js';
import { saveString } from './lexer.js';
import { hex, markMaskText, portRangeText, protoName } from './values.js';
import { tcpFlagsText } from './matches/tcp.js';
import { statesText, parseStates } from './matches/conntrack.js';
import { MATCHES } from './registry.js';

const TARGET_NAME = /^-j [A-Za-z0-9_-]+( |$)/;

const inv = (m: { invert?: boolean }): string => (m.invert ? ' !' : '');

function matchText(m: Match, family: 'ip' | 'ip6', proto: number | undefined): string | undefined {
  switch (m.key) {
    case 'saddr':
    case 'daddr':
      return m.cidrs.length === 1 ? `${inv(m)} -${m.key === 'saddr' ? 's' : 'd'} ${m.cidrs[0]}` : undefined;
    case 'iif':
    case 'oif':
      return m.names.length === 1 ? `${inv(m)} -${m.key === 'iif' ? 'i' : 'o'} ${m.names[0]}` : undefined;
    case 'proto':
      return m.protos.length === 1 ? `${inv(m)} -p ${protoName(m.protos[0], family)}` : undefined;
    case 'sport':
    case 'dport': {
      const p = m.proto ?? proto;
      const mod = p === 6 ? 'tcp' : p === 17 ? 'udp' : undefined;
      if (!mod) return undefined;
      if (m.ranges.length === 1) return ` -m ${mod}${inv(m)} --${m.key} ${portRangeText(m.ranges[0])}`;
      return ` -m multiport${inv(m)} --${m.key}s ${m.ranges.map(portRangeText).join(',')}`;
    }
    case 'tcpflags':
      return ` -m tcp${inv(m)} --tcp-flags ${tcpFlagsText(m.mask)} ${tcpFlagsText(m.comp)}`;
    case 'icmp':
      if (m.family === 'ip') return ` -m icmp${inv(m)} --icmp-type ${m.icmpType === undefined ? 'any' : m.icmpType + (m.code !== undefined ? `/${m.code}` : '')}`;
      return m.icmpType === undefined ? undefined : ` -m icmp6${inv(m)} --icmpv6-type ${m.icmpType}${m.code !== undefined ? `/${m.code}` : ''}`;
    case 'mark':
      return ` -m mark${inv(m)} --mark ${markMaskText(m.value, m.mask)}`;
    case 'ctmark':
      return ` -m connmark${inv(m)} --mark ${markMaskText(m.value, m.mask)}`;
    case 'ctstate': {
      const mask = parseStates(m.states.map((s) => s.toUpperCase()).join(','));
      return mask === undefined || m.states.length === 0 ? undefined : ` -m conntrack${inv(m)} --ctstate ${statesText(mask)}`;
    }
    case 'ctdir':
      return m.invert ? undefined : ` -m conntrack --ctdir ${m.dir.toUpperCase()}`;
    case 'addrtype': {
      let s = ' -m addrtype';
      if (m.src?.length) s += `${m.srcInvert ? ' !' : ''} --src-type ${m.src.join(',')}`;
      if (m.dst?.length) s += `${m.dstInvert ? ' !' : ''} --dst-type ${m.dst.join(',')}`;
      if (m.limitIfaceIn) s += ' --limit-iface-in';
      if (m.limitIfaceOut) s += ' --limit-iface-out';
      return m.invert ? undefined : s;
    }
    case 'set':
      return ` -m set${inv(m)} --match-set ${m.name} ${m.dirs.join(',')}`;
    case 'other':
      // Kept from iptables text: the module's own options, printed again under its name.
      if (m.module === 'fragment') return `${inv(m)} -f`;
      if (MATCHES.has(m.module) && m.text !== '' && !m.text.startsWith('xt ')) return ` -m ${m.module}${inv(m)} ${m.text}`;
      return undefined;
  }
}

function actionText(a: Action, family: 'ip' | 'ip6'): string | undefined {
  switch (a.kind) {
    case 'accept':
      return ' -j ACCEPT';
    case 'drop':
      return ' -j DROP';
    case 'return':
      return ' -j RETURN';
    case 'continue':
      return '';
    case 'jump':
      return ` -j ${a.chain}`;
    case 'goto':
      return ` -g ${a.chain}`;
    case 'reject':
      return a.with ? ` -j REJECT --reject-with ${a.with}` : ' -j REJECT';
    case 'queue':
      return ` -j NFQUEUE ${a.numTo !== undefined ? `--queue-balance ${a.num}:${a.numTo}` : `--queue-num ${a.num}`}${a.bypass ? ' --queue-bypass' : ''}${a.fanout ? ' --queue-cpu-fanout' : ''}`;
    case 'mark':
      return ` -j MARK --set-xmark ${hex(a.xor)}/${hex(~a.and >>> 0)}`;
    case 'ctmark':
      return ` -j CONNMARK --set-xmark ${hex(a.xor)}/${hex(~a.and >>> 0)}`;
    case 'connmark-save':
    case 'connmark-restore':
      return ` -j CONNMARK --${a.kind === 'connmark-save' ? 'save' : 'restore'}-mark --nfmask ${hex(a.nfmask)} --ctmask ${hex(a.ctmask)}`;
    case 'snat':
    case 'dnat': {
      if (!a.to) return undefined;
      return ` -j ${a.kind.toUpperCase()} --to-${a.kind === 'snat' ? 'source' : 'destination'} ${a.to}${(a.flags ?? []).map((f) => ` --${f}`).join('')}`;
    }
    case 'masquerade':
    case 'redirect':
      return ` -j ${a.kind.toUpperCase()}${a.to ? ` --to-ports ${a.to}` : ''}${(a.flags ?? []).map((f) => ` --${f}`).join('')}`;
    case 'notrack':
      return ' -j CT --notrack';
    case 'tproxy':
      if (a.port === undefined) return undefined;
      return ` -j TPROXY --on-port ${a.port} --on-ip ${a.addr ?? (family === 'ip6' ? '::' : '0.0.0.0')} --tproxy-mark ${hex(a.mark?.value ?? 0)}/${hex(a.mark?.mask ?? 0)}`;
    case 'other':
      // A target kept from iptables text carries its own `-j NAME ...`.
      return a.text.startsWith('-j ') && TARGET_NAME.test(a.text) ? ` ${a.text}` : undefined;
    default:
      return undefined;
  }
}

/**
 * The protocol a match needs iptables to be told with -p (its module refuses to load otherwise): nft's
 * `udp dport 53` holds the protocol in the port test, iptables needs `-p udp -m udp --dport 53`.
 */
function impliedProto(m: Match, family: 'ip' | 'ip6'): number | undefined {
  switch (m.key) {
    case 'sport':
    case 'dport':
      return m.proto;
    case 'tcpflags':
      return 6;
    case 'icmp':
      return m.family === 'ip6' || family === 'ip6' ? 58 : 1;
    default:
      return undefined;
  }
}

/**
 * The rule's options after `-A CHAIN`, from its semantics. What cannot be said goes into the rule's
 * comment and, when `lost` is given, is also handed to it (the caller reports it: the printed rule then
 * matches more packets, or does less, than the original).
 */
export function exprsBody(rule: Rule, family: 'ip' | 'ip6', onLost?: (what: string[]) => void): string {
  const generic: string[] = ['', '', '', '', ''];
  const mods: string[] = [];
  const lost: string[] = [];
  let proto: number | undefined;
  for (const e of rule.exprs) if (e.type === 'match' && e.key === 'proto' && e.protos.length === 1 && !e.invert) proto = e.protos[0];
  if (proto === undefined && !rule.exprs.some((e) => e.type === 'match' && e.key === 'proto')) {
    for (const e of rule.exprs) {
      const p = e.type === 'match' ? impliedProto(e, family) : undefined;
      if (p !== undefined) {
        proto = p;
        generic[4] = ` -p ${protoName(p, family)}`;
        break;
      }
    }
  }
  const order = { saddr: 0, daddr: 1, iif: 2, oif: 3, proto: 4 } as Record<string, number>;
  let target = '';
  for (const e of rule.exprs) {
    if (e.type === 'match') {
      const t = matchText(e, family, proto);
      if (t === undefined) lost.push(e.key === 'other' ? e.text : e.key);
      else if (order[e.key] !== undefined && generic[order[e.key]] === '') generic[order[e.key]] = t;
      else if (order[e.key] !== undefined) lost.push(e.key);
      else mods.push(t);
    } else {
      const t = actionText(e, family);
      if (t === undefined) lost.push(e.kind === 'other' ? e.text : e.kind);
      else if (target === '' ) target = t;
      else if (t !== '') lost.push(e.kind === 'other' ? e.name : e.kind);
    }
  }
  let comment = rule.comment ?? '';
  if (lost.length) {
    comment = `${comment ? comment + ' ' : ''}nfqguard: not expressible in iptables: ${lost.join('; ')}`.slice(0, 255);
    onLost?.(lost);
  }
  const c = comment ? ` -m comment --comment ${saveString(comment)}` : '';
  return generic.join('') + mods.join('') + c + target;
}
