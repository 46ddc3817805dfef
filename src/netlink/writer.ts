// Encoder for netlink messages and attributes into one growable, reusable buffer. The send path
// resets and reuses it, so encoding a batch of verdicts allocates nothing once it has grown.
import { HOST_LE, align4 } from './bytes.js';
import { NFGENMSG_LEN, NLA_F_NESTED, NLA_HDRLEN, NLMSG_HDRLEN } from './constants.js';

/** nla_len is a u16: the largest attribute, header included. */
export const NLA_MAX_LEN = 0xffff;

export class MessageWriter {
  buf: Uint8Array;
  view: DataView;
  /** Bytes written so far. */
  length = 0;

  constructor(initialSize = 4096) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): void {
    this.length = 0;
  }

  /** The bytes written, as a view on the internal buffer (valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Starts a message: struct nlmsghdr, length patched by endMessage. Returns its start offset. */
  beginMessage(type: number, flags: number, seq: number, portId = 0): number {
    this.ensure(NLMSG_HDRLEN);
    const start = this.length;
    const v = this.view;
    v.setUint32(start, 0, HOST_LE); // nlmsg_len, patched later
    v.setUint16(start + 4, type, HOST_LE);
    v.setUint16(start + 6, flags, HOST_LE);
    v.setUint32(start + 8, seq >>> 0, HOST_LE);
    v.setUint32(start + 12, portId >>> 0, HOST_LE);
    this.length += NLMSG_HDRLEN;
    return start;
  }

  /** struct nfgenmsg: family, version, res_id (network order). */
  nfgenmsg(family: number, version: number, resId: number): void {
    this.ensure(NFGENMSG_LEN);
    const v = this.view;
    v.setUint8(this.length, family);
    v.setUint8(this.length + 1, version);
    v.setUint16(this.length + 2, resId, false);
    this.length += NFGENMSG_LEN;
  }

  endMessage(start: number): void {
    this.view.setUint32(start, this.length - start, HOST_LE);
  }

  private attrHeader(type: number, valueLen: number): number {
    // nla_len is 16 bits: a longer value would be written with a wrapped length, a corrupt message.
    if (NLA_HDRLEN + valueLen > NLA_MAX_LEN) throw new RangeError(`attribute ${type & 0x3fff} value of ${valueLen} bytes: at most ${NLA_MAX_LEN - NLA_HDRLEN} fit in a netlink attribute`);
    this.ensure(align4(NLA_HDRLEN + valueLen));
    const at = this.length;
    this.view.setUint16(at, NLA_HDRLEN + valueLen, HOST_LE);
    this.view.setUint16(at + 2, type, HOST_LE);
    return at + NLA_HDRLEN;
  }

  private pad(valueStart: number, valueLen: number): void {
    const end = valueStart + valueLen;
    const padded = align4(end);
    this.buf.fill(0, end, padded);
    this.length = padded;
  }

  attrBytes(type: number, value: Uint8Array): void {
    const at = this.attrHeader(type, value.length);
    this.buf.set(value, at);
    this.pad(at, value.length);
  }

  attrU8(type: number, value: number): void {
    const at = this.attrHeader(type, 1);
    this.view.setUint8(at, value);
    this.pad(at, 1);
  }

  attrU16be(type: number, value: number): void {
    const at = this.attrHeader(type, 2);
    this.view.setUint16(at, value, false);
    this.pad(at, 2);
  }

  attrU32be(type: number, value: number): void {
    const at = this.attrHeader(type, 4);
    this.view.setUint32(at, value >>> 0, false);
    this.length = at + 4;
  }

  attrU32host(type: number, value: number): void {
    const at = this.attrHeader(type, 4);
    this.view.setUint32(at, value >>> 0, HOST_LE);
    this.length = at + 4;
  }

  /** An attribute whose value is written by `fill` into `len` bytes at the given offset. */
  attrWith(type: number, len: number, fill: (view: DataView, at: number) => void): void {
    const at = this.attrHeader(type, len);
    fill(this.view, at);
    this.pad(at, len);
  }

  beginNest(type: number): number {
    const at = this.attrHeader(type | NLA_F_NESTED, 0);
    this.length = at;
    return at - NLA_HDRLEN;
  }

  endNest(start: number): void {
    this.view.setUint16(start, this.length - start, HOST_LE);
  }
}
