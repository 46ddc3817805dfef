// Prometheus metrics of the daemon (prom-client). Workers count in plain numbers on the hot path and
// send cumulative snapshots; the main thread's registry renders them at scrape time through
// collectors (objects with get(), as prom-client's Registry accepts), so the per-packet cost is a few
// increments. Queue drops come from /proc/net/netfilter/nfnetlink_queue and our sockets' drops from
// /proc/net/netlink, read at scrape time. The kernel counts queue_dropped and user_dropped only WITHOUT
// fail-open (net/netfilter/nfnetlink_queue.c: with NFQA_CFG_F_FAIL_OPEN it accepts the packet and counts
// nothing); the socket's Drops counts receive-buffer overruns either way.
import { readFileSync } from 'node:fs';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { PROC_NFNETLINK_QUEUE, parseProcQueues, type ProcQueueRow } from '../nfqueue/proc.js';
import { parseProcNetlink } from './reclaim.js';
import { NETLINK_NETFILTER } from '../netlink/constants.js';
import { LATENCY_BUCKETS, type WorkerSnapshot } from './protocol.js';

type Labels = Record<string, string | number>;
interface Value {
  labels: Labels;
  value: number;
  metricName?: string;
}

class Collector {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly values: () => Value[],
  ) {}
  get(): { name: string; help: string; type: string; aggregator: string; values: Value[] } {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }
  reset(): void {}
}

export interface MetricsSource {
  snapshots(): WorkerSnapshot[];
  /** Rule ids and actions in rule order. */
  rules: Array<{ id: string; action: string }>;
  queues: number[];
  ready(): boolean;
  workersUp(): number;
  /** Worker restarts per queue since the daemon started. */
  restarts?(): Array<{ index: number; queue: number; restarts: number }>;
  /** Reads /proc/net/netfilter/nfnetlink_queue (a parameter so tests can hand text in). */
  readProc?: () => string;
  /** Reads /proc/net/netlink. */
  readNetlink?: () => string;
}

const NETLINK_ERROR_KINDS: Array<[string, string]> = [
  ['enobufs', 'enobufs'],
  ['recvErrors', 'recv'],
  ['sendErrors', 'send'],
  ['kernelErrors', 'kernel'],
  ['malformed', 'malformed'],
  ['truncated', 'truncated'],
  ['ownershipErrors', 'ownership'],
  ['handlerErrors', 'handler'],
];

export function createMetrics(src: MetricsSource): Registry {
  const reg = new Registry();
  collectDefaultMetrics({ register: reg, prefix: 'nfqguard_process_' });
  const per = (f: (s: WorkerSnapshot) => Value[]) => () => src.snapshots().flatMap(f);
  const wl = (s: WorkerSnapshot): Labels => ({ worker: s.index, queue: s.queue });
  const add = (c: Collector): void => reg.registerMetric(c as never);
  add(new Collector('nfqguard_packets_total', 'Packets received from the queue', 'counter', per((s) => [{ labels: wl(s), value: s.packets }])));
  add(new Collector('nfqguard_bytes_total', 'Bytes of the packets inspected (IP length)', 'counter', per((s) => [{ labels: wl(s), value: s.bytes }])));
  add(
    new Collector(
      'nfqguard_verdicts_total',
      'Verdicts by deciding rule and action (rule "none": no rule matched, accepted)',
      'counter',
      per((s) =>
        s.perRule.flatMap((v, i) => {
          const r = src.rules[i];
          return v === 0 && r !== undefined ? [] : [{ labels: { ...wl(s), rule: r?.id ?? 'none', action: r?.action === 'log' || r === undefined ? 'accept' : r.action }, value: v }];
        }),
      ),
    ),
  );
  add(
    new Collector(
      'nfqguard_detections_total',
      'Rule matches reported as detection events (logged or suppressed)',
      'counter',
      per((s) => s.detections.flatMap((v, i) => (v === 0 ? [] : [{ labels: { ...wl(s), rule: src.rules[i].id, action: src.rules[i].action }, value: v }]))),
    ),
  );
  add(new Collector('nfqguard_events_suppressed_total', 'Detection events not logged because of log.max_events_per_second', 'counter', per((s) => [{ labels: wl(s), value: s.eventsSuppressed }])));
  add(new Collector('nfqguard_parse_errors_total', 'Packets whose IP/L4 headers could not be fully parsed', 'counter', per((s) => [{ labels: wl(s), value: s.parseErrors }])));
  add(
    new Collector(
      'nfqguard_netlink_errors_total',
      'Netlink problems by kind: enobufs (kernel dropped messages for us), recv, send, kernel (verdict refused), malformed, truncated, ownership, handler',
      'counter',
      per((s) => NETLINK_ERROR_KINDS.map(([k, kind]) => ({ labels: { ...wl(s), kind }, value: s.queueStats[k] ?? 0 }))),
    ),
  );
  add(
    new Collector(
      'nfqguard_verdict_latency_seconds',
      'Time from handing a packet to the inspector to its decision (parse + detection), per packet',
      'histogram',
      per((s) => [
        ...LATENCY_BUCKETS.map((le, i) => ({ labels: { ...wl(s), le }, value: s.latencyBuckets[i] ?? 0, metricName: 'nfqguard_verdict_latency_seconds_bucket' })),
        { labels: { ...wl(s), le: '+Inf' }, value: s.latencyCount, metricName: 'nfqguard_verdict_latency_seconds_bucket' },
        { labels: wl(s), value: s.latencySum, metricName: 'nfqguard_verdict_latency_seconds_sum' },
        { labels: wl(s), value: s.latencyCount, metricName: 'nfqguard_verdict_latency_seconds_count' },
      ]),
    ),
  );
  const proc = (): ProcQueueRow[] => {
    try {
      const rows = parseProcQueues(src.readProc ? src.readProc() : readFileSync(PROC_NFNETLINK_QUEUE, 'utf8'));
      return rows.filter((r) => src.queues.includes(r.queue));
    } catch {
      return [];
    }
  };
  const socketDrops = (): Value[] => {
    try {
      const rows = proc();
      if (rows.length === 0) return [];
      const socks = parseProcNetlink(src.readNetlink ? src.readNetlink() : readFileSync('/proc/net/netlink', 'utf8')).filter((s) => s.protocol === NETLINK_NETFILTER);
      return rows.flatMap((r) => {
        const s = socks.find((x) => x.portId === r.portId);
        return s ? [{ labels: { queue: r.queue }, value: s.drops }] : [];
      });
    } catch {
      return [];
    }
  };
  add(
    new Collector(
      'nfqguard_queue_dropped',
      'Packets the kernel dropped because the queue was full (queue.max_len). Counted only with fail_open off: with fail-open the kernel accepts them uninspected and counts nothing (/proc; resets when the queue is rebound)',
      'gauge',
      () => proc().map((r) => ({ labels: { queue: r.queue }, value: r.queueDropped })),
    ),
  );
  add(
    new Collector(
      'nfqguard_queue_user_dropped',
      'Packets the kernel dropped because it could not deliver them to us over netlink (receive buffer full, ENOBUFS). Counted only with fail_open off; see nfqguard_queue_socket_drops (/proc; resets when the queue is rebound)',
      'gauge',
      () => proc().map((r) => ({ labels: { queue: r.queue }, value: r.userDropped })),
    ),
  );
  add(
    new Collector(
      'nfqguard_queue_socket_drops',
      "Packet messages the kernel could not put in the queue socket's receive buffer, with or without fail-open (with fail-open these packets were accepted uninspected; /proc/net/netlink Drops of the socket bound to the queue)",
      'gauge',
      socketDrops,
    ),
  );
  add(new Collector('nfqguard_queue_waiting', 'Packets waiting in the kernel queue for a verdict (/proc)', 'gauge', () => proc().map((r) => ({ labels: { queue: r.queue }, value: r.waiting }))));
  add(new Collector('nfqguard_workers_up', 'Workers with a bound queue', 'gauge', () => [{ labels: {}, value: src.workersUp() }]));
  add(
    new Collector('nfqguard_worker_restarts_total', 'Workers that died and were restarted (their traffic was bypassed uninspected meanwhile)', 'counter', () =>
      (src.restarts?.() ?? []).map((r) => ({ labels: { worker: r.index, queue: r.queue }, value: r.restarts })),
    ),
  );
  add(new Collector('nfqguard_ready', '1 when the steering rules are installed and every worker holds its queue (as /readyz)', 'gauge', () => [{ labels: {}, value: src.ready() ? 1 : 0 }]));
  return reg;
}
