// -j DNAT / SNAT / MASQUERADE / REDIRECT (libxt_NAT): an address range and/or a port range, and the
// flags random, random-fully, persistent. Saved as sprint_range prints them.
import type { Action } from '../../model.js';
import { bad, noDuplicates, noInvert, type Extension, type ExtContext, type ExtOption } from '../ext.js';
import { parseIpv4, parseIpv6, ipv4Text, ipv6Text } from '../values.js';

export interface NatData {
  minAddr?: string;
  maxAddr?: string;
  minPort?: number;
  maxPort?: number;
  /** Shifted port map base (`:a-b/base`). */
  base?: number;
  random: boolean;
  randomFully: boolean;
  persistent: boolean;
}

const PORT_PROTOS = [6, 17, 132, 33, 1];

function normAddr(text: string, family: 'ip' | 'ip6'): string | undefined {
  if (family === 'ip') {
    const n = parseIpv4(text);
    return n === undefined ? undefined : ipv4Text(n);
  }
  const g = parseIpv6(text);
  return g ? ipv6Text(g) : undefined;
}

function parsePorts(text: string, d: NatData, o: ExtOption, ctx: ExtContext): boolean {
  const m = /^(\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
  if (!m || lo > 65535 || hi > 65535 || hi < lo || (m[3] !== undefined && Number(m[3]) > 65535)) {
    bad(ctx, o, 'INVALID_PORT', `"${text}" is not a port or port range a-b`);
    return false;
  }
  if (ctx.proto === undefined || !PORT_PROTOS.includes(ctx.proto)) {
    bad(ctx, o, 'MISSING_OPTION', 'a NAT port needs -p tcp, udp, sctp, dccp or icmp');
    return false;
  }
  d.minPort = lo;
  d.maxPort = hi;
  if (m[3] !== undefined) d.base = Number(m[3]);
  return true;
}

/** [ipaddr[-ipaddr]][:port[-port[/base]]], IPv6 addresses in brackets when a port follows. */
function parseTo(o: ExtOption, d: NatData, ctx: ExtContext): boolean {
  let text = o.args[0];
  let ports: string | undefined;
  if (ctx.family === 'ip6' && text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return !!bad(ctx, o, 'INVALID_ADDRESS', `missing ] in "${text}"`);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return !!bad(ctx, o, 'INVALID_ADDRESS', `unexpected "${rest}" after ]`);
    ports = rest === '' ? undefined : rest.slice(1);
    text = text.slice(1, close);
  } else if (ctx.family === 'ip') {
    const colon = text.indexOf(':');
    if (colon >= 0) {
      ports = text.slice(colon + 1);
      text = text.slice(0, colon);
    }
  }
  if (text !== '') {
    const dash = ctx.family === 'ip6' ? text.indexOf('-') : text.indexOf('-');
    const a = normAddr(dash < 0 ? text : text.slice(0, dash), ctx.family);
    const b = dash < 0 ? a : normAddr(text.slice(dash + 1), ctx.family);
    if (a === undefined || b === undefined) return !!bad(ctx, o, 'INVALID_ADDRESS', `"${o.args[0]}" is not [address[-address]][:port[-port]]`);
    d.minAddr = a;
    d.maxAddr = b;
  }
  if (ports !== undefined && !parsePorts(ports, d, o, ctx)) return false;
  return true;
}

function rangeText(d: NatData, family: 'ip' | 'ip6'): string {
  const brackets = family === 'ip6' && d.minPort !== undefined;
  let s = '';
  if (d.minAddr !== undefined) {
    s += brackets ? '[' : '';
    s += d.minAddr;
    if (d.maxAddr !== d.minAddr) s += `-${d.maxAddr}`;
    s += brackets ? ']' : '';
  }
  if (d.minPort !== undefined) {
    s += `:${d.minPort}`;
    if (d.maxPort !== d.minPort) s += `-${d.maxPort}`;
    if (d.base !== undefined) s += `/${d.base}`;
  }
  return s;
}

function flags(d: NatData): string[] {
  const f: string[] = [];
  if (d.random) f.push('random');
  if (d.randomFully) f.push('random-fully');
  if (d.persistent) f.push('persistent');
  return f;
}

function makeNat(name: string, kind: 'snat' | 'dnat' | 'masquerade' | 'redirect', rangeOpt: 'to-source' | 'to-destination' | 'to-ports', flagOpts: string[]): Extension<NatData> {
  const options: Record<string, number> = { [rangeOpt]: 1 };
  for (const f of flagOpts) options[f] = 0;
  return {
    kind: 'target',
    name,
    options,
    parse(opts, ctx) {
      if (!noDuplicates(opts, ctx)) return undefined;
      const d: NatData = { random: false, randomFully: false, persistent: false };
      for (const o of opts) {
        if (!noInvert(o, ctx)) return undefined;
        if (o.name === 'to-ports') {
          if (!parsePorts(o.args[0], d, o, ctx)) return undefined;
        } else if (o.name === rangeOpt) {
          if (!parseTo(o, d, ctx)) return undefined;
        } else if (o.name === 'random') d.random = true;
        else if (o.name === 'random-fully') d.randomFully = true;
        else if (o.name === 'persistent') d.persistent = true;
      }
      if ((kind === 'snat' || kind === 'dnat') && !opts.some((o) => o.name === rangeOpt)) {
        ctx.problems.error('MISSING_OPTION', `${name} needs --${rangeOpt}`, ctx.line, opts[0]?.col ?? 1);
        return undefined;
      }
      return d;
    },
    save(d, family) {
      let r = rangeText(d, family);
      let s = '';
      if (r !== '') {
        if (rangeOpt === 'to-ports' && r.startsWith(':')) r = r.slice(1);
        s += ` --${rangeOpt} ${r}`;
      }
      for (const f of flags(d)) s += ` --${f}`;
      return s;
    },
    exprs(d, family): Action[] {
      const a: Action = { type: 'action', kind };
      let r = rangeText(d, family);
      if (r !== '') {
        if (rangeOpt === 'to-ports' && r.startsWith(':')) r = r.slice(1);
        a.to = r;
      }
      const f = flags(d);
      if (f.length) a.flags = f;
      return [a];
    },
  };
}

export const SNAT = makeNat('SNAT', 'snat', 'to-source', ['random', 'random-fully', 'persistent']);
export const DNAT = makeNat('DNAT', 'dnat', 'to-destination', ['random', 'persistent']);
export const MASQUERADE = makeNat('MASQUERADE', 'masquerade', 'to-ports', ['random', 'random-fully']);
export const REDIRECT = makeNat('REDIRECT', 'redirect', 'to-ports', ['random']);
