// Decoding of NFQNL_MSG_PACKET. PacketView is a flyweight over the receive buffer: load() indexes the
// attributes of one message without allocating, and getters decode a field only when asked. A view is
// valid only during the callback it is passed to; toJSON()/snapshot() copy it out.
import { HOST_LE } from '../netlink/bytes.js';
import { NFGENMSG_LEN, NLA_F_NESTED, NLMSG_HDRLEN, NFNETLINK_V0, NFNL_SUBSYS_QUEUE } from '../netlink/constants.js';
import { AttrCursor, indexAttributes } from '../netlink/cursor.js';
import { DecodeError } from '../netlink/errors.js';
import type { MessageWriter } from '../netlink/writer.js';
import {
  CTA_ID,
  CTA_MARK,
  CTA_STATUS,
  CTA_ZONE,
  HOOK_NAMES,
  NFQA_CAP_LEN,
  NFQA_CT,
  NFQA_CT_INFO,
  NFQA_GID,
  NFQA_HWADDR,
  NFQA_IFINDEX_INDEV,
  NFQA_IFINDEX_OUTDEV,
  NFQA_IFINDEX_PHYSINDEV,
  NFQA_IFINDEX_PHYSOUTDEV,
  NFQA_L2HDR,
  NFQA_MARK,
  NFQA_MAX,
  NFQA_PACKET_HDR,
  NFQA_PAYLOAD,
  NFQA_PRIORITY,
  NFQA_SECCTX,
  NFQA_SKB_INFO,
  NFQA_TIMESTAMP,
  NFQA_UID,
  NFQA_VLAN,
  NFQA_VLAN_PROTO,
  NFQA_VLAN_TCI,
  NFQNL_MSG_PACKET,
} from './constants.js';

/** What a packet message carries, as plain data (see PacketView for the zero-copy form). */
export interface PacketInfo {
  queue: number;
  family: number;
  id: number;
  hwProtocol: number;
  hook: number;
  /** NFQA_MARK; the kernel omits it when the mark is 0. */
  mark: number;
  timestamp?: { sec: number; usec: number };
  indev?: number;
  outdev?: number;
  physindev?: number;
  physoutdev?: number;
  hwaddr?: Uint8Array;
  payload?: Uint8Array;
  /** Raw nested conntrack attributes (NFQA_CT) and the few we decode from them. */
  ct?: Uint8Array;
  ctMark?: number;
  ctId?: number;
  ctStatus?: number;
  ctZone?: number;
  ctInfo?: number;
  capLen?: number;
  skbInfo?: number;
  uid?: number;
  gid?: number;
  secctx?: string;
  vlan?: { proto: number; tci: number };
  l2hdr?: Uint8Array;
  priority?: number;
}

export class PacketView {
  private view: DataView = new DataView(new ArrayBuffer(0));
  private bytes: Uint8Array = new Uint8Array(0);
  private readonly offs = new Int32Array(NFQA_MAX + 1);
  private readonly lens = new Int32Array(NFQA_MAX + 1);
  queue = 0;
  family = 0;
  id = 0;
  hwProtocol = 0;
  hook = 0;
  /** The packet's mark as the kernel sent it (0 when NFQA_MARK is absent). */
  mark = 0;

  /**
   * Indexes the packet message at [off, off+len) of `bytes`. On a problem, `id` is still set when the
   * packet header could be read (so that the caller can still give the packet a verdict).
   */
  load(bytes: Uint8Array, view: DataView, off: number, len: number): DecodeError | null {
    this.bytes = bytes;
    this.view = view;
    this.id = -1;
    this.mark = 0;
    const body = off + NLMSG_HDRLEN;
    const end = off + len;
    if (end - body < NFGENMSG_LEN) return new DecodeError('ERR_DECODE_TRUNCATED', body, 'nfgenmsg truncated');
    this.family = view.getUint8(body);
    this.queue = view.getUint16(body + 2, false);
    const err = indexAttributes(view, body + NFGENMSG_LEN, end, this.offs, this.lens);
    const ph = this.offs[NFQA_PACKET_HDR];
    if (ph >= 0 && this.lens[NFQA_PACKET_HDR] >= 7) {
      this.id = view.getUint32(ph, false);
      this.hwProtocol = view.getUint16(ph + 4, false);
      this.hook = view.getUint8(ph + 6);
    }
    if (err) return err;
    if (ph < 0) return new DecodeError('ERR_DECODE_MISSING', body, 'packet message without NFQA_PACKET_HDR');
    if (this.id < 0) return new DecodeError('ERR_DECODE_BAD_ATTR', ph, 'NFQA_PACKET_HDR shorter than 7 bytes');
    const m = this.offs[NFQA_MARK];
    if (m >= 0) {
      if (this.lens[NFQA_MARK] < 4) return new DecodeError('ERR_DECODE_BAD_ATTR', m, 'NFQA_MARK shorter than 4 bytes');
      this.mark = view.getUint32(m, false);
    }
    return null;
  }

  /** Whether attribute `type` (an NFQA_* value) is present. */
  has(type: number): boolean {
    return this.offs[type] >= 0;
  }

  private u32(type: number): number | undefined {
    const at = this.offs[type];
    return at >= 0 && this.lens[type] >= 4 ? this.view.getUint32(at, false) : undefined;
  }

  private raw(type: number): Uint8Array | undefined {
    const at = this.offs[type];
    return at >= 0 ? this.bytes.subarray(at, at + this.lens[type]) : undefined;
  }

  get hookName(): string {
    return HOOK_NAMES[this.hook] ?? `hook${this.hook}`;
  }
  /** The packet bytes from the network header on (a view into the receive buffer). */
  get payload(): Uint8Array | undefined {
    return this.raw(NFQA_PAYLOAD);
  }
  get payloadLength(): number {
    return this.offs[NFQA_PAYLOAD] >= 0 ? this.lens[NFQA_PAYLOAD] : 0;
  }
  get indev(): number | undefined {
    return this.u32(NFQA_IFINDEX_INDEV);
  }
  get outdev(): number | undefined {
    return this.u32(NFQA_IFINDEX_OUTDEV);
  }
  get physindev(): number | undefined {
    return this.u32(NFQA_IFINDEX_PHYSINDEV);
  }
  get physoutdev(): number | undefined {
    return this.u32(NFQA_IFINDEX_PHYSOUTDEV);
  }
  get capLen(): number | undefined {
    return this.u32(NFQA_CAP_LEN);
  }
  get skbInfo(): number | undefined {
    return this.u32(NFQA_SKB_INFO);
  }
  get uid(): number | undefined {
    return this.u32(NFQA_UID);
  }
  get gid(): number | undefined {
    return this.u32(NFQA_GID);
  }
  get ctInfo(): number | undefined {
    return this.u32(NFQA_CT_INFO);
  }
  get priority(): number | undefined {
    return this.u32(NFQA_PRIORITY);
  }
  get l2hdr(): Uint8Array | undefined {
    return this.raw(NFQA_L2HDR);
  }
  get ct(): Uint8Array | undefined {
    return this.raw(NFQA_CT);
  }
  get timestamp(): { sec: number; usec: number } | undefined {
    const at = this.offs[NFQA_TIMESTAMP];
    if (at < 0 || this.lens[NFQA_TIMESTAMP] < 16) return undefined;
    return { sec: Number(this.view.getBigUint64(at, false)), usec: Number(this.view.getBigUint64(at + 8, false)) };
  }
  get hwaddr(): Uint8Array | undefined {
    const at = this.offs[NFQA_HWADDR];
    if (at < 0 || this.lens[NFQA_HWADDR] < 4) return undefined;
    const n = Math.min(this.view.getUint16(at, false), 8, this.lens[NFQA_HWADDR] - 4);
    return this.bytes.subarray(at + 4, at + 4 + n);
  }
  get secctx(): string | undefined {
    const at = this.offs[NFQA_SECCTX];
    if (at < 0) return undefined;
    const v = this.bytes.subarray(at, at + this.lens[NFQA_SECCTX]);
    const nul = v.indexOf(0);
    return new TextDecoder().decode(nul >= 0 ? v.subarray(0, nul) : v);
  }
  get vlan(): { proto: number; tci: number } | undefined {
    const at = this.offs[NFQA_VLAN];
    if (at < 0) return undefined;
    const c = new AttrCursor(this.view, at, at + this.lens[NFQA_VLAN]);
    const out = { proto: 0, tci: 0 };
    while (c.next()) {
      if (c.type === NFQA_VLAN_PROTO) out.proto = c.u16be();
      else if (c.type === NFQA_VLAN_TCI) out.tci = c.u16be();
    }
    return c.err ? undefined : out;
  }
  /** The conntrack fields we decode from NFQA_CT (mark, id, status, zone). */
  get conntrack(): { mark?: number; id?: number; status?: number; zone?: number } | undefined {
    const at = this.offs[NFQA_CT];
    if (at < 0) return undefined;
    const c = new AttrCursor(this.view, at, at + this.lens[NFQA_CT]);
    const out: { mark?: number; id?: number; status?: number; zone?: number } = {};
    while (c.next()) {
      if (c.type === CTA_MARK) out.mark = c.u32be();
      else if (c.type === CTA_ID) out.id = c.u32be();
      else if (c.type === CTA_STATUS) out.status = c.u32be();
      else if (c.type === CTA_ZONE) out.zone = c.u16be();
    }
    return c.err ? undefined : out;
  }

  /** A copy of everything, safe to keep after the callback. */
  snapshot(): PacketInfo {
    const p: PacketInfo = { queue: this.queue, family: this.family, id: this.id, hwProtocol: this.hwProtocol, hook: this.hook, mark: this.mark };
    const copy = (b: Uint8Array | undefined): Uint8Array | undefined => (b ? Uint8Array.from(b) : undefined);
    const put = <K extends keyof PacketInfo>(k: K, v: PacketInfo[K] | undefined): void => {
      if (v !== undefined) p[k] = v;
    };
    put('timestamp', this.timestamp);
    put('indev', this.indev);
    put('outdev', this.outdev);
    put('physindev', this.physindev);
    put('physoutdev', this.physoutdev);
    put('hwaddr', copy(this.hwaddr));
    put('payload', copy(this.payload));
    put('ct', copy(this.ct));
    const ct = this.conntrack;
    if (ct) {
      put('ctMark', ct.mark);
      put('ctId', ct.id);
      put('ctStatus', ct.status);
      put('ctZone', ct.zone);
    }
    put('ctInfo', this.ctInfo);
    put('capLen', this.capLen);
    put('skbInfo', this.skbInfo);
    put('uid', this.uid);
    put('gid', this.gid);
    put('secctx', this.secctx);
    put('vlan', this.vlan);
    put('l2hdr', copy(this.l2hdr));
    put('priority', this.priority);
    return p;
  }
}

/** Decodes one whole packet message (nlmsghdr included) into plain data, or returns the problem. */
export function decodePacketMessage(msg: Uint8Array): PacketInfo | DecodeError {
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  if (msg.length < NLMSG_HDRLEN) return new DecodeError('ERR_DECODE_TRUNCATED', 0, 'netlink header truncated');
  const len = view.getUint32(0, HOST_LE);
  if (len < NLMSG_HDRLEN) return new DecodeError('ERR_DECODE_BAD_LENGTH', 0, `nlmsg_len ${len} is shorter than its header`);
  if (len > msg.length) return new DecodeError('ERR_DECODE_TRUNCATED', 0, `message of ${len} bytes runs past the end of the buffer`);
  const pv = new PacketView();
  const err = pv.load(msg, view, 0, len);
  return err ?? pv.snapshot();
}

/**
 * Encodes a packet message as the kernel would (nfqnl_build_packet_message order). Used by the fake
 * kernel of the unit tests and by property tests; the real kernel is the oracle for the format.
 */
export function encodePacketMessage(w: MessageWriter, p: PacketInfo, seq = 0, portId = 0): void {
  const start = w.beginMessage((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET, 0, seq, portId);
  w.nfgenmsg(p.family, NFNETLINK_V0, p.queue);
  w.attrWith(NFQA_PACKET_HDR, 7, (v, at) => {
    v.setUint32(at, p.id >>> 0, false);
    v.setUint16(at + 4, p.hwProtocol, false);
    v.setUint8(at + 6, p.hook);
  });
  if (p.priority !== undefined) w.attrU32be(NFQA_PRIORITY, p.priority);
  if (p.indev !== undefined) w.attrU32be(NFQA_IFINDEX_INDEV, p.indev);
  if (p.physindev !== undefined) w.attrU32be(NFQA_IFINDEX_PHYSINDEV, p.physindev);
  if (p.outdev !== undefined) w.attrU32be(NFQA_IFINDEX_OUTDEV, p.outdev);
  if (p.physoutdev !== undefined) w.attrU32be(NFQA_IFINDEX_PHYSOUTDEV, p.physoutdev);
  if (p.mark !== 0) w.attrU32be(NFQA_MARK, p.mark);
  if (p.hwaddr !== undefined) {
    const hw = p.hwaddr;
    w.attrWith(NFQA_HWADDR, 12, (v, at) => {
      v.setUint16(at, hw.length, false);
      v.setUint16(at + 2, 0, false);
      for (let i = 0; i < 8; i++) v.setUint8(at + 4 + i, i < hw.length ? hw[i] : 0);
    });
  }
  if (p.vlan !== undefined) {
    const n = w.beginNest(NFQA_VLAN);
    w.attrU16be(NFQA_VLAN_PROTO, p.vlan.proto);
    w.attrU16be(NFQA_VLAN_TCI, p.vlan.tci);
    w.endNest(n);
  }
  if (p.l2hdr !== undefined) w.attrBytes(NFQA_L2HDR, p.l2hdr);
  if (p.timestamp !== undefined) {
    const ts = p.timestamp;
    w.attrWith(NFQA_TIMESTAMP, 16, (v, at) => {
      v.setBigUint64(at, BigInt(ts.sec), false);
      v.setBigUint64(at + 8, BigInt(ts.usec), false);
    });
  }
  if (p.uid !== undefined) w.attrU32be(NFQA_UID, p.uid);
  if (p.gid !== undefined) w.attrU32be(NFQA_GID, p.gid);
  if (p.secctx !== undefined) w.attrBytes(NFQA_SECCTX, new TextEncoder().encode(p.secctx));
  // NFQA_CT holds nested CTA_* attributes; they are written back as they were received.
  if (p.ct !== undefined) w.attrBytes(NFQA_CT | NLA_F_NESTED, p.ct);
  if (p.ctInfo !== undefined) w.attrU32be(NFQA_CT_INFO, p.ctInfo);
  if (p.skbInfo !== undefined) w.attrU32be(NFQA_SKB_INFO, p.skbInfo);
  if (p.capLen !== undefined) w.attrU32be(NFQA_CAP_LEN, p.capLen);
  if (p.payload !== undefined) w.attrBytes(NFQA_PAYLOAD, p.payload);
  w.endMessage(start);
}
