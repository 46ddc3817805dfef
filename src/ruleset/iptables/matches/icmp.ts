// -m icmp (libipt_icmp) and -m icmp6 (libip6t_icmp6): type[/code] or a name from iptables' tables.
import type { Match } from '../../model.js';
import { bad, inv, noDuplicates, type Extension, type ExtContext, type ExtOption } from '../ext.js';
import { parseUint } from '../values.js';

// [name, type, code min, code max] as iptables names them (libxt_icmp.h); max 255 = any code.
const ICMP: Array<[string, number, number, number]> = [
  ['any', 255, 0, 255], ['echo-reply', 0, 0, 255], ['pong', 0, 0, 255], ['destination-unreachable', 3, 0, 255],
  ['network-unreachable', 3, 0, 0], ['host-unreachable', 3, 1, 1], ['protocol-unreachable', 3, 2, 2],
  ['port-unreachable', 3, 3, 3], ['fragmentation-needed', 3, 4, 4], ['source-route-failed', 3, 5, 5],
  ['network-unknown', 3, 6, 6], ['host-unknown', 3, 7, 7], ['network-prohibited', 3, 9, 9],
  ['host-prohibited', 3, 10, 10], ['TOS-network-unreachable', 3, 11, 11], ['TOS-host-unreachable', 3, 12, 12],
  ['communication-prohibited', 3, 13, 13], ['host-precedence-violation', 3, 14, 14], ['precedence-cutoff', 3, 15, 15],
  ['source-quench', 4, 0, 255], ['redirect', 5, 0, 255], ['network-redirect', 5, 0, 0], ['host-redirect', 5, 1, 1],
  ['TOS-network-redirect', 5, 2, 2], ['TOS-host-redirect', 5, 3, 3], ['echo-request', 8, 0, 255], ['ping', 8, 0, 255],
  ['router-advertisement', 9, 0, 255], ['router-solicitation', 10, 0, 255], ['time-exceeded', 11, 0, 255],
  ['ttl-exceeded', 11, 0, 255], ['ttl-zero-during-transit', 11, 0, 0], ['ttl-zero-during-reassembly', 11, 1, 1],
  ['parameter-problem', 12, 0, 255], ['ip-header-bad', 12, 0, 0], ['required-option-missing', 12, 1, 1],
  ['timestamp-request', 13, 0, 255], ['timestamp-reply', 14, 0, 255], ['address-mask-request', 17, 0, 255],
  ['address-mask-reply', 18, 0, 255],
];

const ICMPV6: Array<[string, number, number, number]> = [
  ['destination-unreachable', 1, 0, 255], ['no-route', 1, 0, 0], ['communication-prohibited', 1, 1, 1],
  ['beyond-scope', 1, 2, 2], ['address-unreachable', 1, 3, 3], ['port-unreachable', 1, 4, 4], ['failed-policy', 1, 5, 5],
  ['reject-route', 1, 6, 6], ['packet-too-big', 2, 0, 255], ['time-exceeded', 3, 0, 255], ['ttl-exceeded', 3, 0, 255],
  ['ttl-zero-during-transit', 3, 0, 0], ['ttl-zero-during-reassembly', 3, 1, 1], ['parameter-problem', 4, 0, 255],
  ['bad-header', 4, 0, 0], ['unknown-header-type', 4, 1, 1], ['unknown-option', 4, 2, 2], ['echo-request', 128, 0, 255],
  ['ping', 128, 0, 255], ['echo-reply', 129, 0, 255], ['pong', 129, 0, 255], ['mld-listener-query', 130, 0, 255],
  ['mld-listener-report', 131, 0, 255], ['mld-listener-done', 132, 0, 255], ['mld-listener-reduction', 132, 0, 255],
  ['router-solicitation', 133, 0, 255], ['router-advertisement', 134, 0, 255], ['neighbour-solicitation', 135, 0, 255],
  ['neighbor-solicitation', 135, 0, 255], ['neighbour-advertisement', 136, 0, 255], ['neighbor-advertisement', 136, 0, 255],
  ['redirect', 137, 0, 255],
];

export interface IcmpData {
  type: number;
  codeMin: number;
  codeMax: number;
  invert: boolean;
}

function parseIcmpType(o: ExtOption, ctx: ExtContext, table: typeof ICMP): IcmpData | undefined {
  const text = o.args[0];
  const named = table.find(([n]) => n === text || n.toLowerCase() === text.toLowerCase());
  if (named) return { type: named[1], codeMin: named[2], codeMax: named[3], invert: o.invert };
  const [t, c] = text.split('/');
  const type = parseUint(t, 255);
  const code = c === undefined ? undefined : parseUint(c, 255);
  if (type === undefined || (c !== undefined && code === undefined)) return bad(ctx, o, 'INVALID_VALUE', `unknown ICMP type "${text}" (a name or type[/code])`);
  return code === undefined ? { type, codeMin: 0, codeMax: 255, invert: o.invert } : { type, codeMin: code, codeMax: code, invert: o.invert };
}

function icmpExprs(d: IcmpData, family: 'ip' | 'ip6'): Match[] {
  if (d.type === 255 && d.codeMin === 0 && d.codeMax === 255 && family === 'ip') {
    return d.invert ? [{ type: 'match', key: 'icmp', family, invert: true }] : [];
  }
  const m: Match = { type: 'match', key: 'icmp', family, icmpType: d.type };
  if (!(d.codeMin === 0 && d.codeMax === 255)) m.code = d.codeMin;
  if (d.invert) m.invert = true;
  return [m];
}

export const icmp: Extension<IcmpData> = {
  kind: 'match',
  name: 'icmp',
  families: ['ip'],
  options: { 'icmp-type': 1 },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    // Without --icmp-type the match is "any" (type 0xff, codes 0-255).
    return opts[0] ? parseIcmpType(opts[0], ctx, ICMP) : { type: 255, codeMin: 0, codeMax: 255, invert: false };
  },
  save(d) {
    if (d.type === 255 && d.codeMin === 0 && d.codeMax === 255) return `${inv(d.invert)} --icmp-type any`;
    return `${inv(d.invert)} --icmp-type ${d.type}${d.codeMin !== 0 || d.codeMax !== 255 ? `/${d.codeMin}` : ''}`;
  },
  exprs: (d) => icmpExprs(d, 'ip'),
};

export const icmp6: Extension<IcmpData> = {
  kind: 'match',
  name: 'icmp6',
  families: ['ip6'],
  options: { 'icmpv6-type': 1 },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    if (!opts[0]) {
      ctx.problems.error('MISSING_OPTION', '-m icmp6 needs --icmpv6-type', ctx.line, 1);
      return undefined;
    }
    return parseIcmpType(opts[0], ctx, ICMPV6);
  },
  save: (d) => `${inv(d.invert)} --icmpv6-type ${d.type}${d.codeMin !== 0 || d.codeMax !== 255 ? `/${d.codeMin}` : ''}`,
  exprs: (d) => icmpExprs(d, 'ip6'),
};
