// The packet sender of the kernel replay, run inside a network namespace
// (`ip netns exec NS node send.js`). It reads one JSON spec per line on stdin and sends one packet:
// a TCP SYN (connect; the socket is destroyed before the first retransmission), or one UDP datagram.
// It answers each line with "sent N" or "error N MESSAGE" on stdout, and exits when stdin closes.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

export interface SendSpec {
  n: number;
  proto: 'tcp' | 'udp';
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  /** How long a TCP connect may try, in ms (stays below the 1 s SYN retransmission). */
  waitMs?: number;
  /** The socket's mark (SO_MARK); only the Python sender (send-marked.ts) sets it. */
  mark?: number;
}

function reply(line: string): void {
  process.stdout.write(line + '\n');
}

function send(spec: SendSpec): void {
  if (spec.proto === 'tcp') {
    const s = connect({ host: spec.daddr, port: spec.dport, localAddress: spec.saddr, localPort: spec.sport, family: spec.daddr.includes(':') ? 6 : 4 });
    s.on('error', () => undefined);
    reply(`sent ${spec.n}`);
    setTimeout(() => s.destroy(), spec.waitMs ?? 700).unref();
    return;
  }
  const s = createSocket({ type: spec.daddr.includes(':') ? 'udp6' : 'udp4' });
  s.on('error', (e) => {
    reply(`error ${spec.n} ${e.message}`);
    s.close();
  });
  s.bind(spec.sport, spec.saddr, () => {
    s.send(Buffer.from('nfqguard trace'), spec.dport, spec.daddr, (err) => {
      // EPERM: netfilter dropped the datagram on its way out; EINVAL/EHOSTUNREACH/ENETUNREACH: a
      // reroute after NAT failed in a hook. Both are answers the trace shows, not failures to send.
      const code = (err as NodeJS.ErrnoException | null)?.code;
      const dropped = code === 'EPERM' || code === 'EINVAL' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
      reply(err && !dropped ? `error ${spec.n} ${err.message}` : `sent ${spec.n}`);
      s.close();
    });
  });
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let spec: SendSpec;
  try {
    spec = JSON.parse(line) as SendSpec;
  } catch {
    reply(`error -1 bad spec`);
    return;
  }
  try {
    send(spec);
  } catch (e) {
    reply(`error ${spec.n} ${(e as Error).message}`);
  }
});
rl.on('close', () => setTimeout(() => process.exit(0), 50));
