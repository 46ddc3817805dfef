// -m physdev: the bridge ports a bridged packet came in or goes out (br_netfilter). Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const physdev = verbatimMatch('physdev', {"options": {"physdev-in": 1, "physdev-out": 1, "physdev-is-in": 0, "physdev-is-out": 0, "physdev-is-bridged": 0}});
