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
  const code = await runCli(process.argv.slice(2), {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
    signal: controller.signal,
    readStdin: async () => readFileSync(0, 'utf8'),
  });
  process.exitCode = code;
}
