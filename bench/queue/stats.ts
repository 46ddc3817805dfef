// Pure parts of the queue benchmark: counters from /proc and the arithmetic on them. No I/O here, so
// test/unit/bench/ can check them without root.
import { parseProcQueues, type ProcQueueRow } from '../../src/nfqueue/proc.js';

/** Bytes of IPv4 + UDP headers in front of every datagram's payload. */
export const IPV4_UDP_HEADERS = 28;

export interface DevCounters {
  rxPackets: number;
  rxBytes: number;
}

/** Receive counters of one interface from /proc/net/dev text, or null when it is not listed. */
export function parseNetDev(text: string, iface: string): DevCounters | null {
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() !== iface) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (f.length < 2 || !Number.isFinite(f[0]) || !Number.isFinite(f[1])) return null;
    return { rxBytes: f[0], rxPackets: f[1] };
  }
  return null;
}

/**
 * Datagrams (GSO segments) that crossed loopback between two readings. Loopback counts a GSO
 * packet once, with all its payload behind one IPv4+UDP header, so with every datagram carrying
 * `payload` bytes: segments = (bytes - 28 * packets) / payload.
 */
export function loopbackSegments(before: DevCounters, after: DevCounters, payload: number): number {
  const packets = after.rxPackets - before.rxPackets;
  const bytes = after.rxBytes - before.rxBytes;
  return Math.round((bytes - IPV4_UDP_HEADERS * packets) / payload);
}

/** The row of one queue in /proc/net/netfilter/nfnetlink_queue text (null: the queue is not bound). */
export function queueRow(text: string, queue: number): ProcQueueRow | null {
  return parseProcQueues(text).find((r) => r.queue === queue) ?? null;
}

/**
 * Packets the consumer has given a verdict, as the kernel counts them (queue without fail-open):
 * every packet handed to the socket got an id (id_sequence); those the socket could not take were
 * dropped (user_dropped); those still waiting have no verdict yet.
 */
export function verdicted(row: ProcQueueRow): number {
  return row.idSequence - row.userDropped - row.waiting;
}

/** Percentile by nearest rank (p in 0..100) of an unsorted array; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Median (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** a / b, or NaN when b is not a positive number. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN;
}

/** utime + stime in clock ticks of /proc/PID/stat text (all threads of the process). */
export function cpuTicks(statText: string): number {
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const close = statText.lastIndexOf(')');
  if (close < 0) return NaN;
  const f = statText.slice(close + 2).split(' ');
  // After ')': state is field 3, so utime (field 14) and stime (15) are at indexes 11 and 12.
  return Number(f[11]) + Number(f[12]);
}

/** Packet counters of the rules of one chain, in order, from `iptables -nvxL CHAIN` text. */
export function ruleCounters(text: string): { packets: number; target: string }[] {
  const rules: { packets: number; target: string }[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3 || !/^\d+$/.test(f[0]) || !/^\d+$/.test(f[1])) continue;
    rules.push({ packets: Number(f[0]), target: f[2] });
  }
  return rules;
}
