// -m hl: the IPv6 hop limit. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const hl = verbatimMatch('hl', {"options": {"hl-eq": 1, "hl-gt": 1, "hl-lt": 1}, "families": ["ip6"]});
