// -m frag: the IPv6 fragment header. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const frag = verbatimMatch('frag', {"options": {"fragid": 1, "fraglen": 1, "fragres": 0, "fragfirst": 0, "fragmore": 0, "fraglast": 0}, "families": ["ip6"]});
