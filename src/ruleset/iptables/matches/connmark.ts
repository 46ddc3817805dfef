// -m connmark (libxt_connmark, revision 1): (ct->mark & mask) == value.
import type { Extension } from '../ext.js';
import { inv } from '../ext.js';
import { markMaskText } from '../values.js';
import { parseMarkOption, type MarkMatchData } from './mark.js';

export const connmark: Extension<MarkMatchData> = {
  kind: 'match',
  name: 'connmark',
  options: { mark: 1 },
  parse: (opts, ctx) => parseMarkOption(opts, ctx, 'connmark'),
  save: (d) => `${inv(d.invert)} --mark ${markMaskText(d.value, d.mask)}`,
  exprs: (d) => [d.invert ? { type: 'match', key: 'ctmark', value: d.value, mask: d.mask, invert: true } : { type: 'match', key: 'ctmark', value: d.value, mask: d.mask }],
};
