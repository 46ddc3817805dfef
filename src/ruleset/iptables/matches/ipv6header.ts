// -m ipv6header: the IPv6 extension headers present. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const ipv6header = verbatimMatch('ipv6header', {"options": {"header": 1, "soft": 0}, "families": ["ip6"]});
