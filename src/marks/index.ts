// src/marks: who owns which bits of the packet mark and the connection mark on a node, what conflicts,
// which bits are safe. Pure analysis of the ruleset model (src/ruleset/model.ts).
export { analyze, DEFAULT_NEED, type AnalyzeOptions } from './analyze.js';
export { checkMask, type MaskCheck } from './check.js';
export { CATALOG, catalogEntry } from './catalog.js';
export { hex8, describeBits, bitsOf, popcount } from './bits.js';
export type * from './types.js';
