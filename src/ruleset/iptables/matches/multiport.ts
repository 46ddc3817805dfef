// -m multiport (libxt_multiport, revision 1): up to 15 ports, ranges count double.
import type { Match } from '../../model.js';
import { bad, inv, noDuplicates, type Extension } from '../ext.js';
import { parsePortRange, portRangeText } from '../values.js';

export interface MultiportData {
  dir: 'sports' | 'dports' | 'ports';
  ranges: Array<[number, number]>;
  invert: boolean;
  /** The rule's -p protocol (multiport requires one). */
  proto?: number;
}

export const multiport: Extension<MultiportData> = {
  kind: 'match',
  name: 'multiport',
  options: { sports: 1, dports: 1, ports: 1 },
  optionAliases: { 'source-ports': 'sports', 'destination-ports': 'dports' },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    if (opts.length !== 1) {
      if (opts.length === 0) ctx.problems.error('MISSING_OPTION', 'multiport needs --sports, --dports or --ports', ctx.line, 1);
      else bad(ctx, opts[1], 'CONFLICTING_OPTIONS', 'multiport takes only one of --sports, --dports, --ports');
      return undefined;
    }
    const o = opts[0];
    if (ctx.proto === undefined || ![6, 17, 132, 33, 136].includes(ctx.proto)) {
      return bad(ctx, o, 'MISSING_OPTION', 'multiport needs -p tcp, udp, udplite, sctp or dccp');
    }
    const ranges: Array<[number, number]> = [];
    let slots = 0;
    for (const part of o.args[0].split(',')) {
      const r = parsePortRange(part);
      if (!r) return bad(ctx, o, 'INVALID_PORT', `"${part}" is not a port, service or range`);
      ranges.push(r);
      slots += r[0] === r[1] ? 1 : 2;
    }
    if (slots > 15) return bad(ctx, o, 'INVALID_VALUE', `too many ports: ${slots} slots, at most 15 (a range takes two)`);
    return { dir: o.name as MultiportData['dir'], ranges, invert: o.invert, proto: ctx.proto };
  },
  save: (d) => `${inv(d.invert)} --${d.dir} ${d.ranges.map(portRangeText).join(',')}`,
  exprs(d) {
    if (d.dir === 'ports') {
      return [{ type: 'match', key: 'other', module: 'multiport', text: `${d.invert ? '! ' : ''}--ports ${d.ranges.map(portRangeText).join(',')}` }];
    }
    const m: Match = { type: 'match', key: d.dir === 'sports' ? 'sport' : 'dport', ranges: d.ranges.map((r) => [r[0], r[1]]) };
    if (d.proto !== undefined) m.proto = d.proto;
    if (d.invert) m.invert = true;
    return [m];
  },
};
