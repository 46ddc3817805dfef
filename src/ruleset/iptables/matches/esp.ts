// -m esp: ESP SPIs. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const esp = verbatimMatch('esp', {"options": {"espspi": 1}});
