// -j TTL: rewrite the IPv4 TTL. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// does not end the rule.
import { verbatimTarget } from '../verbatim.js';

export const TTL = verbatimTarget('TTL', {"options": {"ttl-set": 1, "ttl-dec": 1, "ttl-inc": 1}, "terminal": false, "families": ["ip"]});
