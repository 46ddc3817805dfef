// What /healthz and /readyz answer, from the daemon's state (pure, so every case is unit-tested).
// Both say 200 only while the daemon inspects everything it steers: the rules are installed, it is not
// stopping, and every worker holds its queue and reports (a worker silent for `staleMs` is stuck). A
// dead worker's traffic takes the bypass uninspected until it is back, a stuck one's waits until it is
// terminated. The same state, for two readers: the kubelet marks the pod not ready on /readyz, and
// restarts the container when /healthz fails for long (the daemon restarts workers itself well before).

export type Phase = 'starting' | 'running' | 'stopping';

export interface HealthState {
  phase: Phase;
  workers: ReadonlyArray<{ queue: number; up: boolean; lastSeen: number }>;
  now: number;
  /** A worker silent for longer than this (ms) counts as stuck. */
  staleMs: number;
}

export interface ProbeAnswer {
  status: 200 | 503;
  body: string;
}

const PHASE_TEXT: Record<Exclude<Phase, 'running'>, string> = {
  starting: 'starting: queues and steering rules not in place yet',
  stopping: 'stopping: removing the steering rules',
};

function down(s: HealthState): number[] {
  return s.workers.filter((w) => !w.up).map((w) => w.queue);
}

function problem(s: HealthState): string | null {
  if (s.phase !== 'running') return PHASE_TEXT[s.phase];
  const d = down(s);
  if (d.length > 0) return `workers not running: queues ${d.join(',')} (their traffic is bypassed uninspected until they are back)`;
  const stale = s.workers.filter((w) => s.now - w.lastSeen > s.staleMs).map((w) => w.queue);
  if (stale.length > 0) return `workers not reporting for over ${s.staleMs} ms: queues ${stale.join(',')} (stuck; they are being terminated)`;
  return null;
}

export function readyz(s: HealthState): ProbeAnswer {
  const p = problem(s);
  return p === null ? { status: 200, body: 'ready' } : { status: 503, body: p };
}

export function healthz(s: HealthState): ProbeAnswer {
  const p = problem(s);
  return p === null ? { status: 200, body: 'ok' } : { status: 503, body: p };
}
