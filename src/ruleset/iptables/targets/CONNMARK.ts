// -j CONNMARK (libxt_CONNMARK, revisions 1 and 2): set the conntrack mark, or copy between skb->mark and
// ct->mark through masks (xt_connmark.c):
//   set:     ct->mark  = (ct->mark & ~ctmask) ^ ctmark
//   save:    ct->mark  = (ct->mark & ~ctmask) ^ (skb->mark & nfmask)       [then shifted, revision 2]
//   restore: skb->mark = (skb->mark & ~nfmask) ^ (ct->mark & ctmask)
import type { Action } from '../../model.js';
import { bad, noDuplicates, noInvert, type Extension } from '../ext.js';
import { hex, parseUint } from '../values.js';
import { parseXmark, XMARK_OPTIONS, xmarkAction } from './MARK.js';

export type ConnmarkData =
  | { mode: 'set'; mark: number; mask: number }
  | { mode: 'save' | 'restore'; nfmask: number; ctmask: number; shift?: { dir: 'left' | 'right'; bits: number } };

export const CONNMARK: Extension<ConnmarkData> = {
  kind: 'target',
  name: 'CONNMARK',
  options: { ...XMARK_OPTIONS, 'save-mark': 0, 'restore-mark': 0, nfmask: 1, ctmask: 1, mask: 1, 'left-shift-mark': 1, 'right-shift-mark': 1 },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    let d: ConnmarkData | undefined;
    const ops = opts.filter((o) => o.name in XMARK_OPTIONS || o.name === 'save-mark' || o.name === 'restore-mark');
    if (ops.length !== 1) {
      if (ops.length === 0) ctx.problems.error('MISSING_OPTION', 'CONNMARK needs --set-xmark, --set-mark, --save-mark or --restore-mark', ctx.line, opts[0]?.col ?? 1);
      else bad(ctx, ops[1], 'CONFLICTING_OPTIONS', 'CONNMARK takes exactly one operation');
      return undefined;
    }
    const op = ops[0];
    if (op.name === 'save-mark' || op.name === 'restore-mark') {
      if (!noInvert(op, ctx)) return undefined;
      d = { mode: op.name === 'save-mark' ? 'save' : 'restore', nfmask: 0xffffffff, ctmask: 0xffffffff };
    } else {
      const x = parseXmark(op, ctx);
      if (!x) return undefined;
      d = { mode: 'set', mark: x.mark, mask: x.mask };
    }
    for (const o of opts) {
      if (o === op) continue;
      if (!noInvert(o, ctx)) return undefined;
      if (d.mode === 'set') return bad(ctx, o, 'CONFLICTING_OPTIONS', `--${o.name} applies only to --save-mark and --restore-mark`);
      const v = parseUint(o.args[0], o.name.endsWith('shift-mark') ? 31 : 0xffffffff);
      if (v === undefined) return bad(ctx, o, o.name.endsWith('shift-mark') ? 'INVALID_VALUE' : 'INVALID_MASK', `--${o.name} wants ${o.name.endsWith('shift-mark') ? 'a bit count 0-31' : 'a 32-bit number'}, got "${o.args[0]}"`);
      if (o.name === 'mask') {
        if (opts.some((x) => x.name === 'nfmask' || x.name === 'ctmask')) return bad(ctx, o, 'CONFLICTING_OPTIONS', '--mask cannot be combined with --nfmask/--ctmask');
        d.nfmask = d.ctmask = v;
      } else if (o.name === 'nfmask') d.nfmask = v;
      else if (o.name === 'ctmask') d.ctmask = v;
      else d.shift = { dir: o.name === 'left-shift-mark' ? 'left' : 'right', bits: v };
    }
    return d;
  },
  save(d) {
    if (d.mode === 'set') return ` --set-xmark ${hex(d.mark)}/${hex(d.mask)}`;
    let s = ` --${d.mode}-mark --nfmask ${hex(d.nfmask)} --ctmask ${hex(d.ctmask)}`;
    if (d.shift && d.shift.bits !== 0) s += ` --${d.shift.dir}-shift-mark ${d.shift.bits}`;
    return s;
  },
  exprs(d): Action[] {
    if (d.mode === 'set') return [xmarkAction('ctmark', d)];
    if (d.shift && d.shift.bits !== 0) {
      return [{ type: 'action', kind: 'other', name: 'CONNMARK', text: CONNMARK.save(d, 'ip').trim(), terminal: false }];
    }
    return [{ type: 'action', kind: d.mode === 'save' ? 'connmark-save' : 'connmark-restore', nfmask: d.nfmask, ctmask: d.ctmask }];
  },
};
