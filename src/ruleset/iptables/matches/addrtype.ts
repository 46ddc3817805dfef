// -m addrtype (libxt_addrtype, revision 1): routing type of the source/destination address, optionally
// looked up only on the incoming/outgoing interface.
import type { Match } from '../../model.js';
import { bad, noDuplicates, noInvert, type Extension } from '../ext.js';

// Bit i is RTN_<name>; iptables prints them in this order.
const RTN = ['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE'];

export interface AddrtypeData {
  src?: number;
  dst?: number;
  srcInvert: boolean;
  dstInvert: boolean;
  limitIn: boolean;
  limitOut: boolean;
}

function parseTypes(text: string): number | undefined {
  let m = 0;
  for (const p of text.split(',')) {
    const i = RTN.indexOf(p.toUpperCase());
    if (i < 0) return undefined;
    m |= 1 << i;
  }
  return m;
}

const names = (m: number): string[] => RTN.filter((_, i) => m & (1 << i));

export const addrtype: Extension<AddrtypeData> = {
  kind: 'match',
  name: 'addrtype',
  options: { 'src-type': 1, 'dst-type': 1, 'limit-iface-in': 0, 'limit-iface-out': 0 },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    const d: AddrtypeData = { srcInvert: false, dstInvert: false, limitIn: false, limitOut: false };
    for (const o of opts) {
      if (o.name === 'src-type' || o.name === 'dst-type') {
        const m = parseTypes(o.args[0]);
        if (m === undefined) return bad(ctx, o, 'INVALID_VALUE', `unknown address type in "${o.args[0]}" (${RTN.join(',')})`);
        if (o.name === 'src-type') [d.src, d.srcInvert] = [m, o.invert];
        else [d.dst, d.dstInvert] = [m, o.invert];
      } else {
        if (!noInvert(o, ctx)) return undefined;
        if (o.name === 'limit-iface-in') d.limitIn = true;
        else d.limitOut = true;
      }
    }
    if (d.limitIn && d.limitOut) return bad(ctx, opts.find((o) => o.name === 'limit-iface-out')!, 'CONFLICTING_OPTIONS', '--limit-iface-in and --limit-iface-out cannot be combined');
    if (d.src === undefined && d.dst === undefined) {
      ctx.problems.error('MISSING_OPTION', 'addrtype needs --src-type or --dst-type', ctx.line, opts[0]?.col ?? 1);
      return undefined;
    }
    return d;
  },
  save(d) {
    let s = '';
    if (d.src) s += `${d.srcInvert ? ' !' : ''} --src-type ${names(d.src).join(',')}`;
    if (d.dst) s += `${d.dstInvert ? ' !' : ''} --dst-type ${names(d.dst).join(',')}`;
    if (d.limitIn) s += ' --limit-iface-in';
    if (d.limitOut) s += ' --limit-iface-out';
    return s;
  },
  exprs(d) {
    const m: Match = { type: 'match', key: 'addrtype' };
    if (d.src) m.src = names(d.src);
    if (d.dst) m.dst = names(d.dst);
    if (d.srcInvert) m.srcInvert = true;
    if (d.dstInvert) m.dstInvert = true;
    if (d.limitIn) m.limitIfaceIn = true;
    if (d.limitOut) m.limitIfaceOut = true;
    return [m];
  },
};
