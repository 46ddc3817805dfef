// -m hashlimit: per-flow rate limits. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const hashlimit = verbatimMatch('hashlimit', {"options": {"hashlimit": 1, "hashlimit-upto": 1, "hashlimit-above": 1, "hashlimit-burst": 1, "hashlimit-mode": 1, "hashlimit-name": 1, "hashlimit-srcmask": 1, "hashlimit-dstmask": 1, "hashlimit-htable-size": 1, "hashlimit-htable-max": 1, "hashlimit-htable-expire": 1, "hashlimit-htable-gcinterval": 1, "hashlimit-rate-match": 0, "hashlimit-rate-interval": 1}});
