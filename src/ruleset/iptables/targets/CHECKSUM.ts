// -j CHECKSUM: fill in a missing checksum. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// does not end the rule.
import { verbatimTarget } from '../verbatim.js';

export const CHECKSUM = verbatimTarget('CHECKSUM', {"options": {"checksum-fill": 0}, "terminal": false});
