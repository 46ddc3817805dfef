// -j DSCP: rewrite the DSCP field. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// does not end the rule.
import { verbatimTarget } from '../verbatim.js';

export const DSCP = verbatimTarget('DSCP', {"options": {"set-dscp": 1, "set-dscp-class": 1}, "terminal": false});
