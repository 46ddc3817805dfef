// -m udp (libxt_udp): --sport/--dport ranges.
import { noDuplicates, type Extension } from '../ext.js';
import { parsePortOption, portExprs, savePort, type PortSpec } from './tcp.js';

export interface UdpData {
  sport?: PortSpec;
  dport?: PortSpec;
}

export const udp: Extension<UdpData> = {
  kind: 'match',
  name: 'udp',
  options: { sport: 1, dport: 1 },
  optionAliases: { 'source-port': 'sport', 'destination-port': 'dport' },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    const d: UdpData = {};
    for (const o of opts) {
      const p = parsePortOption(o, ctx);
      if (!p) return undefined;
      d[o.name as 'sport' | 'dport'] = p;
    }
    return d;
  },
  save: (d) => savePort('sport', d.sport) + savePort('dport', d.dport),
  exprs: (d) => portExprs(17, d),
};
