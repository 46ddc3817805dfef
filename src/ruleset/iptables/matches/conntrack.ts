// -m conntrack (libxt_conntrack, revision 3) and -m state (the state alias): connection state, status,
// direction, original/reply tuples, expiry. ctstate and ctdir are interpreted; the rest is kept as `other`.
import type { CtState, Match } from '../../model.js';
import { bad, inv, noDuplicates, type Extension, type ExtContext, type ExtOption } from '../ext.js';
import { parseAddrMask, parsePortRange, parseProto, parseUint } from '../values.js';

// Bits in iptables-save order (print_state).
const STATES: Array<[string, CtState]> = [
  ['INVALID', 'invalid'], ['NEW', 'new'], ['RELATED', 'related'], ['ESTABLISHED', 'established'],
  ['UNTRACKED', 'untracked'], ['SNAT', 'snat'], ['DNAT', 'dnat'],
];
const STATUS = ['EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED'];

/** A comma list of state names as a bitmask in print order. */
export function parseStates(text: string, allowed = STATES.length): number | undefined {
  let m = 0;
  for (const part of text.split(',')) {
    const i = STATES.findIndex(([n]) => n === part.toUpperCase());
    if (i < 0 || i >= allowed) return undefined;
    m |= 1 << i;
  }
  return m;
}

export function statesText(mask: number): string {
  return STATES.filter((_, i) => mask & (1 << i)).map(([n]) => n).join(',');
}

export function stateList(mask: number): CtState[] {
  return STATES.filter((_, i) => mask & (1 << i)).map(([, s]) => s);
}

interface Opt<T> {
  value: T;
  invert: boolean;
}

export interface ConntrackData {
  state?: Opt<number>;
  proto?: Opt<number>;
  origsrc?: Opt<string>;
  origdst?: Opt<string>;
  replsrc?: Opt<string>;
  repldst?: Opt<string>;
  origsrcport?: Opt<[number, number]>;
  origdstport?: Opt<[number, number]>;
  replsrcport?: Opt<[number, number]>;
  repldstport?: Opt<[number, number]>;
  status?: Opt<number>;
  expire?: Opt<[number, number]>;
  dir?: 'ORIGINAL' | 'REPLY';
}

const ADDRS = ['origsrc', 'origdst', 'replsrc', 'repldst'] as const;
const PORTS = ['origsrcport', 'origdstport', 'replsrcport', 'repldstport'] as const;

function addrText(cidr: string): string {
  // conntrack prints xtables_ipaddr_to_numeric + ipmask_to_numeric: no /32 (IPv4) or /128 (IPv6).
  if (cidr.includes(':')) return cidr.endsWith('/128') ? cidr.slice(0, -4) : cidr;
  return cidr.endsWith('/32') ? cidr.slice(0, -3) : cidr;
}

function parseConntrack(opts: ExtOption[], ctx: ExtContext): ConntrackData | undefined {
  if (!noDuplicates(opts, ctx)) return undefined;
  const d: ConntrackData = {};
  for (const o of opts) {
    const name = o.name.startsWith('ct') ? o.name.slice(2) : o.name;
    switch (name) {
      case 'state': {
        const m = parseStates(o.args[0]);
        if (m === undefined) return bad(ctx, o, 'INVALID_VALUE', `unknown state in "${o.args[0]}" (INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT)`);
        d.state = { value: m, invert: o.invert };
        break;
      }
      case 'proto': {
        const p = parseProto(o.args[0]);
        if (p === undefined) return bad(ctx, o, 'INVALID_PROTOCOL', `unknown protocol "${o.args[0]}"`);
        d.proto = { value: p, invert: o.invert };
        break;
      }
      case 'origsrc':
      case 'origdst':
      case 'replsrc':
      case 'repldst': {
        const a = parseAddrMask(o.args[0], ctx.family);
        if (typeof a === 'string') return bad(ctx, o, 'INVALID_ADDRESS', `--ct${name}: ${a}`);
        d[name] = { value: a.cidr, invert: o.invert };
        break;
      }
      case 'origsrcport':
      case 'origdstport':
      case 'replsrcport':
      case 'repldstport': {
        const r = parsePortRange(o.args[0]);
        if (!r) return bad(ctx, o, 'INVALID_PORT', `--ct${name}: "${o.args[0]}" is not a port or range`);
        d[name] = { value: r, invert: o.invert };
        break;
      }
      case 'status': {
        let m = 0;
        for (const part of o.args[0].split(',')) {
          const up = part.toUpperCase();
          if (up === 'NONE') continue;
          const i = STATUS.indexOf(up);
          if (i < 0) return bad(ctx, o, 'INVALID_VALUE', `unknown status "${part}" (EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED,NONE)`);
          m |= 1 << i;
        }
        d.status = { value: m, invert: o.invert };
        break;
      }
      case 'expire': {
        const [a, b] = o.args[0].split(':');
        const lo = parseUint(a);
        const hi = b === undefined ? lo : parseUint(b);
        if (lo === undefined || hi === undefined || lo > hi) return bad(ctx, o, 'INVALID_VALUE', `--ctexpire wants seconds or min:max, got "${o.args[0]}"`);
        d.expire = { value: [lo, hi], invert: o.invert };
        break;
      }
      case 'dir': {
        // iptables refuses `! --ctdir` ("cannot be inverted"): taken as a direction it would mean the opposite.
        if (o.invert) {
          ctx.problems.error('MISPLACED_INVERT', '--ctdir cannot be inverted (iptables refuses it): write the other direction', ctx.line, o.col, '--ctdir');
          return undefined;
        }
        const v = o.args[0].toUpperCase();
        if (v !== 'ORIGINAL' && v !== 'REPLY') return bad(ctx, o, 'INVALID_VALUE', `--ctdir wants ORIGINAL or REPLY, got "${o.args[0]}"`);
        d.dir = v;
        break;
      }
    }
  }
  return d;
}

function saveConntrack(d: ConntrackData, stateName: string): string {
  let s = '';
  if (d.state) s += `${inv(d.state.invert)} --${stateName} ${statesText(d.state.value)}`;
  if (d.proto) s += `${inv(d.proto.invert)} --ctproto ${d.proto.value}`;
  for (const a of ADDRS) {
    const v = d[a];
    if (v) s += `${inv(v.invert)} --ct${a} ${addrText(v.value)}`;
  }
  for (const p of PORTS) {
    const v = d[p];
    if (v) s += `${inv(v.invert)} --ct${p} ${v.value[0] === v.value[1] ? v.value[0] : `${v.value[0]}:${v.value[1]}`}`;
  }
  if (d.status) {
    const names = STATUS.filter((_, i) => d.status!.value & (1 << i));
    s += `${inv(d.status.invert)} --ctstatus ${names.length ? names.join(',') : 'NONE'}`;
  }
  if (d.expire) s += `${inv(d.expire.invert)} --ctexpire ${d.expire.value[0] === d.expire.value[1] ? d.expire.value[0] : `${d.expire.value[0]}:${d.expire.value[1]}`}`;
  if (d.dir) s += ` --ctdir ${d.dir}`;
  return s;
}

function conntrackExprs(d: ConntrackData, stateName: string): Match[] {
  const out: Match[] = [];
  if (d.state) {
    const m: Match = { type: 'match', key: 'ctstate', states: stateList(d.state.value) };
    if (d.state.invert) m.invert = true;
    out.push(m);
  }
  if (d.dir) out.push({ type: 'match', key: 'ctdir', dir: d.dir === 'ORIGINAL' ? 'original' : 'reply' });
  // Everything else, one `other` per option, so the rest of the rule stays decidable.
  const rest: ConntrackData = { ...d, state: undefined, dir: undefined };
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) continue;
    const one = saveConntrack({ [k]: v } as ConntrackData, stateName).trim();
    const invert = (v as Opt<unknown>).invert;
    const m: Match = { type: 'match', key: 'other', module: 'conntrack', text: one.replace(/^! /, '') };
    if (invert) m.invert = true;
    out.push(m);
  }
  return out;
}

const CT_OPTIONS = {
  ctstate: 1, ctproto: 1, ctorigsrc: 1, ctorigdst: 1, ctreplsrc: 1, ctrepldst: 1, ctorigsrcport: 1, ctorigdstport: 1,
  ctreplsrcport: 1, ctrepldstport: 1, ctstatus: 1, ctexpire: 1, ctdir: 1,
};

export const conntrack: Extension<ConntrackData> = {
  kind: 'match',
  name: 'conntrack',
  options: CT_OPTIONS,
  parse: parseConntrack,
  save: (d) => saveConntrack(d, 'ctstate'),
  exprs: (d) => conntrackExprs(d, 'ctstate'),
};

/** -m state --state: iptables 1.8 loads it as the conntrack alias and prints it as `-m state --state`. */
export const state: Extension<ConntrackData> = {
  kind: 'match',
  name: 'state',
  options: { state: 1 },
  parse(opts, ctx) {
    const d = parseConntrack(opts, ctx);
    if (d && !d.state) {
      ctx.problems.error('MISSING_OPTION', '-m state needs --state', ctx.line, opts[0]?.col ?? 1);
      return undefined;
    }
    return d;
  },
  save: (d) => saveConntrack(d, 'state'),
  exprs: (d) => conntrackExprs(d, 'state'),
};
