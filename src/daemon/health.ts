// What /healthz and /readyz answer, from the daemon's state (pure, so every case is unit-tested).
//   /readyz (readiness): 200 only while the daemon inspects everything it steers: the rules are
//     installed, it is not stopping, and every worker holds its queue. A dead worker's traffic takes
//     the bypass uninspected until it is back, so the pod is not ready meanwhile.
//   /healthz (liveness): 503 while starting or stopping, and when a worker is down or has not reported
//     for `staleMs` (a stuck thread); a kubelet that sees it fail for long restarts the pod.

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

export function readyz(s: HealthState): ProbeAnswer {
  if (s.phase !== 'running') return { status: 503, body: PHASE_TEXT[s.phase] };
  const d = down(s);
  if (d.length > 0) return { status: 503, body: `workers not running: queues ${d.join(',')} (their traffic is bypassed uninspected until they are back)` };
  return { status: 200, body: 'ready' };
}

export function healthz(s: HealthState): ProbeAnswer {
  if (s.phase !== 'running') return { status: 503, body: PHASE_TEXT[s.phase] };
  const d = down(s);
  if (d.length > 0) return { status: 503, body: `workers not running: queues ${d.join(',')}` };
  const stale = s.workers.filter((w) => s.now - w.lastSeen > s.staleMs).map((w) => w.queue);
  if (stale.length > 0) return { status: 503, body: `workers not reporting for over ${s.staleMs} ms: queues ${stale.join(',')}` };
  return { status: 200, body: 'ok' };
}
