// Running the CLI in-process, capturing its output.
import { runCli } from '../../src/cli/program.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(argv: string[], opts: { signal?: AbortSignal; stdin?: string } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    cwd: process.cwd(),
    env: process.env,
    signal: opts.signal ?? new AbortController().signal,
    readStdin: async () => opts.stdin ?? '',
  });
  return { code, stdout, stderr };
}
