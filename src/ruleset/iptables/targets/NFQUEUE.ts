// -j NFQUEUE (libxt_NFQUEUE, revision 3): --queue-num N or --queue-balance A:B, --queue-bypass (accept
// when no program listens), --queue-cpu-fanout (pick the queue by CPU instead of by flow hash).
import { bad, noDuplicates, noInvert, type Extension } from '../ext.js';
import { parseUint } from '../values.js';

export interface NfqueueData {
  num: number;
  /** Last queue of a balanced range (total = numTo - num + 1), when balanced. */
  numTo?: number;
  bypass: boolean;
  fanout: boolean;
}

export const NFQUEUE: Extension<NfqueueData> = {
  kind: 'target',
  name: 'NFQUEUE',
  options: { 'queue-num': 1, 'queue-balance': 1, 'queue-bypass': 0, 'fail-open': 0, 'queue-cpu-fanout': 0 },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    const d: NfqueueData = { num: 0, bypass: false, fanout: false };
    let numGiven = false;
    for (const o of opts) {
      if (!noInvert(o, ctx)) return undefined;
      switch (o.name) {
        case 'queue-num': {
          const n = parseUint(o.args[0], 65535);
          if (n === undefined) return bad(ctx, o, 'INVALID_VALUE', `--queue-num wants 0-65535, got "${o.args[0]}"`);
          if (d.numTo !== undefined) return bad(ctx, o, 'CONFLICTING_OPTIONS', '--queue-num and --queue-balance cannot be combined');
          d.num = n;
          numGiven = true;
          break;
        }
        case 'queue-balance': {
          const [a, b] = o.args[0].split(':');
          const lo = parseUint(a ?? '', 65535);
          const hi = parseUint(b ?? '', 65535);
          if (lo === undefined || hi === undefined || hi < lo) return bad(ctx, o, 'INVALID_VALUE', `--queue-balance wants FIRST:LAST with FIRST <= LAST, got "${o.args[0]}"`);
          if (numGiven) return bad(ctx, o, 'CONFLICTING_OPTIONS', '--queue-num and --queue-balance cannot be combined');
          d.num = lo;
          if (hi > lo) d.numTo = hi;
          break;
        }
        case 'queue-bypass':
        case 'fail-open':
          d.bypass = true;
          break;
        case 'queue-cpu-fanout':
          d.fanout = true;
          break;
      }
    }
    return d;
  },
  save(d) {
    let s = d.numTo !== undefined ? ` --queue-balance ${d.num}:${d.numTo}` : ` --queue-num ${d.num}`;
    if (d.bypass) s += ' --queue-bypass';
    if (d.fanout) s += ' --queue-cpu-fanout';
    return s;
  },
  exprs: (d) => [d.numTo !== undefined ? { type: 'action', kind: 'queue', num: d.num, numTo: d.numTo, bypass: d.bypass, fanout: d.fanout } : { type: 'action', kind: 'queue', num: d.num, bypass: d.bypass, fanout: d.fanout }],
};
