// -m recent: membership of the source/destination in a recently-seen list. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const recent = verbatimMatch('recent', {"options": {"name": 1, "set": 0, "rcheck": 0, "update": 0, "remove": 0, "seconds": 1, "reap": 0, "hitcount": 1, "rttl": 0, "rsource": 0, "rdest": 0, "mask": 1}});
