// -j TCPMSS: rewrite the TCP MSS option. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// does not end the rule.
import { verbatimTarget } from '../verbatim.js';

export const TCPMSS = verbatimTarget('TCPMSS', {"options": {"set-mss": 1, "clamp-mss-to-pmtu": 0}, "terminal": false});
