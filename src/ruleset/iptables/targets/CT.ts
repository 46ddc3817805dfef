// -j CT (libxt_CT, revisions 1-2): --notrack (no conntrack entry), or a helper, timeout policy, event masks
// and zone for the connection about to be created. NOTRACK is iptables' old spelling of CT --notrack.
import type { Action } from '../../model.js';
import { noDuplicates, noInvert, type Extension } from '../ext.js';

export interface CtData {
  notrack: boolean;
  /** Other options as written, in iptables-save order. */
  rest: Array<{ name: string; value: string }>;
}

const ORDER = ['helper', 'timeout', 'ctevents', 'expevents', 'zone-orig', 'zone-reply', 'zone'];

export const CT: Extension<CtData> = {
  kind: 'target',
  name: 'CT',
  options: { notrack: 0, helper: 1, timeout: 1, ctevents: 1, expevents: 1, 'zone-orig': 1, 'zone-reply': 1, zone: 1 },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    const d: CtData = { notrack: false, rest: [] };
    for (const o of opts) {
      if (!noInvert(o, ctx)) return undefined;
      if (o.name === 'notrack') d.notrack = true;
      else d.rest.push({ name: o.name, value: o.args[0] });
    }
    d.rest.sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name));
    return d;
  },
  save: (d) => (d.notrack ? ' --notrack' : '') + d.rest.map((r) => ` --${r.name} ${r.value}`).join(''),
  exprs(d): Action[] {
    // With --notrack the kernel ignores every other option (xt_ct_tg_check attaches no template; checked
    // in a namespace: `-j CT --notrack --zone 5` leaves the packet UNTRACKED).
    if (d.notrack) return [{ type: 'action', kind: 'notrack' }];
    if (d.rest.length) return [{ type: 'action', kind: 'other', name: 'CT', text: `-j CT${d.rest.map((r) => ` --${r.name} ${r.value}`).join('')}`, terminal: false }];
    return [];
  },
};

export const NOTRACK: Extension<Record<string, never>> = {
  kind: 'target',
  name: 'NOTRACK',
  options: {},
  parse: () => ({}),
  save: () => '',
  exprs: () => [{ type: 'action', kind: 'notrack' }],
};
