// -m tos: the TOS field. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const tos = verbatimMatch('tos', {"options": {"tos": 1}});
