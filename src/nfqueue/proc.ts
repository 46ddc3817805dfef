// /proc/net/netfilter/nfnetlink_queue: one line per bound queue in the reader's network namespace.
// Columns (net/netfilter/nfnetlink_queue.c seq_show): queue number, peer port id, packets waiting,
// copy mode, copy range, queue_dropped (queue full), user_dropped (netlink delivery failed, ENOBUFS),
// id_sequence (last packet id handed out), and a constant 1.

export const PROC_NFNETLINK_QUEUE = '/proc/net/netfilter/nfnetlink_queue';

export interface ProcQueueRow {
  queue: number;
  portId: number;
  waiting: number;
  copyMode: number;
  copyRange: number;
  queueDropped: number;
  userDropped: number;
  idSequence: number;
}

export function parseProcQueues(text: string): ProcQueueRow[] {
  const rows: ProcQueueRow[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^\d+$/.test(f[0])) continue;
    const n = f.map(Number);
    rows.push({
      queue: n[0],
      portId: n[1],
      waiting: n[2],
      copyMode: n[3],
      copyRange: n[4],
      queueDropped: n[5],
      userDropped: n[6],
      idSequence: n[7],
    });
  }
  return rows;
}
