// `nfqguard parse`: read rulesets (iptables-save / iptables -S / pasted fragments, nft -j JSON, nft text)
// into the model and print it as JSON or as canonical iptables-save text; problems go to stderr.
import type { Command } from 'commander';
import { formatProblem, mergeRulesets, parseIptablesSave, parseNftJson, serializeIptablesSave, type Chain, type Problem, type Rule, type Ruleset, type Table } from '../../ruleset/index.js';
import { loadNftText } from '../../ruleset/live.js';
import { which } from '../../util/tools.js';
import { readTextArg } from '../input.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, writeJson } from '../io.js';
import type { CommandContext } from '../program.js';

type Format = 'iptables-save' | 'nft-json' | 'nft';

interface ParseCmdOptions {
  format?: Format;
  json?: boolean;
  emit?: 'iptables-save';
  family?: 'ip' | 'ip6';
}

/** A guess from the text itself: JSON, nft's brace syntax, or iptables text. */
export function sniffFormat(text: string): Format {
  const t = text.trimStart();
  if (t.startsWith('{')) return 'nft-json';
  if (/^\s*table\s+(ip|ip6|inet|arp|bridge|netdev)\s+\S+\s*\{/m.test(text) || /^\s*table\s+\S+\s*\{/m.test(text)) return 'nft';
  return 'iptables-save';
}

export function registerParse(program: Command, ctx: CommandContext): Command {
  return program
    .command('parse')
    .summary('read iptables-save, iptables -S, nft JSON or nft text into the ruleset model')
    .description(
      'Parses each FILE (- for standard input) and prints the model as JSON (--json), the canonical ' +
        'iptables-save text (--emit iptables-save), or a summary. Problems (unknown modules, missing COMMIT, ' +
        'jumps to undeclared chains, bad masks...) go to stderr as FILE:LINE:COL. The nft text form is read by ' +
        'the real nft in a throwaway network namespace (needs root). --emit prints modules as iptables-save does ' +
        '(-s 10.0.0.1/32, --set-xmark, -m tcp); the options of modules kept verbatim (limit, hashlimit, TOS, ' +
        'CLASSIFY...) stay as written, and what iptables cannot say (nft-only expressions) is reported. ' +
        'Exit 0 when clean, 1 when there were problems but a model was built, 2 on usage error or unreadable input; 130 when interrupted while nft reads the text form.',
    )
    .argument('<files...>', 'ruleset files, or - for standard input')
    .option('--format <f>', 'iptables-save (also iptables -S and fragments), nft-json, or nft (default: guessed from the text)', (v: string) => {
      if (v !== 'iptables-save' && v !== 'nft-json' && v !== 'nft') throw new UsageError(`--format must be iptables-save, nft-json or nft, got "${v}"`);
      return v;
    })
    .option('--family <f>', 'ip or ip6 for iptables text that does not say (default: from the header or the addresses)', (v: string) => {
      if (v !== 'ip' && v !== 'ip6') throw new UsageError(`--family must be ip or ip6, got "${v}"`);
      return v;
    })
    .option('--json', 'print the model: {"tables": [...], "ipRules": [...], "problems": [...]}')
    .option('--emit <format>', 'print the ruleset as iptables-save text (canonical form)', (v: string) => {
      if (v !== 'iptables-save') throw new UsageError(`--emit supports iptables-save, got "${v}"`);
      return v;
    })
    .addHelpText(
      'after',
      `
Examples:
  $ iptables-save | nfqguard parse -                       summary and problems of the live ruleset
  $ nfqguard parse node1.rules --emit iptables-save          canonical text (as iptables-save would print it)
  $ nfqguard parse --json ruleset.json | jq '.tables[].name'
  $ nfqguard parse pasted-from-issue.txt                     iptables -S output or fragments: table inferred, warned
  $ nfqguard parse --format nft /etc/nftables.conf           nft text, read by nft in a throwaway namespace`,
    )
    .action(async (files: string[], opts: ParseCmdOptions) => {
      if (opts.json && opts.emit) throw new UsageError('--json and --emit cannot be combined', 'pick one output');
      const parts: Ruleset[] = [];
      for (const file of files) {
        const text = await readTextArg(ctx.io, file);
        const source = file === '-' ? '<stdin>' : file;
        const format = opts.format ?? sniffFormat(text);
        if (format === 'nft-json') parts.push(parseNftJson(text, { source }));
        else if (format === 'nft') {
          if (process.getuid?.() !== 0) throw new UsageError('reading the nft text form needs root (it is loaded by nft in a throwaway namespace)', 'run as root, or give `nft -j list ruleset` output instead');
          if (!(await which('nft'))) throw new UsageError('reading the nft text form needs the nft program, and it is not installed', 'apt-get install nftables, or give `nft -j list ruleset` output instead');
          const loaded = await loadNftText(text, { source, signal: ctx.io.signal });
          if (ctx.io.signal.aborted) {
            // nft was stopped half way: what it said is not the file's problem.
            ctx.io.stderr('nfqguard: parse interrupted; namespaces removed\n');
            ctx.exit(130);
            return;
          }
          parts.push(loaded);
        } else parts.push(parseIptablesSave(text, { source, family: opts.family }));
      }
      const r = mergeRulesets(...parts);
      let text: string | undefined;
      if (opts.emit) text = serializeIptablesSave(r, { onLost: (l) => r.problems.push(lostProblem(l)) });
      for (const p of r.problems) ctx.io.stderr(formatProblem(p) + '\n');
      if (opts.json) writeJson(ctx.io, withoutSyntax(r));
      else if (text !== undefined) ctx.io.stdout(text);
      else ctx.io.stdout(summary(r));
      ctx.exit(r.problems.length ? EXIT_FINDINGS : EXIT_OK);
    });
}

/** What --emit iptables-save could not print, as a problem at the rule (or table) it came from. */
function lostProblem(l: { table: Table; chain?: Chain; rule?: Rule; lost: string[] }): Problem {
  const pos = l.rule?.pos ?? l.chain?.pos ?? l.table.pos;
  const what = l.lost.join('; ');
  const message = !l.rule
    ? `native nftables table ${l.table.family} ${l.table.name} has no iptables-save form: left out (read it with nft list ruleset)`
    : `${l.table.name} ${l.chain?.name ?? ''}: ${what} has no iptables-save form: the printed rule leaves it out (naming it in its comment), so it does not mean what the original means${
        /\bxt /.test(what) ? ' (nft -j does not show what iptables-nft put in an xt expression: read such tables with iptables-nft-save)' : ''
      }`;
  const p: Problem = { code: 'NOT_EXPRESSIBLE', severity: 'warning', message, source: pos?.source ?? '', line: pos?.line ?? 1, column: pos?.column ?? 1, token: what };
  return p;
}

/** The model without the parser-private syntax layer (it is for exact re-serialisation, not for readers). */
function withoutSyntax(r: Ruleset): Ruleset {
  return {
    ...r,
    tables: r.tables.map((t) => ({ ...t, chains: t.chains.map((c) => ({ ...c, rules: c.rules.map(({ syntax: _s, ...rest }) => rest) })) })),
  };
}

function summary(r: Ruleset): string {
  const lines: string[] = [];
  for (const t of r.tables) {
    const rules = t.chains.reduce((s, c) => s + c.rules.length, 0);
    lines.push(`${t.family} ${t.name} (${t.origin}): ${t.chains.length} chains, ${rules} rules${t.sets.length ? `, ${t.sets.length} sets` : ''}`);
    for (const c of t.chains) {
      if (!c.base) continue;
      lines.push(`  ${c.name}: hook ${c.base.hook} priority ${c.base.priority}${c.base.priorityText ? ` (${c.base.priorityText})` : ''} policy ${c.base.policy}, ${c.rules.length} rules`);
    }
  }
  if (r.ipRules.length) lines.push(`ip rules: ${r.ipRules.length} (${r.ipRules.filter((x) => x.fwmark).length} with fwmark)`);
  // Said, so that an empty pipe (`iptables-save | nfqguard parse -` where iptables-save printed nothing) is not
  // taken for a clean ruleset.
  if (r.tables.length === 0 && r.ipRules.length === 0) lines.push('no tables: the input is empty or holds no ruleset');
  const errors = r.problems.filter((p) => p.severity === 'error').length;
  lines.push(`problems: ${errors} errors, ${r.problems.length - errors} warnings`);
  return lines.join('\n') + '\n';
}
