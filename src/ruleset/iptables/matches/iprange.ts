// -m iprange: addresses in an arbitrary range. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const iprange = verbatimMatch('iprange', {"options": {"src-range": 1, "dst-range": 1}});
