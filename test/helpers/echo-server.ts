// TCP and UDP echo server for kernel tests, run inside a namespace: `node echo-server.js PORT...`.
// Listens on :: (IPv4 and IPv6).
// Prints "listening" once every port is bound. Exits on SIGTERM.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

const ports = process.argv.slice(2).map(Number);
let pending = ports.length * 2;
const ready = (): void => {
  if (--pending === 0) process.stdout.write('listening\n');
};
for (const port of ports) {
  const tcp = createServer((s) => {
    s.on('data', (d) => s.write(d));
    s.on('error', () => undefined);
  });
  tcp.listen(port, '::', ready);
  const udp = createSocket({ type: 'udp6', ipv6Only: false });
  udp.on('message', (m, r) => udp.send(m, r.port, r.address));
  udp.bind(port, '::', ready);
}
process.on('SIGTERM', () => process.exit(0));
