// -j AUDIT: an audit record. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// does not end the rule.
import { verbatimTarget } from '../verbatim.js';

export const AUDIT = verbatimTarget('AUDIT', {"options": {"type": 1}, "terminal": false});
