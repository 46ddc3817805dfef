// The running node's own addresses and routes (ip -j addr / ip -j route), for `nfqguard trace --live`.
// The edge of the simulator: it runs `ip` and hands parsed values in.
import { run } from '../lab/exec.js';
import { parseAddr, parsePrefix } from './addr.js';
import { ROUTE_TYPES, tableName, type LocalAddress, type RouteSpec, type RouteType } from './options.js';

interface IpAddrJson {
  ifname: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number; broadcast?: string }>;
}

interface IpRouteJson {
  dst: string;
  dev?: string;
  type?: string;
  table?: string;
}

async function ipJson<T>(args: string[], netns?: string): Promise<T[]> {
  const full = netns ? ['netns', 'exec', netns, 'ip', ...args] : args;
  const r = await run('ip', full, { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return JSON.parse(r.stdout || '[]') as T[];
}

export async function readLocalAddresses(netns?: string): Promise<LocalAddress[]> {
  const out: LocalAddress[] = [];
  for (const link of await ipJson<IpAddrJson>(['-j', 'addr', 'show'], netns)) {
    for (const a of link.addr_info ?? []) {
      const addr = parseAddr(a.local);
      if (!addr) continue;
      const l: LocalAddress = { addr, iface: link.ifname, text: `${a.local}/${a.prefixlen}@${link.ifname}` };
      const b = a.broadcast ? parseAddr(a.broadcast) : undefined;
      if (b) l.broadcast = b;
      out.push(l);
    }
  }
  return out;
}

/**
 * The routes of every table but local (the node's addresses are --local's): unicast routes with their
 * device, and the route types policy routing acts on (blackhole, unreachable, prohibit, throw, local).
 */
export async function readRoutes(netns?: string): Promise<RouteSpec[]> {
  const out: RouteSpec[] = [];
  for (const [args, def] of [
    [['-j', '-4', 'route', 'show', 'table', 'all'], '0.0.0.0/0'],
    [['-j', '-6', 'route', 'show', 'table', 'all'], '::/0'],
  ] as const) {
    let routes: IpRouteJson[];
    try {
      routes = await ipJson<IpRouteJson>([...args], netns);
    } catch {
      continue;
    }
    for (const r of routes) {
      const table = tableName(r.table ?? 'main');
      if (table === 'local') continue;
      const type = (r.type ?? 'unicast') as RouteType;
      if (!ROUTE_TYPES.includes(type)) continue;
      if (type === 'unicast' && !r.dev) continue;
      const prefix = parsePrefix(r.dst === 'default' ? def : r.dst);
      if (!prefix) continue;
      const dev = type === 'unicast' || type === 'local' ? (r.dev ?? 'lo') : type;
      out.push({ prefix, dev, ...(table !== 'main' ? { table } : {}), ...(type !== 'unicast' ? { type } : {}), text: `${r.dst}@${dev}${table !== 'main' ? `,table=${table}` : ''}` });
    }
  }
  return out;
}
