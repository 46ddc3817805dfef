// A throwaway copy of the node for the kernel replay: a network namespace ("main") with the node's
// addresses and the interfaces a packet needs, one peer namespace per interface standing for what is
// behind it, the ruleset loaded with the real iptables-restore / nft, and the kernel's trace read over
// netlink. Namespaces, senders and queue consumers are always removed by destroy().
//
// What runs in main besides the ruleset (all registered after it, so they run first at equal priority):
//   table inet nfqguard_trace  prerouting/output at INT_MIN: sets nftrace (and, for a packet from
//                              outside, the start mark) on the one packet being traced, matched by its
//                              exact addresses and ports. A locally generated packet's start mark is its
//                              socket's (SO_MARK, send-marked.ts): its own route lookup sees it
//   table inet nfqguard_obs    input/postrouting at INT_MAX, empty: their policy events say that the
//                              packet got through the hook, with its final mark
//   table FAMILY nfqguard_hooks  the declared hooks (--hook) as chains h0, h1...
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Netns } from '../../lab/netns.js';
import { NfQueue } from '../../nfqueue/queue.js';
import { mergeMark } from '../../nfqueue/marks.js';
import { formatAddr, type Addr } from '../addr.js';
import { HOOKS_TABLE, OBSERVER_TABLE, OBS_INPUT_CHAIN, OBS_POSTROUTING_CHAIN, TRACE_TABLE, type KernelView } from '../compare.js';
import { answerFor, type ExtraHook, type QueueAnswers } from '../options.js';
import type { PacketSpec } from '../packet.js';
import type { RuleRef } from '../program.js';
import { NfTraceListener, type NfTraceEvent } from './nftrace.js';
import type { SendSpec } from './send.js';
import { SEND_MARKED_PY } from './send-marked.js';

export interface LabLink {
  /** The interface name in main (eth0, cni0...). */
  name: string;
  /** Addresses that live behind this interface (assigned in its peer namespace). */
  remotes: Addr[];
}

export interface LabLocal {
  addr: Addr;
  /** Interface in main that carries the address: a link, 'lo', or a dummy created with this name. */
  iface?: string;
}

export interface LabPlan {
  links: LabLink[];
  locals: LabLocal[];
  /** A link that main's default routes (IPv4 and IPv6) go out of, for destinations behind no link. */
  defaultVia?: string;
}

/** The ruleset as text for the real tools. */
export interface RulesetSource {
  iptables?: string;
  ip6tables?: string;
  nft?: string;
  /** nft -j documents, loaded one after the other. */
  nftJson?: string[];
}

/** Whether the kernel has the dummy link type (the node's addresses on devices no packet crosses). */
async function dummySupported(ns: Netns): Promise<boolean> {
  const r = await ns.exec('ip', ['link', 'add', 'nfqgprobe', 'type', 'dummy'], { timeoutMs: 10_000 });
  if (r.code !== 0) return false;
  await ns.exec('ip', ['link', 'del', 'nfqgprobe'], { timeoutMs: 10_000 });
  return true;
}

/**
 * An `nft -j list ruleset` document in an order nft can load: `nft -j` lists a table's sets and maps
 * before its chains, and a verdict map whose elements jump to those chains does not load that way
 * ("Could not process rule: No such file or directory", kube-proxy's service-ips map). Tables, then
 * chains, then everything else (sets, maps, counters, flowtables...), then rules; each kind in its order.
 */
export function loadOrder(doc: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(doc);
  } catch {
    return doc; // nft reports the error at its place
  }
  const list = (parsed as { nftables?: unknown }).nftables;
  if (!Array.isArray(list)) return doc;
  const rank = (o: unknown): number => {
    const k = o !== null && typeof o === 'object' ? Object.keys(o)[0] : undefined;
    return k === 'metainfo' ? 0 : k === 'table' ? 1 : k === 'chain' ? 2 : k === 'rule' ? 4 : 3;
  };
  const sorted = list.map((o, i) => ({ o, i, r: rank(o) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.o);
  return JSON.stringify({ ...(parsed as object), nftables: sorted });
}

/**
 * Loads an `nft -j` document through a file: `nft -j -f -` opens /dev/stdin by name, which fails
 * (ENXIO) on the socket Node gives a child as its standard input.
 */
async function loadNftJson(ns: Netns, doc: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nfqguard-nft-'));
  try {
    const file = join(dir, 'ruleset.json');
    await writeFile(file, loadOrder(doc), { mode: 0o600 });
    await ns.execOk('nft', ['-j', '-f', file], { timeoutMs: 10_000 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Policy routing for the namespace: `ip rule add` and `ip route add` arguments per family. A family
 * with no rules keeps the kernel's default rules (local, main, default).
 */
export interface LabRouting {
  rules: Array<{ v6: boolean; args: string[] }>;
  /** Routes of tables other than main (their devices must be links or lo). */
  routes: Array<{ v6: boolean; table: string; args: string[] }>;
}

export interface LabTraceOptions {
  start: 'prerouting' | 'output';
  /** The mark the packet starts with (set by the trace rule). */
  mark?: number;
  /** The link a PREROUTING packet comes in on (default: the link whose remotes hold the source). */
  inLink?: string;
  /** Stops waiting for the trace when aborted. */
  signal?: AbortSignal;
}

function scriptPath(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), name);
}

function mac(link: number, side: number): string {
  return `02:00:00:00:${link.toString(16).padStart(2, '0')}:${side.toString(16).padStart(2, '0')}`;
}

function hostLen(a: Addr): string {
  return `${formatAddr(a)}/${a.v === 4 ? 32 : 128}`;
}

/** One persistent sender process inside a namespace. */
class Sender {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private exited = false;

  /** marked: the Python sender that puts the packet's mark on its socket (send-marked.ts). */
  constructor(ns: string, marked = false) {
    const prog = marked ? ['python3', '-c', SEND_MARKED_PY] : [process.execPath, scriptPath('send.js')];
    this.child = spawn('ip', ['netns', 'exec', ns, ...prog], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const m = /^(sent|error) (-?\d+) ?(.*)$/.exec(line);
      if (!m) return;
      const w = this.waiting.get(Number(m[2]));
      if (!w) return;
      this.waiting.delete(Number(m[2]));
      if (m[1] === 'sent') w.resolve();
      else w.reject(new Error(`sending failed: ${m[3]}`));
    });
    this.child.stdin?.on('error', () => undefined);
    this.child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiting.values()) w.reject(new Error('the packet sender exited'));
      this.waiting.clear();
    });
  }

  send(spec: SendSpec): Promise<void> {
    if (this.exited) return Promise.reject(new Error('the packet sender exited'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(spec.n);
        reject(new Error('the packet sender did not answer within 5 s'));
      }, 5000);
      this.waiting.set(spec.n, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin?.write(JSON.stringify(spec) + '\n');
    });
  }

  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => this.child.kill('SIGKILL'), 1000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      this.child.stdin?.end();
    });
  }
}

interface NftListing {
  nftables: Array<{
    chain?: { family: string; table: string; name: string; hook?: string; prio?: number };
    rule?: { family: string; table: string; chain: string; handle: number };
  }>;
}

export class TraceLab {
  private readonly senders = new Map<string, Sender>();
  private listener: NfTraceListener | undefined;
  private queues: NfQueue[] = [];
  /** The consumers' answers since the last packet was sent (trace() clears them). */
  private answers: Array<{ queue: number; verdict: 'accept' | 'drop'; mark: number }> = [];
  private ifnames = new Map<number, string>();
  private view: KernelView = { ruleIndex: new Map(), chainHook: new Map(), hookRefs: new Map(), ifname: () => undefined };
  private seq = 0;
  private sportNext = 20000;
  /** Tables setRouting() filled, per family, to flush on the next call. */
  private routeTables: Array<{ v6: boolean; table: string }> = [];

  private constructor(
    readonly main: Netns,
    private readonly peers: Map<string, Netns>,
    private readonly plan: LabPlan,
  ) {}

  /** Builds the namespaces of a plan. */
  static async create(plan: LabPlan): Promise<TraceLab> {
    const main = await Netns.create('trace');
    const peers = new Map<string, Netns>();
    const lab = new TraceLab(main, peers, plan);
    try {
      for (const l of plan.links) peers.set(l.name, await Netns.create('tpeer'));
      await lab.setup();
      lab.listener = new NfTraceListener(main.path);
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  private async setup(): Promise<void> {
    const { main, plan } = this;
    const mainCmds: string[] = [];
    const linkNames = new Set(plan.links.map((l) => l.name));
    plan.links.forEach((l, i) => {
      const peer = this.peers.get(l.name) as Netns;
      mainCmds.push(`link add ${l.name} address ${mac(i + 1, 1)} type veth peer name p0 address ${mac(i + 1, 2)} netns ${peer.name}`);
      mainCmds.push(`link set ${l.name} up`);
      for (const r of l.remotes) {
        mainCmds.push(`route replace ${hostLen(r)} dev ${l.name}`);
        mainCmds.push(`neigh replace ${formatAddr(r)} lladdr ${mac(i + 1, 2)} dev ${l.name} nud permanent`);
      }
    });
    const via = plan.links.findIndex((l) => l.name === plan.defaultVia);
    if (via >= 0) {
      const dev = plan.links[via].name;
      mainCmds.push(
        `neigh replace 169.254.0.2 lladdr ${mac(via + 1, 2)} dev ${dev} nud permanent`,
        `route replace default via 169.254.0.2 dev ${dev} onlink`,
        `neigh replace fe80::2 lladdr ${mac(via + 1, 2)} dev ${dev} nud permanent`,
        `route replace ::/0 via fe80::2 dev ${dev} onlink`,
      );
    }
    const dummies = new Set<string>();
    const dummyOk = plan.locals.some((l) => l.iface && l.iface !== 'lo' && !linkNames.has(l.iface)) ? await dummySupported(main) : true;
    for (const loc of plan.locals) {
      const dev = loc.iface ?? 'lo';
      if (dev !== 'lo' && !linkNames.has(dev) && !dummies.has(dev)) {
        dummies.add(dev);
        // Without the dummy driver (some kernels lack it) a veth whose other end stays in main, up.
        if (dummyOk) mainCmds.push(`link add ${dev} type dummy`, `link set ${dev} up`);
        else mainCmds.push(`link add ${dev} type veth peer name nfqgd${dummies.size}`, `link set nfqgd${dummies.size} up`, `link set ${dev} up`);
      }
      if (dev === 'lo' && ((loc.addr.v === 4 && loc.addr.n >>> 24 === 127) || (loc.addr.v === 6 && formatAddr(loc.addr) === '::1'))) continue;
      mainCmds.push(`addr add ${hostLen(loc.addr)} dev ${dev}${loc.addr.v === 6 ? ' nodad' : ''}`);
    }
    if (mainCmds.length) await main.execOk('ip', ['-batch', '-'], { input: mainCmds.join('\n') + '\n', timeoutMs: 10_000 });
    const sysctls = [
      'net.ipv4.ip_forward=1',
      'net.ipv6.conf.all.forwarding=1',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
      ...plan.links.map((l) => `net.ipv4.conf.${l.name}.rp_filter=0`),
    ];
    await main.execOk('sysctl', ['-q', '-w', ...sysctls]);
    await Promise.all(
      plan.links.map(async (l, i) => {
        const peer = this.peers.get(l.name) as Netns;
        const cmds = ['link set p0 up'];
        for (const r of l.remotes) cmds.push(`addr add ${hostLen(r)} dev p0${r.v === 6 ? ' nodad' : ''}`);
        cmds.push(
          'route add default via 169.254.0.1 dev p0 onlink',
          `neigh replace 169.254.0.1 lladdr ${mac(i + 1, 1)} dev p0 nud permanent`,
          'route add ::/0 via fe80::1 dev p0 onlink',
          `neigh replace fe80::1 lladdr ${mac(i + 1, 1)} dev p0 nud permanent`,
        );
        await peer.execOk('ip', ['-batch', '-'], { input: cmds.join('\n') + '\n', timeoutMs: 10_000 });
      }),
    );
    const links = JSON.parse(await main.execOk('ip', ['-j', 'link', 'show'])) as Array<{ ifindex: number; ifname: string }>;
    for (const l of links) this.ifnames.set(l.ifindex, l.ifname);
  }

  /**
   * Loads a ruleset (replacing what was there), the declared hooks, our trace and observer tables,
   * and queue consumers answering as told. Throws with the tool's message when a load fails.
   */
  async load(src: RulesetSource, hooks: readonly ExtraHook[] = [], answers?: QueueAnswers, queueNums: readonly number[] = []): Promise<void> {
    await this.closeQueues();
    const { main } = this;
    await main.execOk('nft', ['flush', 'ruleset']);
    if (src.iptables) await main.iptablesRestore(src.iptables, 'iptables-restore');
    if (src.ip6tables) await main.iptablesRestore(src.ip6tables, 'ip6tables-restore');
    if (src.nft) await main.nft(src.nft);
    for (const doc of src.nftJson ?? []) await loadNftJson(main, doc);
    const hookRefs = new Map<string, RuleRef>();
    const byFamily = new Map<string, string[]>();
    hooks.forEach((h, i) => {
      const stmts: string[] = [];
      let verdict = '';
      for (const a of h.actions) {
        if (a.kind === 'mark') stmts.push(a.mask >>> 0 === 0xffffffff ? `meta mark set 0x${(a.value >>> 0).toString(16)}` : `meta mark set meta mark and 0x${(~a.mask >>> 0).toString(16)} or 0x${((a.value & a.mask) >>> 0).toString(16)}`);
        else if (a.kind === 'queue') verdict = `queue num ${a.num}${a.bypass ? ' bypass' : ''}`;
        else verdict = a.kind;
      }
      const rule = [...stmts, verdict].filter(Boolean).join(' ');
      const lines = byFamily.get(h.family) ?? [];
      lines.push(`  chain h${i} {`, `    type filter hook ${h.hook} priority ${h.priority}; policy accept;`, `    ${rule}`, '  }');
      byFamily.set(h.family, lines);
      hookRefs.set(`${h.family} h${i}`, { family: h.family, table: '(hook)', chain: `${h.hook}:${h.priorityText}`, rule: null, text: h.text });
    });
    let script = '';
    for (const [family, lines] of byFamily) script += `table ${family} ${HOOKS_TABLE} {\n${lines.join('\n')}\n}\n`;
    script +=
      `table inet ${OBSERVER_TABLE} {\n` +
      `  chain ${OBS_INPUT_CHAIN} { type filter hook input priority 2147483647; policy accept; }\n` +
      `  chain ${OBS_POSTROUTING_CHAIN} { type filter hook postrouting priority 2147483647; policy accept; }\n}\n` +
      `table inet ${TRACE_TABLE} {\n` +
      `  chain pre { type filter hook prerouting priority -2147483648; policy accept; }\n` +
      `  chain out { type filter hook output priority -2147483648; policy accept; }\n}\n`;
    try {
      await main.nft(script);
    } catch (e) {
      if (/queue/.test(script) && /No such file or directory/.test((e as Error).message)) {
        throw new Error('this kernel has no native nft queue (CONFIG_NFT_QUEUE), so a declared queue hook cannot be replayed here');
      }
      throw e;
    }
    // Rule handles -> positions, base chains -> hooks.
    const listing = JSON.parse(await main.execOk('nft', ['-j', '-a', 'list', 'ruleset'], { timeoutMs: 20_000 })) as NftListing;
    const ruleIndex = new Map<string, number>();
    const chainHook = new Map<string, string>();
    const chains = new Set<string>();
    const counts = new Map<string, number>();
    for (const o of listing.nftables) {
      if (o.chain) chains.add(`${o.chain.family} ${o.chain.table} ${o.chain.name}`);
      if (o.chain?.hook) chainHook.set(`${o.chain.family} ${o.chain.table} ${o.chain.name}`, o.chain.hook);
      if (o.rule) {
        const ck = `${o.rule.family} ${o.rule.table} ${o.rule.chain}`;
        const n = (counts.get(ck) ?? 0) + 1;
        counts.set(ck, n);
        ruleIndex.set(`${ck} ${o.rule.handle}`, n);
      }
    }
    const queueConsumers = new Set<number>();
    this.view = { ruleIndex, chainHook, chains, hookRefs, ifname: (i) => this.ifnames.get(i), queueConsumers, queueAnswers: () => this.answers };
    // Consumers for the queues that have an answer.
    if (answers) {
      for (const num of new Set(queueNums)) {
        const ans = answerFor(answers, num);
        if (!ans) continue;
        if (ans.verdict === 'hold') throw new Error('--queue-verdict hold cannot be replayed in the kernel');
        const whole = ans.mark !== undefined && ans.mark.mask >>> 0 === 0xffffffff;
        const decision = ans.verdict === 'drop' ? { verdict: 'drop' as const } : { verdict: 'accept' as const, ...(ans.mark ? { mark: ans.mark.value & ans.mark.mask } : {}), ...(ans.ctmark ? { ctMark: ans.ctmark.value & ans.ctmark.mask } : {}) };
        queueConsumers.add(num);
        this.queues.push(
          await NfQueue.open({
            queue: num,
            netns: main.path,
            copyRange: 64,
            unsafeWholeMark: whole,
            ...(ans.mark && !whole ? { markMask: ans.mark.mask } : {}),
            ...(ans.ctmark ? { ctMarkMask: ans.ctmark.mask } : {}),
            onPacket: (pk) => {
              const mark = decision.verdict === 'drop' || decision.mark === undefined ? pk.mark : whole ? decision.mark : mergeMark(pk.mark, decision.mark, (ans.mark as { mask: number }).mask);
              this.answers.push({ queue: num, verdict: decision.verdict, mark: mark >>> 0 });
              return decision;
            },
          }),
        );
      }
    }
  }

  /** Replaces the namespace's ip rules and the routes of tables other than main (see LabRouting). */
  async setRouting(r: LabRouting): Promise<void> {
    for (const v6 of [false, true]) {
      const fam = v6 ? ['-6'] : [];
      // Undo the last call: its tables' routes (a table may be empty already: errors ignored), then
      // the rules (`ip rule flush` keeps priority 0, lookup local).
      const flush = this.routeTables.filter((t) => t.v6 === v6).map((t) => `route flush table ${t.table}`);
      if (flush.length) await this.main.exec('ip', [...fam, '-force', '-batch', '-'], { input: flush.join('\n') + '\n', timeoutMs: 10_000 });
      const cmds = ['rule flush'];
      const rules = r.rules.filter((x) => x.v6 === v6);
      if (rules.length === 0) cmds.push('rule add pref 32766 lookup main', 'rule add pref 32767 lookup default');
      for (const x of rules) cmds.push(['rule', 'add', ...x.args].join(' '));
      for (const x of r.routes) if (x.v6 === v6) cmds.push(['route', 'add', ...x.args].join(' '));
      await this.main.execOk('ip', [...fam, '-batch', '-'], { input: cmds.join('\n') + '\n', timeoutMs: 10_000 });
    }
    this.routeTables = r.routes.map((x) => ({ v6: x.v6, table: x.table }));
  }

  /** What the comparison needs about the loaded ruleset. */
  kernelView(ruleText?: KernelView['ruleText']): KernelView {
    return { ...this.view, ...(ruleText ? { ruleText } : {}) };
  }

  private sender(ns: Netns, marked = false): Sender {
    const key = `${ns.name}${marked ? ' marked' : ''}`;
    let s = this.senders.get(key);
    if (!s) {
      s = new Sender(ns.name, marked);
      this.senders.set(key, s);
    }
    return s;
  }

  /** A fresh source port for each packet, so that each is the first of a new connection. */
  nextSport(): number {
    const p = this.sportNext++;
    if (this.sportNext > 60000) this.sportNext = 20000;
    return p;
  }

  /** Sends one packet and returns the kernel's trace events for it. */
  async trace(p: PacketSpec, opts: LabTraceOptions): Promise<NfTraceEvent[]> {
    if (p.proto !== 6 && p.proto !== 17) throw new Error('the kernel replay sends TCP and UDP packets only');
    const listener = this.listener as NfTraceListener;
    const fam = p.family;
    const l4 = p.proto === 6 ? 'tcp' : 'udp';
    const match = `${fam} saddr ${formatAddr(p.saddr)} ${fam} daddr ${formatAddr(p.daddr)} ${l4} sport ${p.sport} ${l4} dport ${p.dport}`;
    const chain = opts.start === 'output' ? 'out' : 'pre';
    // A locally generated packet gets its mark on its socket (SO_MARK: the socket's route lookup sees
    // it); one from outside gets it in PREROUTING's first chain, before anything reads it.
    const socketMark = opts.start === 'output' && !!opts.mark;
    const mark = opts.mark && !socketMark ? ` meta mark set 0x${(opts.mark >>> 0).toString(16)}` : '';
    await this.main.nft(`flush chain inet ${TRACE_TABLE} pre\nflush chain inet ${TRACE_TABLE} out\nadd rule inet ${TRACE_TABLE} ${chain} ${match}${mark} meta nftrace set 1\n`);
    let from: Netns = this.main;
    if (opts.start === 'prerouting') {
      const link = opts.inLink ? this.plan.links.find((l) => l.name === opts.inLink) : this.plan.links.find((l) => l.remotes.some((r) => formatAddr(r) === formatAddr(p.saddr)));
      if (!link) throw new Error(`no interface of the replay has ${formatAddr(p.saddr)} behind it`);
      from = this.peers.get(link.name) as Netns;
    }
    listener.take();
    this.answers = [];
    await this.sender(from, socketMark).send({ n: ++this.seq, proto: l4, saddr: formatAddr(p.saddr), daddr: formatAddr(p.daddr), sport: p.sport as number, dport: p.dport as number, ...(socketMark ? { mark: opts.mark } : {}) });
    // Done when the packet got through its last hook (an observer's policy, not on the way to lo) or was dropped.
    let curOif: number | undefined;
    const finished = (e: NfTraceEvent): boolean => {
      if (e.iif !== undefined || e.oif !== undefined) curOif = e.oif;
      if (e.table === OBSERVER_TABLE) return e.type === 'policy' && (e.chain === OBS_INPUT_CHAIN || this.ifnames.get(curOif ?? 0) !== 'lo');
      if (e.table === TRACE_TABLE) return false;
      return (e.type === 'rule' && e.verdict === 'drop') || (e.type === 'policy' && e.policy === 'drop');
    };
    await listener.settle(150, 900, finished, opts.signal);
    return listener.take();
  }

  private async closeQueues(): Promise<void> {
    const qs = this.queues;
    this.queues = [];
    await Promise.all(qs.map((q) => q.close().catch(() => undefined)));
  }

  async destroy(): Promise<void> {
    this.listener?.close();
    this.listener = undefined;
    await this.closeQueues();
    await Promise.all([...this.senders.values()].map((s) => s.close()));
    this.senders.clear();
    for (const p of this.peers.values()) await p.destroy();
    await this.main.destroy();
  }
}
