// -m cgroup: the cgroup of the local socket. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const cgroup = verbatimMatch('cgroup', {"options": {"cgroup": 1, "path": 1}});
