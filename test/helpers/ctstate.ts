// How a rule made only of ctstate matches applies to a packet, as xt_conntrack and the simulator read the
// model: a list holds when the packet's state is in it, or it names SNAT/DNAT and the connection has that
// status; `invert` negates; every match must hold. undefined: the rule has another kind of match.
import type { CtState, Match, Rule } from '../../src/ruleset/index.js';

export interface CtPacket {
  state: CtState;
  snat?: boolean;
  dnat?: boolean;
}

export function ctRuleHolds(rule: Rule, p: CtPacket): boolean | undefined {
  let holds = true;
  for (const e of rule.exprs) {
    if (e.type !== 'match') continue;
    if (e.key !== 'ctstate') return undefined;
    const m = e as Extract<Match, { key: 'ctstate' }>;
    const hit = m.states.includes(p.state) || (m.states.includes('snat') && p.snat === true) || (m.states.includes('dnat') && p.dnat === true);
    if (hit === Boolean(m.invert)) holds = false;
  }
  return holds;
}
