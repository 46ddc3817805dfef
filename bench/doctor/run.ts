// Benchmark: the doctor on a large kube-proxy node (default 10,000 Services, `nfqguard gen kube-proxy`:
// 3 endpoints each, every third a NodePort), plus the seed's NFQUEUE rule. Times parsing and analysis
// separately, several runs, and prints medians; then the whole command (issue 5: "answers in under 2 s"),
// `nfqguard doctor --iptables-save FILE --mask 0x8000 --json` in fresh processes, wall and CPU time.
//   node dist/bench/doctor/run.js [services] [runs] [--save FILE] [--no-cli]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { analyze } from '../../src/marks/index.js';
import { parseIptablesSave } from '../../src/ruleset/index.js';
import { genKubeProxy } from '../../src/ruleset/gen/kube-proxy.js';

/** `nfqguard gen kube-proxy` output plus the seed's NFQUEUE steering rule in mangle INPUT. */
export function nodeSave(services: number): string {
  return genKubeProxy({ services }) + ['*mangle', ':INPUT ACCEPT [0:0]', '-A INPUT -p tcp -m tcp --dport 80 -j NFQUEUE --queue-num 80', 'COMMIT', ''].join('\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const services = Number(process.argv[2] ?? 10_000);
  const runs = Number(process.argv[3] ?? 7);
  const text = nodeSave(services);
  const save = process.argv.indexOf('--save');
  if (save > 0) writeFileSync(process.argv[save + 1], text);
  const parse: number[] = [];
  const anal: number[] = [];
  const total: number[] = [];
  const cpu: number[] = [];
  let rules = 0;
  let conflicts = 0;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const rs = parseIptablesSave(text, { source: 'bench' });
    const t1 = performance.now();
    const r = analyze(rs, { mask: 0x8000 });
    const t2 = performance.now();
    parse.push(t1 - t0);
    anal.push(t2 - t1);
    total.push(t2 - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    rules = r.stats.rules;
    conflicts = r.conflicts.length;
  }
  const mb = (Buffer.byteLength(text) / 1e6).toFixed(1);
  console.log(`doctor on kube-proxy with ${services} services: ${rules} rules, ${mb} MB of iptables-save, ${conflicts} conflicts (queue + --mask 0x8000)`);
  console.log(`in-process, runs ${runs}: parse median ${median(parse).toFixed(0)} ms, analyze median ${median(anal).toFixed(0)} ms, total median ${median(total).toFixed(0)} ms (min ${Math.min(...total).toFixed(0)}, max ${Math.max(...total).toFixed(0)}); CPU time median ${median(cpu).toFixed(0)} ms`);
  if (!process.argv.includes('--no-cli')) timeCli(text, runs);
  console.log(`load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`);
}

/** The whole command in fresh processes: wall (hrtime around the child) and user+system CPU (bash's time). */
function timeCli(text: string, runs: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-bench-doctor-'));
  try {
    const file = join(dir, 'node.rules');
    writeFileSync(file, text);
    const bin = new URL('../../../bin/nfqguard', import.meta.url).pathname;
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} doctor --iptables-save ${JSON.stringify(file)} --mask 0x8000 --json`;
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync('bash', ['-c', `TIMEFORMAT='%3U %3S'; time ${cmd} >/dev/null`], { encoding: 'utf8' });
      wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
      // Exit 1 means conflicts were found (the seed's queue rule makes one): a normal answer.
      if (r.status !== 0 && r.status !== 1) throw new Error(`doctor failed (${r.status}): ${r.stderr}`);
      const [u, sy] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
      cpu.push((u + sy) * 1000);
    }
    const w = median(wall);
    console.log(`whole command, runs ${runs}: wall median ${w.toFixed(0)} ms (${wall.map((x) => x.toFixed(0)).join(', ')}), CPU median ${median(cpu).toFixed(0)} ms (${cpu.map((x) => x.toFixed(0)).join(', ')}); target < 2000 ms ${w < 2000 ? 'met' : 'MISSED'} (wall)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
