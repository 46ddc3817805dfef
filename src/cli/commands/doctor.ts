// `nfqguard doctor`: who owns each bit of the packet mark and of the connection mark on this node,
// what conflicts, and which bits are safe for an inspector. Reads rulesets (files or the live node),
// runs the analysis of src/marks, and renders it as text, JSON or a self-contained HTML page.
import { simulatorTracer } from '../../marks/sample-tracer.js';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { analyze, DEFAULT_NEED } from '../../marks/index.js';
import { unreadableSources } from '../../ruleset/live.js';
import type { Problem, Ruleset } from '../../ruleset/model.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, writeJson, type Io } from '../io.js';
import { parseIntIn, parseU32, type CommandContext } from '../program.js';
import { renderDoctorHtml } from '../render/doctor-html.js';
import { doctorJson, renderDoctorText } from '../render/doctor.js';
import { loadRulesetInputs, type RulesetInput } from './ruleset-inputs.js';

interface DoctorOptions {
  live?: boolean;
  iptablesSave?: string[];
  ip6tablesSave?: string[];
  nftJson?: string[];
  ipRules?: string[];
  ip6Rules?: string[];
  mask?: number;
  ctmask?: number;
  failOn: 'any' | 'mask';
  need: number;
  json?: boolean;
  html?: string;
  color?: boolean;
  netns?: string;
}

export function registerDoctor(program: Command, ctx: CommandContext): Command {
  return program
    .command('doctor')
    .summary('who owns each mark bit on this node, what conflicts, and which bits are safe to use')
    .description(
      "Reads the node's rulesets and policy-routing rules and tells, for each of the 32 bits of the packet mark and " +
        'of the connection mark, which component owns it (kubelet, kube-proxy, Calico, Cilium, Tailscale, wg-quick...), ' +
        'who writes and who reads it, and what depends on it (drop, accept, masquerade, routing table, TPROXY). Then ' +
        'the conflicts, each with its consequence in words and the rules (file:line) that prove it, and a free mask ' +
        'for an inspector. With --mask, also what the planned inspector mask would break. ' +
        'Exit 0: no conflict; 1: conflicts; 2: usage or input error (an unreadable file, or errors inside one: the ' +
        'report is still printed, with what was understood and the errors at the end).',
    )
    .option('--live', 'read this node: iptables-save, ip6tables-save, nft -j list ruleset, ip rule, ip -6 rule')
    .option('--iptables-save <file...>', 'iptables-save output (- for stdin)')
    .option('--ip6tables-save <file...>', 'ip6tables-save output')
    .option('--nft-json <file...>', 'nft -j list ruleset output')
    .option('--netns <name>', 'with --live: read this network namespace (ip netns name) instead of the host')
    .option('--ip-rules <file...>', '`ip rule` output')
    .option('--ip6-rules <file...>', '`ip -6 rule` output')
    .option('--mask <m>', 'the planned inspector mask to check, e.g. 0x0f000000', parseU32('--mask'))
    .option('--ctmask <m>', 'with --mask: the connection-mark bits the inspector will own too (its flow-bypass bit)', parseU32('--ctmask'))
    .option('--fail-on <what>', 'exit 1 on "any" conflict on the node (default), or only when the planned --mask/--ctmask conflicts ("mask")', (v: string) => {
      if (v !== 'any' && v !== 'mask') throw new UsageError(`--fail-on must be any or mask, got "${v}"`);
      return v;
    }, 'any')
    .option('--need <n>', 'width of the suggested free mask in bits', parseIntIn('--need', 1, 32), DEFAULT_NEED)
    .option('--json', 'print {"owners","bits","conflicts","free","suggestedMask",...} (masks as 0x%08x)')
    .option('--html <file>', 'also write a self-contained HTML page with the bit maps, owners, conflicts and evidence (replaces an earlier page; never an input or a file that is not HTML)')
    .option('--color', 'colour the bit map with ANSI colours even when stdout is not a terminal')
    .addHelpText(
      'after',
      `
Examples:
  $ sudo nfqguard doctor --live
  $ nfqguard doctor --iptables-save node.rules --ip-rules node.iprule --mask 0x00008000
  $ nfqguard doctor --iptables-save node.rules --need 8 --json | jq .suggestedMask
  $ nfqguard doctor --nft-json ruleset.json --html doctor.html
  $ nfqguard doctor --live --mask 0x00f00000 --ctmask 0x01000000 --fail-on mask   # a gate before installing an inspector`,
    )
    .action(async (opts: DoctorOptions) => {
      if (opts.mask === 0) throw new UsageError('--mask must have at least one bit set', 'e.g. --mask 0x0f000000');
      if (opts.mask === undefined && (opts.ctmask !== undefined || opts.failOn === 'mask')) {
        throw new UsageError(`${opts.ctmask !== undefined ? '--ctmask' : '--fail-on mask'} needs --mask: the planned inspector mask`, 'e.g. --mask 0x00f00000');
      }
      const inputs: RulesetInput[] = [
        ...(opts.iptablesSave ?? []).map((f) => ({ kind: 'iptables-save' as const, file: f })),
        ...(opts.ip6tablesSave ?? []).map((f) => ({ kind: 'iptables-save' as const, file: f, family: 'ip6' as const })),
        ...(opts.nftJson ?? []).map((f) => ({ kind: 'nft-json' as const, file: f })),
        ...(opts.ipRules ?? []).map((f) => ({ kind: 'ip-rules' as const, file: f, family: 'ip' as const })),
        ...(opts.ip6Rules ?? []).map((f) => ({ kind: 'ip-rules' as const, file: f, family: 'ip6' as const })),
      ];
      if (opts.live && inputs.length) throw new UsageError('--live reads the node itself; give either --live or files, not both');
      if (opts.netns && !opts.live) throw new UsageError('--netns goes with --live', 'e.g. nfqguard doctor --live --netns NAME');
      if (!opts.live && !inputs.length) throw new UsageError('nothing to read', 'give --live, or files: --iptables-save FILE, --nft-json FILE, --ip-rules FILE');
      if (opts.html !== undefined) checkHtmlTarget(ctx.io, opts.html, inputs);
      // A namespace that is not there would read as an empty node, and "no conflict" is no answer for it.
      if (opts.netns !== undefined && (opts.netns.includes('/') || !existsSync(`/run/netns/${opts.netns}`))) {
        throw new UsageError(`no network namespace "${opts.netns}"`, 'list them with: ip netns list');
      }
      const { ruleset, sources, warnings, wrongFiles } = await loadRulesetInputs(ctx.io, opts.live ? { live: true, netns: opts.netns } : inputs);
      for (const w of warnings) ctx.io.stderr(`nfqguard doctor: ${w}\n`);
      await runDoctor(ctx, ruleset, sources, opts, wrongFiles);
    });
}

async function runDoctor(ctx: CommandContext, ruleset: Ruleset, sources: string[], opts: DoctorOptions, wrongFiles: string[]): Promise<void> {
  const report = analyze(ruleset, { mask: opts.mask, ctmask: opts.ctmask, need: opts.need, tracer: opts.mask === undefined ? undefined : simulatorTracer(ruleset) });
  const problems: Problem[] = ruleset.problems;
  if (opts.html) {
    const path = resolve(ctx.io.cwd, opts.html);
    try {
      await writeFile(path, renderDoctorHtml(report, problems, sources));
    } catch (e) {
      throw new UsageError(`cannot write ${opts.html}: ${(e as Error).message}`);
    }
  }
  if (opts.json) writeJson(ctx.io, doctorJson(report, problems));
  else ctx.io.stdout(renderDoctorText(report, problems, { color: useColour(ctx.io, opts.color), sources }));
  if (problems.length && opts.json) {
    // The JSON has them all; stderr gets a count and the errors first.
    const errors = problems.filter((p) => p.severity === 'error');
    ctx.io.stderr(`nfqguard doctor: ${problems.length} input problem${problems.length === 1 ? '' : 's'} (${errors.length} error${errors.length === 1 ? '' : 's'}), listed under "problems"; the analysis used what was understood\n`);
    for (const p of [...errors, ...problems.filter((x) => x.severity !== 'error')].slice(0, 3)) ctx.io.stderr(`  ${p.source}:${p.line}:${p.column}: ${p.severity} ${p.code}: ${p.message}\n`);
  }
  const failing = opts.failOn === 'mask' ? report.conflicts.filter((c) => c.kind === 'inspector') : report.conflicts;
  // An input the parsers could not fully read is an input error (exit 2): the report above still holds
  // what was understood, but "no conflict" on half a ruleset is no answer (a gate must not pass on it).
  let inputErrors = problems.filter((p) => p.severity === 'error').length;
  // --live with a listing that failed: those rules are unknown, not absent (with only CAP_NET_ADMIN,
  // iptables-legacy-save cannot read a legacy node's rules), so a gate must not pass on the rest.
  if (opts.live) {
    const unreadable = unreadableSources(ruleset);
    for (const u of unreadable) ctx.io.stderr(`nfqguard doctor: could not read ${u}; the report leaves those rules out\n`);
    if (unreadable.length && ruleset.tables.length === 0) ctx.io.stderr('nfqguard doctor: no table could be read from the node; the report says nothing about its rules\n');
    inputErrors += unreadable.length;
  }
  // A file nothing could be read from is the wrong file, not an empty node whose every bit is free.
  for (const f of wrongFiles) {
    ctx.io.stderr(`nfqguard doctor: nothing could be read from ${f}; wrong file? --iptables-save takes iptables-save output, --nft-json \`nft -j list ruleset\`, --ip-rules \`ip rule\`\n`);
  }
  inputErrors += wrongFiles.length;
  if (inputErrors && !opts.json) ctx.io.stderr(`nfqguard doctor: ${inputErrors} input error${inputErrors === 1 ? '' : 's'} (listed at the end of the report); exit 2\n`);
  ctx.exit(inputErrors ? EXIT_USAGE : failing.length ? EXIT_FINDINGS : EXIT_OK);
}

/**
 * --html overwrites its file, often as root: refuse a name that is one of the inputs (`--html node.rules` for
 * `--iptables-save node.rules`) or an existing file that is not an HTML page (a binary, a config), which a
 * typo would otherwise destroy. A page from an earlier run is replaced.
 */
function checkHtmlTarget(io: Io, file: string, inputs: RulesetInput[]): void {
  const path = resolve(io.cwd, file);
  if (inputs.some((i) => i.file !== '-' && resolve(io.cwd, i.file) === path)) {
    throw new UsageError(`--html ${file} is also an input: writing the page would destroy it`, 'give the page another name, e.g. --html doctor.html');
  }
  let head: string;
  try {
    if (!statSync(path).isFile()) throw new UsageError(`--html ${file} is not a regular file`, 'give the page a file name, e.g. --html doctor.html');
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(64);
      head = buf.subarray(0, readSync(fd, buf, 0, 64, 0)).toString('latin1');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    return; // not there (or unreadable: the write will say why)
  }
  if (head.length > 0 && !/^\s*<!doctype html/i.test(head)) {
    throw new UsageError(`--html ${file} exists and is not an HTML page: not overwritten`, `remove it first, or give the page another name, e.g. --html doctor.html`);
  }
}

/** ANSI colour with --color, or on a terminal (the real process's environment) unless NO_COLOR is set. */
function useColour(io: Io, flag: boolean | undefined): boolean {
  if (flag) return true;
  if (io.env.NO_COLOR !== undefined) return false;
  return io.env === process.env && process.stdout.isTTY === true;
}
