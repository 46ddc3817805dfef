// Text rendering of a trace: the packet, its path through the hooks, one line per step (like the seed's
// kernel log: where, which rule, the mark before and after, the verdict), the verdict and the rule that
// decided; for --kernel the kernel's own path beside it and every difference.
import type { ReplayResult } from '../../sim/kernel-replay.js';
import type { PathItem } from '../../sim/compare.js';
import { formatPacketSpec, protoName, tcpFlagsText, type PacketSpec } from '../../sim/packet.js';
import { NF_IP_PRI_FIRST, NF_IP_PRI_LAST } from '../../ruleset/priorities.js';
import type { Leg } from '../../sim/run.js';
import { formatMark } from '../../sim/state.js';
import { finalText, type RuleRef, type Step, type TraceResult, type TraceSummary } from '../../sim/trace.js';
import { table } from './table.js';

function prio(p: number): string {
  if (p === NF_IP_PRI_FIRST) return 'FIRST';
  if (p > NF_IP_PRI_FIRST && p < NF_IP_PRI_FIRST + 1000) return `FIRST+${p - NF_IP_PRI_FIRST}`;
  if (p === NF_IP_PRI_LAST) return 'LAST';
  return String(p);
}

export function refText(r: RuleRef | null): string {
  if (!r) return 'no rule (routing)';
  const where = `${r.family} ${r.table} ${r.chain}`;
  return r.rule === null ? `${where}: ${r.text}` : `${where} rule ${r.rule}: ${r.text}`;
}

function pathText(path: Leg[]): string {
  return path.map((l) => `${l.hook}${l.iif ? ` (in ${l.iif})` : ''}${l.oif ? ` (out ${l.oif})` : ''}`).join(' -> ');
}

function stepRows(steps: Step[]): string[][] {
  return steps.map((s) => [
    s.hook,
    prio(s.priority),
    `${s.family} ${s.table} ${s.chain}`,
    s.rule === null ? '-' : `#${s.rule}`,
    s.markBefore === s.markAfter ? s.markAfter : `${s.markBefore} -> ${s.markAfter}`,
    s.verdict,
    `${s.text}${s.note ? `  [${s.note}]` : ''}`,
  ]);
}

const HEADER = ['hook', 'prio', 'chain', 'rule', 'mark', 'verdict', 'text'];

export function renderTrace(r: TraceResult, opts: { ctState: string; iface: string }): string {
  const p = r.packet;
  const o0 = r.outcomes[0];
  let out = `packet: ${formatPacketSpec(p)}${p.proto === 6 && p.tcpFlags === undefined ? ` [${opts.ctState === 'new' ? 'syn' : 'ack'}]` : ''}, ct ${opts.ctState}${opts.iface}\n`;
  out += `path:   ${pathText(o0.path)}\n\n`;
  out += table(HEADER, stepRows(r.steps), '  ');
  out += '\n';
  if (r.verdict === 'undetermined') {
    out += `verdict: UNDETERMINED (${r.outcomes.length}${r.truncated ? '+' : ''} outcomes)\n`;
    for (const u of r.undeterminedBy) out += `  cannot decide ${refText(u.at)}\n    because ${u.reason}\n`;
    r.outcomes.forEach((o, i) => {
      const assumed = o.assumptions.map((a) => `${a.at.chain}${a.at.rule === null ? '' : ` #${a.at.rule}`} ${a.assumed}`).join(', ');
      out += `  outcome ${i + 1}: ${o.verdict}${o.decidedBy ? ` by ${refText(o.decidedBy)}` : ''}, mark ${formatMark(o.mark, o.markKnown)}${assumed ? `  (if ${assumed})` : ''}\n`;
    });
    const rest = r.outcomes.slice(1).filter((o) => o.steps.length);
    if (rest.length) {
      out += '\nthe other outcomes, from where they part from outcome 1:\n';
      const same = (x: Step, y: Step | undefined): boolean => !!y && x.chain === y.chain && x.table === y.table && x.rule === y.rule && x.verdict === y.verdict && x.markAfter === y.markAfter;
      r.outcomes.slice(1).forEach((o, i) => {
        let k = 0;
        while (k < o.steps.length && same(o.steps[k], r.steps[k])) k++;
        out += `  outcome ${i + 2}: ${pathText(o.path)}${k ? ` (steps 1-${k} as outcome 1)` : ''}\n`;
        out += table(HEADER, stepRows(o.steps.slice(k)), '    ');
      });
    }
  } else {
    out += `verdict: ${r.verdict}${r.decidedBy ? `, decided by ${refText(r.decidedBy)}` : r.verdict === 'accept' ? ' (no rule accepted it explicitly: policies and the end of the path)' : ''}\n`;
  }
  const f = finalText(o0.final);
  // As the packet spec writes them: an IPv6 address with a port in brackets.
  const ep = (a: string, port: number | undefined): string => (port === undefined ? a : a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
  out += `final mark: ${formatMark(r.mark, r.markKnown)}   ctmark: ${formatMark(o0.ctmark, o0.ctmarkKnown)}   at the end: ${ep(f.saddr, f.sport)} > ${ep(f.daddr, f.dport)}\n`;
  for (const n of r.notes) out += `note: ${n}\n`;
  return out;
}

function itemRows(items: PathItem[]): string[][] {
  return items.map((i) => [i.hook ?? '?', `${i.family} ${i.table} ${i.chain}`, i.rule === null ? '-' : `#${i.rule}`, i.mark, i.verdict, i.text]);
}

export function renderKernel(k: ReplayResult, differences: string[], matched: number | null): string {
  const o = k.outcome;
  let out = '\nkernel (the same packet through the real kernel in a throwaway namespace):\n';
  out += `  interfaces: ${o.interfaces.join(' -> ') || '-'}\n`;
  out += table(['hook', 'chain', 'rule', 'mark', 'verdict', 'text'], itemRows(o.items), '  ');
  out += `  verdict: ${o.verdict}${o.decidedBy ? `, decided by ${refText(o.decidedBy)}` : ''}; final mark ${o.mark}\n`;
  for (const n of o.notes) out += `  note: ${n}\n`;
  if (differences.length === 0) out += `the kernel agrees with the simulator${matched !== null && matched > 0 ? ` (outcome ${matched + 1})` : ''}.\n`;
  else {
    out += 'DIFFERENCES between the simulator and the kernel:\n';
    for (const d of differences) out += `  - ${d}\n`;
  }
  return out;
}

/**
 * One tab-separated line for batch mode: line number, protocol, verdict (with the number of outcomes
 * when undetermined), final mark, and the deciding rule by position (family table chain #n, or the
 * policy); --json carries the rule's text.
 */
export function batchLine(line: number, p: PacketSpec, r: TraceSummary): string {
  const x = r.decidedBy;
  const d = x ? `${x.family} ${x.table} ${x.chain} ${x.rule === null ? x.text : `#${x.rule}`}` : r.verdict === 'accept' ? '(policies)' : '(routing)';
  return `${line}\t${protoName(p.proto)}${p.tcpFlags !== undefined ? `[${tcpFlagsText(p.tcpFlags)}]` : ''}\t${r.verdict}${r.verdict === 'undetermined' ? `(${r.outcomes}${r.truncated ? '+' : ''})` : ''}\t${formatMark(r.mark, r.markKnown)}\t${d}\n`;
}

/** The --json line of batch mode. */
export function batchJson(line: number, r: TraceSummary): string {
  const d = r.decidedBy;
  return JSON.stringify({ line, verdict: r.verdict, decidedBy: d && { family: d.family, table: d.table, chain: d.chain, rule: d.rule, text: d.text }, mark: formatMark(r.mark, r.markKnown), outcomes: r.outcomes }) + '\n';
}
