// -m owner: the local socket owner (locally generated packets only). Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const owner = verbatimMatch('owner', {"options": {"uid-owner": 1, "gid-owner": 1, "socket-exists": 0, "suppl-groups": 0}});
