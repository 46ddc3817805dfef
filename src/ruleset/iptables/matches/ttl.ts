// -m ttl: the IPv4 TTL. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const ttl = verbatimMatch('ttl', {"options": {"ttl-eq": 1, "ttl-gt": 1, "ttl-lt": 1}, "families": ["ip"]});
