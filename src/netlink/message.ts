// Framing: struct nlmsghdr, iteration over the messages of one datagram, NLMSG_ERROR (with the
// extended ack TLVs when NETLINK_EXT_ACK is on), and multi-part replies (NLM_F_MULTI ... NLMSG_DONE).
import { HOST_LE, align4 } from './bytes.js';
import {
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
} from './constants.js';
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
  if (tlvStart <= end) readExtAck(view, tlvStart, end, result);
  return result;
}

/** The extended ack TLVs in [off, end) (NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS), into `result`. */
function readExtAck(view: DataView, off: number, end: number, result: NlError): void {
  const c = new AttrCursor(view, off, end);
  while (c.next()) {
    if (c.type === NLMSGERR_ATTR_MSG) result.extAck = c.string();
    else if (c.type === NLMSGERR_ATTR_OFFS) result.extAckOffset = c.u32host();
  }
}

/** One message of a multi-part reply, copied out of the (reused) receive buffer. */
export interface NlPart {
  type: number;
  flags: number;
  /** The message after its nlmsghdr. */
  body: Uint8Array;
}

/**
 * A multi-part reply (a dump) to the request with sequence number `seq`: messages flagged NLM_F_MULTI,
 * spread over as many datagrams as the kernel needs, ended by NLMSG_DONE. Since Linux 4.x the body of
 * NLMSG_DONE is an int error (negative errno when the dump failed), followed by extended ack TLVs when
 * NLM_F_ACK_TLVS is set; an NLMSG_ERROR instead ends a request the kernel refused outright. Feed every
 * datagram received until feed() returns true; messages for other sequence numbers are left alone.
 */
export class MultipartReply {
  readonly parts: NlPart[] = [];
  /** A part carried NLM_F_DUMP_INTR: the kernel's table changed during the dump, so ask again. */
  interrupted = false;
  /** How the reply ended: errno 0 for a complete dump; null while it goes on. */
  end: NlError | null = null;
  /** The first malformed message; the reply is over then. */
  problem: DecodeError | null = null;
  private readonly hdr = new NlHeader();

  constructor(readonly seq: number) {}

  get complete(): boolean {
    return this.end !== null || this.problem !== null;
  }

  /** Reads the messages of one datagram in [off, end); true once the reply is over. */
  feed(view: DataView, off: number, end: number): boolean {
    const h = this.hdr;
    while (off < end && !this.complete) {
      const err = h.fill(view, off, end);
      if (err !== null) {
        this.problem = err;
        break;
      }
      if (h.seq === this.seq) this.take(view, off);
      off = nextMessage(off, h.len);
    }
    return this.complete;
  }

  private take(view: DataView, off: number): void {
    const h = this.hdr;
    if (h.type === NLMSG_ERROR) {
      const e = decodeError(view, off, h);
      if (e instanceof DecodeError) this.problem = e;
      else this.end = e;
      return;
    }
    if (h.type === NLMSG_DONE) {
      this.end = decodeDone(view, off, h, this.seq);
      return;
    }
    if ((h.flags & NLM_F_DUMP_INTR) !== 0) this.interrupted = true;
    const body = off + NLMSG_HDRLEN;
    this.parts.push({ type: h.type, flags: h.flags, body: new Uint8Array(view.buffer.slice(view.byteOffset + body, view.byteOffset + off + h.len)) });
    // A single message without NLM_F_MULTI is the whole answer (a plain GET, not a dump).
    if ((h.flags & NLM_F_MULTI) === 0) this.end = { errno: 0, seq: this.seq, requestType: 0 };
  }
}

/** The body of NLMSG_DONE: an int error (absent from very old kernels: then 0), then ext ack TLVs. */
function decodeDone(view: DataView, off: number, hdr: NlHeader, seq: number): NlError {
  const body = off + NLMSG_HDRLEN;
  const end = off + hdr.len;
  const error = end - body >= 4 ? view.getInt32(body, HOST_LE) : 0;
  const result: NlError = { errno: error === 0 ? 0 : -error, seq, requestType: 0 };
  if ((hdr.flags & NLM_F_ACK_TLVS) !== 0 && end - body > 4) readExtAck(view, body + 4, end, result);
  return result;
}
