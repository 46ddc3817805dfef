// -j CLASSIFY: set skb->priority (the tc class). Options known and checked, kept as written (see ../verbatim.ts); evaluation
// does not end the rule.
import { verbatimTarget } from '../verbatim.js';

export const CLASSIFY = verbatimTarget('CLASSIFY', {"options": {"set-class": 1}, "terminal": false});
