// -j REJECT (libipt_REJECT / libip6t_REJECT): answer with an ICMP error or a TCP reset, then drop.
import { bad, noDuplicates, noInvert, type Extension, type ExtContext } from '../ext.js';

// [saved name, short alias] per family, in iptables' order.
const V4: Array<[string, string]> = [
  ['icmp-net-unreachable', 'net-unreach'], ['icmp-host-unreachable', 'host-unreach'], ['icmp-proto-unreachable', 'proto-unreach'],
  ['icmp-port-unreachable', 'port-unreach'], ['icmp-net-prohibited', 'net-prohib'], ['icmp-host-prohibited', 'host-prohib'],
  ['tcp-reset', 'tcp-rst'], ['icmp-admin-prohibited', 'admin-prohib'],
];
const V6: Array<[string, string]> = [
  ['icmp6-no-route', 'no-route'], ['icmp6-adm-prohibited', 'adm-prohibited'], ['icmp6-not-neighbor', 'not-neighbor'],
  ['icmp6-addr-unreachable', 'addr-unreach'], ['icmp6-port-unreachable', 'port-unreach'], ['tcp-reset', 'tcp-reset'],
  ['icmp6-policy-fail', 'policy-fail'], ['icmp6-reject-route', 'reject-route'],
];

export interface RejectData {
  with: string;
}

function lookup(text: string, ctx: ExtContext): string | undefined {
  const table = ctx.family === 'ip6' ? V6 : V4;
  const hit = table.find(([n, a]) => n === text || a === text);
  if (hit) return hit[0];
  // iptables accepts the IPv4 names in ip6tables with a warning (and maps them); keep it strict.
  return undefined;
}

export const REJECT: Extension<RejectData> = {
  kind: 'target',
  name: 'REJECT',
  options: { 'reject-with': 1 },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    const o = opts[0];
    if (!o) return { with: ctx.family === 'ip6' ? 'icmp6-port-unreachable' : 'icmp-port-unreachable' };
    if (!noInvert(o, ctx)) return undefined;
    const w = lookup(o.args[0], ctx);
    if (!w) return bad(ctx, o, 'INVALID_VALUE', `unknown --reject-with "${o.args[0]}" (${(ctx.family === 'ip6' ? V6 : V4).map(([n]) => n).join(', ')})`);
    return { with: w };
  },
  save: (d) => ` --reject-with ${d.with}`,
  exprs: (d) => [{ type: 'action', kind: 'reject', with: d.with }],
};
