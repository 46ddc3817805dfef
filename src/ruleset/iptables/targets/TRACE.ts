// -j TRACE: trace the packet through the rule set. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// does not end the rule.
import { verbatimTarget } from '../verbatim.js';

export const TRACE = verbatimTarget('TRACE', {"options": {}, "terminal": false});
