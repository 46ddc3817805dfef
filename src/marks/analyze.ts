// The doctor's analysis: ruleset in, report out. Pure: no I/O.
import type { Ruleset } from '../ruleset/model.js';
import { ALL } from './bits.js';
import { CATALOG } from './catalog.js';
import { clobberConflicts, exactReaderConflicts, inspectorConflicts, makeCtx, overlapConflicts, queueConflicts, routingConflicts } from './conflicts.js';
import { collectFacts } from './facts.js';
import { buildOwners, readerBits, type OwnerInfo } from './owners.js';
import { suggestMask } from './suggest.js';
import type { BitInfo, ComponentEntry, Conflict, DoctorReport, SampleTracer, Space } from './types.js';

export interface AnalyzeOptions {
  /** The planned inspector mask to check (--mask). */
  mask?: number;
  /** The connection-mark bits the inspector will own (the daemon's bypass ctmark), checked like `mask`. */
  ctmask?: number;
  /** Width of the suggested free mask (--need), default 4. */
  need?: number;
  catalog?: readonly ComponentEntry[];
  /** Simulator hook: when given, inspector conflicts get a sample packet's trace as evidence. */
  tracer?: SampleTracer;
}

export const DEFAULT_NEED = 4;

export function analyze(rs: Ruleset, opts: AnalyzeOptions = {}): DoctorReport {
  const catalog = opts.catalog ?? CATALOG;
  const need = opts.need ?? DEFAULT_NEED;
  const facts = collectFacts(rs, catalog);
  const owners = buildOwners(facts, catalog);
  const ctx = makeCtx(owners, facts);

  const conflicts: Conflict[] = [...overlapConflicts(ctx), ...clobberConflicts(ctx), ...exactReaderConflicts(ctx), ...routingConflicts(ctx), ...queueConflicts(ctx)];
  if (opts.mask !== undefined && opts.mask !== 0) {
    const mine = inspectorConflicts(ctx, opts.mask >>> 0, (opts.ctmask ?? 0) >>> 0);
    // Samples carry mark bits: a connmark conflict has no packet-mark bits to trace.
    if (opts.tracer) for (const c of mine) if (c.space === 'mark') attachTrace(c, opts.mask >>> 0, opts.tracer);
    conflicts.push(...mine);
  }

  let used = 0;
  for (const o of owners) used |= o.mask;
  for (const r of facts.readers) if (r.space === 'mark') used |= readerBits(r.mask, r.value);
  for (const w of facts.writers) if (w.space === 'mark') used |= w.full ? w.sets : w.touches;
  used >>>= 0;

  const suggestion = suggestMask(used, need, catalog);
  // Whole-word writers and readers collide with every mask: say so next to the suggestion.
  const whole = facts.writers.filter((w) => w.space === 'mark' && w.full);
  const exact = facts.readers.filter((r) => r.space === 'mark' && r.mask === ALL && r.effect.kind !== 'routing');
  if (whole.length) suggestion.reason += `; but ${whole.length} rule${whole.length === 1 ? '' : 's'} write${whole.length === 1 ? 's' : ''} the whole mark (${[...new Set(whole.map((w) => `${w.ref.table} ${w.ref.chain}`))].slice(0, 3).join(', ')}), overwriting any inspector's bits on the packets ${whole.length === 1 ? 'it matches' : 'they match'}`;
  if (exact.length) suggestion.reason += `; and ${exact.length} rule${exact.length === 1 ? '' : 's'} compare${exact.length === 1 ? 's' : ''} the whole mark (${[...new Set(exact.map((r) => `${r.ref.table} ${r.ref.chain}`))].slice(0, 3).join(', ')}), which any inspector bit changes`;

  return {
    owners: owners.map(stripInternal),
    bits: bitMap(owners, facts, 'mark'),
    ctBits: bitMap(owners, facts, 'ctmark'),
    conflicts,
    free: ~used >>> 0,
    suggestion,
    mask: opts.mask,
    ...(opts.mask !== undefined && opts.ctmask ? { ctmask: opts.ctmask >>> 0 } : {}),
    unattributed: facts.unattributed,
    stats: facts.stats,
  };
}

function stripInternal(o: OwnerInfo): DoctorReport['owners'][number] {
  const { entry: _e, used: _u, ...rest } = o;
  return rest;
}

function bitMap(owners: OwnerInfo[], facts: ReturnType<typeof collectFacts>, space: Space): BitInfo[] {
  const out: BitInfo[] = [];
  for (let b = 0; b < 32; b++) {
    const bitMask = (1 << b) >>> 0;
    out.push({
      bit: b,
      owners: owners.filter((o) => ((space === 'mark' ? o.mask : o.ctmask) & bitMask) !== 0).map((o) => o.name),
      writers: facts.writers.filter((w) => w.space === space && (w.touches & bitMask) !== 0).length,
      readers: facts.readers.filter((r) => r.space === space && (r.mask & bitMask) !== 0).length,
    });
  }
  return out;
}

function attachTrace(c: Conflict, mask: number, tracer: SampleTracer): void {
  const bits = c.mask & mask;
  for (const hook of ['input', 'forward', 'output'] as const) {
    const t = tracer({ hook, family: 'ip', mark: bits, description: `a TCP packet in ${hook} carrying only the inspector bits ${bits.toString(16)}` });
    if (t) (c.traces ??= []).push(t);
  }
}

export { ALL };
