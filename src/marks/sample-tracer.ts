// Evidence for the doctor from the simulator: what happens to a sample packet that carries the planned
// inspector bits, traced through the node's own ruleset. The three samples stand for the three paths
// through a node: to a local address (INPUT), through it (FORWARD), and from it (OUTPUT). The addresses
// are documentation ranges (RFC 5737), so they match only rules that match any address.
import { table } from '../util/table.js';
import type { Ruleset } from '../ruleset/model.js';
import { addQueueVerdict, parseLocalAddress } from '../sim/options.js';
import { parsePacketSpec } from '../sim/packet.js';
import { Simulator, type Step } from '../sim/trace.js';
import type { SampleTracer, TraceEvidence } from './types.js';

const LOCAL = '198.51.100.1';
const SAMPLES: Readonly<Record<string, { spec: string; in?: string; out?: string }>> = table({
  input: { spec: `tcp 192.0.2.10:40240 > ${LOCAL}:80`, in: 'eth0' },
  forward: { spec: 'tcp 192.0.2.10:40240 > 203.0.113.20:80', in: 'eth0', out: 'eth1' },
  output: { spec: `tcp ${LOCAL}:40240 > 203.0.113.20:80`, out: 'eth0' },
});

function stepLine(s: Step): string {
  const rule = s.rule === null ? 'policy' : `rule ${s.rule}`;
  const mark = s.markBefore === s.markAfter ? `mark ${s.markAfter}` : `mark ${s.markBefore} -> ${s.markAfter}`;
  return `${s.hook} ${s.priority} ${s.family} ${s.table} ${s.chain} ${rule}: ${s.text}  ${mark}  ${s.verdict}`;
}

/** A SampleTracer over `ruleset`; the simulator is compiled on the first call only. */
export function simulatorTracer(ruleset: Ruleset): SampleTracer {
  let sim: Simulator | undefined;
  return ({ hook, family, mark }): TraceEvidence | undefined => {
    const sample = SAMPLES[hook];
    if (!sample || family !== 'ip') return undefined;
    sim ??= new Simulator(ruleset, { locals: [parseLocalAddress(LOCAL)] });
    // The packet carries the bits from the start (the inspector is not installed yet), and any NFQUEUE
    // consumer already in the ruleset answers accept with them, keeping the other bits.
    const bits = `0x${(mark >>> 0).toString(16)}`;
    const queueAnswers = addQueueVerdict({ byQueue: new Map() }, `accept,mark=${bits}/${bits}`);
    const r = sim.trace({ packet: parsePacketSpec(sample.spec), in: sample.in, out: sample.out, mark, queueAnswers });
    const decided = r.decidedBy ? ` by ${r.decidedBy.table} ${r.decidedBy.chain} rule ${r.decidedBy.rule}` : '';
    return {
      packet: `${sample.spec} with mark 0x${(mark >>> 0).toString(16).padStart(8, '0')}`,
      verdict: `${r.verdict}${decided}`,
      steps: r.steps.map(stepLine),
    };
  };
}
