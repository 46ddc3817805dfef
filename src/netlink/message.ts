// Framing: struct nlmsghdr, iteration over the messages of one datagram, and NLMSG_ERROR (with the
// extended ack TLVs when NETLINK_EXT_ACK is on).
import { HOST_LE, align4 } from './bytes.js';
import { NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS, NLMSG_HDRLEN, NLM_F_ACK_TLVS, NLM_F_CAPPED } from './constants.js';
import { AttrCursor } from './cursor.js';
import { DecodeError } from './errors.js';

/** struct nlmsghdr, decoded. Reused by the hot path: fill() overwrites it. */
export class NlHeader {
  len = 0;
  type = 0;
  flags = 0;
  seq = 0;
  pid = 0;

  /** Reads the header at `off`; returns a problem if it does not fit in [off, end). */
  fill(view: DataView, off: number, end: number): DecodeError | null {
    if (end - off < NLMSG_HDRLEN) return new DecodeError('ERR_DECODE_TRUNCATED', off, 'netlink header truncated');
    this.len = view.getUint32(off, HOST_LE);
    this.type = view.getUint16(off + 4, HOST_LE);
    this.flags = view.getUint16(off + 6, HOST_LE);
    this.seq = view.getUint32(off + 8, HOST_LE);
    this.pid = view.getUint32(off + 12, HOST_LE);
    if (this.len < NLMSG_HDRLEN) return new DecodeError('ERR_DECODE_BAD_LENGTH', off, `nlmsg_len ${this.len} is shorter than its header`);
    if (off + this.len > end) return new DecodeError('ERR_DECODE_TRUNCATED', off, `message of ${this.len} bytes runs past the end of the datagram`);
    return null;
  }
}

/** Offset of the message after the one at `off` whose nlmsg_len is `len`. */
export function nextMessage(off: number, len: number): number {
  return off + align4(len);
}

/** The decoded body of an NLMSG_ERROR message (an ACK when errno is 0). */
export interface NlError {
  /** Positive errno, 0 for an ACK. */
  errno: number;
  /** Sequence number and type of the request this answers. */
  seq: number;
  requestType: number;
  /** NLMSGERR_ATTR_MSG, when the kernel explained itself. */
  extAck?: string;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request. */
  extAckOffset?: number;
}

/**
 * Decodes an NLMSG_ERROR body: struct nlmsgerr { int error; struct nlmsghdr msg; } then, unless
 * NLM_F_CAPPED, the rest of the request, then (NLM_F_ACK_TLVS) the extended ack attributes.
 */
export function decodeError(view: DataView, off: number, hdr: NlHeader): NlError | DecodeError {
  const body = off + NLMSG_HDRLEN;
  const end = off + hdr.len;
  if (end - body < 4 + NLMSG_HDRLEN) return new DecodeError('ERR_DECODE_TRUNCATED', body, 'nlmsgerr truncated');
  const error = view.getInt32(body, HOST_LE);
  const reqLen = view.getUint32(body + 4, HOST_LE);
  const result: NlError = {
    errno: error === 0 ? 0 : -error,
    seq: view.getUint32(body + 12, HOST_LE),
    requestType: view.getUint16(body + 8, HOST_LE),
  };
  if ((hdr.flags & NLM_F_ACK_TLVS) === 0) return result;
  // The echoed request is the header only when capped (and for ACKs, which are always capped).
  const echoed = (hdr.flags & NLM_F_CAPPED) !== 0 || error === 0 ? NLMSG_HDRLEN : align4(reqLen);
  const tlvStart = body + 4 + echoed;
  if (tlvStart > end) return result;
  const c = new AttrCursor(view, tlvStart, end);
  while (c.next()) {
    if (c.type === NLMSGERR_ATTR_MSG) result.extAck = c.string();
    else if (c.type === NLMSGERR_ATTR_OFFS) result.extAckOffset = c.u32host();
  }
  return result;
}
