// The kernel's own trace of packets with nftrace set: NFT_MSG_TRACE messages on the NFNLGRP_NFTRACE
// multicast group of NETLINK_NETFILTER, the same events `nft monitor trace` prints. Read from netlink
// directly because the kernel puts the packet mark (NFTA_TRACE_MARK) in every event, where nft 1.0.6
// prints it only for policy events, and because each rule event carries its handle.
// (include/uapi/linux/netfilter/nf_tables.h, net/netfilter/nf_tables_trace.c.)
import { drainSocket, type DrainBuffers, type DrainHooks } from '../../netlink/drain.js';
import { HOST_LE, viewOf } from '../../netlink/bytes.js';
import { NETLINK_NETFILTER, NFGENMSG_LEN, NLMSG_HDRLEN, SOL_NETLINK } from '../../netlink/constants.js';
import { AttrCursor } from '../../netlink/cursor.js';
import { loadNative } from '../../netlink/native.js';
import { NativeNetlinkSocket, type Watch } from '../../netlink/socket.js';
import { NF_ACCEPT, NF_DROP, NF_QUEUE, NF_REPEAT, NF_STOLEN, NF_STOP, NF_VERDICT_FLAG_QUEUE_BYPASS } from '../../nfqueue/constants.js';
import type { KEvent } from '../compare.js';

export const NFNL_SUBSYS_NFTABLES = 10;
export const NFT_MSG_TRACE = 17;
export const NFNLGRP_NFTRACE = 9;
const NETLINK_ADD_MEMBERSHIP = 1;

export const NFTA_TRACE_TABLE = 1;
export const NFTA_TRACE_CHAIN = 2;
export const NFTA_TRACE_RULE_HANDLE = 3;
export const NFTA_TRACE_TYPE = 4;
export const NFTA_TRACE_VERDICT = 5;
export const NFTA_TRACE_ID = 6;
export const NFTA_TRACE_NETWORK_HEADER = 8;
export const NFTA_TRACE_TRANSPORT_HEADER = 9;
export const NFTA_TRACE_IIF = 10;
export const NFTA_TRACE_OIF = 12;
export const NFTA_TRACE_MARK = 14;
export const NFTA_TRACE_NFPROTO = 15;
export const NFTA_TRACE_POLICY = 16;
export const NFTA_VERDICT_CODE = 1;
export const NFTA_VERDICT_CHAIN = 2;

export const NFT_TRACETYPE_POLICY = 1;
export const NFT_TRACETYPE_RETURN = 2;
export const NFT_TRACETYPE_RULE = 3;

// nf_tables verdict codes (include/uapi/linux/netfilter/nf_tables.h); NF_* from netfilter.h.
export const NFT_CONTINUE = -1;
export const NFT_BREAK = -2;
export const NFT_JUMP = -3;
export const NFT_GOTO = -4;
export const NFT_RETURN = -5;

const NFPROTO_NAMES: Record<number, string> = { 1: 'inet', 2: 'ip', 3: 'arp', 5: 'netdev', 7: 'bridge', 10: 'ip6' };

/** One trace event: what the comparison reads (KEvent), plus the id and the packet's headers. */
export interface NfTraceEvent extends KEvent {
  id: number;
  /** The packet's protocol family (NFTA_TRACE_NFPROTO), e.g. 'ip' for an IPv4 packet in an inet table. */
  nfproto?: string;
  /** From the network header, when the event carries it (the first event of each base chain). */
  saddr?: string;
  daddr?: string;
  proto?: number;
  sport?: number;
  dport?: number;
}

function verdictName(code: number): { verdict: string; queue?: number; bypass?: boolean } {
  switch (code) {
    case NFT_CONTINUE:
      return { verdict: 'continue' };
    case NFT_BREAK:
      return { verdict: 'break' };
    case NFT_JUMP:
      return { verdict: 'jump' };
    case NFT_GOTO:
      return { verdict: 'goto' };
    case NFT_RETURN:
      return { verdict: 'return' };
  }
  switch (code & 0xff) {
    case NF_DROP:
      return { verdict: 'drop' };
    case NF_ACCEPT:
      return { verdict: 'accept' };
    case NF_STOLEN:
      return { verdict: 'stolen' };
    case NF_QUEUE:
      return { verdict: 'queue', queue: code >>> 16, bypass: (code & NF_VERDICT_FLAG_QUEUE_BYPASS) !== 0 };
    case NF_REPEAT:
      return { verdict: 'repeat' };
    case NF_STOP:
      return { verdict: 'stop' };
  }
  return { verdict: `code ${code}` };
}

function ipText(bytes: Uint8Array, off: number, v6: boolean): string {
  if (!v6) return `${bytes[off]}.${bytes[off + 1]}.${bytes[off + 2]}.${bytes[off + 3]}`;
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((bytes[off + i] << 8) | bytes[off + i + 1]).toString(16));
  return g.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Decodes one NFT_MSG_TRACE message at `off` (its nlmsghdr); null if it is not one. */
export function decodeTraceMessage(buf: Uint8Array, off: number): NfTraceEvent | null {
  const view = viewOf(buf);
  if (buf.length - off < NLMSG_HDRLEN + NFGENMSG_LEN) return null;
  const len = view.getUint32(off, HOST_LE);
  const type = view.getUint16(off + 4, HOST_LE);
  if (type !== ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE) || len > buf.length - off) return null;
  const family = NFPROTO_NAMES[buf[off + NLMSG_HDRLEN]] ?? String(buf[off + NLMSG_HDRLEN]);
  const ev: NfTraceEvent = { id: 0, family, table: '', chain: '', type: 'other', mark: 0 };
  const c = new AttrCursor(view, off + NLMSG_HDRLEN + NFGENMSG_LEN, off + len);
  let net: [number, number] | undefined;
  let transport: [number, number] | undefined;
  while (c.next()) {
    switch (c.type) {
      case NFTA_TRACE_TABLE:
        ev.table = c.string();
        break;
      case NFTA_TRACE_CHAIN:
        ev.chain = c.string();
        break;
      case NFTA_TRACE_RULE_HANDLE:
        if (c.valueLen >= 8) ev.handle = view.getUint32(c.valueOff, false) * 2 ** 32 + view.getUint32(c.valueOff + 4, false);
        break;
      case NFTA_TRACE_TYPE: {
        const t = c.u32be();
        ev.type = t === NFT_TRACETYPE_RULE ? 'rule' : t === NFT_TRACETYPE_POLICY ? 'policy' : t === NFT_TRACETYPE_RETURN ? 'return' : 'other';
        break;
      }
      case NFTA_TRACE_VERDICT: {
        const n = c.nest();
        while (n.next()) {
          if (n.type === NFTA_VERDICT_CODE) Object.assign(ev, verdictName(n.view.getInt32(n.valueOff, false)));
          else if (n.type === NFTA_VERDICT_CHAIN) ev.target = n.string();
        }
        break;
      }
      case NFTA_TRACE_ID:
        ev.id = c.u32be();
        break;
      case NFTA_TRACE_NETWORK_HEADER:
        net = [c.valueOff, c.valueLen];
        break;
      case NFTA_TRACE_TRANSPORT_HEADER:
        transport = [c.valueOff, c.valueLen];
        break;
      case NFTA_TRACE_IIF:
        ev.iif = c.u32be();
        break;
      case NFTA_TRACE_OIF:
        ev.oif = c.u32be();
        break;
      case NFTA_TRACE_MARK:
        ev.mark = c.u32be() >>> 0;
        break;
      case NFTA_TRACE_NFPROTO:
        ev.nfproto = NFPROTO_NAMES[c.u32be()];
        break;
      case NFTA_TRACE_POLICY:
        ev.policy = verdictName(c.u32be()).verdict;
        break;
    }
  }
  if (c.err) return null;
  if (net) {
    const [o, l] = net;
    const ver = buf[o] >> 4;
    if (ver === 4 && l >= 20) {
      ev.proto = buf[o + 9];
      ev.saddr = ipText(buf, o + 12, false);
      ev.daddr = ipText(buf, o + 16, false);
    } else if (ver === 6 && l >= 40) {
      ev.proto = buf[o + 6];
      ev.saddr = ipText(buf, o + 8, true);
      ev.daddr = ipText(buf, o + 24, true);
    }
  }
  if (transport && transport[1] >= 4 && ev.proto !== undefined && [6, 17, 33, 132, 136].includes(ev.proto)) {
    ev.sport = view.getUint16(transport[0], false);
    ev.dport = view.getUint16(transport[0] + 2, false);
  }
  return ev;
}

/** Listens for trace events in a network namespace until closed. */
export class NfTraceListener {
  private readonly sock: NativeNetlinkSocket;
  private watch: Watch | null = null;
  private closed = false;
  private readonly buf = new Uint8Array(16 * 16384);
  private readonly meta = new Int32Array(32);
  private readonly drainBuffers: DrainBuffers = { buf: this.buf, slot: 16384, batch: 16, meta: this.meta };
  private readonly drainHooks: DrainHooks = {
    onBatch: (n) => this.decodeBatch(n),
    onEnobufs: () => void this.overruns++,
    onError: () => undefined,
  };
  /** Times the kernel dropped trace events for this socket (receive buffer full). */
  overruns = 0;
  readonly events: NfTraceEvent[] = [];
  /** Datagrams that were not trace messages or did not decode. */
  skipped = 0;
  private onEvent: (() => void) | undefined;

  constructor(netns: string) {
    this.sock = NativeNetlinkSocket.open(NETLINK_NETFILTER, { netns, rcvBuf: 1 << 20 });
    const rc = loadNative().setIntOption(this.sock.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NFNLGRP_NFTRACE);
    if (rc < 0) {
      this.sock.close();
      throw new Error(`could not join the nftrace netlink group (errno ${-rc})`);
    }
    this.arm();
  }

  // libuv stops a poll handle on POLLERR (a pending ENOBUFS) and reports it with a negative status:
  // read the error, then watch again (the queue does the same; see NfQueue.rearm).
  private arm(): void {
    this.watch = this.sock.watch((status) => {
      this.drain();
      if (status < 0 && !this.closed) {
        this.watch?.stop();
        this.arm();
      }
    });
  }

  private drain(): void {
    // Overrun-safe: never stops on ENOBUFS (src/netlink/drain.ts).
    while (drainSocket(this.sock, this.drainBuffers, Number.MAX_SAFE_INTEGER, this.drainHooks) === 'again');
    this.onEvent?.();
  }

  private decodeBatch(n: number): void {
    for (let i = 0; i < n; i++) {
      const slot = this.buf.subarray(i * 16384, i * 16384 + this.meta[2 * i]);
      const ev = decodeTraceMessage(slot, 0);
      if (ev) this.events.push(ev);
      else this.skipped++;
    }
  }

  /**
   * Resolves when no event has arrived for `quietMs` (after at least one), shortly after an event
   * for which `finished` is true, or after `maxMs`.
   */
  settle(quietMs: number, maxMs: number, finished?: (e: NfTraceEvent) => boolean, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let quiet: NodeJS.Timeout | undefined;
      let checked = 0;
      const done = (): void => {
        clearTimeout(quiet);
        clearTimeout(cap);
        signal?.removeEventListener('abort', done);
        this.onEvent = undefined;
        resolve();
      };
      if (signal?.aborted) return done();
      signal?.addEventListener('abort', done, { once: true });
      const cap = setTimeout(done, maxMs);
      const arm = (): void => {
        clearTimeout(quiet);
        let end = false;
        for (; checked < this.events.length; checked++) if (finished?.(this.events[checked])) end = true;
        quiet = setTimeout(done, end ? 20 : quietMs);
      };
      this.onEvent = arm;
      if (this.events.length) arm();
    });
  }

  /** Takes the events received so far. */
  take(): NfTraceEvent[] {
    this.drain();
    return this.events.splice(0, this.events.length);
  }

  close(): void {
    this.closed = true;
    this.watch?.stop();
    this.sock.close();
  }
}
