// npm run bench:parse: a 10,000-service `gen kube-proxy` ruleset parsed by nfqguard (each run a fresh
// process: cold, as the CLI runs) side by side with `iptables-restore --test` on the same file (nft and
// legacy, in a throwaway namespace). Medians of N runs, peak RSS, ratios.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { genKubeProxy } from '../../src/ruleset/gen/kube-proxy.js';
import { Netns } from '../../src/lab/netns.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const services = arg('--services', 10_000);
const runs = arg('--runs', 5);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nfqg-bench-parse-'));
  const file = join(dir, 'kube-proxy.rules');
  try {
    const text = genKubeProxy({ services, endpoints: 3 });
    writeFileSync(file, text);
    const lines = text.split('\n').length - 1;
    const parse: Array<{ ms: number; cpuMs: number; maxRssMB: number; rules: number; problems: number }> = [];
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [new URL('./child.js', import.meta.url).pathname, file], { encoding: 'utf8' });
      wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 0) throw new Error(`parse child failed: ${r.stderr}`);
      parse.push(JSON.parse(r.stdout));
    }
    const restore: Record<string, number[]> = {};
    const restoreCpu: Record<string, number[]> = {};
    if (process.getuid?.() === 0) {
      const ns = await Netns.create('bparse');
      try {
        for (const tool of ['iptables-nft-restore', 'iptables-legacy-restore']) {
          restore[tool] = [];
          restoreCpu[tool] = [];
          for (let i = 0; i < runs; i++) {
            // bash's time builtin gives the tool's own user+system CPU (the machine may be busy).
            const t0 = process.hrtime.bigint();
            const r = spawnSync('bash', ['-c', `TIMEFORMAT='%3U %3S'; time ip netns exec ${ns.name} ${tool} --test ${file}`], { encoding: 'utf8' });
            restore[tool].push(Number(process.hrtime.bigint() - t0) / 1e6);
            if (r.status !== 0) throw new Error(`${tool} --test failed: ${r.stderr}`);
            const [u, sy] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
            restoreCpu[tool].push((u + sy) * 1000);
          }
        }
      } finally {
        await ns.destroy();
      }
    }
    const p = median(parse.map((x) => x.ms));
    const pc = median(parse.map((x) => x.cpuMs));
    const pw = median(wall);
    const rss = Math.max(...parse.map((x) => x.maxRssMB));
    const out: string[] = [];
    out.push(`ruleset: gen kube-proxy --services ${services} --endpoints 3: ${lines} lines, ${parse[0].rules} rules, ${(text.length / 1e6).toFixed(1)} MB; ${runs} runs each, medians`);
    out.push(`nfqguard parseIptablesSave: ${p.toFixed(0)} ms wall, ${pc.toFixed(0)} ms CPU (whole process incl. node start and file read: ${pw.toFixed(0)} ms wall), peak RSS ${rss.toFixed(0)} MB, problems ${parse[0].problems}`);
    for (const [tool, xs] of Object.entries(restore)) {
      const m = median(xs);
      const mc = median(restoreCpu[tool]);
      out.push(`${tool} --test: ${m.toFixed(0)} ms wall, ${mc.toFixed(0)} ms CPU -> parse/restore: ${(p / m).toFixed(2)}x wall, ${(pc / mc).toFixed(2)}x CPU (whole nfqguard process: ${(pw / m).toFixed(2)}x wall)`);
    }
    if (!Object.keys(restore).length) out.push('iptables-restore --test: skipped (needs root for a namespace)');
    out.push(`targets: parse < 1000 ms ${p < 1000 ? 'met' : 'MISSED'} (wall), ${pc < 1000 ? 'met' : 'MISSED'} (CPU); peak < 400 MB ${rss < 400 ? 'met' : 'MISSED'}; load average ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).cpus().length} CPUs`);
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
