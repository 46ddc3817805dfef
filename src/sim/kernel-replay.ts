// `nfqguard trace --kernel`: the same packet through the real kernel. A throwaway namespace gets the
// node's addresses, an interface per side the packet needs (named as the trace names them), the ruleset
// (real iptables-restore / nft), the declared hooks as nft chains and queue consumers answering as the
// trace was told; the packet is sent and the kernel's own trace is read back. Always cleaned up.
import type { IpRule, Ruleset } from '../ruleset/model.js';
import { addrEquals, formatAddr, isLoopback, type Addr, type Prefix } from './addr.js';
import { kernelOutcome, type KernelOutcome } from './compare.js';
import { TraceLab, type LabLink, type LabLocal, type LabPlan, type LabRouting, type RulesetSource } from './kernel/lab.js';
import type { NfTraceEvent } from './kernel/nftrace.js';
import type { ExtraHook, LocalAddress, QueueAnswers, RouteSpec } from './options.js';
import type { PacketSpec } from './packet.js';
import { nodeView } from './program.js';
import { DEFAULT_IN, DEFAULT_OUT } from './run.js';

export interface ReplayInput {
  source: RulesetSource;
  /** The model of the same ruleset: rule texts for display, queue numbers for consumers. */
  model: Ruleset;
  packet: PacketSpec;
  in?: string;
  out?: string;
  mark?: number;
  start?: 'prerouting' | 'output';
  hooks: readonly ExtraHook[];
  locals: readonly LocalAddress[];
  routes?: readonly RouteSpec[];
  /** Policy routing rules, set up in the namespace with the routes of tables other than main. */
  ipRules?: readonly IpRule[];
  queueAnswers?: QueueAnswers;
  /** Aborted (Ctrl-C): the replay stops at the next step and removes its namespaces. */
  signal?: AbortSignal;
}

export interface ReplayResult {
  outcome: KernelOutcome;
  /** Every chain the kernel had (`family table chain`). */
  chains: Set<string>;
  events: NfTraceEvent[];
  plan: LabPlan;
}

function prefixArg(p: Prefix): string {
  const a: Addr = p.v === 4 ? { v: 4, n: p.net } : { v: 6, w: [p.net[0], p.net[1], p.net[2], p.net[3]] };
  return `${formatAddr(a)}/${p.len}`;
}

/**
 * The ip rules (as `ip rule` printed them: priority and text) and the routes of tables other than main,
 * as `ip rule add` / `ip route add` arguments. The kernel's own local rule (priority 0) is left as it is.
 */
export function labRoutingOf(ipRules: readonly IpRule[], routes: readonly RouteSpec[]): LabRouting {
  const rules: LabRouting['rules'] = [];
  for (const r of ipRules) {
    const words = r.text.split(/\s+/).filter((w) => w && w !== '[detached]' && w !== 'unresolved');
    if (r.priority === 0 && words.join(' ') === 'from all lookup local') continue;
    rules.push({ v6: r.family === 'ip6', args: ['pref', String(r.priority), ...words] });
  }
  const out: LabRouting['routes'] = [];
  for (const rt of routes) {
    if (rt.table === undefined) continue;
    const type = rt.type ?? 'unicast';
    const where = type === 'unicast' ? ['dev', rt.dev] : type === 'local' ? ['dev', 'lo'] : [];
    out.push({ v6: rt.prefix.v === 6, table: rt.table, args: [...(type === 'unicast' ? [] : [type]), prefixArg(rt.prefix), ...where, 'table', rt.table] });
  }
  return { rules, routes: out };
}

/** Why the packet cannot be replayed as asked, or undefined. */
export function replayUnsupported(p: PacketSpec, ctState: string | undefined, ctmark: number | undefined): string | undefined {
  if (p.proto !== 6 && p.proto !== 17) return 'the kernel replay sends TCP and UDP packets only';
  if ((ctState ?? p.ctState ?? 'new') !== 'new') return 'the kernel replay sends the first packet of a new connection (ct state new)';
  if ((ctmark ?? p.ctmark ?? 0) !== 0) return 'a new connection starts with ctmark 0 in the kernel';
  if (p.tcpFlags !== undefined && p.tcpFlags !== 0x02) return 'the kernel replay sends a TCP SYN';
  return undefined;
}

/** The namespaces a packet needs: where it comes in, where it leaves, the node's addresses. */
export function planFor(input: ReplayInput): { plan: LabPlan; start: 'prerouting' | 'output'; inLink?: string } {
  const p = input.packet;
  const node = nodeView(input.locals, input.routes ?? []);
  const start = input.start ?? (node.isLocal(p.saddr) ? 'output' : 'prerouting');
  const links: LabLink[] = [];
  const link = (name: string): LabLink => {
    let l = links.find((x) => x.name === name);
    if (!l) links.push((l = { name, remotes: [] }));
    return l;
  };
  const addRemote = (name: string, a: Addr): void => {
    const l = link(name);
    if (!l.remotes.some((r) => addrEquals(r, a))) l.remotes.push(a);
  };
  let inLink: string | undefined;
  if (start === 'prerouting') {
    inLink = p.in ?? input.in ?? DEFAULT_IN;
    if (inLink === 'lo') throw new Error('the kernel replay cannot bring a packet in on lo from outside; let the source be local instead');
    addRemote(inLink, p.saddr);
  }
  // A destination that is not local leaves by its interface; the peer there need not own it (it may
  // be the same peer as the sender's): main's default route points out of that interface.
  let defaultVia: string | undefined;
  if (!node.isLocal(p.daddr)) {
    defaultVia = p.out ?? input.out ?? node.routeDev(p.daddr) ?? DEFAULT_OUT;
    link(defaultVia);
  }
  // The devices other tables send packets by must exist for their routes to be added.
  for (const rt of input.routes ?? []) if (rt.table !== undefined && (rt.type ?? 'unicast') === 'unicast' && rt.dev !== 'lo') link(rt.dev);
  const locals: LabLocal[] = [];
  for (const l of input.locals) if (!isLoopback(l.addr)) locals.push({ addr: l.addr, ...(l.iface ? { iface: l.iface } : {}) });
  return { plan: { links, locals, ...(defaultVia ? { defaultVia } : {}) }, start, ...(inLink ? { inLink } : {}) };
}

function queueNumbers(model: Ruleset, hooks: readonly ExtraHook[]): number[] {
  const out: number[] = [];
  for (const t of model.tables) {
    for (const c of t.chains) {
      for (const r of c.rules) {
        for (const e of r.exprs) {
          if (e.type === 'action' && e.kind === 'queue') for (let n = e.num; n <= Math.min(e.numTo ?? e.num, e.num + 64); n++) out.push(n);
        }
      }
    }
  }
  for (const h of hooks) for (const a of h.actions) if (a.kind === 'queue') out.push(a.num);
  return out;
}

export async function replayInKernel(input: ReplayInput): Promise<ReplayResult> {
  const { plan, start, inLink } = planFor(input);
  const stop = (): void => {
    if (input.signal?.aborted) throw new Error('interrupted');
  };
  stop();
  const lab = await TraceLab.create(plan);
  try {
    stop();
    if (input.ipRules?.length || (input.routes ?? []).some((r) => r.table !== undefined)) await lab.setRouting(labRoutingOf(input.ipRules ?? [], input.routes ?? []));
    await lab.load(input.source, input.hooks, input.queueAnswers, queueNumbers(input.model, input.hooks));
    stop();
    const text = (family: string, table: string, chain: string, index: number): string | undefined => {
      const rules = input.model.tables.find((t) => t.family === family && t.name === table)?.chains.find((c) => c.name === chain)?.rules ?? [];
      // The kernel's rule `index`: a verdict map the parser split into one rule per element is one rule
      // there, shown without the element (the kernel's trace does not say which one matched).
      const parts = rules.filter((r, i) => (r.number ?? i + 1) === index);
      if (parts.length > 1) return parts[0].text.replace(/ \[element .*\]$/, '');
      return parts[0]?.text;
    };
    const events = await lab.trace(input.packet, { start, mark: input.packet.mark ?? input.mark, ...(inLink ? { inLink } : {}), signal: input.signal });
    stop();
    const view = lab.kernelView(text);
    return { outcome: kernelOutcome(events, view), chains: view.chains ?? new Set(), events, plan };
  } finally {
    await lab.destroy();
  }
}
