// Evidence for the doctor from the simulator: what happens to a sample packet that carries the planned
// inspector bits, traced through the node's own ruleset. The three samples stand for the three paths
// through a node: to a local address (INPUT), through it (FORWARD), and from it (OUTPUT). The addresses
// are documentation ranges (RFC 5737), so they match only rules that match any address.
import { table } from '../util/table.js';
import type { Ruleset } from '../ruleset/model.js';
import { addQueueVerdict, parseLocalAddress, parseRoute } from '../sim/options.js';
import { parsePacketSpec } from '../sim/packet.js';
import { Simulator, type Step, type TraceResult } from '../sim/trace.js';
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

/** "drop by filter KUBE-FIREWALL rule 2", "drop by the routing decision (...)", "undetermined by ... (why)". */
function verdictText(r: TraceResult): string {
  const by = r.decidedBy;
  let s: string = r.verdict;
  if (by) {
    if (by.table === '(routing)') s += ` by the routing decision (${by.chain} ${by.text})`;
    else s += ` by ${by.table} ${by.chain} ${by.rule === null ? 'policy' : `rule ${by.rule}`}`;
  } else {
    // A drop by the routing decision of OUTPUT comes without a deciding rule: its step says which.
    const last = r.steps[r.steps.length - 1];
    if (last?.table === '(routing)' && last.verdict === r.verdict) s += ` by the routing decision (${last.text.replace(/^routing: /, '')})`;
  }
  if (r.verdict !== 'undetermined') return s;
  // Why the simulator could not decide: the first undecidable match, else its routing note (the routes of
  // a table the ip rules name are not in the doctor's input), without the trace command's advice.
  let why = r.undeterminedBy[0]?.reason ?? r.notes.find((n) => n.startsWith('routing: '))?.slice('routing: '.length).replace(/: give them with .*$/, '');
  if (why && why.length > 200) why = why.slice(0, 197) + '...';
  return why ? `${s}: ${why}` : s;
}

/** Tables the IPv4 ip rules look up besides the kernel's own (their routes are not in the doctor's input). */
function lookedUpTables(ruleset: Ruleset): string[] {
  const own = new Set(['local', 'main', 'default', '255', '254', '253']);
  return [...new Set(ruleset.ipRules.filter((r) => r.family === 'ip' && r.action === 'lookup' && r.table !== undefined && !own.has(r.table)).map((r) => r.table!))];
}

/** A SampleTracer over `ruleset`; the simulator is compiled on the first call only (once per exit device). */
export function simulatorTracer(ruleset: Ruleset): SampleTracer {
  const sims = new Map<string, Simulator>();
  // The node's own policy routing (ip rule fwmark...) decides the samples' routes, so a bit a rule reads
  // there shows in the trace (Tailscale's pref 5210 routing marked packets by table main). The routes of
  // the tables those rules name are not in the input: each is taken to route the sample out of its usual
  // device (said in the evidence when the trace used it), so the trace goes on to the filter rules.
  const tables = lookedUpTables(ruleset);
  return ({ hook, family, mark }): TraceEvidence | undefined => {
    const sample = SAMPLES[hook];
    if (!sample || family !== 'ip') return undefined;
    const dev = sample.out ?? 'eth0';
    // One compiled simulator serves every sample unless assumed routes name the device.
    const key = tables.length ? dev : '';
    let sim = sims.get(key);
    if (!sim) {
      sim = new Simulator(ruleset, { locals: [parseLocalAddress(LOCAL)], ipRules: ruleset.ipRules, routes: tables.map((t) => parseRoute(`default@${dev},table=${t}`)) });
      sims.set(key, sim);
    }
    // The packet carries the bits from the start (the inspector is not installed yet), and any NFQUEUE
    // consumer already in the ruleset answers accept with them, keeping the other bits.
    const bits = `0x${(mark >>> 0).toString(16)}`;
    const queueAnswers = addQueueVerdict({ byQueue: new Map() }, `accept,mark=${bits}/${bits}`);
    const r = sim.trace({ packet: parsePacketSpec(sample.spec), in: sample.in, out: sample.out, mark, queueAnswers });
    const assumed = tables.filter((t) => r.steps.some((st) => st.table === '(routing)' && st.text.includes(`table ${t}:`)));
    return {
      packet:
        `${sample.spec} with mark 0x${(mark >>> 0).toString(16).padStart(8, '0')}` +
        (assumed.length ? ` (table${assumed.length === 1 ? '' : 's'} ${assumed.join(', ')} taken to route it out ${dev}: ${assumed.length === 1 ? 'its' : 'their'} routes are not in the input)` : ''),
      verdict: verdictText(r),
      steps: r.steps.map(stepLine),
    };
  };
}
