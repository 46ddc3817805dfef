// -j HL: rewrite the IPv6 hop limit. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// does not end the rule.
import { verbatimTarget } from '../verbatim.js';

export const HL = verbatimTarget('HL', {"options": {"hl-set": 1, "hl-dec": 1, "hl-inc": 1}, "terminal": false, "families": ["ip6"]});
