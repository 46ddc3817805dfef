// Polls the daemon's health endpoints from inside a test namespace:
// `node http-poll.js HOST:PORT INTERVAL_MS DURATION_MS PATH...`. Asks every PATH in turn over one
// keep-alive connection, every INTERVAL_MS, until DURATION_MS pass or SIGTERM. Prints "polling" once
// started, then at the end one JSON line: for each path, the runs of equal answers in order,
// [{"status": 200 | 503 | "refused" | "error", "body", "n", "first", "last"}] (first/last: Date.now() of
// the first and last answer of the run), so a test can check the sequence and when it changed.
import { Agent, get } from 'node:http';

interface Run {
  status: number | string;
  body: string;
  n: number;
  first: number;
  last: number;
}

const [hostPort, intervalText, durationText, ...paths] = process.argv.slice(2);
const [host, port] = hostPort.split(':');
const interval = Number(intervalText);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const runs: Record<string, Run[]> = Object.fromEntries(paths.map((p) => [p, []]));
let stopped = false;

function note(path: string, status: number | string, body: string): void {
  const now = Date.now();
  const list = runs[path];
  const last = list[list.length - 1];
  if (last && last.status === status && last.body === body) {
    last.n++;
    last.last = now;
  } else list.push({ status, body, n: 1, first: now, last: now });
}

function ask(path: string): Promise<void> {
  return new Promise((resolve) => {
    const req = get({ host, port: Number(port), path, agent, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        note(path, res.statusCode ?? 0, body.trim());
        resolve();
      });
      res.on('error', () => {
        note(path, 'error', '');
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      note(path, e.code === 'ECONNREFUSED' ? 'refused' : 'error', e.code === 'ECONNREFUSED' ? '' : (e.code ?? e.message));
      resolve();
    });
  });
}

function finish(): void {
  if (stopped) return;
  stopped = true;
  process.stdout.write(JSON.stringify(runs) + '\n', () => process.exit(0));
}

async function loop(): Promise<void> {
  while (!stopped) {
    for (const p of paths) await ask(p);
    await new Promise((r) => setTimeout(r, interval));
  }
}

process.on('SIGTERM', finish);
setTimeout(finish, Number(durationText));
process.stdout.write('polling\n');
void loop();
