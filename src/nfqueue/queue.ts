// NfQueue: one bound nfnetlink_queue and its receive/verdict loop.
//
// The loop drains the socket in batches when it becomes readable (on the event loop of whichever
// thread opened the queue), decodes each packet in place, asks the handler for a decision, and sends
// all verdicts of a batch in one syscall, folding runs of identical plain verdicts into
// NFQNL_MSG_VERDICT_BATCH. Nothing a packet or the handler does can stop the loop: malformed messages,
// handler exceptions and requests for marks the queue does not own are counted, reported as events,
// and the packet still gets the default verdict with its mark untouched.
import { existsSync, readFileSync } from 'node:fs';
import { hex32, viewOf } from '../netlink/bytes.js';
import { MSG_TRUNC, NETLINK_NETFILTER, NFNL_SUBSYS_QUEUE, NLMSG_ERROR, NLMSG_HDRLEN } from '../netlink/constants.js';
import { DecodeError, NetlinkError, errnoName, syscallError } from '../netlink/errors.js';
import { drainSocket, type DrainBuffers, type DrainHooks } from '../netlink/drain.js';
import { NlHeader, decodeError, nextMessage } from '../netlink/message.js';
import { DEFAULT_SEND_LIMIT, NativeNetlinkSocket, type NetlinkTransport, type Watch } from '../netlink/socket.js';
import { MessageWriter } from '../netlink/writer.js';
import { encodeCommand, encodeFlags, encodeMaxLen, encodeParams, flagBits, flagNames, type CopyMode, type QueueFlags } from './config.js';
import { NFQA_CFG_F_CONNTRACK, NFQNL_MSG_PACKET, NF_ACCEPT, NF_DROP } from './constants.js';
import { MarkOwnershipError, checkOwned, mergeMark } from './marks.js';
import { PacketView } from './packet.js';
import { encodeBatchVerdict, encodeVerdict, invalidDecision, verdictCode, type Decision } from './verdict.js';
import { PROC_NFNETLINK_QUEUE, parseProcQueues } from './proc.js';
import { CAP_NET_ADMIN, hasCapability } from '../util/caps.js';

const EPERM = 1;
/** Upper bound of one verdict message without its payload (headers, verdict, mark, ct, padding). */
const VERDICT_MAX_BYTES = 96;
/** sendmsg failures that may pass (ENOBUFS, ENOMEM, EAGAIN: no memory for the skb just now), and how often to retry. */
const TRANSIENT_SEND_ERRORS = new Set([105, 12, 11]);
const SEND_RETRIES = 50;
const SEND_RETRY_MS = 2;
const EOPNOTSUPP = 95;

export type PacketHandler = (packet: PacketView) => Decision | Readonly<Decision> | undefined | void;

export type QueueEvent =
  | { type: 'malformed'; error: DecodeError; id: number }
  | { type: 'handler-error'; error: unknown; id: number }
  | { type: 'ownership-error'; error: MarkOwnershipError; id: number }
  | { type: 'enobufs' }
  | { type: 'kernel-error'; error: NetlinkError }
  | { type: 'recv-error'; error: NetlinkError }
  | { type: 'send-error'; error: NetlinkError }
  | { type: 'warning'; message: string };

export interface QueueOptions extends QueueFlags {
  /** Queue number, 0..65535. */
  queue: number;
  /** Packet-mark bits this consumer owns; verdict marks touch only these (default 0: none). */
  markMask?: number;
  /** Connection-mark bits this consumer owns (default 0: none). */
  ctMarkMask?: number;
  /**
   * UNSAFE: replace the packet's whole mark with the decision's mark, as nfq_set_verdict2 does. This
   * exists only to reproduce the outage of the seed document; never use it on a real node.
   */
  unsafeWholeMark?: boolean;
  copyMode?: CopyMode;
  /** Bytes of each packet to copy (default 0xffff). */
  copyRange?: number;
  /** Queue length in the kernel (default: the kernel's 1024). */
  maxLen?: number;
  /** Verdict for packets the handler leaves undecided, malformed ones and handler failures. */
  defaultVerdict?: 'accept' | 'drop';
  /** Messages per receive syscall (default 128) and batches per wake-up before yielding (default 8). */
  batchSize?: number;
  drainRounds?: number;
  /** Fold runs of identical verdicts into NFQNL_MSG_VERDICT_BATCH (default true). */
  batchVerdicts?: boolean;
  /** Network namespace to open the socket in: a name under /var/run/netns or a path. */
  netns?: string;
  rcvBuf?: number;
  sndBuf?: number;
  noEnobufs?: boolean;
  /** Milliseconds to wait for the kernel's answer to a configuration request (default 2000). */
  requestTimeoutMs?: number;
  onPacket: PacketHandler;
  onEvent?: (event: QueueEvent) => void;
  /** A transport other than the real socket (tests use a fake kernel). */
  transport?: NetlinkTransport;
}

export interface QueueStats {
  /** Packet messages received. */
  packets: number;
  /** Packets given a verdict (individually or by a batch message). */
  verdicts: number;
  /** Verdict messages sent: single and batch. */
  verdictMessages: number;
  batchMessages: number;
  /** Verdicts that changed the packet mark. */
  marked: number;
  dropped: number;
  malformed: number;
  truncated: number;
  handlerErrors: number;
  ownershipErrors: number;
  /** Times the kernel reported that it dropped messages for this socket (receive buffer full). */
  enobufs: number;
  recvErrors: number;
  sendErrors: number;
  /** NLMSG_ERROR answers to verdicts (e.g. ENOENT for an id the kernel no longer holds). */
  kernelErrors: number;
  /** Receive syscalls that returned data, and datagrams they returned. */
  batches: number;
}

/** A queue another socket already holds (the kernel answered EPERM to the bind). */
export class QueueBusyError extends NetlinkError {
  constructor(
    readonly queue: number,
    holderPortId: number | undefined,
  ) {
    const holder = holderPortId === undefined ? 'another netlink socket' : `netlink port id ${holderPortId} (usually the pid of the process)`;
    super(
      'ERR_NETLINK_KERNEL',
      'bind',
      `queue ${queue} is already bound by ${holder}; only one consumer can hold a queue: stop that consumer, or pick another queue number` +
        ` (see /proc/net/netfilter/nfnetlink_queue)`,
      { errno: EPERM },
    );
    this.name = 'QueueBusyError';
  }
}

interface Pending {
  op: string;
  resolve: () => void;
  reject: (e: NetlinkError) => void;
}

function newStats(): QueueStats {
  return {
    packets: 0,
    verdicts: 0,
    verdictMessages: 0,
    batchMessages: 0,
    marked: 0,
    dropped: 0,
    malformed: 0,
    truncated: 0,
    handlerErrors: 0,
    ownershipErrors: 0,
    enobufs: 0,
    recvErrors: 0,
    sendErrors: 0,
    kernelErrors: 0,
    batches: 0,
  };
}

export class NfQueue {
  readonly queue: number;
  readonly markMask: number;
  readonly ctMarkMask: number;
  readonly unsafeWholeMark: boolean;
  readonly stats: QueueStats = newStats();

  private readonly transport: NetlinkTransport;
  private readonly handler: PacketHandler;
  private readonly onEvent: (e: QueueEvent) => void;
  private readonly defaultCode: number;
  private readonly batchVerdicts: boolean;
  private readonly batchSize: number;
  private readonly drainRounds: number;
  private readonly slot: number;
  private readonly rbuf: Uint8Array;
  private readonly rview: DataView;
  private readonly meta: Int32Array;
  private readonly drainBuffers: DrainBuffers;
  private readonly drainHooks: DrainHooks;
  private readonly hdr = new NlHeader();
  private readonly pv = new PacketView();
  private readonly out = new MessageWriter(64 * 1024);
  /** Verdict datagrams a transient send failure held back, oldest first (see sendUnsent). */
  private readonly unsent: Uint8Array[] = [];
  private sendRetries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bytes one sendmsg may carry (the socket's send buffer, less the kernel's 32-byte margin). */
  private readonly sendLimit: number;
  private readonly pending = new Map<number, Pending>();
  private readonly requestTimeoutMs: number;
  private watcher: Watch | null = null;
  private seq = 1;
  private closed = false;
  // The current run of plain verdicts (same code, no mark change) not yet encoded.
  private runCode = -1;
  private runLastId = 0;
  private runCount = 0;

  private constructor(opts: QueueOptions, transport: NetlinkTransport) {
    this.queue = opts.queue;
    this.unsafeWholeMark = opts.unsafeWholeMark === true;
    this.markMask = this.unsafeWholeMark ? 0xffffffff : (opts.markMask ?? 0) >>> 0;
    this.ctMarkMask = (opts.ctMarkMask ?? 0) >>> 0;
    this.transport = transport;
    this.handler = opts.onPacket;
    this.onEvent = opts.onEvent ?? (() => undefined);
    this.defaultCode = opts.defaultVerdict === 'drop' ? NF_DROP : NF_ACCEPT;
    this.batchVerdicts = opts.batchVerdicts !== false;
    this.batchSize = Math.max(1, Math.min(opts.batchSize ?? 128, 1024));
    this.drainRounds = Math.max(1, opts.drainRounds ?? 8);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 2000;
    this.sendLimit = transport.sendLimit?.() ?? DEFAULT_SEND_LIMIT;
    const mode = opts.copyMode ?? 'packet';
    const range = mode === 'packet' ? Math.min(opts.copyRange ?? 0xffff, 0xffff) : 0;
    // Room for the copied bytes plus every metadata attribute the kernel may add.
    this.slot = (range + 1024 + 63) & ~63;
    this.rbuf = new Uint8Array(this.slot * this.batchSize);
    this.rview = viewOf(this.rbuf);
    this.meta = new Int32Array(this.batchSize * 2);
    this.drainBuffers = { buf: this.rbuf, slot: this.slot, batch: this.batchSize, meta: this.meta };
    this.drainHooks = {
      onBatch: (n) => this.handleBatch(n),
      onEnobufs: () => {
        this.stats.enobufs++;
        this.emit({ type: 'enobufs' });
      },
      onError: (n) => {
        this.stats.recvErrors++;
        this.emit({ type: 'recv-error', error: syscallError('recvmmsg', n) });
      },
    };
  }

  /** Opens a socket, binds the queue and configures it. Throws NetlinkError (QueueBusyError on EPERM). */
  static async open(opts: QueueOptions): Promise<NfQueue> {
    if (!Number.isInteger(opts.queue) || opts.queue < 0 || opts.queue > 65535) {
      throw new RangeError(`queue number must be an integer from 0 to 65535, got ${opts.queue}`);
    }
    const transport =
      opts.transport ??
      NativeNetlinkSocket.open(NETLINK_NETFILTER, { netns: opts.netns, rcvBuf: opts.rcvBuf, sndBuf: opts.sndBuf, noEnobufs: opts.noEnobufs });
    const q = new NfQueue(opts, transport);
    try {
      q.watcher = transport.watch((status) => q.onReadable(status));
      if (q.unsafeWholeMark) {
        q.onEvent({ type: 'warning', message: `queue ${q.queue}: unsafeWholeMark is on: verdict marks replace all 32 bits of the packet mark` });
      }
      await q.configure(opts);
    } catch (e) {
      q.shutdownSocket();
      if (e instanceof NetlinkError && e.op === 'bind' && e.errno === EPERM) {
        if (!opts.transport && !hasCapability(CAP_NET_ADMIN)) {
          throw new NetlinkError('ERR_NETLINK_KERNEL', 'bind', `binding queue ${opts.queue} needs CAP_NET_ADMIN: run as root`, { errno: EPERM });
        }
        throw new QueueBusyError(opts.queue, opts.netns === undefined ? holderOf(opts.queue, transport.portId) : undefined);
      }
      throw e;
    }
    return q;
  }

  private async configure(opts: QueueOptions): Promise<void> {
    const w = new MessageWriter(512);
    const waits: Promise<void>[] = [];
    const add = (op: string, enc: (seq: number) => void): void => {
      const seq = this.nextSeq();
      enc(seq);
      waits.push(this.expectAck(seq, op));
    };
    add('bind', (s) => encodeCommand(w, s, this.queue, 'bind'));
    add('copy mode', (s) => encodeParams(w, s, this.queue, opts.copyMode ?? 'packet', opts.copyRange ?? 0xffff));
    if (opts.maxLen !== undefined) add('queue length', (s) => encodeMaxLen(w, s, this.queue, opts.maxLen as number));
    const flags = flagBits({ failOpen: opts.failOpen ?? true, conntrack: opts.conntrack, gso: opts.gso, uidGid: opts.uidGid, secctx: opts.secctx });
    if (flags.mask !== 0) {
      const names = flagNames(flags.value);
      const hint = opts.conntrack ? ' (conntrack needs a kernel with CONFIG_NETFILTER_NETLINK_GLUE_CT)' : '';
      add(`flags ${names.join(',') || 'none'}${hint}`, (s) => encodeFlags(w, s, this.queue, flags.value, flags.mask));
    }
    // ctmark verdicts (NFQA_CT) need the ctnetlink glue; without it the kernel ignores them without a word.
    // The conntrack flag tells (EOPNOTSUPP): switch it on and off again to find out, and warn.
    let ctProbe: Promise<void> | null = null;
    if (this.ctMarkMask !== 0 && opts.conntrack === undefined) {
      const on = this.nextSeq();
      encodeFlags(w, on, this.queue, NFQA_CFG_F_CONNTRACK, NFQA_CFG_F_CONNTRACK);
      ctProbe = this.expectAck(on, 'conntrack probe');
      add('flags conntrack off', (s) => encodeFlags(w, s, this.queue, 0, NFQA_CFG_F_CONNTRACK));
    }
    this.sendRequest(w, 'configure');
    // Settle all so that no rejection goes unobserved, then report the first failure.
    const [probe, ...results] = await Promise.allSettled([ctProbe ?? Promise.resolve(), ...waits]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    if (probe.status === 'rejected' && (probe.reason as NetlinkError).errno === EOPNOTSUPP) {
      this.emit({
        type: 'warning',
        message: `queue ${this.queue}: this kernel is built without CONFIG_NETFILTER_NETLINK_GLUE_CT: it ignores the connection marks of verdicts (ctMarkMask ${hex32(this.ctMarkMask)}); ` +
          'to set one, set a packet-mark bit in the verdict and copy it with a CONNMARK rule after the queue',
      });
    }
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0 || 1;
    return this.seq;
  }

  private expectAck(seq: number, op: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new NetlinkError('ERR_NETLINK_TIMEOUT', op, `no answer from the kernel to "${op}" on queue ${this.queue} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(seq, {
        op,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  private sendRequest(w: MessageWriter, op: string): void {
    const rc = this.transport.send(w.buf, 0, w.length);
    if (rc < 0) {
      const err = syscallError(`send (${op})`, rc);
      for (const [seq, p] of this.pending) {
        this.pending.delete(seq);
        p.reject(err);
      }
    }
  }

  /** Stops reading: packets wait in the kernel queue (and, with fail-open, overflow is accepted). */
  pause(): void {
    this.watcher?.stop();
    this.watcher = null;
  }

  resume(): void {
    if (this.closed || this.watcher) return;
    this.watcher = this.transport.watch((status) => this.onReadable(status));
  }

  private closing: Promise<void> | null = null;

  /** Verdicts everything received, unbinds the queue and closes the socket. Never throws; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    if (this.closed) return;
    this.drain(Number.MAX_SAFE_INTEGER);
    // Verdicts still held back by a transient send failure: a last few tries before the unbind drops their
    // packets, then one final try each for what is left, reported as send errors when it fails.
    for (let i = 0; i < SEND_RETRIES && this.unsent.length > 0; i++) {
      if (this.retryTimer !== null) clearTimeout(this.retryTimer);
      this.sendUnsent();
      if (this.unsent.length > 0) await new Promise((r) => setTimeout(r, SEND_RETRY_MS));
    }
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.sendUnsent(true);
    const w = new MessageWriter(64);
    const seq = this.nextSeq();
    encodeCommand(w, seq, this.queue, 'unbind');
    const ack = this.expectAck(seq, 'unbind').catch(() => undefined);
    if (!this.watcher) this.resume();
    this.sendRequest(w, 'unbind');
    await Promise.race([ack, new Promise((r) => setTimeout(r, 500).unref())]);
    this.closed = true;
    this.shutdownSocket();
  }

  private shutdownSocket(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.watcher?.stop();
    this.watcher = null;
    for (const [seq, p] of this.pending) {
      this.pending.delete(seq);
      p.reject(new NetlinkError('ERR_NETLINK_CLOSED', p.op, `queue ${this.queue} was closed before the kernel answered "${p.op}"`));
    }
    this.transport.close();
  }

  private onReadable(status: number): void {
    this.drain(this.drainRounds);
    // libuv stops a poll handle on POLLERR and reports UV_EBADF. On a netlink socket POLLERR means a
    // pending error such as ENOBUFS, which the receive above has just read and counted: re-arm, or the
    // consumer would silently stop reading after its first overload.
    if (status < 0) this.rearm();
  }

  private rearm(): void {
    if (this.closed || this.watcher === null) return;
    this.watcher.stop();
    this.watcher = null;
    try {
      this.watcher = this.transport.watch((s) => this.onReadable(s));
    } catch (e) {
      this.stats.recvErrors++;
      this.emit({ type: 'recv-error', error: e instanceof NetlinkError ? e : new NetlinkError('ERR_NETLINK_SYSCALL', 'poll', String(e)) });
      setTimeout(() => {
        if (!this.closed && this.watcher === null) this.resume();
      }, 50).unref();
    }
  }

  private emit(e: QueueEvent): void {
    try {
      this.onEvent(e);
    } catch {
      // An observer that throws must not stop the loop.
    }
  }

  /**
   * Receives and handles up to `rounds` batches; stops early when the socket is empty. It never stops on
   * ENOBUFS (src/netlink/drain.ts explains why: a drain that did could leave the socket congested).
   */
  private drain(rounds: number): void {
    if (drainSocket(this.transport, this.drainBuffers, rounds, this.drainHooks) === 'again') {
      setImmediate(() => {
        if (!this.closed && this.watcher !== null) this.drain(this.drainRounds);
      });
    }
  }

  private handleBatch(n: number): void {
    this.stats.batches++;
    for (let i = 0; i < n; i++) {
      const start = i * this.slot;
      let len = this.meta[2 * i];
      if ((this.meta[2 * i + 1] & MSG_TRUNC) !== 0) {
        this.stats.truncated++;
        len = Math.min(len, this.slot);
      }
      this.handleDatagram(start, start + len);
    }
    this.flush();
  }

  private handleDatagram(off: number, end: number): void {
    const view = this.rview;
    const hdr = this.hdr;
    const packetType = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
    while (off < end) {
      const err = hdr.fill(view, off, end);
      if (err !== null) {
        // A truncated packet message still has its id up front: verdict it rather than strand it.
        if (err.code === 'ERR_DECODE_TRUNCATED' && end - off >= NLMSG_HDRLEN && hdr.type === packetType) {
          this.handlePacket(off, end - off);
        } else {
          this.stats.malformed++;
          this.emit({ type: 'malformed', error: err, id: -1 });
        }
        return;
      }
      if (hdr.type === packetType) this.handlePacket(off, hdr.len);
      else if (hdr.type === NLMSG_ERROR) this.handleError(off);
      off = nextMessage(off, hdr.len);
    }
  }

  private handleError(off: number): void {
    const e = decodeError(this.rview, off, this.hdr);
    if (e instanceof DecodeError) {
      this.stats.malformed++;
      this.emit({ type: 'malformed', error: e, id: -1 });
      return;
    }
    const p = this.pending.get(e.seq);
    if (p) {
      this.pending.delete(e.seq);
      if (e.errno === 0) p.resolve();
      else {
        const text = e.extAck ? `: ${e.extAck}` : '';
        p.reject(
          new NetlinkError('ERR_NETLINK_KERNEL', p.op, `the kernel refused "${p.op}" on queue ${this.queue}: ${errnoName(e.errno)}${text}`, {
            errno: e.errno,
            extAck: e.extAck,
          }),
        );
      }
      return;
    }
    if (e.errno !== 0) {
      this.stats.kernelErrors++;
      this.emit({
        type: 'kernel-error',
        error: new NetlinkError('ERR_NETLINK_KERNEL', 'verdict', `the kernel refused a verdict on queue ${this.queue}: ${errnoName(e.errno)}`, {
          errno: e.errno,
          extAck: e.extAck,
        }),
      });
    }
  }

  private handlePacket(off: number, len: number): void {
    const pv = this.pv;
    this.stats.packets++;
    const err = pv.load(this.rbuf, this.rview, off, len);
    if (err !== null) {
      this.stats.malformed++;
      this.emit({ type: 'malformed', error: err, id: pv.id });
      if (pv.id >= 0) this.plain(pv.id, this.defaultCode);
      return;
    }
    let d: Decision | Readonly<Decision> | undefined | void;
    try {
      d = this.handler(pv);
    } catch (error) {
      this.stats.handlerErrors++;
      this.emit({ type: 'handler-error', error, id: pv.id });
      d = undefined;
    }
    if (d === undefined || d === null) {
      this.plain(pv.id, this.defaultCode);
      return;
    }
    const invalid = invalidDecision(d);
    if (invalid !== null) {
      this.stats.handlerErrors++;
      this.emit({ type: 'handler-error', error: new TypeError(`packet ${pv.id}: ${invalid}`), id: pv.id });
      this.plain(pv.id, this.defaultCode);
      return;
    }
    const code = verdictCode(d);
    let markOut = pv.mark;
    if (d.mark !== undefined) {
      if (this.unsafeWholeMark) markOut = d.mark >>> 0;
      else if ((d.mark & ~this.markMask) !== 0) this.ownershipError(new MarkOwnershipError(d.mark >>> 0, this.markMask), pv.id);
      else markOut = mergeMark(pv.mark, d.mark, this.markMask);
    }
    let ct: { mark: number; mask: number } | null = null;
    if (d.ctMark !== undefined) {
      const mask = (d.ctMarkMask ?? this.ctMarkMask) >>> 0;
      try {
        checkOwned(mask, this.ctMarkMask, 'ctmark mask');
        checkOwned(d.ctMark, mask, 'ctmark');
        ct = { mark: d.ctMark >>> 0, mask };
      } catch (e) {
        this.ownershipError(e as MarkOwnershipError, pv.id);
      }
    }
    const withMark = markOut !== pv.mark;
    if (!withMark && ct === null && d.payload === undefined) {
      this.plain(pv.id, code);
      return;
    }
    const need = VERDICT_MAX_BYTES + (d.payload?.length ?? 0);
    if (need > this.sendLimit) {
      // Not even alone would this verdict fit in one sendmsg: like any decision that cannot be carried
      // out, the packet gets the default verdict with its mark untouched.
      this.stats.handlerErrors++;
      const msg = `packet ${pv.id}: a replacement payload of ${d.payload?.length} bytes does not fit in the socket's send buffer (${this.sendLimit} bytes per message); open the queue with a bigger sndBuf`;
      this.emit({ type: 'handler-error', error: new RangeError(msg), id: pv.id });
      this.plain(pv.id, this.defaultCode);
      return;
    }
    this.closeRun();
    this.reserve(need);
    if (withMark) this.stats.marked++;
    if (code === NF_DROP) this.stats.dropped++;
    this.stats.verdicts++;
    this.stats.verdictMessages++;
    encodeVerdict(this.out, this.nextSeq(), this.queue, pv.id, code, withMark, markOut, ct, d.payload ?? null);
  }

  /**
   * Sends what is encoded so far when `bytes` more would not fit in one sendmsg: the kernel refuses a
   * datagram larger than the socket's send buffer with EMSGSIZE, and then none of its verdicts arrives
   * (a batch of rewritten payloads easily exceeds it). Order is kept: the datagrams go out in sequence.
   */
  private reserve(bytes: number): void {
    if (this.out.length > 0 && this.out.length + bytes > this.sendLimit) this.sendOut();
  }

  private ownershipError(error: MarkOwnershipError, id: number): void {
    this.stats.ownershipErrors++;
    this.emit({ type: 'ownership-error', error, id });
  }

  /** A verdict that changes nothing but the packet's fate: extends the current run when it can. */
  private plain(id: number, code: number): void {
    this.stats.verdicts++;
    if (code === NF_DROP) this.stats.dropped++;
    if (this.batchVerdicts && code === this.runCode) {
      this.runLastId = id;
      this.runCount++;
      return;
    }
    this.closeRun();
    this.runCode = code;
    this.runLastId = id;
    this.runCount = 1;
  }

  private closeRun(): void {
    if (this.runCount === 0) return;
    this.reserve(VERDICT_MAX_BYTES);
    this.stats.verdictMessages++;
    if (this.runCount === 1) {
      encodeVerdict(this.out, this.nextSeq(), this.queue, this.runLastId, this.runCode, false, 0, null, null);
    } else {
      this.stats.batchMessages++;
      encodeBatchVerdict(this.out, this.nextSeq(), this.queue, this.runLastId, this.runCode, false, 0);
    }
    this.runCount = 0;
    this.runCode = -1;
  }

  /** Sends every verdict encoded since the last flush, in one syscall unless they exceed the send limit. */
  private flush(): void {
    this.closeRun();
    this.sendOut();
  }

  private sendOut(): void {
    if (this.out.length === 0) return;
    // Behind datagrams waiting for a retry: a batch verdict sent ahead of them would decide their packets.
    if (this.unsent.length > 0) this.unsent.push(this.out.bytes().slice());
    else {
      const rc = this.transport.send(this.out.buf, 0, this.out.length);
      if (rc < 0 && TRANSIENT_SEND_ERRORS.has(-rc)) {
        this.unsent.push(this.out.bytes().slice());
        this.scheduleRetry();
      } else if (rc < 0) this.sendFailed(rc, 1);
    }
    this.out.reset();
  }

  /**
   * Sends the datagrams a transient failure kept back, oldest first. A verdict that never reaches the
   * kernel leaves its packet queued until the queue is unbound, so they are retried for a while
   * (SEND_RETRIES times, every SEND_RETRY_MS) before they are given up and reported. `lastTry`: no more
   * retries, every datagram that fails now is given up (at close).
   */
  private sendUnsent(lastTry = false): void {
    this.retryTimer = null;
    while (this.unsent.length > 0) {
      const d = this.unsent[0];
      const rc = this.transport.send(d, 0, d.length);
      if (rc >= 0) {
        this.unsent.shift();
        this.sendRetries = 0;
        continue;
      }
      if (!lastTry && TRANSIENT_SEND_ERRORS.has(-rc) && ++this.sendRetries <= SEND_RETRIES && !this.closed) {
        this.scheduleRetry();
        return;
      }
      this.unsent.shift();
      this.sendFailed(rc, this.sendRetries + 1);
      this.sendRetries = 0;
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer === null && !this.closed) this.retryTimer = setTimeout(() => this.sendUnsent(), SEND_RETRY_MS);
  }

  private sendFailed(rc: number, attempts: number): void {
    this.stats.sendErrors++;
    const err = syscallError('sendmsg (verdicts)', rc, attempts > 1 ? `${attempts} attempts; those packets wait in the kernel queue until it is unbound` : '');
    this.emit({ type: 'send-error', error: err });
  }

  /** Receive-buffer size the kernel granted, when the transport is a real socket. */
  receiveBufferSize(): number | undefined {
    return this.transport instanceof NativeNetlinkSocket ? this.transport.receiveBufferSize() : undefined;
  }

  describe(): string {
    return `queue ${this.queue} (mark mask ${hex32(this.markMask)}${this.unsafeWholeMark ? ', UNSAFE whole mark' : ''})`;
  }
}

/** Port id of the socket holding `queue` in this process's namespace, from /proc (best effort). */
function holderOf(queue: number, ownPortId: number): number | undefined {
  const file = PROC_NFNETLINK_QUEUE;
  if (!existsSync(file)) return undefined;
  try {
    const row = parseProcQueues(readFileSync(file, 'utf8')).find((r) => r.queue === queue);
    return row && row.portId !== ownPortId ? row.portId : undefined;
  } catch {
    return undefined;
  }
}
