// Steady load for kernel tests: `node load.js HOST PORT DURATION_MS`. Keeps one TCP connection doing
// ping-pong every 5 ms, and opens a new short connection every 50 ms. Prints one JSON line with the
// longest time without a successful exchange on the persistent connection and between successful new
// connections: {"pings", "maxPingGapMs", "connects", "connectFailures", "maxConnectGapMs"}.
import { connect, type Socket } from 'node:net';

const [host, portText, durText] = process.argv.slice(2);
const port = Number(portText);
const duration = Number(durText);
const t0 = Date.now();
let pings = 0;
let lastPing = t0;
let maxPingGap = 0;
let connects = 0;
let connectFailures = 0;
let lastConnect = t0;
let maxConnectGap = 0;

function pinger(): void {
  const s: Socket = connect({ host, port }, () => s.write('p'));
  s.on('data', () => {
    const now = Date.now();
    maxPingGap = Math.max(maxPingGap, now - lastPing);
    lastPing = now;
    pings++;
    setTimeout(() => s.write('p'), 5);
  });
  s.on('error', () => setTimeout(pinger, 20));
}

function connector(): void {
  const s = connect({ host, port });
  const timer = setTimeout(() => {
    connectFailures++;
    s.destroy();
  }, 3000);
  s.on('connect', () => {
    s.write('c');
  });
  s.on('data', () => {
    clearTimeout(timer);
    const now = Date.now();
    maxConnectGap = Math.max(maxConnectGap, now - lastConnect);
    lastConnect = now;
    connects++;
    s.destroy();
  });
  s.on('error', () => {
    clearTimeout(timer);
    connectFailures++;
  });
}

pinger();
const iv = setInterval(connector, 50);
setTimeout(() => {
  clearInterval(iv);
  const end = Date.now();
  maxPingGap = Math.max(maxPingGap, end - lastPing);
  maxConnectGap = Math.max(maxConnectGap, end - lastConnect);
  process.stdout.write(JSON.stringify({ pings, maxPingGapMs: maxPingGap, connects, connectFailures, maxConnectGapMs: maxConnectGap }) + '\n');
  process.exit(0);
}, duration);
