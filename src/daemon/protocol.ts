// Messages between the daemon's main thread and its workers (one queue per worker thread).
import type { RuleSpec } from '../detect/rules.js';

export interface WorkerInit {
  index: number;
  queue: number;
  /** 0 for the first worker of this queue, n for its n-th restart. */
  incarnation: number;
  rules: RuleSpec[];
  markMask: number;
  bypassCtMark: number;
  bypassMark: number;
  copyRange: number;
  maxLen: number;
  /**
   * Ask for the queue's conntrack flag: only when bypass actions set the ctmark in the verdict (NFQA_CT),
   * so that a kernel which would ignore that attribute (no CONFIG_NETFILTER_NETLINK_GLUE_CT) refuses at bind.
   */
  conntrack: boolean;
  failOpen: boolean;
  /** Detection events sent to the main thread per second (the rest are counted). */
  maxEventsPerSecond: number;
  /** Milliseconds between metric snapshots. */
  snapshotMs: number;
}

/** Upper bounds (seconds) of the verdict latency histogram buckets. */
export const LATENCY_BUCKETS = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 5e-3, 1e-2];

export interface WorkerSnapshot {
  index: number;
  queue: number;
  packets: number;
  bytes: number;
  /** Packets per deciding rule; the last slot counts packets no rule decided (default accept). */
  perRule: number[];
  /** Matches per rule that logged (log rules and deciding rules with log on). */
  detections: number[];
  eventsSuppressed: number;
  parseErrors: number;
  /** Packets that came back from a bypass NF_REPEAT still in the queue (accepted as they were). */
  repeated: number;
  /** Cumulative bucket counts (same order as LATENCY_BUCKETS) and their sum and count. */
  latencyBuckets: number[];
  latencySum: number;
  latencyCount: number;
  /** NfQueue stats (packets, verdicts, enobufs, recvErrors, sendErrors, kernelErrors, ...). */
  queueStats: Record<string, number>;
}

export interface DetectionEvent {
  rule: string;
  action: string;
  worker: number;
  queue: number;
  hook: string;
  family: string;
  protocol: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  mark: string;
  http_host?: string;
  http_path?: string;
  tls_sni?: string;
  dns_name?: string;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'error'; code: string; errno?: number; message: string }
  | { type: 'event'; event: DetectionEvent }
  | { type: 'warning'; message: string }
  | { type: 'snapshot'; snapshot: WorkerSnapshot }
  | { type: 'stopped'; snapshot: WorkerSnapshot };

export type MainMessage = { type: 'stop' };
