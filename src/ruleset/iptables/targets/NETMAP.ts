// -j NETMAP: 1:1 address mapping (nat). Options known and checked, kept as written (see ../verbatim.ts); evaluation
// ends the rule.
import { verbatimTarget } from '../verbatim.js';

export const NETMAP = verbatimTarget('NETMAP', {"options": {"to": 1}, "terminal": true});
