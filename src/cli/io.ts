// What a command gets from the outside world, passed in so that tests run commands in-process:
// output streams, working directory, environment and an abort signal raised by SIGINT/SIGTERM.

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Aborted when the user interrupts (SIGINT) or the process is asked to stop (SIGTERM). */
  signal: AbortSignal;
  /**
   * Bytes written to stdout and not yet taken by the reader. A command that must not wait for its
   * reader (`queue --json-log`: packets wait in the kernel meanwhile) drops output past a limit instead.
   */
  stdoutBacklog?: () => number;
  /** Reads all of standard input (for `-` file arguments). */
  readStdin?: () => Promise<string>;
}

/** Exit codes scripts can rely on. */
export const EXIT_OK = 0;
/** The command ran and found something: problems, conflicts, a lab scenario that misbehaved. */
export const EXIT_FINDINGS = 1;
/** Usage error, unreadable input, or an environment that cannot run the command (no root, busy queue). */
export const EXIT_USAGE = 2;

/** A mistake the user can fix: printed as one line with the fix, exit code 2, no stack. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export function writeJson(io: Io, value: unknown): void {
  io.stdout(JSON.stringify(value, null, 2) + '\n');
}
