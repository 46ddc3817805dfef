// -j TPROXY (libxt_TPROXY): redirect to a local socket without changing the packet, optionally marking it
// (skb->mark = (skb->mark & ~mask) ^ value) so that policy routing delivers it locally. Saved with all
// three options, defaults included.
import type { Action } from '../../model.js';
import { bad, noDuplicates, noInvert, type Extension } from '../ext.js';
import { hex, ipv4Text, ipv6Text, parseIpv4, parseIpv6, parseMarkMask, parsePort } from '../values.js';

export interface TproxyData {
  port: number;
  addr: string;
  markValue: number;
  markMask: number;
}

export const TPROXY: Extension<TproxyData> = {
  kind: 'target',
  name: 'TPROXY',
  options: { 'on-port': 1, 'on-ip': 1, 'tproxy-mark': 1 },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    const d: TproxyData = { port: -1, addr: ctx.family === 'ip6' ? '::' : '0.0.0.0', markValue: 0, markMask: 0 };
    for (const o of opts) {
      if (!noInvert(o, ctx)) return undefined;
      if (o.name === 'on-port') {
        const p = parsePort(o.args[0]);
        if (p === undefined) return bad(ctx, o, 'INVALID_PORT', `--on-port wants a port, got "${o.args[0]}"`);
        d.port = p;
      } else if (o.name === 'on-ip') {
        if (ctx.family === 'ip') {
          const a = parseIpv4(o.args[0]);
          if (a === undefined) return bad(ctx, o, 'INVALID_ADDRESS', `--on-ip wants an IPv4 address, got "${o.args[0]}"`);
          d.addr = ipv4Text(a);
        } else {
          const g = parseIpv6(o.args[0]);
          if (!g) return bad(ctx, o, 'INVALID_ADDRESS', `--on-ip wants an IPv6 address, got "${o.args[0]}"`);
          d.addr = ipv6Text(g);
        }
      } else {
        const mm = parseMarkMask(o.args[0]);
        if (!mm) return bad(ctx, o, 'INVALID_MASK', `--tproxy-mark wants value[/mask], got "${o.args[0]}"`);
        d.markValue = mm.value;
        d.markMask = mm.mask;
      }
    }
    if (d.port < 0) {
      ctx.problems.error('MISSING_OPTION', 'TPROXY needs --on-port', ctx.line, opts[0]?.col ?? 1);
      return undefined;
    }
    return d;
  },
  save: (d) => ` --on-port ${d.port} --on-ip ${d.addr} --tproxy-mark ${hex(d.markValue)}/${hex(d.markMask)}`,
  exprs(d): Action[] {
    const a: Action = { type: 'action', kind: 'tproxy', port: d.port };
    if (d.addr !== '0.0.0.0' && d.addr !== '::') a.addr = d.addr;
    if (d.markMask !== 0) a.mark = { value: d.markValue, mask: d.markMask };
    return [a];
  },
};
