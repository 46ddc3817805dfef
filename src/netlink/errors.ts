// Typed errors of the netlink layer. Every error has a stable `code`; socket errors also carry the
// operation, the errno name and, when the kernel sent one, its extended-ack message.
import { getSystemErrorName } from 'node:util';

export type NetlinkErrorCode =
  | 'ERR_NETLINK_SYSCALL' // a socket syscall failed (errno in .errno)
  | 'ERR_NETLINK_KERNEL' // the kernel answered a request with NLMSG_ERROR
  | 'ERR_NETLINK_TIMEOUT' // no answer to a request in time
  | 'ERR_NETLINK_CLOSED' // the socket was closed while a request was pending
  | 'ERR_NETLINK_NATIVE'; // the native addon is missing or could not load

export class NetlinkError extends Error {
  readonly code: NetlinkErrorCode;
  readonly op: string;
  /** Positive errno, when one applies (e.g. 1 for EPERM). */
  readonly errno: number | undefined;
  /** errno name such as 'EPERM', when one applies. */
  readonly errnoName: string | undefined;
  /** The kernel's extended-ack text (NLMSGERR_ATTR_MSG), when it sent one. */
  readonly extAck: string | undefined;

  constructor(code: NetlinkErrorCode, op: string, message: string, opts: { errno?: number; extAck?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'NetlinkError';
    this.code = code;
    this.op = op;
    this.errno = opts.errno;
    this.errnoName = opts.errno === undefined ? undefined : errnoName(opts.errno);
    this.extAck = opts.extAck;
  }
}

/** 'EPERM' for 1; 'E<n>' when the platform has no name for it. */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-Math.abs(errno));
  } catch {
    return `E${Math.abs(errno)}`;
  }
}

/** Builds the error for a syscall that returned -errno. */
export function syscallError(op: string, negErrno: number, detail = ''): NetlinkError {
  const errno = -negErrno;
  const name = errnoName(errno);
  return new NetlinkError('ERR_NETLINK_SYSCALL', op, `${op} failed: ${name}${detail ? ` (${detail})` : ''}`, { errno });
}

export type DecodeErrorCode =
  | 'ERR_DECODE_TRUNCATED' // fewer bytes than a header or a length field says
  | 'ERR_DECODE_BAD_LENGTH' // a length field smaller than its own header
  | 'ERR_DECODE_MISSING' // a required attribute is absent
  | 'ERR_DECODE_BAD_ATTR'; // an attribute has the wrong size for its type

/** A malformed or truncated message. Decoders return it (or hold it); they never throw anything else. */
export class DecodeError extends Error {
  readonly code: DecodeErrorCode;
  /** Byte offset in the decoded buffer where the problem was found. */
  readonly offset: number;

  constructor(code: DecodeErrorCode, offset: number, message: string) {
    super(`${message} at byte ${offset}`);
    this.name = 'DecodeError';
    this.code = code;
    this.offset = offset;
  }
}
