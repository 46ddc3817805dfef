// Process entry point: wires the real streams and signals to runCli.
import { readFileSync } from 'node:fs';
import { runCli } from './program.js';

export async function main(): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1 && sig === 'SIGINT') process.exit(130); // a second Ctrl-C: the user insists
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // A reader that went away (`nfqguard queue --json-log | head -3`) is a request to stop, as SIGPIPE is
  // for C programs, but through the same path as SIGTERM, so a queue is still unbound on the way out.
  // Without a listener the EPIPE error event crashes the process with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      if (!controller.signal.aborted) controller.abort('EPIPE');
    });
  }
  const code = await runCli(process.argv.slice(2), {
    stdout: (t) => void (process.stdout.writable && process.stdout.write(t)),
    stderr: (t) => void (process.stderr.writable && process.stderr.write(t)),
    stdoutBacklog: () => process.stdout.writableLength,
    cwd: process.cwd(),
    env: process.env,
    signal: controller.signal,
    readStdin: async () => readFileSync(0, 'utf8'),
  });
  process.exitCode = code;
}
