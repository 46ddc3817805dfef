// Every command of the CLI, one module each, by command name. A module registers its command and
// returns it. Modules are imported when needed: `nfqguard doctor ...` loads the doctor's module and what
// it uses, not the daemon with pino, zod and prom-client; --help, --version and anything else load all.
import { table } from '../../util/table.js';
import type { Command } from 'commander';
import type { CommandContext } from '../program.js';

export type RegisterCommand = (program: Command, ctx: CommandContext) => Command;

/** Command name (as its module gives it to program.command) -> the module's register function, in help order. */
export const COMMANDS: Readonly<Record<string, () => Promise<RegisterCommand>>> = table({
  lab: async () => (await import('./lab.js')).registerLab,
  queue: async () => (await import('./queue.js')).registerQueue,
  parse: async () => (await import('./parse.js')).registerParse,
  gen: async () => (await import('./gen.js')).registerGen,
  run: async () => (await import('./run.js')).registerRun,
  rules: async () => (await import('./rules.js')).registerRules,
  doctor: async () => (await import('./doctor.js')).registerDoctor,
  trace: async () => (await import('./trace.js')).registerTrace,
});
