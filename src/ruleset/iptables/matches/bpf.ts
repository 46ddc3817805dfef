// -m bpf: a BPF program (kept opaque). Options known and checked, kept as written (see ../verbatim.ts); evaluation
// undetermined.
import { verbatimMatch } from '../verbatim.js';

export const bpf = verbatimMatch('bpf', {"options": {"bytecode": 1, "object-pinned": 1}});
