// The socket behind one small interface (the habit of mdlayher/netlink's conn.go): everything above
// it is tested against a fake transport, and the real one is a thin wrapper over the native addon.
import { NETLINK_EXT_ACK, NETLINK_NO_ENOBUFS, SOL_NETLINK, SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE, SO_SNDBUF, SO_SNDBUFFORCE } from './constants.js';
import { NetlinkError, syscallError } from './errors.js';
import { loadNative, type NativeBinding } from './native.js';

export interface Watch {
  stop(): void;
}

/** What the protocol layers need from a netlink socket. Hot-path methods return -errno, never throw. */
export interface NetlinkTransport {
  readonly portId: number;
  /** Sends bytes [off, off+len) as one datagram: bytes sent, or -errno. */
  send(buf: Uint8Array, off: number, len: number): number;
  /** Receives up to maxMsgs datagrams into slots of buf: the count (0 when none waits), or -errno. */
  recvBatch(buf: Uint8Array, slotSize: number, maxMsgs: number, meta: Int32Array): number;
  /** Calls onReadable (status 0, or a negative libuv error) whenever a datagram waits. */
  watch(onReadable: (status: number) => void): Watch;
  close(): void;
  /** The largest datagram send() can pass (netlink refuses more than the send buffer with EMSGSIZE). */
  sendLimit?(): number;
}

export interface OpenOptions {
  /** Network namespace: a name under /var/run/netns, or a path such as /proc/PID/ns/net. */
  netns?: string;
  /** Receive buffer in bytes, forced past rmem_max with SO_RCVBUFFORCE (needs CAP_NET_ADMIN). */
  rcvBuf?: number;
  sndBuf?: number;
  /** NETLINK_NO_ENOBUFS: stop reporting receive-buffer overruns (the drops still happen). */
  noEnobufs?: boolean;
  /** NETLINK_EXT_ACK: ask the kernel to explain its errors (default on). */
  extAck?: boolean;
}

const ENOENT = 2;

/** netlink_sendmsg() refuses (EMSGSIZE) a datagram longer than the send buffer less these bytes. */
const SENDMSG_RESERVE = 32;
/** The send limit with net.core.wmem_default (212992): for a transport that cannot say its own. */
export const DEFAULT_SEND_LIMIT = 212992 - SENDMSG_RESERVE;

export function netnsPath(netns: string): string {
  return netns.startsWith('/') ? netns : `/var/run/netns/${netns}`;
}

export class NativeNetlinkSocket implements NetlinkTransport {
  readonly portId: number;
  private closed = false;

  private constructor(
    private readonly native: NativeBinding,
    readonly fd: number,
    portId: number,
  ) {
    this.portId = portId;
  }

  /** Opens, binds and configures an AF_NETLINK socket. Throws NetlinkError on failure. */
  static open(protocol: number, opts: OpenOptions = {}): NativeNetlinkSocket {
    for (const [name, v] of [['rcvBuf', opts.rcvBuf], ['sndBuf', opts.sndBuf]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 0x7fffffff)) throw new RangeError(`${name} must be an integer from 0 to 2147483647 bytes, got ${v}`);
    }
    const native = loadNative();
    const ns = opts.netns === undefined ? undefined : netnsPath(opts.netns);
    const fd = native.open(protocol, ns);
    if (fd < 0) {
      if (ns && fd === -ENOENT) {
        throw new NetlinkError('ERR_NETLINK_SYSCALL', 'socket', `network namespace ${opts.netns} does not exist (${ns}; \`ip netns list\` shows the names)`, { errno: ENOENT });
      }
      throw syscallError('socket', fd, ns ? `in network namespace ${ns}` : '');
    }
    const fail = (op: string, rc: number): never => {
      native.close(fd);
      throw syscallError(op, rc);
    };
    const portId = native.bind(fd, 0);
    if (portId < 0) fail('bind', portId);
    const sock = new NativeNetlinkSocket(native, fd, portId);
    if (opts.rcvBuf !== undefined) {
      const rc = native.setIntOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, opts.rcvBuf);
      if (rc < 0 && native.setIntOption(fd, SOL_SOCKET, SO_RCVBUF, opts.rcvBuf) < 0) fail('setsockopt(SO_RCVBUFFORCE)', rc);
    }
    if (opts.sndBuf !== undefined) {
      const rc = native.setIntOption(fd, SOL_SOCKET, SO_SNDBUFFORCE, opts.sndBuf);
      if (rc < 0 && native.setIntOption(fd, SOL_SOCKET, SO_SNDBUF, opts.sndBuf) < 0) fail('setsockopt(SO_SNDBUFFORCE)', rc);
    }
    if (opts.noEnobufs) {
      const rc = native.setIntOption(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, 1);
      if (rc < 0) fail('setsockopt(NETLINK_NO_ENOBUFS)', rc);
    }
    if (opts.extAck !== false) {
      // Older kernels lack it; the kernel's errors then come without text, which is fine.
      native.setIntOption(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
    }
    return sock;
  }

  /** The largest datagram this socket's send buffer lets netlink_sendmsg() pass. */
  sendLimit(): number {
    const sndbuf = this.native.getIntOption(this.fd, SOL_SOCKET, SO_SNDBUF);
    return sndbuf > SENDMSG_RESERVE ? sndbuf - SENDMSG_RESERVE : DEFAULT_SEND_LIMIT;
  }

  /** The receive buffer size the kernel actually granted (it doubles the request). */
  receiveBufferSize(): number {
    return this.native.getIntOption(this.fd, SOL_SOCKET, SO_RCVBUF);
  }

  send(buf: Uint8Array, off: number, len: number): number {
    if (this.closed) return -9; // EBADF
    return this.native.send(this.fd, buf, off, len);
  }

  recvBatch(buf: Uint8Array, slotSize: number, maxMsgs: number, meta: Int32Array): number {
    if (this.closed) return -9;
    return this.native.recvBatch(this.fd, buf, slotSize, Math.min(maxMsgs, this.native.maxBatch), meta);
  }

  watch(onReadable: (status: number) => void): Watch {
    if (this.closed) throw new NetlinkError('ERR_NETLINK_CLOSED', 'watch', 'the socket is closed');
    const w = new this.native.Watcher(this.fd, onReadable);
    const rc = w.start();
    if (rc !== 0) {
      w.stop();
      throw new NetlinkError('ERR_NETLINK_SYSCALL', 'uv_poll_start', `could not watch the socket (libuv error ${rc})`);
    }
    return { stop: () => w.stop() };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close(this.fd);
  }
}
