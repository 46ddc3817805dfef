// -m mac: the source MAC address. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const mac = verbatimMatch('mac', {"options": {"mac-source": 1}});
