// Decoding netlink attributes with a cursor whose first error sticks (the habit of mdlayher/netlink's
// AttributeDecoder): accessors check lengths, a failure sets `err` once, later reads return zeros, and
// the caller checks `err` once at the end. Nothing here throws.
import { HOST_LE, align4 } from './bytes.js';
import { NLA_HDRLEN, NLA_TYPE_MASK, NLA_F_NESTED } from './constants.js';
import { DecodeError } from './errors.js';

export class AttrCursor {
  /** Type of the current attribute, without the NESTED / NET_BYTEORDER flag bits. */
  type = 0;
  nested = false;
  /** Offset and length of the current attribute's value. */
  valueOff = 0;
  valueLen = 0;
  err: DecodeError | null = null;
  private pos: number;

  constructor(
    readonly view: DataView,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** Moves to the next attribute; false at the end or after an error. */
  next(): boolean {
    if (this.err !== null || this.pos >= this.end) return false;
    if (this.end - this.pos < NLA_HDRLEN) {
      this.err = new DecodeError('ERR_DECODE_TRUNCATED', this.pos, 'attribute header truncated');
      return false;
    }
    const len = this.view.getUint16(this.pos, HOST_LE);
    const rawType = this.view.getUint16(this.pos + 2, HOST_LE);
    if (len < NLA_HDRLEN) {
      this.err = new DecodeError('ERR_DECODE_BAD_LENGTH', this.pos, `attribute length ${len} is shorter than its header`);
      return false;
    }
    if (this.pos + len > this.end) {
      this.err = new DecodeError('ERR_DECODE_TRUNCATED', this.pos, `attribute of ${len} bytes runs past the end of its message`);
      return false;
    }
    this.type = rawType & NLA_TYPE_MASK;
    this.nested = (rawType & NLA_F_NESTED) !== 0;
    this.valueOff = this.pos + NLA_HDRLEN;
    this.valueLen = len - NLA_HDRLEN;
    this.pos += align4(len);
    return true;
  }

  private need(n: number): boolean {
    if (this.valueLen >= n) return true;
    if (this.err === null) {
      this.err = new DecodeError('ERR_DECODE_BAD_ATTR', this.valueOff, `attribute type ${this.type} has ${this.valueLen} bytes, needs ${n}`);
    }
    return false;
  }

  u8(): number {
    return this.need(1) ? this.view.getUint8(this.valueOff) : 0;
  }

  u16be(): number {
    return this.need(2) ? this.view.getUint16(this.valueOff, false) : 0;
  }

  u32be(): number {
    return this.need(4) ? this.view.getUint32(this.valueOff, false) : 0;
  }

  u32host(): number {
    return this.need(4) ? this.view.getUint32(this.valueOff, HOST_LE) : 0;
  }

  /** A NUL-terminated or plain string value. */
  string(): string {
    let end = this.valueOff + this.valueLen;
    const bytes = new Uint8Array(this.view.buffer, this.view.byteOffset + this.valueOff, this.valueLen);
    const nul = bytes.indexOf(0);
    if (nul >= 0) end = this.valueOff + nul;
    return new TextDecoder().decode(bytes.subarray(0, end - this.valueOff));
  }

  /** A cursor over the current attribute's value, for nested attributes. */
  nest(): AttrCursor {
    return new AttrCursor(this.view, this.valueOff, this.valueOff + this.valueLen);
  }
}

/**
 * Records where each attribute of a message lies, for attribute types 1..offs.length-1: offs[t] is the
 * value offset (or -1 when absent), lens[t] its length. The hot path uses this instead of a cursor so
 * that decoding a packet allocates nothing. Returns the first problem, or null.
 */
export function indexAttributes(view: DataView, start: number, end: number, offs: Int32Array, lens: Int32Array): DecodeError | null {
  offs.fill(-1);
  let pos = start;
  while (pos < end) {
    if (end - pos < NLA_HDRLEN) return new DecodeError('ERR_DECODE_TRUNCATED', pos, 'attribute header truncated');
    const len = view.getUint16(pos, HOST_LE);
    if (len < NLA_HDRLEN) return new DecodeError('ERR_DECODE_BAD_LENGTH', pos, `attribute length ${len} is shorter than its header`);
    if (pos + len > end) return new DecodeError('ERR_DECODE_TRUNCATED', pos, `attribute of ${len} bytes runs past the end of its message`);
    const type = view.getUint16(pos + 2, HOST_LE) & NLA_TYPE_MASK;
    if (type < offs.length) {
      offs[type] = pos + NLA_HDRLEN;
      lens[type] = len - NLA_HDRLEN;
    }
    pos += align4(len);
  }
  return null;
}
