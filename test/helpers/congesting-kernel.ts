// A fake nfnetlink_queue socket that keeps the kernel's receive-side flow control, for the sequencing
// of NfQueue's receive loop under overload (test/unit/nfqueue/queue-congestion.test.ts). It models,
// after Linux 6.18:
//
// - net/netlink/af_netlink.c: netlink_attachskb() refuses a message when the buffer is full or the
//   socket is congested (NETLINK_S_CONGESTED); the refused sender calls netlink_overrun(), which sets the
//   flag, sets sk_err = ENOBUFS and wakes the socket (POLLERR) only when the flag was clear, and
//   otherwise just counts a drop. netlink_recvmsg() always ends in netlink_rcv_wake(), which clears the
//   flag when the receive queue is empty.
// - net/core/datagram.c: a receive returns a pending sk_err before any message.
// - net/socket.c do_recvmmsg(): a pending sk_err is returned before the first netlink_recvmsg() (so
//   without netlink_rcv_wake()); an error after some messages is put back into sk_err for the next call.
// - epoll, level-triggered, with libuv's uv_poll on top: readiness (messages queued, or sk_err) is
//   evaluated when the loop polls, after a wake-up or after a report; POLLERR stops the libuv handle and
//   is reported as UV_EBADF.
//
// A producer (the kernel side, another CPU) is split in two steps so that tests can interleave them
// with the consumer's: check() is netlink_attachskb()'s test, complete() what follows it (queue the
// message and wake the reader, or netlink_overrun()). offer() does both at once.
import { FakeKernel } from './fake-kernel.js';

const ENOBUFS = 105;
const UV_EBADF = -9;

/** A producer between netlink_attachskb()'s test and what follows it. */
export interface Producer {
  readonly passed: boolean;
  readonly datagram: Uint8Array;
}

/** Where a producer on another CPU may run during a receive. */
export type Point =
  /** Before each netlink_recvmsg() of a recvmmsg() call (after the up-front sk_err check). */
  | 'recvmsg'
  /** Inside netlink_recvmsg(): the message is off the queue, netlink_rcv_wake() has not run yet. */
  | 'dequeued'
  /** Right after netlink_rcv_wake(). */
  | 'rcv-wake';

export class CongestingKernel extends FakeKernel {
  /** NETLINK_S_CONGESTED. */
  congested = false;
  /** sk->sk_err (a positive errno, 0 for none). */
  skErr = 0;
  /** Messages refused by netlink_attachskb() (the queue's user_dropped). */
  drops = 0;
  /** Called where another CPU's producer may run during a receive. */
  interleave: (point: Point) => void = () => undefined;
  private polling = false;

  /** @param capacity messages the receive buffer holds (sk_rcvbuf over the messages' truesize). */
  constructor(readonly capacity: number) {
    super();
  }

  /** netlink_attachskb()'s test: room in the buffer (one message always fits an empty one) and not congested. */
  check(datagram: Uint8Array): Producer {
    return { passed: (this.inbox.length === 0 || this.inbox.length < this.capacity) && !this.congested, datagram };
  }

  /** What follows the test: queue the message and wake the reader, or netlink_overrun(). */
  complete(p: Producer): boolean {
    if (p.passed) {
      this.inbox.push(p.datagram);
      this.kick(); // sk_data_ready
      return true;
    }
    if (!this.congested) {
      this.congested = true;
      this.skErr = ENOBUFS;
      this.kick(); // sk_error_report
    }
    this.drops++;
    return false;
  }

  /** A packet message from the kernel side: true when the socket took it. */
  offer(datagram: Uint8Array): boolean {
    return this.complete(this.check(datagram));
  }

  /** Answers to configuration requests: always queued (they are few and come before any flood). */
  override deliver(datagram: Uint8Array): void {
    this.inbox.push(datagram);
    this.kick();
  }

  override recvBatch(buf: Uint8Array, slotSize: number, maxMsgs: number, meta: Int32Array): number {
    if (this.closed) return -9;
    if (this.skErr !== 0) return -this.takeError(); // do_recvmmsg(): before any netlink_recvmsg()
    let n = 0;
    while (n < maxMsgs) {
      this.interleave('recvmsg');
      // netlink_recvmsg() -> skb_recv_datagram(): the error first, then a message, else EAGAIN.
      let err = 0;
      if (this.skErr !== 0) err = this.takeError();
      else if (this.inbox.length === 0) err = -1;
      else {
        this.copyOut(this.inbox.shift() as Uint8Array, buf, slotSize, meta, n++);
        this.interleave('dequeued');
      }
      if (this.inbox.length === 0) this.congested = false; // netlink_rcv_wake()
      this.interleave('rcv-wake');
      if (err === -1) return n; // EAGAIN: what was received so far (0: nothing waits)
      if (err !== 0) {
        if (n === 0) return -err;
        this.skErr = err; // do_recvmmsg() keeps it for the next call, without a wake-up
        return n;
      }
    }
    return n;
  }

  private takeError(): number {
    const e = this.skErr;
    this.skErr = 0;
    return e;
  }

  override watch(onReadable: (status: number) => void): { stop(): void } {
    this.cb = onReadable;
    this.kick(); // EPOLL_CTL_ADD polls the socket once
    return {
      stop: () => {
        if (this.cb === onReadable) this.cb = null;
      },
    };
  }

  /** Readiness is looked at when the loop polls, not when the wake-up happened (level-triggered epoll). */
  protected override kick(): void {
    if (this.polling) return;
    this.polling = true;
    setImmediate(() => {
      this.polling = false;
      const cb = this.cb;
      if (cb === null || this.closed) return;
      if (this.skErr !== 0) {
        this.cb = null; // libuv stops a poll handle on POLLERR
        cb(UV_EBADF);
      } else if (this.inbox.length > 0) {
        cb(0);
      } else {
        return; // not readable: the wake-up is gone
      }
      this.kick(); // a reported level-triggered item is polled again next time
    });
  }

  /** Nothing left to do: no wake-up pending and nothing that would make the socket readable. */
  get idle(): boolean {
    return !this.polling;
  }
}
