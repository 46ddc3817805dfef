// `nfqguard doctor --html FILE`: one self-contained page (inline CSS, no script, no network) with the
// bit maps as 32-cell grids coloured by owner, the owners with their evidence, the conflicts with their
// consequences and evidence, and the suggestion. Cells are separated by white gaps so that each one is
// a block of its owner's colour (the screenshot test reads them back).
import { describeBits, hex8 } from '../../marks/bits.js';
import type { BitInfo, DoctorReport, RuleRef } from '../../marks/types.js';
import type { Problem } from '../../ruleset/model.js';
import { CONFLICT_COLOUR, ownerColours, ownerLetters, plannedMaskVerdict } from './doctor.js';

export const FREE_CSS = '#e4e4e4';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The colour of one cell, as the page paints it: the owner's, red for several owners, grey when free. */
export function cellColour(b: BitInfo, colours: Map<string, { css: string }>): string {
  if (b.owners.length === 0) return FREE_CSS;
  if (b.owners.length > 1) return CONFLICT_COLOUR.css;
  return colours.get(b.owners[0])?.css ?? '#808080';
}

function grid(id: string, title: string, bits: BitInfo[], colours: Map<string, { css: string }>, letters: Map<string, string>): string {
  const nums = Array.from({ length: 32 }, (_, i) => `<div class="n">${31 - i}</div>`).join('');
  const cells = Array.from({ length: 32 }, (_, i) => {
    const b = bits[31 - i];
    const who = b.owners.join(', ') || 'free';
    const letter = b.owners.length === 0 ? '' : b.owners.length > 1 ? '*' : letters.get(b.owners[0]) ?? '?';
    return `<div class="c" style="background:${cellColour(b, colours)}" data-bit="${b.bit}" title="bit ${b.bit} (${hex8((1 << b.bit) >>> 0)}): ${esc(who)}; ${b.writers} writers, ${b.readers} readers"><span>${letter}</span></div>`;
  }).join('');
  return `<h2>${esc(title)}</h2><div class="grid" id="${id}">${nums}${cells}</div>`;
}

function ev(e: RuleRef): string {
  return `<li><code>${esc(e.source)}:${e.line}</code> <b>${esc(e.table)} ${esc(e.chain)}</b> <code>${esc(e.text)}</code></li>`;
}

export function renderDoctorHtml(r: DoctorReport, problems: readonly Problem[], sources: string[]): string {
  const colours = ownerColours(r.owners);
  const letters = ownerLetters(r.owners);
  const owners = r.owners
    .map(
      (o) =>
        `<tr><td><span class="sw" style="background:${colours.get(o.name)!.css}">${esc(letters.get(o.name)!)}</span></td><td>${esc(o.name)}</td><td><code>${hex8(o.mask)}</code></td><td><code>${hex8(o.ctmask)}</code></td><td>${o.reservedOnly.mark ? `<code>${hex8(o.reservedOnly.mark)}</code>` : ''}</td><td>${o.ruleCount}</td>` +
        `<td><details><summary>${o.evidenceCount} rule${o.evidenceCount === 1 ? '' : 's'}</summary><ul>${o.evidence.map(ev).join('')}</ul>${o.sources.map((s) => `<div class="src">${esc(s.repo)} ${esc(s.path)} @ ${esc(s.version)}</div>`).join('')}</details></td></tr>`,
    )
    .join('');
  const conflicts = r.conflicts
    .map(
      (c) =>
        `<li class="conflict"><div><span class="kind">${c.kind}</span> ${c.space} <code>${hex8(c.mask)}</code> (${esc(describeBits(c.mask))}): <b>${esc(c.parties.join(' vs '))}</b></div><p>${esc(c.consequence)}</p><ul>${c.evidence.map(ev).join('')}</ul>` +
        (c.traces ?? []).map((t) => `<pre>${esc(`${t.packet} -> ${t.verdict}\n${t.steps.join('\n')}`)}</pre>`).join('') +
        '</li>',
    )
    .join('');
  const suggestion = r.suggestion.mask !== null ? `<code>--mask ${hex8(r.suggestion.mask)}</code>: ${esc(describeBits(r.suggestion.mask))}; ${esc(r.suggestion.reason)}` : `none: ${esc(r.suggestion.reason)}`;
  const probs = problems.length ? `<h2>Input problems</h2><ul>${problems.map((p) => `<li><code>${esc(p.source)}:${p.line}:${p.column}</code> ${esc(p.code)}: ${esc(p.message)}</li>`).join('')}</ul>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nfqguard doctor</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#111;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:18px 0 6px}
.grid{display:grid;grid-template-columns:repeat(32,30px);column-gap:4px;row-gap:2px}
.grid .n{font-size:11px;text-align:center;color:#555}
.grid .c{height:30px;display:flex;align-items:flex-end;justify-content:center;font-weight:bold;color:#fff;font-size:12px}
.grid .c span{line-height:14px}
.sw{display:inline-block;width:22px;text-align:center;color:#fff;font-weight:bold}
table{border-collapse:collapse} td,th{padding:2px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #ddd}
code{font-size:12px} .kind{font-weight:bold;text-transform:uppercase;color:#a00}
li.conflict{margin-bottom:10px} .src{color:#555;font-size:12px}
</style></head><body>
<h1>nfqguard doctor</h1>
<div>${esc(sources.join(', ') || 'no input')}: ${r.stats.tables} tables, ${r.stats.chains} chains, ${r.stats.rules} rules, ${r.stats.ipRules} ip rules; ${r.stats.markRules} read or write a mark${r.mask !== undefined ? `; checked mask <code>${hex8(r.mask)}</code>` : ''}</div>
${grid('markgrid', 'Packet mark (bit 31 to 0)', r.bits, colours, letters)}
${grid('ctgrid', 'Connection mark (bit 31 to 0)', r.ctBits, colours, letters)}
<h2>Owners</h2><table><tr><th></th><th>owner</th><th>mark</th><th>ctmark</th><th>reserved, unused here</th><th>rules</th><th>evidence</th></tr>${owners}</table>
<h2>Conflicts (${r.conflicts.length})</h2><ol>${conflicts}</ol>
${r.mask !== undefined ? `<h2>Planned mask</h2><p id="planned">${esc(plannedMaskVerdict(r))}</p>` : ''}
<h2>Suggestion</h2><p>${suggestion}</p><p>Free bits on this node: <code>${hex8(r.free)}</code></p>
${probs}
</body></html>
`;
}
