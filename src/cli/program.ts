// The command-line program: commander parses, each command module computes a value and renders it.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { COMMANDS, type RegisterCommand } from './commands/index.js';
import { EXIT_USAGE, UsageError, type Io } from './io.js';

export interface CommandContext {
  io: Io;
  /** Set the process exit code the command ends with (default 0). */
  exit(code: number): void;
}

const EXAMPLES = `
Examples:
  $ nfqguard lab                          reproduce the seed's outage and nfqguard's fix in namespaces
  $ nfqguard doctor --live --mask 0x00f00000
                                          who owns each mark bit here; would this inspector mask conflict?
  $ nfqguard trace --iptables-save node.rules --packet "tcp 10.0.0.1:40240 > 127.0.0.1:80" \\
      --queue-verdict accept,mark=0x8000  follow a packet through hooks, tables and chains
  $ nfqguard parse node.rules --json      a ruleset as the typed model, with problems at line:column
  $ nfqguard queue --num 80 --mask 0x00f00000 --set-mark 0x00100000 --json-log
                                          consume queue 80, setting only owned mark bits
  $ nfqguard run --config deploy/nfqguard.yaml
                                          the inspection daemon (steering rules always with bypass)

Exit codes: 0 success, 1 findings (a failed lab scenario, conflicts, problems in input), 2 usage or
environment error (not root, queue already bound, missing kernel support). Every command takes --help;
commands that report take --json.`;

export async function buildProgram(ctx: CommandContext, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('nfqguard')
    .description('Inspect traffic with Linux NFQUEUE without breaking the node: mark-owning verdicts, fail-open queues, ruleset analysis.')
    .version(packageVersion())
    .showHelpAfterError('hint: add --help for usage and examples')
    // commander's own usage errors look like ours: "nfqguard: ...", then the hint.
    .configureOutput({ writeOut: ctx.io.stdout, writeErr: ctx.io.stderr, outputError: (text, write) => write(text.replace(/^error: /, 'nfqguard: ').replace(/\n\(Did you mean (.*)\?\)/, ' (did you mean $1?)')) })
    .exitOverride()
    .addHelpText('after', EXAMPLES);
  for (const register of await commandsFor(argv)) {
    const cmd = register(program, ctx);
    cmd.exitOverride().configureOutput({ writeOut: ctx.io.stdout, writeErr: ctx.io.stderr });
  }
  return program;
}

/**
 * The version in nfqguard's own package.json (dist/src/cli/ is three levels below it). Not
 * npm_package_version: under `npm run` in another project that is the other project's version.
 */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The commands argv needs: the one its first word names, alone (a faster start), else all of them. */
async function commandsFor(argv: readonly string[]): Promise<RegisterCommand[]> {
  const name = argv[0];
  if (name !== undefined && Object.hasOwn(COMMANDS, name)) return [await COMMANDS[name]()];
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}

/** Parses a 32-bit value written as hex (0x...), binary (0b...) or decimal; throws a usage error otherwise. */
export function parseU32(what: string) {
  return (text: string): number => {
    const t = text.trim().toLowerCase();
    const n = /^(0x[0-9a-f]+|0b[01]+|[0-9]+)$/.test(t) ? Number(t) : NaN;
    if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) {
      throw new UsageError(`${what} must be a 32-bit number such as 0x00f00000, got "${text}"`);
    }
    return n >>> 0;
  };
}

export function parseIntIn(what: string, min: number, max: number) {
  return (text: string): number => {
    const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${what} must be an integer from ${min} to ${max}, got "${text}"`);
    return n;
  };
}

export { Option };

/** Runs the CLI in-process and returns the exit code. Never calls process.exit. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  let code = 0;
  const ctx: CommandContext = { io, exit: (c) => (code = c) };
  const program = await buildProgram(ctx, argv);
  try {
    const asked = argv[0] === 'help' ? argv[1] : undefined;
    if (asked !== undefined && !asked.startsWith('-') && asked !== 'help' && !Object.hasOwn(COMMANDS, asked)) {
      throw new UsageError(`unknown command "${asked}"`, `the commands are ${Object.keys(COMMANDS).join(', ')}; nfqguard --help shows them with examples`);
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      // Help shown because something was missing (`nfqguard`, `nfqguard rules`, `nfqguard help bogus`)
      // is a usage error; help asked for (`nfqguard help lab`) is not.
      if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : EXIT_USAGE;
      if (e.code === 'commander.executeSubCommandAsync') return code;
      return EXIT_USAGE; // commander already printed the message
    }
    if (e instanceof UsageError) {
      io.stderr(`nfqguard: ${e.message}\n`);
      if (e.hint) io.stderr(`hint: ${e.hint}\n`);
      return EXIT_USAGE;
    }
    const err = e as Error & { code?: string };
    io.stderr(`nfqguard: internal error${err.code ? ` (${err.code})` : ''}: ${err.stack ?? String(e)}\n`);
    return 70; // EX_SOFTWARE: a bug, not a user mistake
  }
}
