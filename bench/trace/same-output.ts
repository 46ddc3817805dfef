// Checks that two builds of nfqguard print the same bytes for `nfqguard trace`: every ruleset under
// test/fixtures/rulesets (iptables-save, nft -j, ip rule) with packets drawn from the addresses, ports,
// interfaces and marks the ruleset names, under several sets of options, in batch mode (--packets, text
// and --json, bad lines included) and one packet at a time (--packet, text and --json); and, with --big
// DIR, the kube-proxy ruleset and packets of `node dist/bench/trace/run.js --emit DIR`. Both builds run
// in this process (runCli of each dist); stdout, stderr and the exit code are compared.
//   node dist/bench/trace/same-output.js --old /path/to/old/dist --new dist [--packets N] [--singles N] [--big DIR]
// Exit 0 when every run agrees, 1 with the first differences shown.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type RunCli = (argv: string[], io: unknown) => Promise<number>;
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const oldDist = argOf('--old');
const newDist = argOf('--new') ?? 'dist';
if (!oldDist) {
  process.stderr.write('usage: same-output --old OLD_DIST [--new NEW_DIST] [--packets N] [--singles N] [--big DIR]\n');
  process.exit(2);
}
const perFile = Number(argOf('--packets') ?? 400);
const singles = Number(argOf('--singles') ?? 12);
const big = argOf('--big');
const fixtures = resolve(argOf('--fixtures') ?? 'test/fixtures/rulesets');

async function loadCli(dist: string): Promise<RunCli> {
  return ((await import(pathToFileURL(join(resolve(dist), 'src/cli/program.js')).href)) as { runCli: RunCli }).runCli;
}

async function runWith(runCli: RunCli, argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t: string) => void (stdout += t),
    stderr: (t: string) => void (stderr += t),
    cwd: process.cwd(),
    env: process.env,
    signal: new AbortController().signal,
    readStdin: async () => '',
  });
  return { code, stdout, stderr };
}

let seed = 12345;
const rnd = (m: number): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % m;
};
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)];

/** What the ruleset names: addresses, ports, interfaces, marks (and a few of the node's usual ones). */
function pools(text: string): { v4: string[]; v6: string[]; ports: number[]; ifaces: string[]; marks: string[] } {
  const uniq = <T>(xs: T[]): T[] => [...new Set(xs)].slice(0, 400);
  const v4 = uniq([...text.matchAll(/\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?:\/(\d+))?/g)].map((m) => m[1]).filter((a) => a.split('.').every((x) => Number(x) < 256)));
  const v6 = uniq([...text.matchAll(/\b([0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7})(?:\/\d+)?/gi)].map((m) => m[1]).filter((a) => a.includes('::') || a.split(':').length === 8));
  const ports = uniq([...text.matchAll(/(?:dport|sport|ports?|to-ports?|:)[\s"]*(\d{1,5})\b/g)].map((m) => Number(m[1])).filter((p) => p < 65536));
  const ifaces = uniq([...text.matchAll(/(?:-i|-o|iifname|oifname|--in-interface|--out-interface)\s+"?!?\s*"?([A-Za-z0-9_.@-]{1,15})/g)].map((m) => m[1]));
  const marks = uniq([...text.matchAll(/\b(0x[0-9a-f]{1,8})\b/gi)].map((m) => m[1]));
  return {
    v4: [...v4, '127.0.0.1', '10.0.0.2', '10.244.1.5', '192.0.2.7', '10.96.0.10', '169.254.169.254'],
    v6: [...v6, '::1', 'fd00::1', 'fd00::2', '2001:db8::7', 'fe80::1'],
    ports: [...ports, 22, 53, 80, 443, 8080, 30000, 10250],
    ifaces: [...ifaces, 'eth0', 'lo', 'cni0', 'eth1'],
    marks: [...marks, '0x4000', '0x8000', '0x0'],
  };
}

function packetLines(p: ReturnType<typeof pools>, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const v6 = rnd(5) === 0;
    const addrs = v6 ? p.v6 : p.v4;
    const ep = (a: string, port: number | undefined): string => (port === undefined ? a : v6 ? `[${a}]:${port}` : `${a}:${port}`);
    const proto = pick(['tcp', 'tcp', 'tcp', 'udp', 'udp', 'icmp', 'sctp']);
    const ports = proto !== 'icmp';
    let line = `${proto} ${ep(pick(addrs), ports ? (rnd(3) ? 1024 + rnd(60000) : pick(p.ports)) : undefined)} > ${ep(pick(addrs), ports ? pick(p.ports) : undefined)}`;
    if (proto === 'tcp' && rnd(4) === 0) line += ` ${pick(['syn', 'ack', 'syn,ack', 'rst', 'fin,ack', 'flags 0x12'])}`;
    if (proto === 'icmp' && rnd(3) === 0) line += ` ${pick(['echo-reply', 'type 3 code 4', 'destination-unreachable'])}`;
    if (rnd(2) === 0) line += ` in ${pick(p.ifaces)}`;
    if (rnd(5) === 0) line += ` out ${pick(p.ifaces)}`;
    if (rnd(4) === 0) line += ` mark ${pick(p.marks)}`;
    if (rnd(6) === 0) line += ` ctmark ${pick(p.marks)}`;
    if (rnd(4) === 0) line += ` ct ${pick(['new', 'established', 'related', 'invalid', 'untracked'])}`;
    out.push(line);
    // Now and then a comment, a blank line, or a line that does not parse.
    if (rnd(40) === 0) out.push(pick(['', '# a comment', '   ', 'tcp 10.0.0.1 > 10.0.0.2', 'bogus line', 'udp 10.0.0.1:5 > ::1:6', 'tcp 10.0.0.1:1 > 10.0.0.2:2 mark zz  # trailing']));
    // Line ends and blanks that trim() and the comment rule treat in their own ways.
    if (rnd(30) === 0) out[out.length - 1] = pick(['\t', ' ', '\u00a0', '\ufeff', '']) + out[out.length - 1] + pick(['\r', ' # café', ' # c\r', '\u2028', '\v', '\t\f', '#', '\u001f']);
  }
  return out;
}

const OPTION_SETS: string[][] = [
  [],
  ['--local', '10.0.0.2/24@eth0', '--conntrack', 'on'],
  ['--local', '10.0.0.2/24@eth0', '--local', 'fd00::2/64@eth0', '--hook', 'input:FIRST:queue=80', '--queue-verdict', 'accept,mark=0x8000', '--ct-state', 'established'],
  ['--conntrack', 'off', '--mark', '0x4000', '--max-outcomes', '2'],
  ['--local', '10.0.0.2/24@eth0', '--route', 'default@eth0', '--route', '100.64.0.0/10@tailscale0,table=52', '--route', '10.244.0.0/16@cni0', '--queue-verdict', 'accept,mark=0x100000/0xf00000', '--hook', 'output:-300:mark=0x1/0xff'],
  ['--local', '10.0.0.2/24@eth0', '--hook', 'forward:FIRST:queue=7', '--queue-verdict', '7:hold', '--queue-verdict', 'accept,ctmark=0x1/0xf', '--hook', 'ip6:input:mangle-1:queue=9,bypass'],
  ['--start', 'prerouting', '--in', 'eth1', '--out', 'eth0', '--ctmark', '0x4000', '--queue-verdict', 'drop', '--conntrack', 'on', '--max-outcomes', '5'],
];

let runs = 0;
let differ = 0;
/** Verdicts of the batch text runs (the third column), to show what the packets reach. */
const verdicts: Record<string, number> = {};
async function compare(label: string, oldCli: RunCli, newCli: RunCli, argv: string[]): Promise<void> {
  const a = await runWith(oldCli, argv);
  const b = await runWith(newCli, argv);
  runs++;
  if (argv.includes('--packets') && !argv.includes('--json')) {
    for (const line of a.stdout.split('\n')) {
      const v = line.split('\t')[2]?.replace(/\(.*/, '');
      if (v) verdicts[v] = (verdicts[v] ?? 0) + 1;
    }
    verdicts['bad line'] = (verdicts['bad line'] ?? 0) + a.stderr.split('\n').filter((l) => /:\d+:\d+: /.test(l)).length;
  }
  if (a.code === b.code && a.stdout === b.stdout && a.stderr === b.stderr) return;
  differ++;
  if (differ > 5) return;
  const field = a.code !== b.code ? `exit ${a.code} vs ${b.code}` : a.stdout !== b.stdout ? 'stdout' : 'stderr';
  const [x, y] = field === 'stdout' ? [a.stdout, b.stdout] : [a.stderr, b.stderr];
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  process.stdout.write(`DIFFERENT (${field}) ${label}: nfqguard ${argv.join(' ')}\n  old: ${JSON.stringify(x.slice(Math.max(0, i - 80), i + 120))}\n  new: ${JSON.stringify(y.slice(Math.max(0, i - 80), i + 120))}\n`);
  const file = argv[argv.indexOf('--packets') + 1];
  if (argv.includes('--packets') && field === 'stdout') {
    // The packet of the first differing batch line.
    const at = /^\{"line":(\d+)|^(\d+)\t/.exec(x.slice(x.lastIndexOf('\n', i - 1) + 1));
    const n = at ? Number(at[1] ?? at[2]) : 0;
    if (n) process.stdout.write(`  packet (line ${n}): ${readFileSync(file, 'utf8').split('\n')[n - 1]}\n`);
  }
}

const oldCli = await loadCli(oldDist);
const newCli = await loadCli(newDist);
const tmp = mkdtempSync(join(tmpdir(), 'nfqg-same-'));
try {
  for (const dir of readdirSync(fixtures, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const files = readdirSync(join(fixtures, dir)).sort();
    for (const f of files) {
      const path = join(fixtures, dir, f);
      let source: string[];
      if (f.endsWith('.iptables-save')) source = ['--iptables-save', path];
      else if (f.endsWith('.nft.json')) source = ['--nft-json', path];
      else continue;
      const rules = path.replace(/\.(iptables-save|nft\.json)$/, '.ip-rule');
      if (existsSync(rules)) source.push('--ip-rules', rules);
      const lines = packetLines(pools(readFileSync(path, 'utf8')), perFile);
      const pk = join(tmp, `${dir}-${f}.packets`);
      writeFileSync(pk, lines.join('\n') + '\n');
      for (const opts of OPTION_SETS) {
        await compare(`${dir}/${f}`, oldCli, newCli, ['trace', ...source, '--packets', pk, ...opts]);
        await compare(`${dir}/${f}`, oldCli, newCli, ['trace', ...source, '--packets', pk, ...opts, '--json']);
        for (const line of lines.filter((l) => l && !l.startsWith('#')).slice(0, singles)) {
          await compare(`${dir}/${f}`, oldCli, newCli, ['trace', ...source, '--packet', line, ...opts]);
          await compare(`${dir}/${f}`, oldCli, newCli, ['trace', ...source, '--packet', line, ...opts, '--json']);
        }
      }
    }
  }
  if (big) {
    const base = ['trace', '--iptables-save', join(big, 'kube-proxy.rules'), '--local', '10.0.0.2/24@eth0', '--conntrack', 'on'];
    await compare('big', oldCli, newCli, [...base, '--packets', join(big, 'packets.txt')]);
    await compare('big', oldCli, newCli, [...base, '--packets', join(big, 'packets.txt'), '--json']);
    const some = readFileSync(join(big, 'packets.txt'), 'utf8').split('\n').filter(Boolean).slice(0, 4);
    for (const l of some) {
      await compare('big', oldCli, newCli, [...base, '--packet', l]);
      await compare('big', oldCli, newCli, [...base, '--packet', l, '--json']);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.stdout.write(`${runs} runs compared, ${differ} different; batch verdicts (old build): ${JSON.stringify(verdicts)}\n`);
process.exitCode = differ ? 1 : 0;
