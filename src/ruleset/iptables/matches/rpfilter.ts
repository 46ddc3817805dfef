// -m rpfilter: reverse-path filtering by a FIB lookup (with the mark when --validmark). Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const rpfilter = verbatimMatch('rpfilter', {"options": {"loose": 0, "validmark": 0, "accept-local": 0, "invert": 0}});
