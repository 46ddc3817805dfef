// The inspection daemon: workers (one queue each), steering rules, metrics and health, and a lifecycle
// that never leaves the node's traffic stuck:
//   start: root? -> bind every queue (a busy queue fails here, before any rule is touched) -> listen
//          (/readyz says 503 until ready) -> remove stale rules of this instance -> mask preflight ->
//          install rules (always with bypass) -> ready
//   stop:  not ready -> in parallel: remove the rules, and let each worker verdict what it holds and
//          unbind -> exit, all within 2 s
//   worker dies: its socket is closed by the main thread (reclaim.ts) so the queue is unbound and its
//          traffic takes the bypass; the worker is restarted (retried with back-off) and binds again.
//   worker stuck (no snapshot for staleMs): terminated, then handled as a dead one.
//   crash: the rules carry the bypass flag, so traffic flows uninspected; the next start cleans up.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { InstallError, Installer, type BackendDecision } from '../install/backend.js';
import type { InstallSpec } from '../install/plan.js';
import { CAP_NET_ADMIN, hasCapability } from '../util/caps.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { healthz, readyz, type HealthState, type Phase } from './health.js';
import { createMetrics } from './metrics.js';
import { describeConflict, doctorPreflight, type MaskPreflight, type PreflightResult } from './preflight.js';
import type { WorkerInit, WorkerMessage, WorkerSnapshot } from './protocol.js';
import { reclaimQueue } from './reclaim.js';

/** The daemon cannot run here (no root, busy queue, missing kernel support, mask conflict): exit 2, one line. */
export class EnvironmentError extends Error {
  readonly code = 'ERR_ENV';
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

export interface DaemonOptions {
  config: Config;
  log: Logger;
  force?: boolean;
  preflight?: MaskPreflight;
  installer?: Installer;
  snapshotMs?: number;
}

interface WorkerSlot {
  index: number;
  queue: number;
  worker: Worker | null;
  snapshot: WorkerSnapshot | null;
  lastSeen: number;
  up: boolean;
  /** Found stuck and being terminated (counts as down until its replacement is up). */
  stuck: boolean;
  /** Workers started for this queue so far (the next one's incarnation). */
  spawns: number;
  restarts: number;
}

const STOP_BUDGET_MS = 1500;

export function installSpecOf(c: Config): InstallSpec {
  return { name: c.name, queues: c.queues, fanout: c.steering.fanout, bypassCtMark: c.mark.bypass_ctmark, bypassMark: c.mark.bypass_mark, rules: c.steeringRules };
}

export class Daemon {
  private readonly c: Config;
  private readonly log: Logger;
  private readonly installer: Installer;
  private readonly slots: WorkerSlot[];
  private readonly snapshotMs: number;
  private server: Server | null = null;
  private phase: Phase = 'starting';
  private stopping = false;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private backend: BackendDecision | null = null;
  preflightResult: PreflightResult | null = null;

  constructor(private readonly opts: DaemonOptions) {
    this.c = opts.config;
    this.log = opts.log;
    this.installer = opts.installer ?? new Installer();
    this.snapshotMs = opts.snapshotMs ?? 1000;
    this.slots = this.c.queues.map((queue, index) => ({ index, queue, worker: null, snapshot: null, lastSeen: 0, up: false, stuck: false, spawns: 0, restarts: 0 }));
  }

  /** Rules installed, not stopping, every worker holding its queue (what /readyz answers 200 to). */
  get ready(): boolean {
    return readyz(this.health()).status === 200;
  }

  private health(): HealthState {
    const workers = this.slots.map((s) => ({ queue: s.queue, up: s.up && !s.stuck, lastSeen: s.lastSeen }));
    return { phase: this.phase, workers, now: Date.now(), staleMs: this.staleMs };
  }

  /** A worker silent this long (it sends a snapshot every snapshotMs) is stuck. */
  private get staleMs(): number {
    return 5 * this.snapshotMs + 2000;
  }

  /**
   * A stuck worker (an endless loop, say) holds its queue while reading nothing: the packets it was
   * given wait, and so do the flows behind them. Terminate it; its exit is handled as a death (the
   * socket is taken back, the worker restarted).
   */
  private checkStuck(): void {
    const now = Date.now();
    for (const s of this.slots) {
      if (!s.up || s.stuck || s.worker === null || now - s.lastSeen <= this.staleMs) continue;
      this.log.error({ worker: s.index, queue: s.queue, silentMs: now - s.lastSeen }, `worker of queue ${s.queue} has not reported for ${now - s.lastSeen} ms: stuck, terminating it`);
      s.stuck = true;
      void s.worker.terminate();
    }
  }

  /** Where /metrics, /healthz and /readyz listen (after start). */
  get address(): string | null {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : null;
  }

  async start(): Promise<void> {
    try {
      await this.startSteps();
    } catch (e) {
      // A node that cannot take the rules (no NFQUEUE target, tools missing) is an environment problem: one line, exit 2.
      if (e instanceof InstallError) throw new EnvironmentError(e.message);
      throw e;
    }
  }

  private async startSteps(): Promise<void> {
    if (!hasCapability(CAP_NET_ADMIN)) throw new EnvironmentError('nfqguard run needs root (CAP_NET_ADMIN) to bind queues and install steering rules: run it as root or give the container NET_ADMIN');
    this.backend = await this.installer.chooseBackend(this.c.steering.backend);
    for (const n of this.backend.notes) this.log.info({ backend: this.backend.backend }, n);
    await this.startWorkers();
    try {
      if (this.c.metrics.enabled) await this.listen();
      let stale: string[] = [];
      try {
        stale = await this.installer.uninstall(this.c.name);
      } catch (e) {
        // A backend that cannot be listed (legacy tables without CAP_NET_RAW): the rest was cleaned up.
        if (!(e instanceof InstallError) || !this.opts.force) throw e;
        this.log.warn(`stale-rule clean-up incomplete, ignored (--force): ${e.message}`);
      }
      if (stale.length > 0) this.log.warn({ removed: stale }, `removed ${stale.length} stale rules of instance ${this.c.name} (a previous run did not stop cleanly)`);
      // After the stale clean-up, so that a killed run's own rules are not taken for a conflict.
      await this.checkMask();
      await this.installer.install(installSpecOf(this.c), this.backend.backend);
      const drift = await this.installer.status(installSpecOf(this.c), this.backend.backend);
      for (const s of drift.shadowed) this.log.warn(s);
    } catch (e) {
      await this.stop();
      throw e;
    }
    if (this.stopping) return; // stopped while starting
    this.phase = 'running';
    this.watchdog = setInterval(() => this.checkStuck(), this.snapshotMs);
    this.watchdog.unref();
    this.log.info({ queues: this.c.queues, backend: this.backend.backend, metrics: this.address }, `ready: ${this.c.queues.length} worker(s), queues ${this.c.queues.join(',')}, ${this.c.rules.length} detection rules`);
  }

  private async checkMask(): Promise<void> {
    const pf = this.opts.preflight ?? doctorPreflight;
    const r = await pf.check({ markMask: this.c.mark.mask, ctMarkMask: this.c.mark.bypass_ctmark, name: this.c.name });
    this.preflightResult = r;
    for (const n of r.notes) this.log.info({ checker: r.checker }, n);
    const unreadable = r.unreadable ?? [];
    if (unreadable.length > 0) {
      if (this.opts.force) {
        for (const u of unreadable) this.log.warn({ checker: r.checker }, `mask check blind to a part of the ruleset, ignored (--force): ${u}`);
      } else {
        throw new EnvironmentError(
          `could not read all of this node's ruleset, so the owned mark mask cannot be checked (${r.checker}); refusing to start (--force to override)`,
          unreadable,
        );
      }
    }
    if (r.conflicts.length === 0) return;
    const details = r.conflicts.map(describeConflict);
    if (this.opts.force) {
      for (const d of details) this.log.warn({ checker: r.checker }, `mask conflict ignored (--force): ${d}`);
      return;
    }
    throw new EnvironmentError(`the owned mark mask conflicts with ${r.conflicts.length} rule(s) on this node (checked by ${r.checker}); refusing to start (--force to override)`, details);
  }

  private spawn(slot: WorkerSlot): Promise<void> {
    const init: WorkerInit = {
      index: slot.index,
      queue: slot.queue,
      incarnation: slot.spawns++,
      rules: this.c.rules,
      markMask: this.c.mark.mask,
      bypassCtMark: this.c.mark.bypass_ctmark,
      bypassMark: this.c.mark.bypass_mark,
      copyRange: this.c.queue.copy_range,
      maxLen: this.c.queue.max_len,
      conntrack: this.c.mark.bypass_ctmark !== 0 && this.c.mark.bypass_mark === 0 && this.c.rules.some((r) => r.action === 'bypass'),
      failOpen: this.c.queue.fail_open,
      maxEventsPerSecond: this.c.log.max_events_per_second,
      snapshotMs: this.snapshotMs,
    };
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    slot.worker = w;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      w.on('message', (m: WorkerMessage) => {
        slot.lastSeen = Date.now();
        switch (m.type) {
          case 'ready':
            slot.up = true;
            if (slot.spawns > 1) this.log.info({ worker: slot.index, queue: slot.queue, restarts: slot.restarts }, `worker restarted: queue ${slot.queue} is bound and inspected again`);
            settled = true;
            resolve();
            break;
          case 'error':
            settled = true;
            reject(this.workerError(slot, m));
            break;
          case 'event':
            this.log.info({ event: 'detection', ...m.event }, `rule ${m.event.rule} matched: ${m.event.action}`);
            break;
          case 'warning':
            this.log.warn({ worker: slot.index, queue: slot.queue }, m.message);
            break;
          case 'snapshot':
          case 'stopped':
            slot.snapshot = m.snapshot;
            break;
        }
      });
      w.on('error', (e) => {
        this.log.error({ worker: slot.index, queue: slot.queue, err: e.message }, 'worker failed');
        if (!settled) {
          settled = true;
          reject(e);
        }
      });
      w.on('exit', (code) => {
        const wasUp = slot.up;
        slot.up = false;
        slot.stuck = false;
        slot.worker = null;
        if (!settled) {
          settled = true;
          reject(new EnvironmentError(`worker for queue ${slot.queue} exited (code ${code}) before binding its queue`));
        }
        if (wasUp && !this.stopping) {
          this.log.error({ worker: slot.index, queue: slot.queue, code }, `worker exited (code ${code})`);
          this.restart(slot);
        }
      });
    });
  }

  /**
   * A worker that died while running. Its socket outlives the thread (an fd of the process), holding
   * the queue with nobody reading: close it so the queue is unbound and the traffic takes the bypass,
   * then bring a worker back, retrying with back-off until one binds (or the daemon stops).
   */
  private restart(slot: WorkerSlot): void {
    if (this.stopping) return;
    try {
      const r = reclaimQueue(slot.queue);
      if (r) {
        this.log.warn(
          { worker: slot.index, queue: slot.queue, portId: r.portId, fd: r.fd, held: r.waiting, accepted: r.accepted },
          `queue ${slot.queue} was still bound to the dead worker's socket: ${r.accepted ? `accepted the ${r.waiting} packets it held and ` : ''}closed it`,
        );
      }
    } catch (e) {
      this.log.error({ queue: slot.queue }, `could not release the dead worker's socket: ${(e as Error).message}`);
    }
    slot.restarts++;
    const delay = Math.min(5000, 200 * slot.restarts);
    this.log.error({ worker: slot.index, queue: slot.queue, restarts: slot.restarts }, `traffic of queue ${slot.queue} is bypassed uninspected; restarting its worker in ${delay} ms`);
    setTimeout(() => {
      if (this.stopping) return;
      this.spawn(slot).catch((e: Error) => {
        this.log.error({ queue: slot.queue }, `restart failed: ${e.message}`);
        this.restart(slot);
      });
    }, delay).unref();
  }

  private workerError(slot: WorkerSlot, m: Extract<WorkerMessage, { type: 'error' }>): EnvironmentError {
    if (m.code === 'EBUSY_QUEUE') return new EnvironmentError(m.message);
    if (m.code === 'ENOCT_QUEUE') {
      return new EnvironmentError(
        `queue ${slot.queue}: this kernel cannot set a connection mark from a verdict (no CONFIG_NETFILTER_NETLINK_GLUE_CT), so action bypass would never take effect: set mark.bypass_mark to an owned packet bit (bypass by NF_REPEAT; see deploy/nfqguard.yaml)`,
      );
    }
    if (m.errno === 2 || m.errno === 93 || m.errno === 97 || m.errno === 95) {
      return new EnvironmentError(`queue ${slot.queue}: the kernel has no nfnetlink_queue support (${m.message}): load the nfnetlink_queue module or use a kernel with CONFIG_NETFILTER_NETLINK_QUEUE`);
    }
    return new EnvironmentError(`queue ${slot.queue}: ${m.message}`);
  }

  private async startWorkers(): Promise<void> {
    const results = await Promise.allSettled(this.slots.map((s) => this.spawn(s)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stopWorkers();
      throw failed.reason instanceof EnvironmentError ? failed.reason : new EnvironmentError(String((failed.reason as Error).message ?? failed.reason));
    }
  }

  private async listen(): Promise<void> {
    const reg = createMetrics({
      snapshots: () => this.slots.map((s) => s.snapshot).filter((s): s is WorkerSnapshot => s !== null),
      rules: this.c.rules.map((r) => ({ id: r.id, action: r.action })),
      queues: this.c.queues,
      ready: () => this.ready,
      workersUp: () => this.slots.filter((s) => s.up).length,
      restarts: () => this.slots.map((s) => ({ index: s.index, queue: s.queue, restarts: s.restarts })),
    });
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        reg.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': reg.contentType });
            res.end(text);
          },
          (e: Error) => {
            res.writeHead(500);
            res.end(e.message);
          },
        );
      } else if (path === '/healthz' || path === '/readyz') {
        const a = (path === '/healthz' ? healthz : readyz)(this.health());
        res.writeHead(a.status, { 'content-type': 'text/plain' });
        res.end(`${a.body}\n`);
      } else {
        res.writeHead(404);
        res.end('try /metrics, /healthz or /readyz\n');
      }
    });
    const [host, portText] = splitHostPort(this.c.metrics.listen);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new EnvironmentError(`cannot listen on ${this.c.metrics.listen} for metrics: ${e.code ?? e.message}; pick another metrics.listen address`)),
      );
      server.listen(Number(portText), host, () => resolve());
    });
    this.server = server;
  }

  private async stopWorkers(): Promise<void> {
    await Promise.all(
      this.slots.map(async (s) => {
        const w = s.worker;
        if (!w) return;
        // An exit asked for is not a crash: without this, a start that failed on one queue logged the
        // other workers' exits as crashes and scheduled restarts.
        s.up = false;
        const exited = new Promise<void>((r) => w.once('exit', () => r()));
        w.postMessage({ type: 'stop' });
        const timer = setTimeout(() => void w.terminate(), STOP_BUDGET_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Stops within 2 s: rules removed, every packet held verdicted, queues unbound. Never throws. */
  async stop(): Promise<{ removed: string[] }> {
    if (this.stopping) return { removed: [] };
    this.stopping = true;
    this.phase = 'stopping';
    if (this.watchdog !== null) clearInterval(this.watchdog);
    const t0 = Date.now();
    let removed: string[] = [];
    const uninstall = this.installer
      .uninstall(this.c.name)
      .then((r) => {
        removed = r;
      })
      .catch((e: Error) => this.log.error(`removing the steering rules failed: ${e.message}; run \`nfqguard rules uninstall --config ${this.c.source}\``));
    await Promise.race([Promise.all([uninstall, this.stopWorkers()]), new Promise((r) => setTimeout(r, STOP_BUDGET_MS + 200).unref())]);
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    const totals = this.slots.reduce((a, s) => a + (s.snapshot?.packets ?? 0), 0);
    this.log.info({ removed: removed.length, packets: totals, ms: Date.now() - t0 }, 'stopped: steering rules removed, queues unbound');
    return { removed };
  }
}

export function splitHostPort(listen: string): [string, string] {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(listen);
  return m ? [m[1], m[2]] : ['127.0.0.1', '9477'];
}
