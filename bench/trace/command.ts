// `nfqguard trace --packets` end to end, as a user runs it: the whole command (start-up, reading and
// parsing the ruleset, the simulation, the output) timed by /usr/bin/time, for one or more builds in
// alternation (the machine is shared: same conditions for each). Each build runs the 100,000-packet file
// and a one-packet file; their difference is what the packets cost inside the command (the trace-only
// figure: spec reading, walks, lazy compilation, output), the one-packet run is start-up and parsing.
//   node dist/bench/trace/run.js --emit DIR        (writes DIR/kube-proxy.rules and DIR/packets.txt)
//   node dist/bench/trace/command.js --dir DIR [--runs 5] [--json] NAME=path/to/bin/nfqguard ...
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const dir = argOf('--dir');
const runs = Number(argOf('--runs') ?? 5);
const json = process.argv.includes('--json');
const builds = process.argv.slice(2).filter((a) => /^[\w.-]+=/.test(a)).map((a) => ({ name: a.slice(0, a.indexOf('=')), bin: a.slice(a.indexOf('=') + 1) }));
if (!dir || builds.length === 0) {
  process.stderr.write('usage: command.js --dir DIR [--runs N] [--json] NAME=path/to/bin/nfqguard ...\n');
  process.exit(2);
}

const rules = join(dir, 'kube-proxy.rules');
const packets = join(dir, 'packets.txt');
const one = join(dir, 'one-packet.txt');
writeFileSync(one, readFileSync(packets, 'utf8').split('\n')[0] + '\n');
const count = readFileSync(packets, 'utf8').split('\n').filter((l) => l.trim()).length;

interface Sample {
  wall: number;
  cpu: number;
  rssMb: number;
}

function timeIt(bin: string, file: string): Sample {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, bin, 'trace', '--iptables-save', rules, '--packets', file, '--local', '10.0.0.2/24@eth0', '--conntrack', 'on'], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 20,
  });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [wall, user, sys, rss] = last.split(' ').map(Number);
  if (r.status !== 0 || !Number.isFinite(wall)) throw new Error(`${bin} failed (exit ${r.status}): ${r.stderr.slice(-500)}`);
  return { wall, cpu: user + sys, rssMb: Math.round(rss / 1024) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const samples = new Map(builds.map((b) => [b.name, { all: [] as Sample[], one: [] as Sample[] }]));
const loads: number[] = [];
for (let r = 0; r < runs; r++) {
  for (const b of builds) {
    const s = samples.get(b.name) as { all: Sample[]; one: Sample[] };
    s.all.push(timeIt(b.bin, packets));
    s.one.push(timeIt(b.bin, one));
    loads.push(loadavg()[0]);
  }
}

const result = builds.map((b) => {
  const s = samples.get(b.name) as { all: Sample[]; one: Sample[] };
  const all = { wall: median(s.all.map((x) => x.wall)), cpu: median(s.all.map((x) => x.cpu)), rssMb: median(s.all.map((x) => x.rssMb)) };
  const oneP = { wall: median(s.one.map((x) => x.wall)), cpu: median(s.one.map((x) => x.cpu)), rssMb: median(s.one.map((x) => x.rssMb)) };
  // The packets' own cost: run by run (same conditions), then the median.
  const packetsWall = median(s.all.map((x, i) => x.wall - s.one[i].wall));
  const packetsCpu = median(s.all.map((x, i) => x.cpu - s.one[i].cpu));
  return {
    build: b.name,
    packets: count,
    endToEnd: { ...all, packetsPerSecond: Math.round(count / all.wall), packetsPerCpuSecond: Math.round(count / all.cpu) },
    onePacket: oneP,
    packetsOnly: { wall: +packetsWall.toFixed(2), cpu: +packetsCpu.toFixed(2), packetsPerSecond: Math.round(count / packetsWall), packetsPerCpuSecond: Math.round(count / packetsCpu) },
    runs: s.all.map((x, i) => ({ all: x, one: s.one[i] })),
  };
});
const out = { runs, loadAverage: { min: Math.min(...loads), max: Math.max(...loads) }, result };
if (json) console.log(JSON.stringify(out, null, 2));
else {
  for (const r of result) {
    console.log(
      `${r.build}: ${r.packets} packets end to end: wall ${r.endToEnd.wall} s, CPU ${r.endToEnd.cpu.toFixed(2)} s, peak RSS ${r.endToEnd.rssMb} MB (${r.endToEnd.packetsPerSecond} packets/s); ` +
        `one packet: wall ${r.onePacket.wall} s, CPU ${r.onePacket.cpu.toFixed(2)} s; the packets alone: wall ${r.packetsOnly.wall} s, CPU ${r.packetsOnly.cpu} s (${r.packetsOnly.packetsPerSecond} packets/s, ${r.packetsOnly.packetsPerCpuSecond} per CPU second)`,
    );
  }
  console.log(`medians of ${runs} alternating runs; load average ${out.loadAverage.min.toFixed(2)}-${out.loadAverage.max.toFixed(2)}`);
}
