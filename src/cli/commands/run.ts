// `nfqguard run`: the inspection daemon. `--check` validates the config and prints the plan without
// touching the node.
import type { Command } from 'commander';
import { Daemon, EnvironmentError, installSpecOf } from '../../daemon/daemon.js';
import type { Config } from '../../daemon/config.js';
import { createLogger } from '../../daemon/log.js';
import { Engine } from '../../detect/engine.js';
import { hex32 } from '../../netlink/bytes.js';
import { Installer } from '../../install/backend.js';
import { iptablesLines, nftInstallScript } from '../../install/plan.js';
import { hasCapability, CAP_NET_ADMIN } from '../../util/caps.js';
import { EXIT_OK, EXIT_USAGE, writeJson } from '../io.js';
import type { CommandContext } from '../program.js';
import { loadConfigFile } from './config-file.js';

interface RunCmdOptions {
  config: string;
  check?: boolean;
  force?: boolean;
  json?: boolean;
}

export interface RunPlan {
  name: string;
  queues: number[];
  markMask: string;
  bypassCtMark: string;
  bypassMark: string;
  failOpen: boolean;
  copyRange: number;
  backend: { choice: string; chosen: string | null; notes: string[] };
  steering: string[];
  rules: Array<{ id: string; action: string }>;
  automaton: { patterns: number; states: number };
  metrics: string;
}


export async function planOf(c: Config, probeBackend: boolean): Promise<RunPlan> {
  const engine = new Engine(c.rules, { markMask: c.mark.mask, bypassCtMark: c.mark.bypass_ctmark, bypassMark: c.mark.bypass_mark });
  let chosen: string | null = null;
  const notes: string[] = [];
  if (probeBackend) {
    const d = await new Installer().chooseBackend(c.steering.backend);
    chosen = d.backend;
    notes.push(...d.notes);
  } else {
    notes.push('backend not probed (needs root); run --check as root to see the backend this node would use');
  }
  const spec = installSpecOf(c);
  const backend = chosen ?? (c.steering.backend === 'auto' ? 'iptables' : c.steering.backend);
  const steering =
    backend === 'nft'
      ? nftInstallScript(spec).trimEnd().split('\n')
      : ([4, 6] as const).flatMap((f) => iptablesLines(spec, f).lines.map((l) => `${f === 4 ? 'iptables' : 'ip6tables'} -t mangle -A ${l.chain} ${l.spec}`));
  return {
    name: c.name,
    queues: c.queues,
    markMask: hex32(c.mark.mask),
    bypassCtMark: hex32(c.mark.bypass_ctmark),
    bypassMark: hex32(c.mark.bypass_mark),
    failOpen: c.queue.fail_open,
    copyRange: c.queue.copy_range,
    backend: { choice: c.steering.backend, chosen, notes },
    steering,
    rules: c.rules.map((r) => ({ id: r.id, action: r.action })),
    automaton: engine.automaton,
    metrics: c.metrics.enabled ? c.metrics.listen : 'off',
  };
}

function renderPlan(p: RunPlan): string {
  const lines = [
    `config ok: instance ${p.name}`,
    `queues: ${p.queues.join(', ')} (one worker each), fail-open ${p.failOpen ? 'on' : 'off'}, copy range ${p.copyRange}`,
    `owned mark mask ${p.markMask}, flow-bypass ctmark bit ${p.bypassCtMark}` +
      (p.bypassMark === '0x00000000' ? ' (set by NFQA_CT verdicts)' : ` (requested by NF_REPEAT with mark bit ${p.bypassMark})`),
    `backend: ${p.backend.chosen ?? p.backend.choice}`,
    ...p.backend.notes.map((n) => `  ${n}`),
    'steering rules:',
    ...p.steering.map((s) => `  ${s}`),
    `detection rules: ${p.rules.length} (${p.automaton.patterns} payload patterns, ${p.automaton.states} automaton states)`,
    ...p.rules.map((r) => `  ${r.id}: ${r.action}`),
    `metrics: ${p.metrics}`,
  ];
  return lines.join('\n') + '\n';
}

export function registerRun(program: Command, ctx: CommandContext): Command {
  return program
    .command('run')
    .summary('run the inspection daemon: workers, steering rules with bypass, detection, metrics')
    .description(
      'Binds one queue per worker, installs the steering rules (always with bypass, balanced across workers, with a\n' +
        'flow-bypass rule), inspects packets with the detection rules and gives verdicts that touch only the owned\n' +
        'mark bits. Refuses to start when the owned mask conflicts with rules on the node (--force overrides).\n' +
        'SIGTERM/SIGINT: verdicts every packet held, removes the rules, exits 0 within 2 s. A previous run\'s stale\n' +
        'rules are removed at start. Exit 2: no root, queue already bound, missing kernel support, bad config.',
    )
    .requiredOption('--config <file>', 'YAML config (see deploy/nfqguard.yaml)')
    .option('--check', 'validate the config and print the plan; touches nothing')
    .option('--force', 'start even if the owned mask conflicts with rules on the node')
    .option('--json', 'with --check: print the plan as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ nfqguard run --check --config deploy/nfqguard.yaml
  $ nfqguard run --config /etc/nfqguard/config.yaml
  $ curl -s 127.0.0.1:9477/metrics | grep nfqguard_verdicts_total`,
    )
    .action(async (opts: RunCmdOptions) => {
      const { io } = ctx;
      const config = await loadConfigFile(io, opts.config);
      if (opts.check) {
        const plan = await planOf(config, hasCapability(CAP_NET_ADMIN));
        if (opts.json) writeJson(io, plan);
        else io.stdout(renderPlan(plan));
        ctx.exit(EXIT_OK);
        return;
      }
      const log = createLogger(config.log, io.stdout);
      const daemon = new Daemon({ config, log, force: opts.force });
      try {
        await daemon.start();
      } catch (e) {
        if (e instanceof EnvironmentError) {
          io.stderr(`nfqguard: ${e.message}\n`);
          for (const d of e.details) io.stderr(`  ${d}\n`);
          ctx.exit(EXIT_USAGE);
          return;
        }
        await daemon.stop();
        throw e;
      }
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve();
        else io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await daemon.stop();
      ctx.exit(EXIT_OK);
    });
}
