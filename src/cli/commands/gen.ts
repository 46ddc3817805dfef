// `nfqguard gen kube-proxy`: a synthetic kube-proxy (iptables mode) ruleset for tests and benchmarks.
import type { Command } from 'commander';
import { genKubeProxy } from '../../ruleset/gen/kube-proxy.js';
import { UsageError } from '../io.js';
import { parseIntIn, type CommandContext } from '../program.js';

/** The largest ruleset `gen kube-proxy` writes, in services x (endpoints + 2). */
export const GEN_MAX_UNITS = 500_000;

interface GenOptions {
  services: number;
  endpoints: number;
  family: 'ipv4' | 'ipv6';
  with?: string[];
}

export function registerGen(program: Command, ctx: CommandContext): Command {
  const gen = program
    .command('gen')
    .summary('generate synthetic rulesets (for tests and benchmarks)')
    .argument('[generator]')
    .addHelpText('after', '\nExamples:\n  $ nfqguard gen kube-proxy --services 100 > kp.rules')
    // Without a generator (or with an unknown one) this is a usage error, not a help page that exits 0.
    .action((name: string | undefined) => {
      throw new UsageError(name === undefined ? 'gen needs a generator' : `unknown generator "${name}"`, 'the generator is kube-proxy: nfqguard gen kube-proxy --services N');
    });
  gen
    .command('kube-proxy')
    .summary("an iptables-save ruleset shaped like kube-proxy's iptables mode")
    .description(
      "Writes to stdout an iptables-save ruleset shaped like kube-proxy's iptables mode: KUBE-SERVICES, " +
        'KUBE-SVC-* with statistic-balanced KUBE-SEP-* endpoints (DNAT), KUBE-MARK-MASQ (0x4000), KUBE-POSTROUTING, ' +
        'KUBE-FIREWALL (0x8000), NodePorts with KUBE-EXT-*. It loads with the real iptables-restore. Exit 0, or 2 on a usage error.',
    )
    .requiredOption('--services <n>', 'number of service ports (services x (endpoints + 2) at most 500000)', parseIntIn('--services', 0, 1_000_000))
    .option('--endpoints <m>', 'endpoints per service', parseIntIn('--endpoints', 1, 1000), 3)
    .option('--family <f>', 'ipv4 or ipv6', (v: string) => {
      if (v !== 'ipv4' && v !== 'ipv6') throw new UsageError(`--family must be ipv4 or ipv6, got "${v}"`);
      return v;
    }, 'ipv4')
    .option('--with <component>', 'add another component\'s rules (calico)', (v: string, prev: string[] = []) => {
      if (v !== 'calico') throw new UsageError(`--with supports calico, got "${v}"`);
      return [...prev, v];
    })
    .addHelpText(
      'after',
      `
Examples:
  $ nfqguard gen kube-proxy --services 100 > kp.rules && iptables-restore --test kp.rules
  $ nfqguard gen kube-proxy --services 10000 --endpoints 3 | nfqguard parse -
  $ nfqguard gen kube-proxy --services 50 --family ipv6 --with calico > kp6.rules`,
    )
    .action((opts: GenOptions) => {
      // The ruleset is built as one string: past this size Node runs out of heap (1,000,000 services died
      // after a minute with a V8 stack); at it, 100,000 services x 3 endpoints, about 175 MB and 1.2 GB of memory.
      if (opts.services * (opts.endpoints + 2) > GEN_MAX_UNITS) {
        throw new UsageError(
          `--services ${opts.services} with --endpoints ${opts.endpoints} is too large to generate: --services x (--endpoints + 2) must be at most ${GEN_MAX_UNITS}`,
          `e.g. --services ${Math.floor(GEN_MAX_UNITS / (opts.endpoints + 2))} --endpoints ${opts.endpoints}`,
        );
      }
      ctx.io.stdout(genKubeProxy({ services: opts.services, endpoints: opts.endpoints, family: opts.family, with: opts.with as Array<'calico'> | undefined }));
    });
  return gen;
}
