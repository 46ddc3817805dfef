// Verdicts: what a handler decides (Decision) and how it is encoded (NFQNL_MSG_VERDICT and
// NFQNL_MSG_VERDICT_BATCH).
import { AF_UNSPEC, NFNETLINK_V0, NFNL_SUBSYS_QUEUE, NLA_HDRLEN, NLM_F_REQUEST } from '../netlink/constants.js';
import { NLA_MAX_LEN, type MessageWriter } from '../netlink/writer.js';
import {
  CTA_MARK,
  CTA_MARK_MASK,
  NFQA_CT,
  NFQA_MARK,
  NFQA_PAYLOAD,
  NFQA_VERDICT_HDR,
  NFQNL_MSG_VERDICT,
  NFQNL_MSG_VERDICT_BATCH,
  NF_ACCEPT,
  NF_DROP,
  NF_QUEUE,
  NF_REPEAT,
  NF_VERDICT_FLAG_QUEUE_BYPASS,
  NF_VERDICT_QBITS,
} from './constants.js';

export type VerdictKind = 'accept' | 'drop' | 'repeat' | 'queue';

/** What a packet handler decides. Marks are in the queue's owned bits unless it is unsafeWholeMark. */
export interface Decision {
  verdict: VerdictKind;
  /** Packet-mark bits to set, inside the queue's markMask (bits of the mask not given are cleared). */
  mark?: number;
  /** Connection-mark bits to set through NFQA_CT, inside the queue's ctMarkMask. */
  ctMark?: number;
  /** Which ctmark bits to change (default: the queue's whole ctMarkMask). */
  ctMarkMask?: number;
  /** For 'queue': the queue number to pass the packet to, and whether to accept if nobody listens there. */
  queue?: number;
  bypass?: boolean;
  /** Replacement packet bytes from the network header on (see packet/checksum.ts to fix checksums). */
  payload?: Uint8Array;
}

export const ACCEPT: Readonly<Decision> = Object.freeze({ verdict: 'accept' });
export const DROP: Readonly<Decision> = Object.freeze({ verdict: 'drop' });
export const REPEAT: Readonly<Decision> = Object.freeze({ verdict: 'repeat' });

export function accept(opts: Omit<Decision, 'verdict'> = {}): Decision {
  return { ...opts, verdict: 'accept' };
}
export function drop(): Decision {
  return { verdict: 'drop' };
}
export function toQueue(queue: number, opts: { bypass?: boolean; mark?: number } = {}): Decision {
  return { verdict: 'queue', queue, ...opts };
}

const isU32 = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffffffff;

/**
 * What is wrong with a decision a handler returned, or null. Handlers may be plain JavaScript: an
 * unknown verdict would otherwise encode as 0 (NF_DROP), and a queue number or mark out of range
 * would be silently truncated by the bit operations into another value.
 */
export function invalidDecision(d: Decision): string | null {
  if (typeof d !== 'object' || d === null) return `a decision must be an object such as { verdict: 'accept' }, got ${String(d)}`;
  if (typeof (d as { then?: unknown }).then === 'function') return 'the handler returned a Promise: it must decide synchronously (the verdict is sent with the rest of its batch)';
  if (d.verdict !== 'accept' && d.verdict !== 'drop' && d.verdict !== 'repeat' && d.verdict !== 'queue') {
    return `unknown verdict ${JSON.stringify(d.verdict)}: use accept, drop, repeat or queue`;
  }
  if (d.verdict === 'queue' && !(Number.isInteger(d.queue) && (d.queue as number) >= 0 && (d.queue as number) <= 65535)) {
    return `a queue verdict needs a queue number from 0 to 65535, got ${String(d.queue)}`;
  }
  for (const k of ['mark', 'ctMark', 'ctMarkMask'] as const) {
    if (d[k] !== undefined && !isU32(d[k])) return `${k} must be an integer from 0 to 0xffffffff, got ${String(d[k])}`;
  }
  if (d.payload !== undefined && !(d.payload instanceof Uint8Array)) return 'payload must be a Uint8Array';
  if (d.payload !== undefined && d.payload.length > NLA_MAX_LEN - NLA_HDRLEN) {
    return `a replacement payload of ${d.payload.length} bytes is too long: a netlink attribute holds at most ${NLA_MAX_LEN - NLA_HDRLEN}`;
  }
  return null;
}

/** The 32-bit verdict value of nfqnl_msg_verdict_hdr. */
export function verdictCode(d: Decision): number {
  switch (d.verdict) {
    case 'accept':
      return NF_ACCEPT;
    case 'drop':
      return NF_DROP;
    case 'repeat':
      return NF_REPEAT;
    case 'queue':
      return (((d.queue ?? 0) << NF_VERDICT_QBITS) | NF_QUEUE | (d.bypass ? NF_VERDICT_FLAG_QUEUE_BYPASS : 0)) >>> 0;
  }
}

function verdictHeader(w: MessageWriter, code: number, id: number): void {
  w.attrWith(NFQA_VERDICT_HDR, 8, (v, at) => {
    v.setUint32(at, code >>> 0, false);
    v.setUint32(at + 4, id >>> 0, false);
  });
}

/**
 * One NFQNL_MSG_VERDICT. `mark` (the full value the kernel will store) is sent only when `withMark`;
 * without it the kernel leaves the packet's mark as it is. `ct` sets ctmark bits: the kernel computes
 * (ct->mark & ~mask) ^ mark, so `mark` must already be inside `mask`.
 */
export function encodeVerdict(
  w: MessageWriter,
  seq: number,
  queue: number,
  id: number,
  code: number,
  withMark: boolean,
  mark: number,
  ct: { mark: number; mask: number } | null,
  payload: Uint8Array | null,
): void {
  const start = w.beginMessage((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT, NLM_F_REQUEST, seq);
  w.nfgenmsg(AF_UNSPEC, NFNETLINK_V0, queue);
  verdictHeader(w, code, id);
  if (withMark) w.attrU32be(NFQA_MARK, mark);
  if (ct !== null) {
    const n = w.beginNest(NFQA_CT);
    w.attrU32be(CTA_MARK, ct.mark);
    w.attrU32be(CTA_MARK_MASK, ct.mask);
    w.endNest(n);
  }
  if (payload !== null) w.attrBytes(NFQA_PAYLOAD, payload);
  w.endMessage(start);
}

/** NFQNL_MSG_VERDICT_BATCH: the kernel gives every queued packet with id <= `id` this verdict. */
export function encodeBatchVerdict(w: MessageWriter, seq: number, queue: number, id: number, code: number, withMark: boolean, mark: number): void {
  const start = w.beginMessage((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH, NLM_F_REQUEST, seq);
  w.nfgenmsg(AF_UNSPEC, NFNETLINK_V0, queue);
  verdictHeader(w, code, id);
  if (withMark) w.attrU32be(NFQA_MARK, mark);
  w.endMessage(start);
}

