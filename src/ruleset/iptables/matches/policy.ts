// -m policy: the IPsec policy used. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const policy = verbatimMatch('policy', {"options": {"dir": 1, "pol": 1, "strict": 0, "reqid": 1, "spi": 1, "proto": 1, "mode": 1, "tunnel-src": 1, "tunnel-dst": 1, "next": 0}, "repeatable": ["reqid", "spi", "proto", "mode", "tunnel-src", "tunnel-dst", "next"]});
