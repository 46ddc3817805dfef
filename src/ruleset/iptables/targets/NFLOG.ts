// -j NFLOG: copy the packet to userspace via nfnetlink_log. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// does not end the rule.
import { verbatimTarget } from '../verbatim.js';

export const NFLOG = verbatimTarget('NFLOG', {"options": {"nflog-group": 1, "nflog-prefix": 1, "nflog-range": 1, "nflog-size": 1, "nflog-threshold": 1}, "terminal": false});
