// -m pkttype: link-layer packet type (unicast, broadcast, multicast). Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const pkttype = verbatimMatch('pkttype', {"options": {"pkt-type": 1}});
