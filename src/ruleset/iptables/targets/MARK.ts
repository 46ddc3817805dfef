// -j MARK (libxt_MARK, revision 2): skb->mark = (skb->mark & ~mask) ^ mark. Every spelling is saved as
// --set-xmark value/mask, and normalised here to the model's (mark & and) ^ xor.
import type { Action } from '../../model.js';
import { bad, noDuplicates, noInvert, type Extension, type ExtContext, type ExtOption } from '../ext.js';
import { hex, parseMarkMask, parseUint } from '../values.js';

/** The kernel's (mark, mask) pair of xt_mark_tginfo2 / xt_connmark_tginfo1. */
export interface XmarkData {
  mark: number;
  mask: number;
}

/** Parses one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark into (mark, mask). */
export function parseXmark(o: ExtOption, ctx: ExtContext): XmarkData | undefined {
  if (!noInvert(o, ctx)) return undefined;
  if (o.name === 'set-xmark' || o.name === 'set-mark') {
    const mm = parseMarkMask(o.args[0]);
    if (!mm) return bad(ctx, o, 'INVALID_MASK', `--${o.name} wants value[/mask] as 32-bit numbers, got "${o.args[0]}"`);
    // --set-mark V/M clears M and V, then sets V (mark_tg_parse: mask = mark | mask).
    return o.name === 'set-xmark' ? { mark: mm.value, mask: mm.mask } : { mark: mm.value, mask: (mm.value | mm.mask) >>> 0 };
  }
  const v = parseUint(o.args[0]);
  if (v === undefined) return bad(ctx, o, 'INVALID_MASK', `--${o.name} wants a 32-bit number, got "${o.args[0]}"`);
  if (o.name === 'and-mark') return { mark: 0, mask: ~v >>> 0 };
  if (o.name === 'or-mark') return { mark: v, mask: v };
  return { mark: v, mask: 0 }; // xor-mark
}

export const XMARK_OPTIONS = { 'set-xmark': 1, 'set-mark': 1, 'and-mark': 1, 'or-mark': 1, 'xor-mark': 1 };

/** (x & ~mask) ^ mark as the model's { and, xor }. */
export function xmarkAction(kind: 'mark' | 'ctmark', d: XmarkData): Action {
  return { type: 'action', kind, and: ~d.mask >>> 0, xor: d.mark >>> 0 };
}

export const MARK: Extension<XmarkData> = {
  kind: 'target',
  name: 'MARK',
  options: XMARK_OPTIONS,
  parse(opts, ctx) {
    if (opts.length === 0) {
      ctx.problems.error('MISSING_OPTION', 'MARK needs one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark', ctx.line, 1);
      return undefined;
    }
    if (!noDuplicates(opts, ctx)) return undefined;
    if (opts.length > 1) return bad(ctx, opts[1], 'CONFLICTING_OPTIONS', 'MARK takes exactly one operation');
    return parseXmark(opts[0], ctx);
  },
  save: (d) => ` --set-xmark ${hex(d.mark)}/${hex(d.mask)}`,
  exprs: (d) => [xmarkAction('mark', d)],
};
