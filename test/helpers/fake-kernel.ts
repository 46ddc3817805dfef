// A fake nfnetlink_queue kernel behind the NetlinkTransport interface, for unit tests of the layers
// above the socket. It decodes what the consumer sends with its own reader (not the project's encoders)
// and answers configuration requests with ACKs or errors. The real kernel remains the oracle: see
// test/kernel/.
import { HOST_LE } from '../../src/netlink/bytes.js';
import { MSG_TRUNC, NLMSG_ERROR, NLM_F_ACK } from '../../src/netlink/constants.js';
import { DEFAULT_SEND_LIMIT, type NetlinkTransport, type Watch } from '../../src/netlink/socket.js';

export interface SentMessage {
  type: 'config' | 'verdict' | 'batch' | 'other';
  seq: number;
  flags: number;
  queue: number;
  /** Attributes as type -> raw value bytes (nested attributes keep their raw bytes). */
  attrs: Map<number, Uint8Array>;
  verdict?: number;
  id?: number;
  mark?: number;
  ct?: { mark?: number; mask?: number };
  payload?: Uint8Array;
  configCommand?: number;
}

function readAttrs(b: Uint8Array, start: number, end: number): Map<number, Uint8Array> {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Map<number, Uint8Array>();
  let p = start;
  while (p + 4 <= end) {
    const len = v.getUint16(p, HOST_LE);
    const type = v.getUint16(p + 2, HOST_LE) & 0x3fff;
    if (len < 4 || p + len > end) throw new Error(`fake kernel: bad attribute at ${p}`);
    out.set(type, b.slice(p + 4, p + len));
    p += (len + 3) & ~3;
  }
  return out;
}

const be32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, false);

export function decodeSent(datagram: Uint8Array): SentMessage[] {
  const v = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const msgs: SentMessage[] = [];
  let off = 0;
  while (off + 16 <= datagram.length) {
    const len = v.getUint32(off, HOST_LE);
    const rawType = v.getUint16(off + 4, HOST_LE);
    const flags = v.getUint16(off + 6, HOST_LE);
    const seq = v.getUint32(off + 8, HOST_LE);
    const queue = v.getUint16(off + 18, false);
    const attrs = readAttrs(datagram, off + 20, off + len);
    const sub = rawType >> 8;
    const msg = rawType & 0xff;
    const m: SentMessage = { type: 'other', seq, flags, queue, attrs };
    if (sub === 3 && msg === 2) {
      m.type = 'config';
      const cmd = attrs.get(1);
      if (cmd) m.configCommand = cmd[0];
    } else if (sub === 3 && (msg === 1 || msg === 3)) {
      m.type = msg === 1 ? 'verdict' : 'batch';
      const hdr = attrs.get(2);
      if (hdr) {
        m.verdict = be32(hdr.subarray(0, 4));
        m.id = be32(hdr.subarray(4, 8));
      }
      const mark = attrs.get(3);
      if (mark) m.mark = be32(mark);
      const ct = attrs.get(11);
      if (ct) {
        const inner = readAttrs(ct, 0, ct.length);
        m.ct = {};
        const cm = inner.get(8);
        const mask = inner.get(21);
        if (cm) m.ct.mark = be32(cm);
        if (mask) m.ct.mask = be32(mask);
      }
      const payload = attrs.get(10);
      if (payload) m.payload = payload;
    }
    msgs.push(m);
    off += (len + 3) & ~3;
  }
  return msgs;
}

/** NLMSG_ERROR answering `seq` with -errno (0 = ACK), as the kernel lays it out (capped). */
export function ackDatagram(seq: number, errno: number, portId: number, extAck?: string): Uint8Array {
  const text = extAck === undefined ? undefined : new TextEncoder().encode(extAck + '\0');
  const tlvLen = text ? (4 + text.length + 3) & ~3 : 0;
  const len = 16 + 4 + 16 + tlvLen;
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, len, HOST_LE);
  v.setUint16(4, NLMSG_ERROR, HOST_LE);
  v.setUint16(6, 0x100 | (text ? 0x200 : 0), HOST_LE); // NLM_F_CAPPED, NLM_F_ACK_TLVS
  v.setUint32(8, seq, HOST_LE);
  v.setUint32(12, portId, HOST_LE);
  v.setInt32(16, -errno, HOST_LE);
  v.setUint32(20, 16, HOST_LE); // echoed request header: len
  v.setUint32(28, seq, HOST_LE); // echoed request header: seq
  if (text) {
    v.setUint16(36, 4 + text.length, HOST_LE);
    v.setUint16(38, 1, HOST_LE); // NLMSGERR_ATTR_MSG
    b.set(text, 40);
  }
  return b;
}

export class FakeKernel implements NetlinkTransport {
  readonly portId = 4242;
  /** Datagrams waiting for the consumer. */
  readonly inbox: Uint8Array[] = [];
  /** Every message the consumer sent, decoded. */
  readonly sent: SentMessage[] = [];
  /** Send calls (datagrams). */
  sendCalls = 0;
  /** errno to answer the bind request with (0: ACK). */
  bindErrno = 0;
  /** Refuse the conntrack flag with EOPNOTSUPP, as a kernel without CONFIG_NETFILTER_NETLINK_GLUE_CT does. */
  noCtGlue = false;
  /** -errno values recvBatch returns before reading the inbox (e.g. -105 for ENOBUFS). */
  readonly recvErrors: number[] = [];
  closed = false;
  protected cb: ((status: number) => void) | null = null;

  /** Largest datagram accepted, as the real socket's default send buffer allows; longer ones get -EMSGSIZE. */
  maxDatagram = DEFAULT_SEND_LIMIT;
  /** Length of every datagram sent. */
  readonly sendSizes: number[] = [];

  sendLimit(): number {
    return this.maxDatagram;
  }

  /** -errno values the next send calls return instead of sending (e.g. -105 for ENOBUFS). */
  readonly sendErrors: number[] = [];

  send(buf: Uint8Array, off: number, len: number): number {
    if (this.closed) return -9;
    if (len > this.maxDatagram) return -90; // EMSGSIZE: nothing of it reaches the kernel
    const err = this.sendErrors.shift();
    if (err !== undefined) return err;
    this.sendCalls++;
    this.sendSizes.push(len);
    const msgs = decodeSent(buf.slice(off, off + len));
    for (const m of msgs) {
      this.sent.push(m);
      if (m.type === 'config' && (m.flags & NLM_F_ACK) !== 0) {
        const flags = m.attrs.get(5);
        const mask = m.attrs.get(4);
        const conntrackOn = flags !== undefined && mask !== undefined && (be32(flags) & be32(mask) & 0x2) !== 0;
        const errno = m.configCommand === 1 ? this.bindErrno : conntrackOn && this.noCtGlue ? 95 : 0;
        this.deliver(ackDatagram(m.seq, errno, this.portId));
      }
    }
    return len;
  }

  recvBatch(buf: Uint8Array, slotSize: number, maxMsgs: number, meta: Int32Array): number {
    if (this.closed) return -9;
    const err = this.recvErrors.shift();
    if (err !== undefined) return err;
    let n = 0;
    while (n < maxMsgs && this.inbox.length > 0) this.copyOut(this.inbox.shift() as Uint8Array, buf, slotSize, meta, n++);
    return n;
  }

  /** Puts datagram `d` in slot n of buf, with its length and flags in meta, as recvmmsg(2) does. */
  protected copyOut(d: Uint8Array, buf: Uint8Array, slotSize: number, meta: Int32Array, n: number): void {
    buf.set(d.subarray(0, Math.min(d.length, slotSize)), n * slotSize);
    meta[2 * n] = d.length;
    meta[2 * n + 1] = d.length > slotSize ? MSG_TRUNC : 0;
  }

  watch(onReadable: (status: number) => void): Watch {
    this.cb = onReadable;
    if (this.inbox.length) this.kick();
    return { stop: () => void (this.cb = null) };
  }

  close(): void {
    this.closed = true;
    this.cb = null;
  }

  get watching(): boolean {
    return this.cb !== null;
  }

  /** Queues a datagram for the consumer and wakes it, as the poll watcher would. */
  deliver(datagram: Uint8Array): void {
    this.inbox.push(datagram);
    this.kick();
  }

  /** Calls back with an error status, as libuv does (UV_EBADF) after it stopped the handle on POLLERR. */
  fireError(status: number): void {
    const cb = this.cb;
    this.cb = null;
    setImmediate(() => cb?.(status));
  }

  protected kick(): void {
    setImmediate(() => this.cb?.(0));
  }

  verdicts(): SentMessage[] {
    return this.sent.filter((m) => m.type === 'verdict' || m.type === 'batch');
  }
}

/** Resolves once `cond` holds (checked after each macrotask), or rejects after `ms`. */
export async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}
