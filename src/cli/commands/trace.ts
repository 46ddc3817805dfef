// `nfqguard trace`: follow one packet (or a file of them) through the hooks, tables and chains of a
// ruleset, as the kernel would; with --kernel, ask the real kernel too and show the differences.
import type { Command } from 'commander';
import { formatProblem, mergeRulesets, parseIpRules, parseIptablesSave, parseNftJson, serializeIptablesSave, type CtState, type Ruleset } from '../../ruleset/index.js';
import { run } from '../../lab/exec.js';
import { compareTrace } from '../../sim/compare.js';
import type { RulesetSource } from '../../sim/kernel/lab.js';
import { readTextArg } from '../input.js';
import { readLocalAddresses, readRoutes } from '../../sim/node-live.js';
import {
  HOOK_SYNTAX,
  OptionError,
  QUEUE_VERDICT_SYNTAX,
  ROUTE_SYNTAX,
  addQueueVerdict,
  parseExtraHook,
  parseLocalAddress,
  parseRoute,
  type ExtraHook,
  type LocalAddress,
  type QueueAnswers,
  type RouteSpec,
} from '../../sim/options.js';
import { forEachPacketLine } from '../../sim/batch.js';
import { CT_STATES, PacketSpecError, parsePacketSpec, type PacketSpec } from '../../sim/packet.js';
import type { ConntrackMode } from '../../sim/program.js';
import { formatMark } from '../../sim/state.js';
import { Simulator, traceJson, type TraceInput } from '../../sim/trace.js';
import { kernelUnavailableReason } from '../../util/caps.js';
import { EXIT_OK, EXIT_USAGE, UsageError, writeJson } from '../io.js';
import { parseIntIn, parseU32, type CommandContext } from '../program.js';
import { batchJson, batchLine, renderKernel, renderTrace } from '../render/trace.js';

interface TraceCmdOptions {
  iptablesSave: string[];
  ip6tablesSave: string[];
  nftJson: string[];
  ipRules: string[];
  ip6Rules: string[];
  live?: boolean;
  packet?: string;
  packets?: string;
  in?: string;
  out?: string;
  mark?: number;
  ctmark?: number;
  ctState?: CtState;
  queueVerdict: string[];
  hook: string[];
  local: string[];
  route: string[];
  start?: 'prerouting' | 'output';
  conntrack: ConntrackMode;
  maxOutcomes: number;
  json?: boolean;
  kernel?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function wrapOption<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OptionError) throw new UsageError(e.message, e.hint);
    throw e;
  }
}

/** Keeps only the native nft tables of an `nft -j list ruleset` document (iptables-nft's are loaded as text). */
function nativeTablesJson(doc: string, model: Ruleset): string | undefined {
  const native = new Set(model.tables.filter((t) => t.origin === 'nft').map((t) => `${t.family} ${t.name}`));
  if (native.size === 0) return undefined;
  const parsed = JSON.parse(doc) as { nftables: Array<Record<string, { family?: string; table?: string; name?: string }>> };
  const keep = parsed.nftables.filter((o) => {
    const [kind, body] = Object.entries(o)[0] ?? [];
    if (!kind || kind === 'metainfo' || !body) return false;
    return native.has(`${body.family} ${kind === 'table' ? body.name : body.table}`);
  });
  return JSON.stringify({ nftables: keep });
}

interface Loaded {
  ruleset: Ruleset;
  source: RulesetSource;
  locals: LocalAddress[];
  routes: RouteSpec[];
}

async function loadRuleset(ctx: CommandContext, opts: TraceCmdOptions): Promise<Loaded> {
  const parts: Ruleset[] = [];
  const source: RulesetSource = {};
  const locals: LocalAddress[] = [];
  const routes: RouteSpec[] = [];
  // The replay source (what --kernel loads) is kept only for --kernel: writing a 120,000-rule table back
  // as text re-reads every rule and cost more than the simulation of 100,000 packets.
  const keep = !!opts.kernel;
  for (const f of opts.iptablesSave) {
    const text = await readTextArg(ctx.io, f);
    parts.push(parseIptablesSave(text, { source: f === '-' ? '<stdin>' : f, family: 'ip' }));
    if (keep) source.iptables = (source.iptables ?? '') + text + (text.endsWith('\n') ? '' : '\n');
  }
  for (const f of opts.ip6tablesSave) {
    const text = await readTextArg(ctx.io, f);
    parts.push(parseIptablesSave(text, { source: f === '-' ? '<stdin>' : f, family: 'ip6' }));
    if (keep) source.ip6tables = (source.ip6tables ?? '') + text + (text.endsWith('\n') ? '' : '\n');
  }
  for (const f of opts.nftJson) {
    const text = await readTextArg(ctx.io, f);
    parts.push(parseNftJson(text, { source: f === '-' ? '<stdin>' : f }));
    if (keep) (source.nftJson ??= []).push(text);
  }
  for (const [files, family] of [
    [opts.ipRules, 'ip'],
    [opts.ip6Rules, 'ip6'],
  ] as const) {
    for (const f of files) parts.push(parseIpRules(await readTextArg(ctx.io, f), { source: f === '-' ? '<stdin>' : f, family }));
  }
  if (opts.live) {
    const { readLiveRuleset } = await import('../../ruleset/live.js');
    const live = await readLiveRuleset({ signal: ctx.io.signal });
    for (const w of live.warnings) ctx.io.stderr(`nfqguard: ${w}\n`);
    parts.push(live.ruleset);
    locals.push(...(await readLocalAddresses()));
    routes.push(...(await readRoutes()));
    if (opts.kernel) {
      const ip4 = serializeIptablesSave(live.ruleset, { family: 'ip' });
      const ip6 = serializeIptablesSave(live.ruleset, { family: 'ip6' });
      if (ip4.trim()) source.iptables = ip4;
      if (ip6.trim()) source.ip6tables = ip6;
      const nft = await run('nft', ['-j', 'list', 'ruleset'], { timeoutMs: 30_000 });
      const native = nft.code === 0 ? nativeTablesJson(nft.stdout, live.ruleset) : undefined;
      if (native) source.nftJson = [native];
    }
  }
  const ruleset = mergeRulesets(...parts);
  // The kernel replay loads what the simulator traces: the parsed iptables tables written back
  // (the same rules, and the same chains, declared or not in the file).
  if (keep && (opts.iptablesSave.length || opts.ip6tablesSave.length)) {
    const ip4 = serializeIptablesSave(ruleset, { family: 'ip' });
    const ip6 = serializeIptablesSave(ruleset, { family: 'ip6' });
    if (ip4.includes('COMMIT')) source.iptables = ip4;
    if (ip6.includes('COMMIT')) source.ip6tables = ip6;
  }
  return { ruleset, source, locals, routes };
}

export function registerTrace(program: Command, ctx: CommandContext): Command {
  return program
    .command('trace')
    .summary('follow a packet through the hooks, tables and chains of a ruleset (and, with --kernel, the real kernel)')
    .description(
      // One line per paragraph: commander wraps each to the terminal's width.
      [
        'Simulates the kernel for one packet: the hooks on its path (PREROUTING/INPUT/FORWARD/OUTPUT/POSTROUTING, with the routing decision between them and loopback for local-to-local packets), every base chain at its priority in the order the kernel calls them, declared hooks such as a kernel module (--hook), first-match rule evaluation with jumps, gotos, returns and policies, marks and connmarks, NFQUEUE with the consumer\'s answer (--queue-verdict) or bypass semantics, and NAT as far as it changes the path.',
        'What it cannot decide (an uninterpreted module, an ipset) makes the verdict "undetermined": the rule is named and every outcome is shown. --kernel sends the same packet through the real kernel in a throwaway namespace (root) and flags every difference. --packets FILE traces one packet spec per line (batch mode).',
        'Routing follows the node\'s addresses, --route and policy routing (--ip-rules / --live): which table the packet\'s mark selects at each routing decision, and the re-route after mangle OUTPUT or a queue consumer changes the mark; a table whose routes are not known makes the route undetermined.',
        'Exit 0 when the trace completed (whatever the verdict); 2 on usage or input errors (rules the parser rejected, a --kernel replay that failed), after the trace; 130 when interrupted during --kernel.',
      ].join('\n'),
    )
    .option('--iptables-save <file>', 'iptables-save output (repeatable; - for standard input)', collect, [])
    .option('--ip6tables-save <file>', 'ip6tables-save output (repeatable)', collect, [])
    .option('--nft-json <file>', '`nft -j list ruleset` output (repeatable)', collect, [])
    .option('--ip-rules <file>', '`ip rule` output: policy routing by fwmark (repeatable)', collect, [])
    .option('--ip6-rules <file>', '`ip -6 rule` output (repeatable)', collect, [])
    .option('--live', "this node's ruleset (iptables-save of both backends, nft -j, ip rule), addresses and routes (all tables)")
    .option('--packet <spec>', 'the packet: "tcp 10.0.0.1:40240 > 127.0.0.1:80" (also udp, icmp, [v6]:port; words after: flags, in/out IFACE, mark V, ct STATE)')
    .option('--packets <file>', 'batch mode: one packet spec per line (# comments); one result line each')
    .option('--in <iface>', 'the interface the packet comes in on (default eth0; lo for loopback)')
    .option('--out <iface>', 'the interface the main table sends a non-local destination by (default: --route, else eth0)')
    .option('--mark <v>', 'the packet mark it starts with (default 0)', parseU32('--mark'))
    .option('--ctmark <v>', 'the conntrack mark of its connection (default 0)', parseU32('--ctmark'))
    .option('--ct-state <state>', `its conntrack state: ${CT_STATES.join(', ')} (default new)`, (v: string) => {
      if (!CT_STATES.includes(v as CtState)) throw new UsageError(`--ct-state must be one of ${CT_STATES.join(', ')}, got "${v}"`);
      return v as CtState;
    })
    .option('--queue-verdict <v>', `what a queue's consumer answers (repeatable): ${QUEUE_VERDICT_SYNTAX}; none given: no consumer (bypass accepts, else drop)`, collect, [])
    .option('--hook <h>', `a hook registered outside the ruleset (repeatable): ${HOOK_SYNTAX}`, collect, [])
    .option('--local <addr...>', "the node's addresses, ADDR[/LEN][@IFACE] (several after one --local, or repeated; 127.0.0.0/8 and ::1 always are)", collect, [])
    .option('--route <r>', `destinations in CIDR leave by DEV (repeatable; default@DEV for the rest); ,table=T: a route of table T, which ip rules may pick by mark: ${ROUTE_SYNTAX}`, collect, [])
    .option('--start <hook>', 'where the packet enters: prerouting or output (default: output when its source is local)', (v: string) => {
      if (v !== 'prerouting' && v !== 'output') throw new UsageError(`--start must be prerouting or output, got "${v}"`);
      return v;
    })
    .option('--conntrack <mode>', 'auto (conntrack runs when a rule uses it, as in a namespace), on (a node where something else uses it), off', (v: string) => {
      if (v !== 'auto' && v !== 'on' && v !== 'off') throw new UsageError(`--conntrack must be auto, on or off, got "${v}"`);
      return v;
    }, 'auto')
    .option('--max-outcomes <n>', 'follow at most this many outcomes of undecidable rules', parseIntIn('--max-outcomes', 1, 4096), 64)
    .option('--json', 'print {"verdict","decidedBy","mark","steps":[...]} (batch mode: one JSON object per line)')
    .option('--kernel', 'also send the packet through the real kernel in a throwaway namespace and compare (root)')
    .addHelpText(
      'after',
      `
Examples:
  The seed's outage: a module queues at FIRST, the consumer answers with the whole mark 0x8000,
  kube-proxy's KUBE-FIREWALL drops it:
  $ nfqguard trace --iptables-save node.rules --packet "tcp 127.0.0.1:40240 > 127.0.0.1:80" \\
      --hook input:FIRST:queue=80 --queue-verdict accept,mark=0x8000
  The same with mark ownership (only 0x00f00000 is the consumer's):
  $ nfqguard trace --iptables-save node.rules --packet "tcp 127.0.0.1:40240 > 127.0.0.1:80" \\
      --hook input:FIRST:queue=80 --queue-verdict accept,mark=0x100000/0xf00000
  A service packet on this node, checked against the kernel:
  $ nfqguard trace --live --packet "tcp 10.244.1.5:40000 > 10.96.0.10:53" --in cni0 --json | jq .verdict
  $ nfqguard trace --iptables-save a.rules --nft-json b.json --packet "udp [fd00::1]:5353 > [fd00::2]:53" --kernel
  Policy routing by mark (wg-quick: not fwmark 51820 lookup 51820): which table, which device:
  $ ip rule > rules.txt
  $ nfqguard trace --iptables-save node.rules --ip-rules rules.txt --packet "udp 10.0.0.2:40000 > 192.0.2.7:53" \\
      --local 10.0.0.2/24@eth0 --route default@eth0 --route default@wg0,table=51820 --mark 0xca6c
  Batch mode:
  $ nfqguard trace --iptables-save node.rules --packets packets.txt --json > verdicts.ndjson`,
    )
    .action(async (opts: TraceCmdOptions) => {
      const sources = opts.iptablesSave.length + opts.ip6tablesSave.length + opts.nftJson.length + (opts.live ? 1 : 0);
      if (sources === 0) throw new UsageError('no ruleset given', `give --iptables-save FILE, --nft-json FILE or --live${opts.ipRules.length || opts.ip6Rules.length ? ' (ip rules alone are not a ruleset)' : ''}`);
      if ((opts.packet === undefined) === (opts.packets === undefined)) throw new UsageError('give exactly one of --packet SPEC and --packets FILE', 'e.g. --packet "tcp 10.0.0.1:40240 > 127.0.0.1:80"');
      if (opts.kernel && opts.packets) throw new UsageError('--kernel traces one --packet', 'drop --kernel for batch mode');
      const stdinUsers = [...opts.iptablesSave, ...opts.ip6tablesSave, ...opts.nftJson, ...opts.ipRules, ...opts.ip6Rules, ...(opts.packets !== undefined ? [opts.packets] : [])].filter((f) => f === '-').length;
      if (stdinUsers > 1) throw new UsageError('standard input (-) given for more than one input', 'read one input from standard input and the others from files');
      const hooks: ExtraHook[] = wrapOption(() => opts.hook.map(parseExtraHook));
      const answers: QueueAnswers = { byQueue: new Map() };
      wrapOption(() => opts.queueVerdict.forEach((v) => addQueueVerdict(answers, v)));
      const localOpt = wrapOption(() => opts.local.map(parseLocalAddress));
      const routeOpt = wrapOption(() => opts.route.map(parseRoute));
      if (opts.kernel) {
        const why = kernelUnavailableReason();
        if (why) throw new UsageError(`--kernel ${why}`, 'run it as root, or drop --kernel');
      }
      if (opts.live && process.getuid?.() !== 0) throw new UsageError('--live reads the ruleset with iptables-save and nft, which need root', 'run as root, or save the ruleset to a file and use --iptables-save / --nft-json');

      const loaded = await loadRuleset(ctx, opts);
      const rs = loaded.ruleset;
      let inputErrors = 0;
      for (const p of rs.problems) {
        ctx.io.stderr(formatProblem(p) + '\n');
        if (p.severity === 'error') inputErrors++;
      }
      // No table, and lines the parsers could not read: the wrong file (nft text given as iptables-save,
      // iptables-nft-save that only says legacy tables exist), not an empty ruleset that accepts everything.
      if (rs.tables.length === 0 && rs.problems.length > 0) {
        ctx.io.stderr('nfqguard: the input holds no tables to trace through (see the problems above)\nhint: --iptables-save takes iptables-save output, --nft-json `nft -j list ruleset`; an empty file is an empty ruleset\n');
        ctx.exit(EXIT_USAGE);
        return;
      }
      const locals = [...localOpt, ...loaded.locals];
      const routes = [...routeOpt, ...loaded.routes];
      // --live read every routing table (when `ip route` answered): a table it did not list does not exist.
      const sim = new Simulator(rs, { hooks, locals, routes, conntrack: opts.conntrack, ipRules: rs.ipRules, allTablesKnown: !!opts.live && loaded.routes.length > 0 });
      const base: Omit<TraceInput, 'packet'> = {
        ...(opts.in ? { in: opts.in } : {}),
        ...(opts.out ? { out: opts.out } : {}),
        ...(opts.mark !== undefined ? { mark: opts.mark } : {}),
        ...(opts.ctmark !== undefined ? { ctmark: opts.ctmark } : {}),
        ...(opts.ctState ? { ctState: opts.ctState } : {}),
        ...(opts.start ? { start: opts.start } : {}),
        queueAnswers: answers,
      };

      if (opts.packets !== undefined) {
        const text = await readTextArg(ctx.io, opts.packets);
        let bad = 0;
        let traced = 0;
        let out = '';
        const input: TraceInput = { ...base, packet: undefined as unknown as PacketSpec };
        forEachPacketLine(text, (line, packet, error) => {
          if (!packet) {
            bad++;
            ctx.io.stderr(`${opts.packets}:${line}:${(error as PacketSpecError).column}: ${(error as PacketSpecError).message}\n`);
            return false;
          }
          input.packet = packet;
          traced++;
          const r = sim.summarize(input, opts.maxOutcomes);
          out += opts.json ? batchJson(line, r) : batchLine(line, packet, r);
          if (out.length > 1 << 16) {
            ctx.io.stdout(out);
            out = '';
          }
          return ctx.io.signal.aborted;
        });
        ctx.io.stdout(out);
        // Nothing printed and nothing said would look like success on an empty pipe.
        if (traced === 0 && bad === 0) ctx.io.stderr(`nfqguard: no packet specs in ${opts.packets === '-' ? 'standard input' : opts.packets} (one per line, # comments)\n`);
        ctx.exit(bad || inputErrors ? EXIT_USAGE : EXIT_OK);
        return;
      }

      let packet: PacketSpec;
      try {
        packet = parsePacketSpec(opts.packet as string);
      } catch (e) {
        if (e instanceof PacketSpecError) throw new UsageError(`--packet "${opts.packet}": column ${e.column}: ${e.message}`, 'syntax: PROTO SRC[:PORT] > DST[:PORT] [flags] [in IFACE] [out IFACE] [mark V] [ctmark V] [ct STATE]');
        throw e;
      }
      const result = sim.trace({ ...base, packet }, { maxOutcomes: opts.maxOutcomes });
      const json = traceJson(result);
      let kernelText = '';
      let kernelError: string | undefined;
      if (opts.kernel) {
        const { replayInKernel, replayUnsupported } = await import('../../sim/kernel-replay.js');
        const why = replayUnsupported(packet, opts.ctState, opts.ctmark);
        if (why) throw new UsageError(`--kernel: ${why}`, 'drop --kernel, or trace a TCP SYN / UDP packet of a new connection');
        try {
          const replay = await replayInKernel({ source: loaded.source, model: rs, packet, hooks, locals, routes, ipRules: rs.ipRules, queueAnswers: answers, ...base, signal: ctx.io.signal });
          const cmp = compareTrace(result, replay.outcome, formatMark, replay.chains);
          json.kernel = { ...replay.outcome, differences: cmp.differences, matchedOutcome: cmp.matchedOutcome };
          kernelText = renderKernel(replay, cmp.differences, cmp.matchedOutcome);
        } catch (e) {
          if (ctx.io.signal.aborted) {
            ctx.io.stderr('nfqguard: trace --kernel interrupted; namespaces removed\n');
            ctx.exit(130);
            return;
          }
          // The simulator's trace is still printed; the replay's failure is an input error (exit 2).
          kernelError = (e as Error).message;
          json.kernel = { error: kernelError };
        }
      }
      if (opts.json) writeJson(ctx.io, json);
      else {
        const inIf = packet.in ?? opts.in;
        const iface = inIf ? `, in ${inIf}` : '';
        ctx.io.stdout(renderTrace(result, { ctState: packet.ctState ?? opts.ctState ?? 'new', iface }) + kernelText);
      }
      if (kernelError !== undefined) {
        const xt = /xtables compat|xt /.test(kernelError) ? " (an `nft -j` dump of iptables-nft's tables holds xt expressions nft cannot load: give their iptables-nft-save text with --iptables-save)" : '';
        ctx.io.stderr(`nfqguard: --kernel: ${kernelError}\nhint: the simulator's answer above stands; the replay needs the ruleset to load with iptables-restore / nft${xt}\n`);
      }
      // The trace completed; a replay that failed or an input with errors (rules the parser rejected)
      // makes it exit 2 all the same, as batch mode does.
      ctx.exit(kernelError !== undefined || inputErrors ? EXIT_USAGE : EXIT_OK);
    });
}
