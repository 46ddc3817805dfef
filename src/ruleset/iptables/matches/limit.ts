// -m limit: a token-bucket rate limit. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const limit = verbatimMatch('limit', {"options": {"limit": 1, "limit-burst": 1}});
