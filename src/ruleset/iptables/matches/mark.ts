// -m mark (libxt_mark, revision 1): (skb->mark & mask) == value, mask defaults to 0xffffffff.
import { bad, inv, noDuplicates, type Extension, type ExtContext, type ExtOption } from '../ext.js';
import { markMaskText, parseMarkMask } from '../values.js';

export interface MarkMatchData {
  value: number;
  mask: number;
  invert: boolean;
}

/** --mark value[/mask] for mark and connmark. */
export function parseMarkOption(opts: ExtOption[], ctx: ExtContext, module: string): MarkMatchData | undefined {
  if (!noDuplicates(opts, ctx)) return undefined;
  const o = opts.find((x) => x.name === 'mark');
  if (!o) {
    ctx.problems.error('MISSING_OPTION', `-m ${module} needs --mark value[/mask]`, ctx.line, opts[0]?.col ?? 1);
    return undefined;
  }
  const mm = parseMarkMask(o.args[0]);
  if (!mm) return bad(ctx, o, 'INVALID_MASK', `--mark wants value[/mask] as 32-bit numbers, got "${o.args[0]}"`);
  return { value: mm.value, mask: mm.mask, invert: o.invert };
}

export const mark: Extension<MarkMatchData> = {
  kind: 'match',
  name: 'mark',
  options: { mark: 1 },
  parse: (opts, ctx) => parseMarkOption(opts, ctx, 'mark'),
  save: (d) => `${inv(d.invert)} --mark ${markMaskText(d.value, d.mask)}`,
  exprs: (d) => [d.invert ? { type: 'match', key: 'mark', value: d.value, mask: d.mask, invert: true } : { type: 'match', key: 'mark', value: d.value, mask: d.mask }],
};
