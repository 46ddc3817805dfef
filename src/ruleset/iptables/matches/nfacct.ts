// -m nfacct: accounting object (always matches). Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const nfacct = verbatimMatch('nfacct', {"options": {"nfacct-name": 1}});
