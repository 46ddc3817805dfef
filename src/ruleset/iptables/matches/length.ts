// -m length: the packet length. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const length = verbatimMatch('length', {"options": {"length": 1}});
