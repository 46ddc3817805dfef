// JSON logs with pino: one line per event; `text` format renders the same records as
// "time level msg key=value" for people reading a terminal.
import { pino, type Logger } from 'pino';

export type { Logger };

function textLine(json: string): string {
  try {
    const rec = JSON.parse(json) as Record<string, unknown>;
    const { time, level, msg, ...rest } = rec;
    const lvl = pino.levels.labels[Number(level)] ?? String(level);
    const kv = Object.entries(rest)
      .filter(([k]) => k !== 'pid' && k !== 'hostname' && k !== 'name')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
      .join(' ');
    return `${new Date(Number(time)).toISOString()} ${lvl} ${String(msg ?? '')}${kv ? ' ' + kv : ''}\n`;
  } catch {
    return json;
  }
}

export function createLogger(opts: { format: 'json' | 'text'; level: string }, write: (line: string) => void): Logger {
  const stream = {
    write: (s: string) => {
      write(opts.format === 'text' ? textLine(s) : s);
    },
  };
  return pino({ level: opts.level, base: { name: 'nfqguard' }, timestamp: pino.stdTimeFunctions.epochTime }, stream);
}
