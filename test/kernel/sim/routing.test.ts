// Policy routing by fwmark against the kernel, on the two real cases (shared/reference/
// mark-usage-by-component.md): wg-quick (`lookup main suppress_prefixlength 0`, `not fwmark 51820
// lookup 51820`) and Tailscale (`fwmark 0x80000/0xff0000 lookup main` ... `lookup 52`).
// (1) The decision itself: for every destination x mark x (locally generated | in from eth0), the
// simulator's routing (rules read back with `ip rule` and the tables with `ip route show table all`,
// as --live reads them) against `ip route get` in the namespace.
// (2) Whole paths: the re-route after mangle OUTPUT (iptables) or an nft route chain changes the
// mark, none after a filter chain, a queue consumer's mark, a socket mark, and the input decision
// after PREROUTING marks a forwarded packet: the simulator and the kernel's trace agree, step by
// step and device by device, and the devices are the ones the case is about.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseIpRules } from '../../../src/ruleset/iprule.js';
import { parseIptablesSave } from '../../../src/ruleset/index.js';
import type { IpRule, Ruleset } from '../../../src/ruleset/model.js';
import { parseAddr } from '../../../src/sim/addr.js';
import { compareTrace, kernelOutcome, simInterfaces } from '../../../src/sim/compare.js';
import { labRoutingOf } from '../../../src/sim/kernel-replay.js';
import { TraceLab } from '../../../src/sim/kernel/lab.js';
import { readRoutes } from '../../../src/sim/node-live.js';
import { addQueueVerdict, parseRoute, type QueueAnswers, type RouteSpec } from '../../../src/sim/options.js';
import { parsePacketSpec, PORT_PROTOS } from '../../../src/sim/packet.js';
import { nodeView } from '../../../src/sim/program.js';
import { compileRouting, decideRoute } from '../../../src/sim/routing.js';
import { formatMark } from '../../../src/sim/state.js';
import { Simulator } from '../../../src/sim/trace.js';
import { kernelSkipReason } from '../../helpers/kernel.js';
import { labPlan, planLocals } from '../../helpers/sim-gen.js';
import { TAILSCALE_RULES, WG_QUICK_RULES } from '../../helpers/sim-routing.js';

const skip = kernelSkipReason();
let lab: TraceLab | undefined;

before(async () => {
  // The differential plan (eth0: 10.0.0.0/24, eth1: 10.1.0.0/24, fd00::/64, fd00:1::/64), with main's
  // default route out of eth0.
  if (!skip) lab = await TraceLab.create({ ...labPlan(), defaultVia: 'eth0' });
});

after(async () => {
  await lab?.destroy();
});

function bothFamilies(text: string): IpRule[] {
  return [...parseIpRules(text, { source: 'case', family: 'ip' }).ipRules, ...parseIpRules(text, { source: 'case', family: 'ip6' }).ipRules];
}

/** Sets the case's rules and tables, and reads back what the namespace has (as --live would). */
async function setCase(l: TraceLab, rulesText: string, tables: string[]): Promise<{ ipRules: IpRule[]; routes: RouteSpec[] }> {
  await l.setRouting(labRoutingOf(bothFamilies(rulesText), tables.map(parseRoute)));
  const ipRules: IpRule[] = [];
  for (const [fam, args] of [
    ['ip', ['rule']],
    ['ip6', ['-6', 'rule']],
  ] as const) {
    ipRules.push(...parseIpRules(await l.main.execOk('ip', [...args]), { source: `ns ip ${fam} rule`, family: fam }).ipRules);
  }
  return { ipRules, routes: await readRoutes(l.main.name) };
}

type KernelRoute = string; // 'local' | 'dev X' | 'fails'

async function kernelRouteGet(l: TraceLab, dst: string, mark: number, from?: { src: string; iif: string }): Promise<KernelRoute> {
  const args = ['-j', ...(dst.includes(':') ? ['-6'] : []), 'route', 'get', dst, 'mark', `0x${mark.toString(16)}`, ...(from ? ['from', from.src, 'iif', from.iif] : [])];
  const r = await l.main.exec('ip', args);
  if (r.code !== 0) return 'fails';
  const j = JSON.parse(r.stdout) as Array<{ type?: string; dev?: string }>;
  return j[0].type === 'local' ? 'local' : j[0].type && j[0].type !== 'unicast' ? 'fails' : `dev ${j[0].dev}`;
}

function simRoute(ipRules: IpRule[], routes: RouteSpec[], dst: string, mark: number, from?: { src: string; iif: string }): KernelRoute {
  const routing = compileRouting(ipRules, routes, true);
  const daddr = parseAddr(dst) as NonNullable<ReturnType<typeof parseAddr>>;
  const saddr = parseAddr(from?.src ?? (daddr.v === 4 ? '10.0.0.2' : 'fd00::2')) as NonNullable<ReturnType<typeof parseAddr>>;
  const d = decideRoute(
    routing,
    daddr.v === 4 ? 'ip' : 'ip6',
    { daddr, daddrLocal: false, saddr, saddrUnknown: false, mark, markKnown: 0xffffffff, output: !from, iif: from?.iif, proto: 17, sport: 40000, dport: 53 },
    {
      node: nodeView(planLocals(), routes),
      outIf: undefined,
      defaultOut: 'eth0',
      decide: () => {
        throw new Error('nothing is undecidable here');
      },
    },
  );
  return d.kind === 'local' ? 'local' : d.kind === 'dev' ? `dev ${d.dev}` : d.kind === 'drop' ? 'fails' : `unknown: ${d.why}`;
}

async function grid(l: TraceLab, name: string, setup: { ipRules: IpRule[]; routes: RouteSpec[] }, dsts: string[], marks: number[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const diffs: string[] = [];
  for (const dst of dsts) {
    for (const mark of marks) {
      const v6 = dst.includes(':');
      for (const from of [undefined, { src: v6 ? 'fd00::1' : '10.0.0.1', iif: 'eth0' }]) {
        const k = await kernelRouteGet(l, dst, mark, from);
        const s = simRoute(setup.ipRules, setup.routes, dst, mark, from);
        seen.add(k);
        if (k !== s) diffs.push(`${name}: ${dst} mark 0x${mark.toString(16)} ${from ? `from ${from.src} iif ${from.iif}` : '(local socket)'}: kernel ${k}, simulator ${s}`);
      }
    }
  }
  assert.deepEqual(diffs, []);
  return seen;
}

const DSTS = ['10.1.0.1', '10.0.0.1', '192.0.2.7', '10.0.0.2', 'fd00:1::1', 'fd00::1', '2001:db8::7', 'fd00::2'];

test('wg-quick and Tailscale policy routing: the simulator decides as `ip route get` does, for each destination, mark and direction', { skip: skip ?? false, timeout: 120_000 }, async () => {
  const l = lab as TraceLab;
  // wg-quick: 51820 = 0xca6c. Table 51820 sends everything out of eth1 (standing for wg0).
  const wg = await setCase(l, WG_QUICK_RULES, ['default@eth1,table=51820', 'default6@eth1,table=51820']);
  const wgSeen = await grid(l, 'wg-quick', wg, DSTS, [0, 0xca6c, 0xca6c | 0x100000, 0x4000]);
  assert.ok(wgSeen.has('dev eth0') && wgSeen.has('dev eth1') && wgSeen.has('local'), [...wgSeen].join(', '));
  // Tailscale: table 52 holds the tailnet (here 10.1.0.0/24 out of eth0, where main says eth1).
  const ts = await setCase(l, TAILSCALE_RULES, ['10.1.0.0/24@eth0,table=52', 'fd00:1::/64@eth0,table=52']);
  const tsSeen = await grid(l, 'tailscale', ts, DSTS, [0, 0x80000, 0x180000, 0x88000, 0xff0000]);
  assert.ok(tsSeen.has('dev eth0') && tsSeen.has('dev eth1'), [...tsSeen].join(', '));
  // Without a default route in main, the bypass mark reaches `unreachable` (5250) for the rest.
  await l.main.execOk('ip', ['route', 'del', 'default']);
  await l.main.execOk('ip', ['-6', 'route', 'del', 'default']);
  try {
    const bare = await setCase(l, TAILSCALE_RULES, ['10.1.0.0/24@eth0,table=52', 'fd00:1::/64@eth0,table=52']);
    const bareSeen = await grid(l, 'tailscale, no default route', bare, DSTS, [0, 0x80000]);
    assert.ok(bareSeen.has('fails'), [...bareSeen].join(', '));
  } finally {
    await l.main.execOk('ip', ['route', 'replace', 'default', 'via', '169.254.0.2', 'dev', 'eth0', 'onlink']);
    await l.main.execOk('ip', ['-6', 'route', 'replace', '::/0', 'via', 'fe80::2', 'dev', 'eth0', 'onlink']);
  }
});

interface PathCase {
  name: string;
  rules: string;
  tables: string[];
  iptables?: string;
  nft?: string;
  queue?: string;
  packet: string;
  start: 'prerouting' | 'output';
  mark?: number;
  /** The devices the kernel and the simulator must both show. */
  interfaces: string;
  mark_after: string;
}

const TS_TABLES = ['10.1.0.0/24@eth0,table=52', 'fd00:1::/64@eth0,table=52'];
const MANGLE_OUT_UDP = `*mangle
:OUTPUT ACCEPT [0:0]
-A OUTPUT -p udp -j MARK --set-xmark 0x80000/0xff0000
COMMIT
*filter
:OUTPUT ACCEPT [0:0]
-A OUTPUT -o eth0 -j MARK --set-xmark 0x1/0x1
COMMIT
`;
const nftChainText = (family: string, chain: string, head: string, rule: string): string => `table ${family} t {\n  chain ${chain} {\n    ${head}\n    ${rule}\n  }\n}\n`;
const POST_NFT = nftChainText('inet', 'post', 'type filter hook postrouting priority 0; policy accept;', 'oifname "eth1" meta mark set meta mark | 0x10');

const PATHS: PathCase[] = [
  {
    name: 'mangle OUTPUT sets the bypass mark: re-routed from table 52 (eth0) to main (eth1); filter OUTPUT still sees eth0',
    rules: TAILSCALE_RULES,
    tables: TS_TABLES,
    iptables: MANGLE_OUT_UDP,
    nft: POST_NFT,
    packet: 'udp 10.0.0.2:41641 > 10.1.0.1:53',
    start: 'output',
    interfaces: 'out eth0 -> out eth1',
    mark_after: '0x00080011',
  },
  {
    name: 'the same for TCP, which mangle does not mark: table 52 all the way',
    rules: TAILSCALE_RULES,
    tables: TS_TABLES,
    iptables: MANGLE_OUT_UDP,
    nft: POST_NFT,
    packet: 'tcp 10.0.0.2:41641 > 10.1.0.1:443',
    start: 'output',
    interfaces: 'out eth0',
    mark_after: '0x00000001',
  },
  {
    name: "tailscaled's own socket mark 0x80000: main from the socket's own lookup",
    rules: TAILSCALE_RULES,
    tables: TS_TABLES,
    nft: POST_NFT,
    packet: 'udp 10.0.0.2:41641 > 10.1.0.1:53',
    start: 'output',
    mark: 0x80000,
    interfaces: 'out eth1',
    mark_after: '0x00080010',
  },
  {
    name: 'an nft route chain that sets the mark re-routes; IPv6',
    rules: TAILSCALE_RULES,
    tables: TS_TABLES,
    nft: nftChainText('ip6', 'out', 'type route hook output priority -150; policy accept;', 'meta mark set 0x80000'),
    packet: 'udp [fd00::2]:41641 > [fd00:1::1]:53',
    start: 'output',
    interfaces: 'out eth0 -> out eth1',
    mark_after: '0x00080000',
  },
  {
    name: 'an nft filter chain that sets the mark does not re-route',
    rules: TAILSCALE_RULES,
    tables: TS_TABLES,
    nft: nftChainText('ip', 'out', 'type filter hook output priority -150; policy accept;', 'meta mark set 0x80000'),
    packet: 'udp 10.0.0.2:41641 > 10.1.0.1:53',
    start: 'output',
    interfaces: 'out eth0',
    mark_after: '0x00080000',
  },
  {
    name: 'a queue consumer that answers with the bypass bits in OUTPUT re-routes the packet (nf_reinject)',
    rules: TAILSCALE_RULES,
    tables: TS_TABLES,
    iptables: '*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p udp -j NFQUEUE --queue-num 5\nCOMMIT\n',
    queue: 'accept,mark=0x80000/0xff0000',
    packet: 'udp 10.0.0.2:41641 > 10.1.0.1:53',
    start: 'output',
    interfaces: 'out eth0 -> out eth1',
    mark_after: '0x00080000',
  },
  {
    name: 'a forwarded packet marked in mangle PREROUTING takes main at the input decision',
    rules: TAILSCALE_RULES,
    tables: TS_TABLES,
    iptables: '*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -i eth0 -p udp -j MARK --set-xmark 0x80000/0xff0000\nCOMMIT\n',
    packet: 'udp 10.0.0.1:41641 > 10.1.0.1:53',
    start: 'prerouting',
    interfaces: 'in eth0 -> out eth1',
    mark_after: '0x00080000',
  },
  {
    name: 'wg-quick: unmarked traffic to the internet goes to table 51820 (main\'s default route suppressed)',
    rules: WG_QUICK_RULES,
    tables: ['default@eth1,table=51820', 'default6@eth1,table=51820'],
    nft: POST_NFT,
    packet: 'udp 10.0.0.2:51820 > 192.0.2.7:51820',
    start: 'output',
    interfaces: 'out eth1',
    mark_after: '0x00000010',
  },
  {
    name: 'wg-quick: the tunnel socket (mark 0xca6c) uses main',
    rules: WG_QUICK_RULES,
    tables: ['default@eth1,table=51820', 'default6@eth1,table=51820'],
    nft: POST_NFT,
    packet: 'udp 10.0.0.2:51820 > 192.0.2.7:51820',
    start: 'output',
    mark: 0xca6c,
    interfaces: 'out eth0',
    mark_after: '0x0000ca6c',
  },
];

for (const c of PATHS) {
  test(`policy routing path: ${c.name}`, { skip: skip ?? false, timeout: 60_000 }, async () => {
    const l = lab as TraceLab;
    const answers: QueueAnswers | undefined = c.queue ? addQueueVerdict({ byQueue: new Map() }, `5:${c.queue}`) : undefined;
    await l.load({ ...(c.iptables ? { iptables: c.iptables } : {}), ...(c.nft ? { nft: c.nft } : {}) }, [], answers, c.queue ? [5] : []);
    const { ipRules, routes } = await setCase(l, c.rules, c.tables);
    const parts: Ruleset[] = [];
    if (c.iptables) parts.push(parseIptablesSave(c.iptables, { source: 'case', family: c.packet.includes('[') ? 'ip6' : 'ip' }));
    const model: Ruleset = { tables: parts.flatMap((p) => p.tables), ipRules, problems: [] };
    if (c.nft) {
      // The nft chains as the parsers read them back from the namespace (the nft text is not parsed here).
      const { readLiveRuleset } = await import('../../../src/ruleset/live.js');
      const live = await readLiveRuleset({ netns: l.main.name });
      model.tables.push(...live.ruleset.tables.filter((t) => t.origin === 'nft' && !t.name.startsWith('nfqguard_')));
    }
    const sim = new Simulator(model, { locals: planLocals(), routes, ipRules, allTablesKnown: true });
    const spec = parsePacketSpec(c.packet);
    assert.ok(PORT_PROTOS.has(spec.proto));
    const r = sim.trace({ packet: spec, start: c.start, ...(c.mark !== undefined ? { mark: c.mark } : {}), ...(c.start === 'prerouting' ? { in: 'eth0' } : {}), ...(answers ? { queueAnswers: answers } : {}) });
    const text = (family: string, table: string, chain: string, index: number): string | undefined => model.tables.find((t) => t.family === family && t.name === table)?.chains.find((ch) => ch.name === chain)?.rules[index - 1]?.text;
    const events = await l.trace(spec, { start: c.start, ...(c.mark !== undefined ? { mark: c.mark } : {}), ...(c.start === 'prerouting' ? { inLink: 'eth0' } : {}) });
    const k = kernelOutcome(events, l.kernelView(text));
    assert.deepEqual(compareTrace(r, k, formatMark, l.kernelView().chains).differences, [], `${c.name}\nkernel: ${JSON.stringify(k.items)}`);
    assert.equal(k.interfaces.join(' -> '), c.interfaces, 'the kernel took the path the case is about');
    assert.equal(simInterfaces(r.outcomes[0].path).join(' -> '), c.interfaces);
    assert.deepEqual([r.verdict, k.verdict, k.mark], ['accept', 'accept', c.mark_after]);
    assert.ok(r.steps.some((s) => s.table === '(routing)'), 'the trace shows the routing decision');
  });
}
