// Benchmark of `nfqguard trace` (issue 4) after parsing (the trace-only figures; bench/trace/command.ts
// times the whole command): on a 10,000-service kube-proxy ruleset (src/ruleset/gen),
// (0) from cold, as the command runs: building the Simulator, its first trace with steps (`--packet`),
// and a first batch of all packets on a fresh Simulator (`--packets`; a rule is read when a walk first
// reaches it and compiled in full when a walk first gets past its first match, so this batch pays for
// that);
// (1) one trace after parsing, steps recorded as the command prints them: median and p90 over many
// packets; (2) batch mode as `--packets FILE` runs it (forEachPacketLine reads each line, summarize()
// traces without steps, batchLine() formats), warm: packets per second. Targets: median < 10 ms; batch
// >= 100,000 packets/s.
//   node dist/bench/trace/run.js [--services N] [--packets N] [--runs R] [--json] [--emit DIR] [--policy]
// --policy: with Tailscale's ip rules (fwmark 0x80000/0xff0000 lookup main ... lookup 52) and a table
// 52, so that every routing decision runs the policy rules and is shown as a step.
// --emit DIR writes the ruleset and the packets so that the command can be timed end to end:
//   node dist/bench/trace/command.js --dir DIR NAME=bin/nfqguard [OTHER=/path/to/other/bin/nfqguard]
import { performance } from 'node:perf_hooks';
import { parseIpRules, parseIptablesSave } from '../../src/ruleset/index.js';
import { genKubeProxy } from '../../src/ruleset/gen/kube-proxy.js';
import { parseLocalAddress, parseRoute } from '../../src/sim/options.js';
import { forEachPacketLine } from '../../src/sim/batch.js';
import { parsePacketSpec, type PacketSpec } from '../../src/sim/packet.js';
import { Simulator, type TraceInput } from '../../src/sim/trace.js';
import { batchLine } from '../../src/cli/render/trace.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const services = arg('--services', 10_000);
const batchPackets = arg('--packets', 100_000);
const runs = arg('--runs', 5);
const json = process.argv.includes('--json');
const policy = process.argv.includes('--policy');
/** --emit DIR: also write kube-proxy.rules and packets.txt there, to time the command itself. */
const emitAt = process.argv.indexOf('--emit');
const emitDir = emitAt > 0 ? process.argv[emitAt + 1] : undefined;

function ip4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * A mix like a node sees, on the services of src/ruleset/gen/kube-proxy.ts (service i: cluster IP
 * 10.96.0.10+i, UDP port 53 when i % 10 == 9 else TCP port 80 + i % 3, NodePort 30000 + i % 2768 when
 * i % 3 == 0): 60% to cluster IPs from pods, 20% to NodePorts from outside, 10% pod to pod, 10% to
 * addresses no service has.
 */
function packetLines(n: number, seed = 1): string[] {
  let x = seed;
  const rnd = (m: number): number => {
    // Math.imul: x * 1103515245 in doubles loses the low bits, and the sequence then falls into a short
    // cycle (100,000 packets reached only 765 of 10,000 services before this was fixed).
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % m;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = rnd(10);
    const sport = 1024 + rnd(60000);
    if (k < 6) {
      const s = rnd(services);
      const udp = s % 10 === 9;
      out.push(`${udp ? 'udp' : 'tcp'} 10.244.${1 + rnd(200)}.${2 + rnd(250)}:${sport} > ${ip4(0x0a600000 + s + 10)}:${udp ? 53 : 80 + (s % 3)} in cni0`);
    } else if (k < 8) {
      const s = 3 * rnd(Math.floor(services / 3));
      out.push(`${s % 10 === 9 ? 'udp' : 'tcp'} 192.0.2.${1 + rnd(250)}:${sport} > 10.0.0.2:${30000 + (s % 2768)} in eth0`);
    } else if (k < 9) out.push(`udp 10.244.1.${2 + rnd(250)}:${sport} > 10.244.2.${2 + rnd(250)}:53 in cni0`);
    else out.push(`tcp 10.244.1.7:${sport} > 10.96.${200 + rnd(50)}.${rnd(250)}:443 in cni0`);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

const t0 = performance.now();
const text = genKubeProxy({ services });
const tGen = performance.now();
const rs = parseIptablesSave(text, { source: 'gen kube-proxy' });
const tParse = performance.now();
const rules = rs.tables.reduce((s, t) => s + t.chains.reduce((c, ch) => c + ch.rules.length, 0), 0);
const TAILSCALE = '0:\tfrom all lookup local\n5210:\tfrom all fwmark 0x80000/0xff0000 lookup main\n5230:\tfrom all fwmark 0x80000/0xff0000 lookup default\n5250:\tfrom all fwmark 0x80000/0xff0000 unreachable\n5270:\tfrom all lookup 52\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n';
const simOpts = {
  locals: [parseLocalAddress('10.0.0.2/24@eth0')],
  conntrack: 'on' as const,
  ...(policy ? { ipRules: parseIpRules(TAILSCALE, { source: 'bench', family: 'ip' }).ipRules, routes: [parseRoute('100.64.0.0/10@tailscale0,table=52'), parseRoute('default@eth0')] } : {}),
};
const lines = packetLines(batchPackets, 3);

/**
 * Rules a walk has reached (read as their first match) and rules compiled in full (a walk got past
 * their first match), so far; undefined for builds that compile otherwise.
 */
function compiledRules(sim: Simulator): { reached: number; compiled: number } | undefined {
  let reached = 0;
  let compiled = 0;
  for (const t of sim.program.tables) {
    for (const c of t.chains.values()) {
      const x = c as { prepared?: boolean; rules: Array<{ code?: unknown } | undefined> };
      if (x.prepared === undefined) return undefined;
      for (const r of x.rules) {
        if (!r) continue;
        reached++;
        if (r.code) compiled++;
      }
    }
  }
  return { reached, compiled };
}

const packetsText = lines.join('\n') + '\n';

/** One pass of batch mode over the packets, as `--packets FILE` runs it: read each line, summarize, format; returns the output size. */
function batchPass(sim: Simulator): number {
  let out = '';
  let bytes = 0;
  const input: TraceInput = { packet: undefined as unknown as PacketSpec };
  forEachPacketLine(packetsText, (line, packet) => {
    input.packet = packet as PacketSpec;
    out += batchLine(line, input.packet, sim.summarize(input));
    if (out.length > 1 << 16) {
      bytes += out.length;
      out = '';
    }
    return false;
  });
  return bytes + out.length;
}

// (0) From cold: what `--packet` pays after parsing (build + first trace), and a first batch on a fresh
// Simulator (what `--packets` pays after parsing).
const c0a = performance.now();
const coldSim = new Simulator(rs, simOpts);
const c0b = performance.now();
coldSim.trace({ packet: parsePacketSpec(packetLines(1, 5)[0]) });
const c0c = performance.now();
const coldCpu0 = process.cpuUsage();
const coldBatchSim = new Simulator(rs, simOpts);
batchPass(coldBatchSim);
const c0d = performance.now();
const coldCpu = process.cpuUsage(coldCpu0);
const cold = {
  buildMs: +(c0b - c0a).toFixed(1),
  firstTraceMs: +(c0c - c0b).toFixed(1),
  batchPps: Math.round(lines.length / ((c0d - c0c) / 1000)),
  batchPpsCpu: Math.round(lines.length / ((coldCpu.user + coldCpu.system) / 1e6)),
  rulesByBatch: compiledRules(coldBatchSim) ?? { reached: rules, compiled: rules },
};

const tBuild0 = performance.now();
const sim = new Simulator(rs, simOpts);
const tCompile = performance.now();

// (1) Single traces with steps, as the command does after parsing.
const singles = packetLines(2000, 7).map((l) => parsePacketSpec(l));
for (const p of singles) sim.trace({ packet: p }); // warm-up (JIT)
for (const l of packetLines(20000, 11)) sim.summarize({ packet: parsePacketSpec(l) });
const single: number[] = [];
const verdicts: Record<string, number> = {};
for (const p of singles) {
  const a = performance.now();
  const r = sim.trace({ packet: p });
  single.push(performance.now() - a);
  verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
}

// (2) Batch mode: parse + trace without steps + format, like --packets.
if (emitDir) {
  const { writeFileSync, mkdirSync } = await import('node:fs');
  mkdirSync(emitDir, { recursive: true });
  writeFileSync(`${emitDir}/kube-proxy.rules`, text);
  writeFileSync(`${emitDir}/packets.txt`, lines.join('\n') + '\n');
}
const rates: number[] = [];
const cpuRates: number[] = [];
let outBytes = 0;
for (let r = 0; r < runs; r++) {
  const a = performance.now();
  const c0 = process.cpuUsage();
  outBytes += batchPass(sim);
  rates.push(lines.length / ((performance.now() - a) / 1000));
  const c = process.cpuUsage(c0);
  cpuRates.push(lines.length / ((c.user + c.system) / 1e6));
}

const result = {
  services,
  rules,
  policy,
  generateMs: Math.round(tGen - t0),
  parseMs: Math.round(tParse - tGen),
  compileMs: Math.round(tCompile - tBuild0),
  cold,
  singleTrace: { packets: single.length, medianMs: +median(single).toFixed(3), p90Ms: +pct(single, 0.9).toFixed(3), maxMs: +Math.max(...single).toFixed(3), verdicts },
  batch: {
    packets: lines.length,
    runs,
    packetsPerSecond: rates.map((x) => Math.round(x)),
    medianPps: Math.round(median(rates)),
    packetsPerCpuSecond: cpuRates.map((x) => Math.round(x)),
    medianPpsCpu: Math.round(median(cpuRates)),
    outputBytes: outBytes,
  },
  loadAverage: (await import('node:os')).loadavg().map((x) => +x.toFixed(2)),
};
if (json) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`kube-proxy ruleset: ${services} services, ${rules} rules; generate ${result.generateMs} ms, parse ${result.parseMs} ms, new Simulator ${result.compileMs} ms`);
  console.log(`cold: new Simulator ${cold.buildMs} ms, first trace ${cold.firstTraceMs} ms; first batch on a fresh Simulator ${cold.batchPps} packets/s (${cold.batchPpsCpu} per CPU second); rules reached ${cold.rulesByBatch.reached}, compiled in full ${cold.rulesByBatch.compiled}`);
  console.log(`single trace (steps recorded), ${single.length} packets: median ${result.singleTrace.medianMs} ms, p90 ${result.singleTrace.p90Ms} ms, max ${result.singleTrace.maxMs} ms  (target < 10 ms)  verdicts ${JSON.stringify(verdicts)}`);
  console.log(`batch (--packets), ${lines.length} packets x ${runs} runs: ${result.batch.packetsPerSecond.join(', ')} packets/s; median ${result.batch.medianPps}  (target >= 100000)`);
  console.log(`  per CPU second (this process's CPU time): ${result.batch.packetsPerCpuSecond.join(', ')}; median ${result.batch.medianPpsCpu}   load average ${result.loadAverage.join(' ')}`);
}
