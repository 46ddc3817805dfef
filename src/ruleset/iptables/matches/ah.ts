// -m ah: AH SPIs. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const ah = verbatimMatch('ah', {"options": {"ahspi": 1, "ahlen": 1, "ahres": 0}});
