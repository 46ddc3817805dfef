// -m tcp (libxt_tcp): --sport/--dport ranges, --tcp-flags MASK COMP, --syn, --tcp-option.
import type { Match } from '../../model.js';
import { bad, inv, noDuplicates, type ExtContext, type ExtOption, type Extension } from '../ext.js';
import { parsePortRange, portRangeText, parseUint } from '../values.js';

export interface PortSpec {
  range: [number, number];
  invert: boolean;
}

export interface TcpData {
  sport?: PortSpec;
  dport?: PortSpec;
  /** (flags & mask) == comp */
  flags?: { mask: number; comp: number; invert: boolean };
  option?: { kind: number; invert: boolean };
}

const TCP_FLAGS: Array<[string, number]> = [
  ['FIN', 0x01], ['SYN', 0x02], ['RST', 0x04], ['PSH', 0x08], ['ACK', 0x10], ['URG', 0x20], ['ALL', 0x3f], ['NONE', 0],
];

export function parseTcpFlags(text: string): number | undefined {
  let v = 0;
  for (const part of text.split(',')) {
    const f = TCP_FLAGS.find(([n]) => n === part.toUpperCase());
    if (!f) return undefined;
    v |= f[1];
  }
  return v;
}

/** As print_tcpf: flag names in table order, ALL only when nothing smaller fits, NONE for zero. */
export function tcpFlagsText(flags: number): string {
  const out: string[] = [];
  let f = flags & 0x3f;
  while (f) {
    const hit = TCP_FLAGS.find(([, bit]) => (f & bit) !== 0)!;
    out.push(hit[0]);
    f &= ~hit[1];
  }
  return out.length ? out.join(',') : 'NONE';
}

/** --sport/--dport as tcp, udp, sctp, dccp and udplite take them. */
export function parsePortOption(o: ExtOption, ctx: ExtContext): PortSpec | undefined {
  const r = parsePortRange(o.args[0]);
  if (!r) return bad(ctx, o, 'INVALID_PORT', `--${o.name}: "${o.args[0]}" is not a port, service name or range a:b`);
  return { range: r, invert: o.invert };
}

export function savePort(name: string, p: PortSpec | undefined): string {
  if (!p || (p.range[0] === 0 && p.range[1] === 65535 && !p.invert)) return '';
  return `${inv(p.invert)} --${name} ${portRangeText(p.range)}`;
}

export function portExprs(proto: number, d: { sport?: PortSpec; dport?: PortSpec }): Match[] {
  const out: Match[] = [];
  for (const key of ['sport', 'dport'] as const) {
    const p = d[key];
    if (!p || (p.range[0] === 0 && p.range[1] === 65535 && !p.invert)) continue;
    const m: Match = { type: 'match', key, proto, ranges: [p.range] };
    if (p.invert) m.invert = true;
    out.push(m);
  }
  return out;
}

export const tcp: Extension<TcpData> = {
  kind: 'match',
  name: 'tcp',
  options: { sport: 1, dport: 1, 'tcp-flags': 2, syn: 0, 'tcp-option': 1 },
  optionAliases: { 'source-port': 'sport', 'destination-port': 'dport' },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    const d: TcpData = {};
    for (const o of opts) {
      switch (o.name) {
        case 'sport':
        case 'dport': {
          const p = parsePortOption(o, ctx);
          if (!p) return undefined;
          d[o.name] = p;
          break;
        }
        case 'tcp-flags': {
          const mask = parseTcpFlags(o.args[0]);
          if (mask === undefined) return bad(ctx, o, 'INVALID_VALUE', `unknown TCP flag in "${o.args[0]}" (FIN,SYN,RST,PSH,ACK,URG,ALL,NONE)`);
          const comp = parseTcpFlags(o.args[1]);
          if (comp === undefined) return bad(ctx, o, 'INVALID_VALUE', `unknown TCP flag in "${o.args[1]}"`, 1);
          if (d.flags) return bad(ctx, o, 'CONFLICTING_OPTIONS', '--tcp-flags and --syn cannot be combined');
          d.flags = { mask, comp, invert: o.invert };
          break;
        }
        case 'syn':
          if (d.flags) return bad(ctx, o, 'CONFLICTING_OPTIONS', '--tcp-flags and --syn cannot be combined');
          d.flags = { mask: 0x17, comp: 0x02, invert: o.invert };
          break;
        case 'tcp-option': {
          const k = parseUint(o.args[0], 255);
          if (k === undefined) return bad(ctx, o, 'INVALID_VALUE', `--tcp-option wants a number 0-255, got "${o.args[0]}"`);
          d.option = { kind: k, invert: o.invert };
          break;
        }
      }
    }
    return d;
  },
  save(d) {
    let s = savePort('sport', d.sport) + savePort('dport', d.dport);
    if (d.option) s += `${inv(d.option.invert)} --tcp-option ${d.option.kind}`;
    if (d.flags && (d.flags.mask !== 0 || d.flags.invert)) s += `${inv(d.flags.invert)} --tcp-flags ${tcpFlagsText(d.flags.mask)} ${tcpFlagsText(d.flags.comp)}`;
    return s;
  },
  exprs(d) {
    const out = portExprs(6, d);
    if (d.option) out.push({ type: 'match', key: 'other', module: 'tcp', text: `${d.option.invert ? '! ' : ''}--tcp-option ${d.option.kind}` });
    if (d.flags && (d.flags.mask !== 0 || d.flags.invert)) {
      const m: Match = { type: 'match', key: 'tcpflags', mask: d.flags.mask, comp: d.flags.comp };
      if (d.flags.invert) m.invert = true;
      out.push(m);
    }
    return out;
  },
};
