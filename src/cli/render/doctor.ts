// Rendering the doctor's report: the JSON the issue specifies, and the human text with a 32-cell map of
// the mark and of the connection mark, coloured by owner (ANSI colours only when asked for).
import { describeBits, hex8 } from '../../marks/bits.js';
import type { BitInfo, DoctorReport, Owner, RuleRef } from '../../marks/types.js';
import type { Problem } from '../../ruleset/model.js';

/** Owner letters for the map: kubelet K, kube-proxy P, Calico C... (first free letter of the name). */
export function ownerLetters(owners: readonly Owner[]): Map<string, string> {
  const used = new Set<string>(['.', '*']);
  const out = new Map<string, string>();
  for (const o of owners) {
    const base = o.name.replace(/^unattributed.*/, 'U').replace(/^kube-proxy.*/, 'P').replace(/^NFQUEUE.*/, 'Q');
    const candidates = [...(base + o.name + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789').toUpperCase()].filter((c) => /[A-Z0-9]/.test(c));
    const letter = candidates.find((c) => !used.has(c)) ?? '?';
    used.add(letter);
    out.set(o.name, letter);
  }
  return out;
}

/** Background colours (xterm-256 and CSS), assigned to owners in order. */
export const PALETTE: Array<{ ansi: number; css: string }> = [
  { ansi: 33, css: '#0087ff' },
  { ansi: 208, css: '#ff8700' },
  { ansi: 34, css: '#00af00' },
  { ansi: 163, css: '#d700af' },
  { ansi: 178, css: '#d7af00' },
  { ansi: 37, css: '#00afaf' },
  { ansi: 124, css: '#af0000' },
  { ansi: 99, css: '#875fff' },
  { ansi: 130, css: '#af5f00' },
  { ansi: 67, css: '#5f87af' },
  { ansi: 107, css: '#87af5f' },
  { ansi: 168, css: '#d75f87' },
];
export const CONFLICT_COLOUR = { ansi: 196, css: '#ff0000' };

export function ownerColours(owners: readonly Owner[]): Map<string, { ansi: number; css: string }> {
  return new Map(owners.map((o, i) => [o.name, PALETTE[i % PALETTE.length]]));
}

function evidenceJson(r: RuleRef): { source: string; line: number; table: string; chain: string; text: string } {
  return { source: r.source, line: r.line, table: r.table, chain: r.chain, text: r.text };
}

/** The --json document: the issue's keys first (masks as 0x + 8 lowercase hex digits), then extras. */
export function doctorJson(r: DoctorReport, problems: readonly Problem[]): unknown {
  return {
    owners: r.owners.map((o) => ({
      name: o.name,
      mask: hex8(o.mask),
      evidence: o.evidence.map(evidenceJson),
      ctmask: hex8(o.ctmask),
      reservedOnly: hex8(o.reservedOnly.mark),
      evidenceCount: o.evidenceCount,
      rules: o.ruleCount,
      sources: o.sources,
    })),
    bits: r.bits.map((b) => ({ bit: b.bit, owners: b.owners, writers: b.writers, readers: b.readers })),
    conflicts: r.conflicts.map((c) => ({
      mask: hex8(c.mask),
      parties: c.parties,
      consequence: c.consequence,
      kind: c.kind,
      space: c.space,
      evidence: c.evidence.map(evidenceJson),
      ...(c.traces ? { traces: c.traces } : {}),
    })),
    free: hex8(r.free),
    suggestedMask: r.suggestion.mask === null ? null : hex8(r.suggestion.mask),
    suggestion: { need: r.suggestion.need, reason: r.suggestion.reason, reservedElsewhereBy: r.suggestion.reservedElsewhereBy },
    ...(r.mask !== undefined ? { checkedMask: hex8(r.mask), ...(r.ctmask ? { checkedCtmask: hex8(r.ctmask) } : {}), checkedMaskConflicts: r.conflicts.filter((c) => c.kind === 'inspector').length } : {}),
    ctBits: r.ctBits.map((b) => ({ bit: b.bit, owners: b.owners, writers: b.writers, readers: b.readers })),
    unattributed: r.unattributed,
    problems: problems.map((p) => ({ code: p.code, severity: p.severity, message: p.message, source: p.source, line: p.line, column: p.column })),
    stats: r.stats,
  };
}

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.map((l) => indent + l).join('\n');
}

function cell(b: BitInfo, letters: Map<string, string>, colours: Map<string, { ansi: number }>, conflictBits: number, color: boolean): string {
  const conflicted = ((conflictBits >>> b.bit) & 1) === 1;
  let ch = '.';
  if (b.owners.length === 1) ch = letters.get(b.owners[0]) ?? '?';
  else if (b.owners.length > 1) ch = '*';
  const txt = `  ${ch}`;
  if (!color || b.owners.length === 0) return txt;
  const bg = b.owners.length > 1 || conflicted ? CONFLICT_COLOUR.ansi : colours.get(b.owners[0])?.ansi ?? 244;
  return `\x1b[48;5;${bg}m\x1b[38;5;15m${txt}\x1b[0m`;
}

function mapLines(title: string, bits: BitInfo[], letters: Map<string, string>, colours: Map<string, { ansi: number }>, conflictBits: number, color: boolean): string {
  const hdr = '  bit ' + Array.from({ length: 32 }, (_, i) => String(31 - i).padStart(3)).join('');
  const row = '      ' + Array.from({ length: 32 }, (_, i) => cell(bits[31 - i], letters, colours, conflictBits, color)).join('');
  const marks = '      ' + Array.from({ length: 32 }, (_, i) => (((conflictBits >>> (31 - i)) & 1) === 1 ? '  ^' : '   ')).join('').trimEnd();
  return `${title}\n${hdr}\n${row}\n${marks.trim() ? marks + '\n' : ''}`;
}

/** The verdict on the planned --mask (and --ctmask): safe here, or which conflicts of the list it has. */
export function plannedMaskVerdict(r: DoctorReport): string {
  const mine: number[] = [];
  const parties = new Set<string>();
  r.conflicts.forEach((c, i) => {
    if (c.kind !== 'inspector') return;
    mine.push(i + 1);
    for (const p of c.parties.slice(1)) parties.add(p);
  });
  const planned = `${hex8(r.mask ?? 0)}${r.ctmask ? ` with connmark ${hex8(r.ctmask)}` : ''}`;
  if (!mine.length) return `${planned} is free on this node: no owner, reserved range, reader or whole-mark writer uses ${describeBits(r.mask ?? 0)}${r.ctmask ? ` of the mark nor ${describeBits(r.ctmask)} of the connmark` : ''}`;
  return `${planned} is NOT safe on this node: ${mine.length} conflict${mine.length === 1 ? '' : 's'} (${mine.map((n) => `#${n}`).join(', ')}) with ${[...parties].join(', ')}`;
}

function plannedMask(r: DoctorReport): string {
  return `\nplanned mask\n  ${plannedMaskVerdict(r)}\n`;
}

export function renderDoctorText(r: DoctorReport, problems: readonly Problem[], opts: { color: boolean; sources: string[] }): string {
  const letters = ownerLetters(r.owners);
  const colours = ownerColours(r.owners);
  let markConflicts = 0;
  let ctConflicts = 0;
  for (const c of r.conflicts) {
    if (c.space === 'mark') markConflicts |= c.mask;
    else ctConflicts |= c.mask;
  }
  const s = r.stats;
  let out = `nfqguard doctor: who owns the mark bits (${opts.sources.join(', ') || 'no input'})\n`;
  out += `${s.tables} tables, ${s.chains} chains, ${s.rules} rules, ${s.ipRules} ip rules; ${s.markRules} read or write a mark\n\n`;
  out += mapLines('packet mark (letter: owner; * several owners; . free; ^ in a conflict)', r.bits, letters, colours, markConflicts >>> 0, opts.color);
  out += '\n' + mapLines('connection mark', r.ctBits, letters, colours, ctConflicts >>> 0, opts.color);
  out += '\nowners\n';
  if (!r.owners.length) out += '  none: no rule on this node reads or writes a mark\n';
  for (const o of r.owners) {
    const l = letters.get(o.name)!;
    const swatch = opts.color ? `\x1b[48;5;${colours.get(o.name)!.ansi}m\x1b[38;5;15m ${l} \x1b[0m` : ` ${l} `;
    out += `${swatch} ${o.name.padEnd(28)} mark ${hex8(o.mask)}  ctmark ${hex8(o.ctmask)}  ${o.ruleCount} rule${o.ruleCount === 1 ? '' : 's'}`;
    if (o.reservedOnly.mark) out += `  (reserved, unused here: ${hex8(o.reservedOnly.mark)})`;
    out += '\n';
    for (const e of o.evidence.slice(0, 3)) out += `      ${e.source}:${e.line}  ${e.table} ${e.chain}  ${e.text}\n`;
    if (o.evidenceCount > 3) out += `      ... ${o.evidenceCount - 3} more\n`;
  }
  if (r.unattributed.length) {
    const total = r.unattributed.reduce((n, u) => n + u.rules, 0);
    const marked = r.unattributed.filter((u) => u.markRules > 0);
    out += `\nunattributed: ${total} rule${total === 1 ? '' : 's'} in ${r.unattributed.length} chain${r.unattributed.length === 1 ? '' : 's'} no catalog entry claims`;
    out += marked.length ? `; touching marks: ${marked.map((u) => `${u.table} ${u.chain} (${u.markRules})`).join(', ')}\n` : ' (none touches a mark)\n';
  }
  out += `\nconflicts: ${r.conflicts.length}\n`;
  r.conflicts.forEach((c, i) => {
    out += `${String(i + 1).padStart(3)}. ${c.kind} ${c.space === 'mark' ? 'mark' : 'ctmark'} ${hex8(c.mask)}: ${c.parties.join(' vs ')}\n`;
    out += wrap(c.consequence, 100, '     ') + '\n';
    for (const e of c.evidence.slice(0, 6)) out += `       ${e.source}:${e.line}  ${e.table} ${e.chain}  ${e.text}\n`;
    if (c.evidence.length > 6) out += `       ... ${c.evidence.length - 6} more\n`;
    for (const t of c.traces ?? []) out += `       trace: ${t.packet} -> ${t.verdict}\n${t.steps.map((x) => `         ${x}`).join('\n')}\n`;
  });
  if (r.mask !== undefined) out += plannedMask(r);
  out += '\nsuggestion\n';
  if (r.suggestion.mask !== null) out += `  --mask ${hex8(r.suggestion.mask)}: ${describeBits(r.suggestion.mask).replace(/ \(0x[0-9a-f]+\)$/, '')}; ${r.suggestion.reason}\n`;
  else out += `  none: ${r.suggestion.reason}\n`;
  out += `  free bits on this node: ${hex8(r.free)}\n`;
  if (problems.length) {
    out += `\ninput problems: ${problems.length} (the analysis used what was understood)\n`;
    for (const p of problems.slice(0, 20)) out += `  ${p.source}:${p.line}:${p.column}: ${p.severity} ${p.code}: ${p.message}\n`;
    if (problems.length > 20) out += `  ... ${problems.length - 20} more\n`;
  }
  return out;
}
