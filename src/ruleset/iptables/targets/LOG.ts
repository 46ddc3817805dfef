// -j LOG (libxt_LOG): kernel log line; prefix, level (4 = warning is the default and not printed), flags.
import { table } from '../../../util/table.js';
import { bad, noDuplicates, noInvert, type Extension } from '../ext.js';
import { saveString } from '../lexer.js';
import { parseUint } from '../values.js';

const LEVELS: Readonly<Record<string, number>> = table({ emerg: 0, panic: 0, alert: 1, crit: 2, err: 3, error: 3, warning: 4, warn: 4, notice: 5, info: 6, debug: 7 });
const FLAGS = ['log-tcp-sequence', 'log-tcp-options', 'log-ip-options', 'log-uid', 'log-macdecode'];

export interface LogData {
  prefix?: string;
  level: number;
  flags: string[];
}

export const LOG: Extension<LogData> = {
  kind: 'target',
  name: 'LOG',
  options: { 'log-prefix': 1, 'log-level': 1, 'log-tcp-sequence': 0, 'log-tcp-options': 0, 'log-ip-options': 0, 'log-uid': 0, 'log-macdecode': 0 },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    const d: LogData = { level: 4, flags: [] };
    for (const o of opts) {
      if (!noInvert(o, ctx)) return undefined;
      if (o.name === 'log-prefix') {
        if (o.args[0].length > 29) return bad(ctx, o, 'INVALID_VALUE', 'a LOG prefix holds at most 29 characters');
        d.prefix = o.args[0];
      } else if (o.name === 'log-level') {
        const v = LEVELS[o.args[0].toLowerCase()] ?? parseUint(o.args[0], 7);
        if (v === undefined) return bad(ctx, o, 'INVALID_VALUE', `--log-level wants 0-7 or a syslog level name, got "${o.args[0]}"`);
        d.level = v;
      } else d.flags.push(o.name);
    }
    return d;
  },
  save(d) {
    let s = '';
    if (d.prefix) s += ` --log-prefix ${saveString(d.prefix)}`;
    if (d.level !== 4) s += ` --log-level ${d.level}`;
    for (const f of FLAGS) if (d.flags.includes(f)) s += ` --${f}`;
    return s;
  },
  exprs: (d) => [{ type: 'action', kind: 'other', name: 'LOG', text: `-j LOG${LOG.save(d, 'ip')}`, terminal: false }],
};
