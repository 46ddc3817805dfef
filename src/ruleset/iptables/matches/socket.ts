// -m socket: an established or transparent local socket exists for the packet. Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const socket = verbatimMatch('socket', {"options": {"transparent": 0, "nowildcard": 0, "restore-skmark": 0}});
