// -m dscp: the DSCP field. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const dscp = verbatimMatch('dscp', {"options": {"dscp": 1, "dscp-class": 1}});
