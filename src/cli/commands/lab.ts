// `nfqguard lab`: the seed's experiment, reproduced on the real kernel and explained.
import type { Command } from 'commander';
import { runLab, type LabReport } from '../../lab/lab.js';
import { SCENARIOS } from '../../lab/scenarios.js';
import { kernelUnavailableReason } from '../../util/caps.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, writeJson } from '../io.js';
import { parseIntIn, type CommandContext } from '../program.js';
import { table } from '../render/table.js';
import { missingTools } from '../../util/tools.js';

interface LabCmdOptions {
  port: number;
  queue: number;
  json?: boolean;
  only?: number[];
  sequential?: boolean;
}

export function registerLab(program: Command, ctx: CommandContext): Command {
  return program
    .command('lab')
    .summary("reproduce the seed's outage and nfqguard's fix on the real kernel, in throwaway namespaces")
    .description(
      // No hard line breaks inside a paragraph: commander wraps to the terminal's width.
      "Runs the seed document's experiment end to end, one network namespace per scenario: an HTTP server, the " +
        'KUBE-FIREWALL rule (-m mark --mark 0x8000/0x8000 -j DROP), the steering rule ' +
        '`-t mangle -A INPUT -p tcp --dport PORT -j NFQUEUE --queue-num QUEUE`, a consumer, and curl. ' +
        "The kernel's own trace reports the packet mark just before and just after the verdict. " +
        'Namespaces are removed at the end, on Ctrl-C and on failure.\n\n' +
        'Exit 0 when every scenario behaves as expected, 1 when one does not, 2 when the lab cannot run here ' +
        '(not root, missing programs), 130 when interrupted.',
    )
    .option('--port <n>', 'lab HTTP port', parseIntIn('--port', 1, 65535), 80)
    .option('--queue <n>', 'queue number', parseIntIn('--queue', 0, 65535), 80)
    .option('--only <numbers>', 'run only these scenarios, e.g. 2,5', (v: string) => {
      const nums = v.split(',').map((x) => Number(x.trim()));
      if (nums.some((n) => !SCENARIOS.some((s) => s.number === n))) throw new UsageError(`--only takes scenario numbers 1-${SCENARIOS.length}, got "${v}"`);
      return nums;
    })
    .option('--sequential', 'run the scenarios one after another (default: side by side)')
    .option('--json', 'print {"ok", "scenarios": [{"name","expected","observed","ok","markBefore","markAfter",...}]}')
    .addHelpText(
      'after',
      `
Examples:
  $ nfqguard lab
  $ nfqguard lab --json | jq '.scenarios[] | {name, observed, markAfter}'
  $ nfqguard lab --only 2,5 --port 8080 --queue 7`,
    )
    .action(async (opts: LabCmdOptions) => {
      const why = kernelUnavailableReason();
      if (why) throw new UsageError(`the lab ${why}`, 'run it as root: sudo npm run lab');
      const missing = await missingTools(['ip', 'iptables-restore', 'nft', 'curl']);
      if (missing.length) throw new UsageError(`missing programs: ${missing.join(', ')}`, 'run `npm run setup` (installs iptables, nftables, iproute2, curl)');
      let report: LabReport | undefined;
      try {
        report = await runLab({ port: opts.port, queue: opts.queue, only: opts.only, sequential: opts.sequential, signal: ctx.io.signal });
      } catch (e) {
        if (!ctx.io.signal.aborted) throw e;
      }
      if (ctx.io.signal.aborted || report === undefined) {
        ctx.io.stderr('nfqguard: lab interrupted; namespaces removed\n');
        ctx.exit(130);
        return;
      }
      if (opts.json) writeJson(ctx.io, report);
      else ctx.io.stdout(renderLab(report));
      ctx.exit(report.ok ? EXIT_OK : EXIT_FINDINGS);
    });
}

export function renderLab(r: LabReport): string {
  const rows = r.scenarios.map((s) => [
    String(s.number),
    s.name,
    s.expected,
    s.observed,
    s.markBefore ?? '-',
    s.markAfter ?? '-',
    s.ok ? 'ok' : 'FAIL',
  ]);
  let out = `nfqguard lab: the seed's experiment on this kernel (port ${r.port}, queue ${r.queue}), one namespace per scenario\n\n`;
  out += table(['#', 'scenario', 'expected', 'observed', 'mark before', 'mark after', ''], rows);
  out += '\n';
  let last = 0;
  for (const s of r.scenarios) {
    if (s.number !== last) out += `${s.number}. ${s.title}\n`;
    last = s.number;
    out += `   ${s.name}: ${s.explanation}.\n`;
    if (s.consumer) out += `   consumer got mark ${s.consumer.markIn}, answered ${s.consumer.markOut}.\n`;
    if (s.droppedBy) out += `   dropped by ${s.droppedBy}\n`;
    if (s.problem) out += `   PROBLEM: ${s.problem}\n`;
  }
  out += `\n${r.ok ? 'All scenarios behaved as the seed describes' : 'Some scenarios did not behave as expected'} (${(r.durationMs / 1000).toFixed(1)} s).\n`;
  return out;
}
