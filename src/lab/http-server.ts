// A minimal HTTP server for the lab, run inside a namespace: answers every request with 200.
// Usage: node http-server.js PORT [HOST]. Prints "listening" when ready.
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 80);
const host = process.argv[3] ?? '0.0.0.0';
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end('nfqguard lab\n');
});
server.listen(port, host, () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
