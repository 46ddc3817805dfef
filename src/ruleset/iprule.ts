// `ip rule` / `ip -6 rule` output into Ruleset.ipRules: priority, `not`, fwmark value/mask (mask all ones
// when not given, as the kernel stores it), the table or action. The rest of the selector is kept in text.
import type { IpRule, Ruleset } from './model.js';
import { Problems } from './problems.js';
import { parseUint } from './iptables/values.js';

export interface IpRuleParseOptions {
  source: string;
  family: 'ip' | 'ip6';
}

const ACTIONS = new Set(['unreachable', 'prohibit', 'blackhole', 'nop']);

export function parseIpRules(text: string, opts: IpRuleParseOptions): Ruleset {
  const P = new Problems(opts.source);
  const ipRules: IpRule[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const m = /^(\s*)(\d+):\s+(.*?)\s*$/.exec(line);
    if (!m) {
      P.warn('BAD_IP_RULE', 'expected "PRIORITY:\tSELECTOR ACTION" as `ip rule` prints it: skipped', i + 1, 1, line.trim());
      continue;
    }
    const body = m[3];
    const bodyCol = line.indexOf(body) + 1;
    const words = body.split(/\s+/);
    const rule: IpRule = { family: opts.family, priority: Number(m[2]), invert: false, action: 'lookup', text: body, pos: { source: opts.source, line: i + 1, column: m[1].length + 1 } };
    let ok = true;
    let action: IpRule['action'] | undefined;
    for (let k = 0; k < words.length; k++) {
      const w = words[k];
      const col = bodyCol + words.slice(0, k).join(' ').length + (k > 0 ? 1 : 0);
      if (w === 'not') rule.invert = true;
      else if (w === 'fwmark') {
        const v = words[++k] ?? '';
        const [a, b] = v.split('/');
        const value = parseUint(a);
        const mask = b === undefined ? 0xffffffff : parseUint(b);
        if (value === undefined || mask === undefined) {
          P.error('INVALID_MASK', `fwmark "${v}" is not value[/mask]`, i + 1, col, v);
          ok = false;
        } else rule.fwmark = { value, mask };
      } else if (w === 'lookup' || w === 'table') {
        rule.table = words[++k];
        action = 'lookup';
      } else if (w === 'suppress_prefixlength') {
        const n = Number(words[++k]);
        if (Number.isInteger(n)) rule.suppressPrefixLength = n;
      } else if (w === 'goto') {
        action = 'goto';
        rule.table = words[++k];
      } else if (ACTIONS.has(w)) action = w as IpRule['action'];
      else if (['from', 'to', 'iif', 'oif', 'tos', 'dsfield', 'realms', 'uidrange', 'ipproto', 'sport', 'dport', 'l3mdev', 'proto', 'protocol', 'pref', 'priority', 'suppress_ifgroup', 'tun_id', 'fwmask'].includes(w)) k++;
      // [detached], unresolved and other flags stay in text
    }
    if (!ok) continue;
    rule.action = action ?? (rule.table !== undefined ? 'lookup' : 'other');
    ipRules.push(rule);
  }
  // Lines, but not one `ip rule` line among them: the wrong file, not a node without policy routing.
  if (ipRules.length === 0 && lines.some((l) => l.trim() !== '' && !l.trim().startsWith('#'))) {
    P.error('NO_IP_RULES', 'no line reads as `ip rule` output ("PRIORITY:\tSELECTOR ACTION"): is this the right file? Make it with `ip rule` (and `ip -6 rule`)', 1, 1);
  }
  return { tables: [], ipRules, problems: P.list };
}
