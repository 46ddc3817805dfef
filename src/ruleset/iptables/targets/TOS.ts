// -j TOS: rewrite the TOS field. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// does not end the rule.
import { verbatimTarget } from '../verbatim.js';

export const TOS = verbatimTarget('TOS', {"options": {"set-tos": 1, "and-tos": 1, "or-tos": 1, "xor-tos": 1}, "terminal": false});
