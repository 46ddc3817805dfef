// The per-packet work of a worker, apart from the thread plumbing so it can be benchmarked and tested
// directly: parse the headers, run the detection engine, count, and return the rule's decision.
import { Engine } from '../detect/engine.js';
import { hex32 } from '../netlink/bytes.js';
import { PacketHeaders, PARSE_OK, protocolName } from '../packet/headers.js';
import type { PacketView } from '../nfqueue/packet.js';
import type { Decision } from '../nfqueue/verdict.js';
import { LATENCY_BUCKETS, type DetectionEvent, type WorkerInit, type WorkerSnapshot } from './protocol.js';

const ACCEPT: Readonly<Decision> = Object.freeze({ verdict: 'accept' });
const FAMILY: Record<number, string> = { 4: 'ipv4', 6: 'ipv6' };

export class Inspector {
  readonly engine: Engine;
  private readonly h = new PacketHeaders();
  private readonly perRule: Float64Array;
  private readonly detections: Float64Array;
  private readonly buckets = new Float64Array(LATENCY_BUCKETS.length);
  private readonly bounds = Float64Array.from(LATENCY_BUCKETS.map((s) => s * 1000)); // ms, as performance.now()
  private latencySum = 0;
  private latencyCount = 0;
  private packets = 0;
  private bytes = 0;
  private parseErrors = 0;
  private repeated = 0;
  private eventsThisSecond = 0;
  private eventSecond = 0;
  private eventsSuppressed = 0;

  constructor(
    private readonly init: WorkerInit,
    private readonly onEvent: (e: DetectionEvent) => void,
  ) {
    this.engine = new Engine(init.rules, { markMask: init.markMask, bypassCtMark: init.bypassCtMark, bypassMark: init.bypassMark });
    this.perRule = new Float64Array(this.engine.rules.length + 1);
    this.detections = new Float64Array(this.engine.rules.length);
  }

  /** The queue's packet handler. */
  handle(p: PacketView): Readonly<Decision> {
    const t0 = performance.now();
    this.packets++;
    const bytes = p.payload;
    let decision: Readonly<Decision> = ACCEPT;
    let decided = -1;
    // A packet back from a bypass NF_REPEAT carries the bypass bit: it was decided already (and must
    // never be repeated twice, whatever the steering rules do).
    if (this.init.bypassMark !== 0 && (p.mark & this.init.bypassMark) !== 0) {
      this.repeated++;
    } else if (bytes !== undefined) {
      const h = this.h;
      if (h.parse(bytes) !== PARSE_OK) this.parseErrors++;
      this.bytes += h.ipLength > 0 ? h.ipLength : bytes.length;
      const res = this.engine.evaluate(h, p.hook);
      decided = res.decided;
      if (decided >= 0) decision = this.engine.rules[decided].decision;
      for (let i = 0; i < res.loggedCount; i++) {
        const r = res.logged[i];
        this.detections[r]++;
        this.report(r, p);
      }
    }
    this.perRule[decided < 0 ? this.perRule.length - 1 : decided]++;
    const dt = performance.now() - t0;
    this.latencySum += dt;
    this.latencyCount++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (dt <= b[i]) {
        this.buckets[i]++;
        break;
      }
    }
    return decision;
  }

  private report(r: number, p: PacketView): void {
    const sec = Math.floor(Date.now() / 1000);
    if (sec !== this.eventSecond) {
      this.eventSecond = sec;
      this.eventsThisSecond = 0;
    }
    if (++this.eventsThisSecond > this.init.maxEventsPerSecond) {
      this.eventsSuppressed++;
      return;
    }
    const h = this.h;
    const rule = this.engine.rules[r];
    const e: DetectionEvent = {
      rule: rule.id,
      action: rule.action,
      worker: this.init.index,
      queue: this.init.queue,
      hook: p.hookName,
      family: FAMILY[h.version] ?? 'unknown',
      protocol: protocolName(h.protocol),
      src: h.srcAddress(),
      dst: h.dstAddress(),
      mark: hex32(p.mark),
    };
    if (h.sport >= 0) e.sport = h.sport;
    if (h.dport >= 0) e.dport = h.dport;
    const ctx = this.engine.context;
    const http = ctx.http();
    if (http) {
      if (http.host !== undefined) e.http_host = http.host;
      e.http_path = http.path.slice(0, 256);
    }
    const sni = ctx.sni();
    if (sni !== null) e.tls_sni = sni;
    const dns = ctx.dns();
    if (dns !== null) e.dns_name = dns;
    this.onEvent(e);
  }

  snapshot(queueStats: Record<string, number>): WorkerSnapshot {
    // Cumulative buckets, as Prometheus wants them.
    const cum: number[] = [];
    let acc = 0;
    for (const v of this.buckets) cum.push((acc += v));
    return {
      index: this.init.index,
      queue: this.init.queue,
      packets: this.packets,
      bytes: this.bytes,
      perRule: [...this.perRule],
      detections: [...this.detections],
      eventsSuppressed: this.eventsSuppressed,
      parseErrors: this.parseErrors,
      repeated: this.repeated,
      latencyBuckets: cum,
      latencySum: this.latencySum / 1000,
      latencyCount: this.latencyCount,
      queueStats,
    };
  }
}
