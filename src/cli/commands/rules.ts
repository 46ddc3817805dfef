// `nfqguard rules install|uninstall|status`: the daemon's steering rules on their own.
import type { Command } from 'commander';
import { installSpecOf } from '../../daemon/daemon.js';
import { Installer, InstallError } from '../../install/backend.js';
import { CAP_NET_ADMIN, hasCapability } from '../../util/caps.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, writeJson } from '../io.js';
import type { CommandContext } from '../program.js';
import { loadConfigFile } from './config-file.js';

interface RulesOpts {
  config: string;
  json?: boolean;
}

function needRoot(what: string): void {
  if (!hasCapability(CAP_NET_ADMIN)) throw new UsageError(`rules ${what} needs root (CAP_NET_ADMIN) to read and change the ruleset`, 'run it as root');
}

async function guarded<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof InstallError) throw new UsageError(e.message, 'check that iptables/nft work on this node (`iptables-save -t mangle`)');
    throw e;
  }
}

export function registerRules(program: Command, ctx: CommandContext): Command {
  const cmd = program
    .command('rules')
    .summary("install, remove or compare the daemon's steering rules")
    .description(
      'The rules that send traffic to the queues, as `nfqguard run` installs them: in mangle (iptables, own chains ' +
        'NFQG-NAME-HOOK, tagged with the comment nfqguard:NAME:HASH) or in an own nft table (inet nfqguard_NAME), ' +
        'always with bypass and spread over the worker queues, plus the flow-bypass rule. The backend is the one ' +
        'the node already uses (steering.backend: auto), iptables when the kernel has no nft queue. install is ' +
        'idempotent; uninstall removes exactly what carries the tag; status shows drift (exit 1 when there is any, or when a node rule follows our jump and so never runs for queued packets). ' +
        'Exit 2: no root, bad config, or a backend this node cannot run.',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ nfqguard rules install --config deploy/nfqguard.yaml
  $ nfqguard rules status --config deploy/nfqguard.yaml --json
  $ nfqguard rules uninstall --config deploy/nfqguard.yaml`,
    );
  cmd
    .command('install')
    .addHelpText('after', '\nExamples:\n  $ sudo nfqguard rules install --config deploy/nfqguard.yaml\n  $ sudo nfqguard rules install --config deploy/nfqguard.yaml --json')
    .description('install or replace the steering rules of the config (no-op when already in place). Exit 0, or 2 on no root, a bad config or a backend this node cannot run')
    .requiredOption('--config <file>', 'YAML config')
    .option('--json', 'print {"backend","notes","changed"}')
    .action(async (o: RulesOpts) =>
      guarded(async () => {
        needRoot('install');
        const c = await loadConfigFile(ctx.io, o.config);
        const inst = new Installer();
        const d = await inst.chooseBackend(c.steering.backend);
        const changed = await inst.install(installSpecOf(c), d.backend);
        if (o.json) writeJson(ctx.io, { backend: d.backend, notes: d.notes, changed });
        else ctx.io.stdout(`${d.notes.map((n) => n + '\n').join('')}${changed ? 'installed' : 'already installed, nothing changed'} (${d.backend})\n`);
        ctx.exit(EXIT_OK);
      }),
    );
  cmd
    .command('uninstall')
    .addHelpText('after', '\nExamples:\n  $ sudo nfqguard rules uninstall --config deploy/nfqguard.yaml')
    .description('remove every rule and chain tagged with the config\'s instance name, in every backend. Exit 0 (also when there was nothing), or 2 on no root or a bad config')
    .requiredOption('--config <file>', 'YAML config')
    .option('--json', 'print {"removed": [...]}')
    .action(async (o: RulesOpts) =>
      guarded(async () => {
        needRoot('uninstall');
        const c = await loadConfigFile(ctx.io, o.config);
        const removed = await new Installer().uninstall(c.name);
        if (o.json) writeJson(ctx.io, { removed });
        else ctx.io.stdout(removed.length === 0 ? 'nothing to remove\n' : `removed:\n${removed.map((r) => `  ${r}\n`).join('')}`);
        ctx.exit(EXIT_OK);
      }),
    );
  cmd
    .command('status')
    .addHelpText('after', '\nExamples:\n  $ sudo nfqguard rules status --config deploy/nfqguard.yaml\n  $ sudo nfqguard rules status --config deploy/nfqguard.yaml --json | jq .missing')
    .description('compare the node\'s rules with the config: missing, unexpected, and rules shadowed by the queue. Exit 0 in sync, 1 drift, 2 no root or a bad config')
    .requiredOption('--config <file>', 'YAML config')
    .option('--json', 'print {"backend","inSync","missing","unexpected","shadowed"}')
    .action(async (o: RulesOpts) =>
      guarded(async () => {
        needRoot('status');
        const c = await loadConfigFile(ctx.io, o.config);
        const inst = new Installer();
        const d = await inst.chooseBackend(c.steering.backend);
        const drift = await inst.status(installSpecOf(c), d.backend);
        const inSync = drift.missing.length === 0 && drift.unexpected.length === 0;
        if (o.json) writeJson(ctx.io, { backend: d.backend, inSync, ...drift });
        else {
          const out = [`backend ${d.backend}: ${inSync ? 'in sync with the config' : 'DRIFT'}`];
          for (const m of drift.missing) out.push(`  missing: ${m}`);
          for (const u of drift.unexpected) out.push(`  unexpected: ${u}`);
          for (const s of drift.shadowed) out.push(`  warning: ${s}`);
          ctx.io.stdout(out.join('\n') + '\n');
        }
        ctx.exit(inSync && drift.shadowed.length === 0 ? EXIT_OK : EXIT_FINDINGS);
      }),
    );
  return cmd;
}
