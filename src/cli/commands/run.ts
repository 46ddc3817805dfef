// `nfqguard run`: the inspection daemon. `--check` validates the config and prints the plan without
// touching the node.
import type { Command } from 'commander';
import { Daemon, EnvironmentError, installSpecOf } from '../../daemon/daemon.js';
import type { Config } from '../../daemon/config.js';
import { createLogger } from '../../daemon/log.js';
import { Engine } from '../../detect/engine.js';
import { hex32 } from '../../netlink/bytes.js';
import { InstallError, Installer } from '../../install/backend.js';
import { describeConflict, doctorPreflight, type MaskPreflight } from '../../daemon/preflight.js';
import { readFileSync } from 'node:fs';
import { PROC_NFNETLINK_QUEUE, parseProcQueues, type ProcQueueRow } from '../../nfqueue/proc.js';
import { iptablesLines, nftInstallScript } from '../../install/plan.js';
import { hasCapability, CAP_NET_ADMIN } from '../../util/caps.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, writeJson } from '../io.js';
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
  /** error: why this node cannot take the steering rules (run would exit 2). */
  backend: { choice: string; chosen: string | null; notes: string[]; error?: string };
  steering: string[];
  rules: Array<{ id: string; action: string }>;
  automaton: { patterns: number; states: number };
  metrics: string;
  /**
   * The start-up check of the owned masks against this node's rules, as `run` does it (null: not
   * probed, needs root). conflicts stop `run` unless --force; unreadable parts of the ruleset too.
   */
  maskCheck: { checker: string; conflicts: string[]; unreadable: string[]; notes: string[] } | null;
  /** What `run` would do with this config on this node: start, or refuse (and why); null: node not probed. */
  verdict: { start: boolean | null; reasons: string[] };
}

export interface PlanProbes {
  installer?: Installer;
  preflight?: MaskPreflight;
  /** Reads /proc/net/netfilter/nfnetlink_queue (the queues bound on this node). */
  readQueues?: () => string;
  /** As `run --force`: mask conflicts and an unreadable ruleset do not stop the start. */
  force?: boolean;
}

export async function planOf(c: Config, probeNode: boolean, probes: PlanProbes = {}): Promise<RunPlan> {
  const engine = new Engine(c.rules, { markMask: c.mark.mask, bypassCtMark: c.mark.bypass_ctmark, bypassMark: c.mark.bypass_mark });
  let chosen: string | null = null;
  let error: string | undefined;
  const notes: string[] = [];
  let maskCheck: RunPlan['maskCheck'] = null;
  if (probeNode) {
    try {
      const d = await (probes.installer ?? new Installer()).chooseBackend(c.steering.backend);
      chosen = d.backend;
      notes.push(...d.notes);
    } catch (e) {
      if (!(e instanceof InstallError)) throw e;
      error = e.message;
    }
    const r = await (probes.preflight ?? doctorPreflight).check({ markMask: c.mark.mask, ctMarkMask: c.mark.bypass_ctmark, name: c.name });
    maskCheck = {
      checker: r.checker,
      conflicts: r.conflicts.map(describeConflict),
      unreadable: r.unreadable ?? [],
      notes: r.notes,
    };
  } else {
    notes.push('node not probed (needs root): run --check as root to see the backend and the mask check on this node');
  }
  const spec = installSpecOf(c);
  const backend = chosen ?? (c.steering.backend === 'auto' ? 'iptables' : c.steering.backend);
  const steering =
    backend === 'nft'
      ? nftInstallScript(spec).trimEnd().split('\n')
      : ([4, 6] as const).flatMap((f) => iptablesLines(spec, f).lines.map((l) => `${f === 4 ? 'iptables' : 'ip6tables'} -t mangle -A ${l.chain} ${l.spec}`));
  const reasons: string[] = [];
  if (error !== undefined) reasons.push(`steering rules cannot be installed here: ${error}`);
  if (probeNode) {
    let rows: ProcQueueRow[] = [];
    try {
      rows = parseProcQueues((probes.readQueues ?? (() => readFileSync(PROC_NFNETLINK_QUEUE, 'utf8')))());
    } catch {
      // no nfnetlink_queue loaded yet: nothing is bound
    }
    for (const r of rows) if (c.queues.includes(r.queue)) reasons.push(`queue ${r.queue} is already bound by netlink port id ${r.portId} (another consumer, or a running nfqguard)`);
  }
  if (maskCheck !== null && !probes.force) {
    if (maskCheck.unreadable.length > 0) reasons.push(`the mask check cannot read all of the ruleset (--force to override): ${maskCheck.unreadable.join('; ')}`);
    if (maskCheck.conflicts.length > 0) reasons.push(`the owned mark mask conflicts with ${maskCheck.conflicts.length} rule(s) on this node (--force to override)`);
  }
  return {
    name: c.name,
    queues: c.queues,
    markMask: hex32(c.mark.mask),
    bypassCtMark: hex32(c.mark.bypass_ctmark),
    bypassMark: hex32(c.mark.bypass_mark),
    failOpen: c.queue.fail_open,
    copyRange: c.queue.copy_range,
    backend: { choice: c.steering.backend, chosen, notes, ...(error !== undefined ? { error } : {}) },
    steering,
    rules: c.rules.map((r) => ({ id: r.id, action: r.action })),
    automaton: engine.automaton,
    metrics: c.metrics.enabled ? c.metrics.listen : 'off',
    maskCheck,
    verdict: { start: probeNode ? reasons.length === 0 : null, reasons },
  };
}

function renderPlan(p: RunPlan): string {
  const lines = [
    `config ok: instance ${p.name}`,
    `queues: ${p.queues.join(', ')} (one worker each), fail-open ${p.failOpen ? 'on' : 'off'}, copy range ${p.copyRange}`,
    `owned mark mask ${p.markMask}, ` +
      (p.bypassCtMark === '0x00000000'
        ? 'no flow bypass (mark.bypass_ctmark not set)'
        : `flow-bypass ctmark bit ${p.bypassCtMark}` + (p.bypassMark === '0x00000000' ? ' (set by NFQA_CT verdicts: needs a kernel with CONFIG_NETFILTER_NETLINK_GLUE_CT, else set mark.bypass_mark)' : ` (requested by NF_REPEAT with mark bit ${p.bypassMark})`)),
    `backend: ${p.backend.error !== undefined ? 'NONE' : (p.backend.chosen ?? p.backend.choice)}`,
    ...p.backend.notes.map((n) => `  ${n}`),
    ...(p.backend.error !== undefined ? [`  ${p.backend.error}`] : []),
    'steering rules:',
    ...p.steering.map((s) => `  ${s}`),
    `detection rules: ${p.rules.length} (${p.automaton.patterns} payload patterns, ${p.automaton.states} automaton states)`,
    ...p.rules.map((r) => `  ${r.id}: ${r.action}`),
    `metrics: ${p.metrics}`,
  ];
  if (p.maskCheck === null) {
    lines.push('mask check: not run (needs root)');
  } else {
    const m = p.maskCheck;
    const ok = m.conflicts.length === 0 && m.unreadable.length === 0;
    lines.push(`mask check (${m.checker}): ${ok ? 'no conflict' : `${m.conflicts.length} conflict(s), ${m.unreadable.length} unreadable part(s) of the ruleset`}`);
    for (const x of m.conflicts) lines.push(`  conflict: ${x}`);
    for (const u of m.unreadable) lines.push(`  unreadable: ${u}`);
    for (const n of m.notes) lines.push(`  ${n}`);
  }
  if (p.verdict.start === null) lines.push('whether run would start on this node: not checked (needs root)');
  else lines.push(p.verdict.start ? 'run would start on this node' : 'run would refuse to start on this node:', ...p.verdict.reasons.map((r) => `  ${r}`));
  return lines.join('\n') + '\n';
}

export function registerRun(program: Command, ctx: CommandContext): Command {
  return program
    .command('run')
    .summary('run the inspection daemon: workers, steering rules with bypass, detection, metrics')
    .description(
      'Binds one queue per worker, installs the steering rules (always with bypass, balanced across workers, with a ' +
        'flow-bypass rule), inspects packets with the detection rules and gives verdicts that touch only the owned ' +
        'mark bits. Refuses to start when the owned mask conflicts with rules on the node, or when it cannot read ' +
        'all of them (--force overrides). SIGTERM/SIGINT: verdicts every packet held, removes the rules, exits 0 ' +
        "within 2 s. A previous run's stale rules are removed at start. Exit 2: no root, queue already bound, " +
        'missing kernel support, bad config, mask conflict. --check: validates the config and prints the plan ' +
        '(as root also the backend and the mask check this node would get) without changing anything; exit 0 ' +
        'when run would start, 1 when it would refuse, 2 for a bad config or a node that cannot take the rules.',
    )
    .requiredOption('--config <file>', 'YAML config (see deploy/nfqguard.yaml)')
    .option('--check', 'validate the config and print the plan; touches nothing')
    .option('--force', 'start even if the owned mask conflicts with rules on the node, or the ruleset cannot be read in full')
    .option('--json', 'with --check: print the plan as JSON (backend, steering, rules, maskCheck, verdict)')
    .addHelpText(
      'after',
      `
Examples:
  $ nfqguard run --check --config deploy/nfqguard.yaml
  $ sudo nfqguard run --check --json --config deploy/nfqguard.yaml | jq .verdict
  $ sudo nfqguard run --config /etc/nfqguard/config.yaml
  $ curl -s 127.0.0.1:9477/metrics | grep nfqguard_verdicts_total`,
    )
    .action(async (opts: RunCmdOptions) => {
      const { io } = ctx;
      if (opts.json && !opts.check) throw new UsageError('--json goes with --check (it prints the plan as JSON)', 'the daemon itself logs JSON lines already: log.format in the config');
      const config = await loadConfigFile(io, opts.config);
      if (opts.check) {
        const plan = await planOf(config, hasCapability(CAP_NET_ADMIN), { force: opts.force });
        if (opts.json) writeJson(io, plan);
        else io.stdout(renderPlan(plan));
        ctx.exit(plan.backend.error !== undefined ? EXIT_USAGE : plan.verdict.start === false ? EXIT_FINDINGS : EXIT_OK);
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
