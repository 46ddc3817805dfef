// Encoding of NFQNL_MSG_CONFIG requests: bind/unbind a queue, copy mode and range, queue length and
// flags. Each setting is its own message with its own sequence number, so that an error from the
// kernel names the setting it refused.
import { AF_UNSPEC, NFNETLINK_V0, NFNL_SUBSYS_QUEUE, NLM_F_ACK, NLM_F_REQUEST } from '../netlink/constants.js';
import type { MessageWriter } from '../netlink/writer.js';
import {
  NFQA_CFG_CMD,
  NFQA_CFG_FLAGS,
  NFQA_CFG_MASK,
  NFQA_CFG_PARAMS,
  NFQA_CFG_QUEUE_MAXLEN,
  NFQA_CFG_F_CONNTRACK,
  NFQA_CFG_F_FAIL_OPEN,
  NFQA_CFG_F_GSO,
  NFQA_CFG_F_SECCTX,
  NFQA_CFG_F_UID_GID,
  NFQNL_CFG_CMD_BIND,
  NFQNL_CFG_CMD_UNBIND,
  NFQNL_COPY_META,
  NFQNL_COPY_NONE,
  NFQNL_COPY_PACKET,
  NFQNL_MSG_CONFIG,
} from './constants.js';

export type CopyMode = 'none' | 'meta' | 'packet';

export const COPY_MODES: Record<CopyMode, number> = {
  none: NFQNL_COPY_NONE,
  meta: NFQNL_COPY_META,
  packet: NFQNL_COPY_PACKET,
};

export interface QueueFlags {
  /** NFQA_CFG_F_FAIL_OPEN: accept packets instead of dropping them when the queue is full. */
  failOpen?: boolean;
  /** NFQA_CFG_F_CONNTRACK: send the conntrack entry (NFQA_CT, NFQA_CT_INFO) with each packet. */
  conntrack?: boolean;
  /** NFQA_CFG_F_GSO: take GSO packets unsegmented. */
  gso?: boolean;
  /** NFQA_CFG_F_UID_GID: send the socket owner's uid and gid. */
  uidGid?: boolean;
  /** NFQA_CFG_F_SECCTX: send the security context. */
  secctx?: boolean;
}

/** The flags value and the mask that says which of them to change (the kernel needs both). */
export function flagBits(flags: QueueFlags): { value: number; mask: number } {
  let value = 0;
  let mask = 0;
  const set = (on: boolean | undefined, bit: number): void => {
    if (on === undefined) return;
    mask |= bit;
    if (on) value |= bit;
  };
  set(flags.failOpen, NFQA_CFG_F_FAIL_OPEN);
  set(flags.conntrack, NFQA_CFG_F_CONNTRACK);
  set(flags.gso, NFQA_CFG_F_GSO);
  set(flags.uidGid, NFQA_CFG_F_UID_GID);
  set(flags.secctx, NFQA_CFG_F_SECCTX);
  return { value, mask };
}

/** Names of the flags set in `value`, for messages. */
export function flagNames(value: number): string[] {
  const names: Array<[number, string]> = [
    [NFQA_CFG_F_FAIL_OPEN, 'fail-open'],
    [NFQA_CFG_F_CONNTRACK, 'conntrack'],
    [NFQA_CFG_F_GSO, 'gso'],
    [NFQA_CFG_F_UID_GID, 'uid-gid'],
    [NFQA_CFG_F_SECCTX, 'secctx'],
  ];
  return names.filter(([bit]) => (value & bit) !== 0).map(([, n]) => n);
}

function begin(w: MessageWriter, seq: number, queue: number): number {
  const start = w.beginMessage((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq);
  w.nfgenmsg(AF_UNSPEC, NFNETLINK_V0, queue);
  return start;
}

/** NFQA_CFG_CMD with NFQNL_CFG_CMD_BIND or _UNBIND for `queue`. */
export function encodeCommand(w: MessageWriter, seq: number, queue: number, command: 'bind' | 'unbind', pf = AF_UNSPEC): void {
  const start = begin(w, seq, queue);
  w.attrWith(NFQA_CFG_CMD, 4, (v, at) => {
    v.setUint8(at, command === 'bind' ? NFQNL_CFG_CMD_BIND : NFQNL_CFG_CMD_UNBIND);
    v.setUint8(at + 1, 0);
    v.setUint16(at + 2, pf, false);
  });
  w.endMessage(start);
}

/** NFQA_CFG_PARAMS: copy mode and how many bytes of each packet to copy. */
export function encodeParams(w: MessageWriter, seq: number, queue: number, mode: CopyMode, range: number): void {
  const start = begin(w, seq, queue);
  w.attrWith(NFQA_CFG_PARAMS, 5, (v, at) => {
    v.setUint32(at, range >>> 0, false);
    v.setUint8(at + 4, COPY_MODES[mode]);
  });
  w.endMessage(start);
}

export function encodeMaxLen(w: MessageWriter, seq: number, queue: number, maxLen: number): void {
  const start = begin(w, seq, queue);
  w.attrU32be(NFQA_CFG_QUEUE_MAXLEN, maxLen);
  w.endMessage(start);
}

/** NFQA_CFG_MASK then NFQA_CFG_FLAGS: flags without a mask are refused with EINVAL. */
export function encodeFlags(w: MessageWriter, seq: number, queue: number, value: number, mask: number): void {
  const start = begin(w, seq, queue);
  w.attrU32be(NFQA_CFG_MASK, mask);
  w.attrU32be(NFQA_CFG_FLAGS, value);
  w.endMessage(start);
}
