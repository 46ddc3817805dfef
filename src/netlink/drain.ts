// Draining a netlink socket so that an overrun can never leave it stuck.
//
// After an overrun the kernel sets sk_err = ENOBUFS and the socket's NETLINK_S_CONGESTED flag, and
// refuses every new message while the flag is set. Only netlink_recvmsg() clears the flag (through
// netlink_rcv_wake(), when it finds the queue empty). recvmmsg(2) returns a pending error BEFORE it
// calls the protocol's receive, so the receive that reports ENOBUFS never clears the flag: a drain that
// stopped there, on an empty socket, would leave a socket that the kernel refuses to fill and that never
// becomes readable again. So a drain never ends on ENOBUFS: the next receive always happens.
// docs/ARCHITECTURE.md ("The queue's hot path") has the whole sequence.
import type { NetlinkTransport } from './socket.js';

export const ENOBUFS = 105;
/** ENOBUFS this many times in a row: yield to the event loop and drain again on the next turn. */
export const MAX_OVERRUNS_IN_A_ROW = 16;

export interface DrainBuffers {
  buf: Uint8Array;
  slot: number;
  batch: number;
  meta: Int32Array;
}

export interface DrainHooks {
  /** `n` datagrams are in buf (slot i at i*slot, length meta[2i], flags meta[2i+1]). */
  onBatch(n: number): void;
  onEnobufs(): void;
  /** Any other receive error (negative errno); the drain stops. */
  onError(negErrno: number): void;
}

/**
 * Receives up to `rounds` full batches, stopping early when the socket is empty. ENOBUFS does not count
 * as a round. Returns 'again' when it gave up after MAX_OVERRUNS_IN_A_ROW overruns in a row: the caller
 * must drain again soon (e.g. on setImmediate), or the socket may stay congested.
 */
export function drainSocket(t: Pick<NetlinkTransport, 'recvBatch'>, b: DrainBuffers, rounds: number, hooks: DrainHooks): 'done' | 'again' {
  let overruns = 0;
  for (let round = 0; round < rounds; ) {
    const n = t.recvBatch(b.buf, b.slot, b.batch, b.meta);
    if (n === -ENOBUFS) {
      hooks.onEnobufs();
      if (++overruns > MAX_OVERRUNS_IN_A_ROW) return 'again';
      continue;
    }
    if (n <= 0) {
      if (n < 0) hooks.onError(n);
      return 'done';
    }
    overruns = 0;
    hooks.onBatch(n);
    if (n < b.batch) return 'done';
    round++;
  }
  return 'done';
}
