// -m set (libxt_set, revision 4): membership of an ipset; the set itself is not in the ruleset text.
import type { Match } from '../../model.js';
import { bad, noDuplicates, noInvert, type Extension } from '../ext.js';
import { parseUint } from '../values.js';

export interface SetData {
  name: string;
  dirs: Array<'src' | 'dst'>;
  invert: boolean;
  returnNomatch: boolean;
  noUpdateCounters: boolean;
  noUpdateSubcounters: boolean;
  /** Counter comparisons, kept as written: --packets-eq 5 ... */
  counters: Array<{ name: string; invert: boolean; value: number }>;
}

const COUNTER_OPTS = ['packets-eq', 'packets-lt', 'packets-gt', 'bytes-eq', 'bytes-lt', 'bytes-gt'];

export const set: Extension<SetData> = {
  kind: 'match',
  name: 'set',
  options: {
    'match-set': 2, 'return-nomatch': 0, 'update-counters': 0, 'update-subcounters': 0,
    'packets-eq': 1, 'packets-lt': 1, 'packets-gt': 1, 'bytes-eq': 1, 'bytes-lt': 1, 'bytes-gt': 1,
  },
  optionAliases: { set: 'match-set' },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    const ms = opts.find((o) => o.name === 'match-set');
    if (!ms) {
      ctx.problems.error('MISSING_OPTION', '-m set needs --match-set NAME src|dst[,...]', ctx.line, opts[0]?.col ?? 1);
      return undefined;
    }
    const dirs = ms.args[1].split(',');
    if (dirs.length > 6 || dirs.some((x) => x !== 'src' && x !== 'dst')) return bad(ctx, ms, 'INVALID_VALUE', `flags must be src or dst, comma separated (at most 6), got "${ms.args[1]}"`, 1);
    if (ms.args[0].length > 31) return bad(ctx, ms, 'INVALID_VALUE', 'an ipset name has at most 31 characters');
    const d: SetData = { name: ms.args[0], dirs: dirs as SetData['dirs'], invert: ms.invert, returnNomatch: false, noUpdateCounters: false, noUpdateSubcounters: false, counters: [] };
    for (const o of opts) {
      if (o.name === 'return-nomatch') {
        if (!noInvert(o, ctx)) return undefined;
        d.returnNomatch = true;
      } else if (o.name === 'update-counters') d.noUpdateCounters = o.invert;
      else if (o.name === 'update-subcounters') d.noUpdateSubcounters = o.invert;
      else if (COUNTER_OPTS.includes(o.name)) {
        const v = parseUint(o.args[0], Number.MAX_SAFE_INTEGER);
        if (v === undefined) return bad(ctx, o, 'INVALID_VALUE', `--${o.name} wants a number`);
        d.counters.push({ name: o.name, invert: o.invert, value: v });
      }
    }
    return d;
  },
  save(d) {
    let s = `${d.invert ? ' !' : ''} --match-set ${d.name} ${d.dirs.join(',')}`;
    if (d.returnNomatch) s += ' --return-nomatch';
    if (d.noUpdateCounters) s += ' ! --update-counters';
    if (d.noUpdateSubcounters) s += ' ! --update-subcounters';
    // set_printv4_counter: packets before bytes, eq/lt/gt as given.
    for (const c of [...d.counters].sort((a, b) => (a.name.startsWith('packets') ? 0 : 1) - (b.name.startsWith('packets') ? 0 : 1))) {
      s += `${c.invert ? ' !' : ''} --${c.name} ${c.value}`;
    }
    return s;
  },
  exprs(d) {
    const m: Match = { type: 'match', key: 'set', name: d.name, dirs: [...d.dirs] };
    if (d.invert) m.invert = true;
    const out: Match[] = [m];
    if (d.returnNomatch || d.counters.length) {
      out.push({ type: 'match', key: 'other', module: 'set', text: set.save(d, 'ip').trim() });
    }
    return out;
  },
};
