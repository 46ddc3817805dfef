// -j SET: add to or delete from an ipset. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// does not end the rule.
import { verbatimTarget } from '../verbatim.js';

export const SET = verbatimTarget('SET', {"options": {"add-set": 2, "del-set": 2, "map-set": 2, "timeout": 1, "exist": 0, "map-mark": 0, "map-prio": 0, "map-queue": 0}, "terminal": false});
