// Runs one generated case through the simulator and through the kernel (a TraceLab), and reports
// every disagreement: verdict, deciding rule, final mark, and the first step where the paths differ.
import { compareTrace, kernelOutcome, simItems, type KernelOutcome, type PathItem } from '../../src/sim/compare.js';
import type { TraceLab } from '../../src/sim/kernel/lab.js';
import { addQueueVerdict, parseRoute, type QueueAnswers } from '../../src/sim/options.js';
import { parsePacketSpec } from '../../src/sim/packet.js';
import { formatMark } from '../../src/sim/state.js';
import { Simulator, type TraceResult } from '../../src/sim/trace.js';
import { readLiveRuleset } from '../../src/ruleset/live.js';
import { labRoutingOf } from '../../src/sim/kernel-replay.js';
import { readRoutes } from '../../src/sim/node-live.js';
import type { RouteSpec } from '../../src/sim/options.js';
import type { Ruleset } from '../../src/ruleset/model.js';
import { emitIptables, emitNft, ipRuleText, ipRulesOf, packetEnds, planLocals, queueNums, table100Routes, toModel, type GCase, type GPacket } from './sim-gen.js';

export interface PacketResult {
  packet: string;
  gpacket: GPacket;
  sim: TraceResult;
  kernel: KernelOutcome;
  differences: string[];
}

export const PLAN_ROUTES = [parseRoute('10.0.0.0/24@eth0'), parseRoute('10.1.0.0/24@eth1'), parseRoute('fd00::/64@eth0'), parseRoute('fd00:1::/64@eth1')];

/** The packet spec of a generated packet. */
export function specText(p: GPacket, sport: number): string {
  const ends = packetEnds(p.kind, p.v6);
  const ep = (a: string, port: number): string => (p.v6 ? `[${a}]:${port}` : `${a}:${port}`);
  return `${p.proto} ${ep(ends.saddr, sport)} > ${ep(ends.daddr, p.dport)}`;
}

export function answersOf(c: GCase): QueueAnswers | undefined {
  return c.queue5 === undefined ? undefined : addQueueVerdict({ byQueue: new Map() }, `5:${c.queue5}`);
}

/**
 * The simulator for a case. With routing, the tables are all known (a table without routes does not
 * exist, as in the namespace): the plan's routes and table 100's, or those read from the namespace.
 */
export function simulatorFor(c: GCase, model: Ruleset = toModel(c), routes: readonly RouteSpec[] = [...PLAN_ROUTES, ...table100Routes(c)]): Simulator {
  return new Simulator(model, { locals: planLocals(), routes, ...(c.routing ? { ipRules: model.ipRules, allTablesKnown: true } : {}) });
}

/** Labs whose ip rules or tables a case changed (the next case without routing puts the defaults back). */
const routed = new WeakSet<TraceLab>();

/** The simulator's answer for one packet of a case (sport fixed by the caller). */
export function simulate(sim: Simulator, c: GCase, p: GPacket, sport: number): TraceResult {
  const ends = packetEnds(p.kind, p.v6);
  const spec = parsePacketSpec(specText(p, sport));
  return sim.trace({ packet: spec, mark: p.mark, start: ends.start, ...(ends.inLink ? { in: ends.inLink } : {}), queueAnswers: answersOf(c) });
}

/**
 * Where the simulator's model comes from: the generator (the model the text was written from), or the
 * parsers reading the loaded ruleset back from the kernel (iptables-nft-save and nft -j, as --live).
 */
export type ModelSource = 'generator' | 'parsers';

export async function runCase(lab: TraceLab, c: GCase, from: ModelSource = 'generator'): Promise<PacketResult[]> {
  let model = toModel(c);
  const answers = answersOf(c);
  await lab.load({ iptables: emitIptables(c, 'ip') || undefined, ip6tables: emitIptables(c, 'ip6') || undefined, nft: emitNft(c) || undefined }, [], answers, queueNums(c));
  if (c.routing || routed.has(lab)) {
    await lab.setRouting(labRoutingOf(ipRulesOf(c), table100Routes(c)));
    if (c.routing) routed.add(lab);
    else routed.delete(lab);
  }
  let sim = simulatorFor(c);
  if (from === 'parsers') {
    // As --live reads the node: the ruleset and ip rules from the namespace, and (with routing) its
    // routes of every table.
    const live = await readLiveRuleset({ netns: lab.main.name });
    model = { ...live.ruleset, tables: live.ruleset.tables.filter((t) => !t.name.startsWith('nfqguard_')) };
    sim = simulatorFor(c, model, c.routing ? await readRoutes(lab.main.name) : PLAN_ROUTES);
  }
  const text = (family: string, table: string, chain: string, index: number): string | undefined =>
    model.tables.find((t) => t.family === family && t.name === table)?.chains.find((ch) => ch.name === chain)?.rules[index - 1]?.text;
  const view = lab.kernelView(text);
  const out: PacketResult[] = [];
  for (const p of c.packets) {
    const sport = lab.nextSport();
    const ends = packetEnds(p.kind, p.v6);
    const simRes = simulate(sim, c, p, sport);
    const events = await lab.trace(simRes.packet, { start: ends.start, mark: p.mark, ...(ends.inLink ? { inLink: ends.inLink } : {}) });
    const k = kernelOutcome(events, view);
    const { differences } = compareTrace(simRes, k, formatMark, view.chains);
    out.push({ packet: `${specText(p, sport)}${p.mark ? ` mark 0x${p.mark.toString(16)}` : ''}`, gpacket: p, sim: simRes, kernel: k, differences });
  }
  return out;
}

function items(xs: PathItem[]): string {
  return xs.map((i) => `    ${i.hook ?? '?'} ${i.family} ${i.table} ${i.chain} ${i.rule ?? i.text} -> ${i.verdict} ${i.mark}`).join('\n');
}

/** A readable report of a disagreement, with everything needed to make it a regression case. */
export function describeFailure(c: GCase, r: PacketResult): string {
  return [
    `packet: ${r.packet}${c.queue5 ? `  (queue 5 consumer: ${c.queue5})` : ''}`,
    ...r.differences.map((d) => `  DIFF ${d}`),
    '  iptables-restore:',
    emitIptables(c, 'ip').replace(/^/gm, '    '),
    '  ip6tables-restore:',
    emitIptables(c, 'ip6').replace(/^/gm, '    '),
    '  nft:',
    emitNft(c).replace(/^/gm, '    '),
    ...(c.routing ? ['  ip rule (and ip -6 rule):', ipRuleText(c.routing).replace(/^/gm, '    '), `  table 100: ${table100Routes(c).map((r) => r.text).join(' ') || '(empty)'}`] : []),
    `  simulator: ${r.sim.verdict} mark ${formatMark(r.sim.mark, r.sim.markKnown)}`,
    items(simItems(r.sim.steps)),
    `  kernel: ${r.kernel.verdict} mark ${r.kernel.mark} ${r.kernel.notes.join('; ')}`,
    items(r.kernel.items),
    `  case: ${JSON.stringify({ ...c, packets: [r.gpacket] })}`,
  ].join('\n');
}
