// -m statistic (libxt_statistic): random with a probability (stored as lround(p * 2^31)), or every Nth
// packet. Matching depends on chance or on a counter, so the semantics stay `other` (undetermined).
import { bad, noDuplicates, type Extension } from '../ext.js';
import { parseUint } from '../values.js';

export type StatisticData =
  | { mode: 'random'; probability: number; invert: boolean }
  | { mode: 'nth'; every: number; packet: number; invert: boolean };

function text(d: StatisticData): string {
  if (d.mode === 'random') return ` --mode random${d.invert ? ' !' : ''} --probability ${(d.probability / 0x80000000).toFixed(11)}`;
  return ` --mode nth${d.invert ? ' !' : ''} --every ${d.every} --packet ${d.packet}`;
}

export const statistic: Extension<StatisticData> = {
  kind: 'match',
  name: 'statistic',
  options: { mode: 1, probability: 1, every: 1, packet: 1 },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    const mode = opts.find((o) => o.name === 'mode');
    if (!mode || (mode.args[0] !== 'random' && mode.args[0] !== 'nth')) {
      if (mode) return bad(ctx, mode, 'INVALID_VALUE', `--mode must be random or nth, got "${mode.args[0]}"`);
      ctx.problems.error('MISSING_OPTION', '-m statistic needs --mode random or --mode nth', ctx.line, opts[0]?.col ?? 1);
      return undefined;
    }
    const invert = opts.some((o) => o.invert);
    if (mode.args[0] === 'random') {
      const p = opts.find((o) => o.name === 'probability');
      if (!p) return bad(ctx, mode, 'MISSING_OPTION', '--mode random needs --probability');
      const v = Number(p.args[0]);
      if (!/^[0-9.eE+-]+$/.test(p.args[0]) || !(v >= 0 && v <= 1)) return bad(ctx, p, 'INVALID_VALUE', `--probability must be between 0 and 1, got "${p.args[0]}"`);
      if (opts.some((o) => o.name === 'every' || o.name === 'packet')) return bad(ctx, mode, 'CONFLICTING_OPTIONS', '--every/--packet belong to --mode nth');
      return { mode: 'random', probability: Math.round(0x80000000 * v), invert };
    }
    const e = opts.find((o) => o.name === 'every');
    if (!e) return bad(ctx, mode, 'MISSING_OPTION', '--mode nth needs --every');
    const every = parseUint(e.args[0]);
    const pk = opts.find((o) => o.name === 'packet');
    const packet = pk ? parseUint(pk.args[0]) : 0;
    if (every === undefined || every < 1) return bad(ctx, e, 'INVALID_VALUE', `--every wants a number >= 1, got "${e.args[0]}"`);
    if (packet === undefined || packet >= every) return bad(ctx, pk!, 'INVALID_VALUE', '--packet must be below --every');
    if (opts.some((o) => o.name === 'probability')) return bad(ctx, mode, 'CONFLICTING_OPTIONS', '--probability belongs to --mode random');
    return { mode: 'nth', every, packet, invert };
  },
  save: text,
  exprs: (d) => [{ type: 'match', key: 'other', module: 'statistic', text: text(d).trim() }],
};
