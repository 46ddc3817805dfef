// Taking back the queue of a worker thread that died.
//
// A worker's netlink socket is a plain fd of the process: when the thread dies (an uncaught exception,
// terminate()) nothing closes it, so the kernel keeps the queue bound to a socket nobody reads. Packets
// then wait in the queue (the rules' bypass flag applies only to an UNBOUND queue), the connections
// behind them stall, and a restarted worker cannot bind (EPERM: already bound). So the main thread
// finds that socket -- queue -> port id (/proc/net/netfilter/nfnetlink_queue) -> inode
// (/proc/net/netlink) -> fd (/proc/self/fd) -- accepts every packet it holds with one batch verdict
// (uninspected, as the bypass would), and closes it: the queue is unbound, traffic takes the bypass,
// and the restarted worker can bind. Only a socket of this process whose port id holds the queue is
// ever touched.
import { closeSync, readdirSync, readFileSync, readlinkSync, writeSync } from 'node:fs';
import { NETLINK_NETFILTER } from '../netlink/constants.js';
import { MessageWriter } from '../netlink/writer.js';
import { NF_ACCEPT } from '../nfqueue/constants.js';
import { PROC_NFNETLINK_QUEUE, parseProcQueues } from '../nfqueue/proc.js';
import { encodeBatchVerdict } from '../nfqueue/verdict.js';

export interface NetlinkSocketRow {
  protocol: number;
  portId: number;
  drops: number;
  inode: number;
}

/** /proc/net/netlink: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode (net/netlink/af_netlink.c). */
export function parseProcNetlink(text: string): NetlinkSocketRow[] {
  const rows: NetlinkSocketRow[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^[0-9a-f]+$/.test(f[0]) || !/^\d+$/.test(f[1])) continue;
    rows.push({ protocol: Number(f[1]), portId: Number(f[2]), drops: Number(f[8]), inode: Number(f[9]) });
  }
  return rows;
}

export interface OrphanSocket {
  queue: number;
  portId: number;
  fd: number;
  /** Last packet id the kernel handed out on the queue: the batch verdict covers every id up to it. */
  lastId: number;
  /** Packets waiting in the queue when it was found. */
  waiting: number;
}

/** Finds the fd of this process that holds `queue` (null: the queue is not bound by a socket of ours). */
export function findQueueSocket(queue: number, queuesText: string, netlinkText: string, fdLinks: ReadonlyMap<number, string>): OrphanSocket | null {
  const row = parseProcQueues(queuesText).find((r) => r.queue === queue);
  if (!row) return null;
  const sock = parseProcNetlink(netlinkText).find((s) => s.protocol === NETLINK_NETFILTER && s.portId === row.portId);
  if (!sock) return null;
  const want = `socket:[${sock.inode}]`;
  for (const [fd, link] of fdLinks) if (link === want) return { queue, portId: row.portId, fd, lastId: row.idSequence, waiting: row.waiting };
  return null;
}

function fdLinks(): Map<number, string> {
  const links = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      links.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // closed meanwhile
    }
  }
  return links;
}

export interface Reclaimed extends OrphanSocket {
  /** False when the batch verdict could not be sent (the held packets are then dropped by the unbind). */
  accepted: boolean;
}

/**
 * Call only once the worker that held `queue` has exited (its thread can no longer use the fd). Returns
 * what was done, or null when no socket of this process holds the queue. Throws only on unreadable /proc.
 */
export function reclaimQueue(queue: number): Reclaimed | null {
  const orphan = findQueueSocket(
    queue,
    readFileSync(PROC_NFNETLINK_QUEUE, 'utf8'),
    readFileSync('/proc/net/netlink', 'utf8'),
    fdLinks(),
  );
  if (!orphan) return null;
  let accepted = false;
  if (orphan.lastId > 0) {
    const w = new MessageWriter(64);
    encodeBatchVerdict(w, 1, queue, orphan.lastId, NF_ACCEPT, false, 0);
    try {
      accepted = writeSync(orphan.fd, w.buf, 0, w.length) === w.length;
    } catch {
      accepted = false;
    }
  }
  // Closing the last reference releases the port id; the kernel then destroys the queue instance.
  closeSync(orphan.fd);
  return { ...orphan, accepted };
}
