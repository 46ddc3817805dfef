// One client exchange for kernel tests: `node probe.js tcp|udp HOST PORT TIMEOUT_MS HEX [HEX...]`.
// Sends each payload in turn (TCP: on one connection) and waits for its echo. Prints one JSON line:
// {"connected": bool, "echoed": number of payloads echoed, "ms": elapsed}.
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';

const [proto, host, portText, timeoutText, ...hex] = process.argv.slice(2);
const port = Number(portText);
const timeout = Number(timeoutText);
const payloads = hex.map((h) => Buffer.from(h, 'hex'));
const t0 = Date.now();
const done = (connected: boolean, echoed: number): void => {
  process.stdout.write(JSON.stringify({ connected, echoed, ms: Date.now() - t0 }) + '\n');
  process.exit(0);
};

if (proto === 'udp') {
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  let echoed = 0;
  const timer = setTimeout(() => done(true, echoed), timeout);
  const sendNext = (): void => void s.send(payloads[echoed], port, host);
  s.on('message', () => {
    if (++echoed === payloads.length) {
      clearTimeout(timer);
      done(true, echoed);
    } else sendNext();
  });
  sendNext();
} else {
  let connected = false;
  let echoed = 0;
  let got = 0;
  const timer = setTimeout(() => done(connected, echoed), timeout);
  const s = connect({ host, port }, () => {
    connected = true;
    s.write(payloads[0]);
  });
  s.on('data', (d) => {
    got += d.length;
    if (got >= payloads[echoed].length) {
      got = 0;
      if (++echoed === payloads.length) {
        clearTimeout(timer);
        s.destroy();
        done(true, echoed);
      } else s.write(payloads[echoed]);
    }
  });
  s.on('error', () => undefined);
}
