// -m u32: arbitrary bytes of the packet (kept opaque). Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const u32 = verbatimMatch('u32', {"options": {"u32": 1}});
