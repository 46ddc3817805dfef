// Benchmark: the doctor on a large kube-proxy node (default 10,000 Services, `nfqguard gen kube-proxy`:
// 3 endpoints each, every third a NodePort), plus the seed's NFQUEUE rule. Times parsing and analysis
// separately, several runs, and prints medians.
//   node dist/bench/doctor/run.js [services] [runs] [--save FILE]   (--save also writes the text, for timing the CLI)
import { writeFileSync } from 'node:fs';
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
  console.log(`runs ${runs}: parse median ${median(parse).toFixed(0)} ms, analyze median ${median(anal).toFixed(0)} ms, total median ${median(total).toFixed(0)} ms (min ${Math.min(...total).toFixed(0)}, max ${Math.max(...total).toFixed(0)}); CPU time median ${median(cpu).toFixed(0)} ms`);
}

await main();
