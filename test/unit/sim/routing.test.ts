// Policy routing by fwmark: which table `ip rule` picks for a mark, the tables' routes, the re-route
// after a route chain (mangle OUTPUT) or a queue consumer changes the mark in OUTPUT, the input
// decision after PREROUTING, and what stays undetermined. The real cases: wg-quick and Tailscale
// (shared/reference/mark-usage-by-component.md); test/kernel/sim/routing.test.ts holds the same
// decisions against `ip route get` in a namespace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIpRules } from '../../../src/ruleset/iprule.js';
import type { Ruleset } from '../../../src/ruleset/model.js';
import { addQueueVerdict, parseLocalAddress, parseRoute, type RouteSpec } from '../../../src/sim/options.js';
import { parsePacketSpec } from '../../../src/sim/packet.js';
import { compileRouting } from '../../../src/sim/routing.js';
import { formatMark } from '../../../src/sim/state.js';
import { Simulator, traceJson, type TraceInput, type TraceResult } from '../../../src/sim/trace.js';
import { a, iptTable, m, nftChain, nftTable, rule, ruleset } from '../../helpers/sim-model.js';
import { TAILSCALE_RULES, WG_QUICK_RULES } from '../../helpers/sim-routing.js';

const LOCALS = [parseLocalAddress('10.0.0.2/24@eth0'), parseLocalAddress('10.1.0.2/24@eth1')];
const MAIN = [parseRoute('10.0.0.0/24@eth0'), parseRoute('10.1.0.0/24@eth1'), parseRoute('default@eth0')];

function rules(text: string) {
  return parseIpRules(text, { source: 'test', family: 'ip' }).ipRules;
}

function sim(rs: Ruleset, ipRules: string, routes: RouteSpec[]): Simulator {
  return new Simulator(rs, { locals: LOCALS, routes: [...MAIN, ...routes], ipRules: rules(ipRules) });
}

function go(s: Simulator, packet: string, input: Omit<TraceInput, 'packet'> = {}): TraceResult {
  return s.trace({ packet: parsePacketSpec(packet), ...input });
}

/** The device of each leg, as "hook:dev". */
function outs(r: TraceResult): string {
  return r.outcomes[0].path.map((l) => `${l.hook}:${l.oif ?? '-'}`).join(' ');
}

function routingSteps(r: TraceResult): string[] {
  return r.steps.filter((s) => s.table === '(routing)').map((s) => `${s.hook} ${s.verdict}: ${s.text}`);
}

const EMPTY = ruleset(iptTable('filter', { OUTPUT: [] }));

test("wg-quick: main without its default route first, then `not fwmark 51820` sends the rest to wg0; wg's own packets (mark 51820) use main", () => {
  const s = sim(EMPTY, WG_QUICK_RULES, [parseRoute('default@wg0,table=51820')]);
  const plain = go(s, 'udp 10.0.0.2:40000 > 192.0.2.7:53');
  assert.equal(outs(plain), 'output:wg0 postrouting:wg0');
  assert.deepEqual(routingSteps(plain), ['output dev wg0: routing: 32765 not fwmark 0xca6c -> table 51820: default dev wg0']);
  assert.match(plain.steps[0].note ?? '', /32764: table main: default suppressed \(suppress_prefixlength 0\)/);
  const wg = go(s, 'udp 10.0.0.2:40000 > 192.0.2.7:51820', { mark: 51820 });
  assert.equal(outs(wg), 'output:eth0 postrouting:eth0', 'the tunnel packet leaves by main: eth0');
  assert.deepEqual(routingSteps(wg), ['output dev eth0: routing: 32766 -> table main: default dev eth0']);
  const lan = go(s, 'udp 10.0.0.2:40000 > 10.1.0.9:53');
  assert.equal(outs(lan), 'output:eth1 postrouting:eth1', 'a /24 of main is longer than 0 bits: not suppressed');
  // The mark only has to match under the mask (0xffffffff): another bit set means "not 51820".
  assert.equal(outs(go(s, 'udp 10.0.0.2:40000 > 192.0.2.7:53', { mark: 51820 | 0x100000 })), 'output:wg0 postrouting:wg0');
});

test('Tailscale: fwmark 0x80000/0xff0000 bypasses table 52; other bits under the mask do not; table 52 misses fall through to main', () => {
  const s = sim(EMPTY, TAILSCALE_RULES, [parseRoute('100.64.0.0/10@tailscale0,table=52')]);
  assert.equal(outs(go(s, 'tcp 10.0.0.2:40000 > 100.100.1.1:443')), 'output:tailscale0 postrouting:tailscale0');
  const bypass = go(s, 'tcp 10.0.0.2:40000 > 100.100.1.1:443', { mark: 0x80000 | 0x8000 });
  assert.equal(outs(bypass), 'output:eth0 postrouting:eth0', 'tailscaled marks its own sockets 0x80000: main');
  assert.deepEqual(routingSteps(bypass), ['output dev eth0: routing: 5210 fwmark 0x80000/0xff0000 -> table main: default dev eth0']);
  assert.equal(outs(go(s, 'tcp 10.0.0.2:40000 > 100.100.1.1:443', { mark: 0x180000 })), 'output:tailscale0 postrouting:tailscale0', '0x180000 & 0xff0000 is not 0x80000');
  const internet = go(s, 'tcp 10.0.0.2:40000 > 192.0.2.7:443');
  assert.equal(outs(internet), 'output:eth0 postrouting:eth0');
  assert.match(internet.steps[0].note ?? '', /5270: table 52: no route for 192\.0\.2\.7/);
  // A table whose routes are not known makes the route (and so the trace) undetermined, naming the rule.
  const unknown = sim(EMPTY, TAILSCALE_RULES, []);
  const u = go(unknown, 'tcp 10.0.0.2:40000 > 192.0.2.7:443');
  assert.equal(u.verdict, 'undetermined');
  assert.deepEqual(u.decidedBy, { family: 'ip', table: '(routing)', chain: 'ip rule', rule: null, text: '5270: from all lookup 52' });
  assert.ok(u.notes.some((n) => /table 52 are not known: give them with --route CIDR@DEV,table=52/.test(n)), u.notes.join('\n'));
  // ... but not where a rule before it decides.
  assert.equal(go(unknown, 'tcp 10.0.0.2:40000 > 192.0.2.7:443', { mark: 0x80000 }).verdict, 'accept');
  // Known tables (trace --live): a table without routes does not exist and the lookup goes on.
  const live = new Simulator(EMPTY, { locals: LOCALS, routes: MAIN, ipRules: rules(TAILSCALE_RULES), allTablesKnown: true });
  assert.equal(outs(go(live, 'tcp 10.0.0.2:40000 > 192.0.2.7:443')), 'output:eth0 postrouting:eth0');
});

test('the unreachable rule of a bypass mark whose main and default have no route drops it; blackhole routes drop', () => {
  const s = new Simulator(EMPTY, { locals: LOCALS, routes: [parseRoute('10.0.0.0/24@eth0'), parseRoute('100.64.0.0/10@tailscale0,table=52')], ipRules: rules(TAILSCALE_RULES), allTablesKnown: true });
  const r = go(s, 'tcp 10.0.0.2:40000 > 192.0.2.7:443', { mark: 0x80000 });
  assert.equal(r.verdict, 'drop');
  assert.equal(r.decidedBy, null);
  assert.ok(r.notes.some((n) => /ip rule 5250 is unreachable/.test(n)), r.notes.join('\n'));
  assert.deepEqual(r.outcomes[0].path, [], 'the socket gets the error: no hook sees the packet');
  const bh = sim(EMPTY, WG_QUICK_RULES, [parseRoute('default@blackhole,table=51820')]);
  assert.equal(go(bh, 'udp 10.0.0.2:40000 > 192.0.2.7:53').verdict, 'drop');
});

test('mangle OUTPUT changes the mark: the packet is routed again; later OUTPUT chains keep the old device, POSTROUTING sees the new one', () => {
  const rs = ruleset(
    iptTable('mangle', { OUTPUT: [rule('-p udp -j MARK --set-xmark 0x80000/0xff0000', m.udp(), a.xmark(0x80000, 0xff0000))] }),
    iptTable('filter', { OUTPUT: [rule('-o tailscale0 -j MARK --set-xmark 0x1/0x1', m.oif('tailscale0'), a.xmark(0x1, 0x1))] }),
    nftTable('ip', 't', [nftChain('post', { hook: 'postrouting', priority: 0 }, [rule('oifname "eth0" meta mark set meta mark | 0x10', m.oif('eth0'), a.xmark(0x10, 0x10))])]),
  );
  const s = sim(rs, TAILSCALE_RULES, [parseRoute('100.64.0.0/10@tailscale0,table=52')]);
  const r = go(s, 'udp 10.0.0.2:40000 > 100.100.1.1:41641');
  assert.equal(outs(r), 'output:tailscale0 postrouting:eth0');
  assert.equal(formatMark(r.mark, r.markKnown), '0x00080011', 'filter OUTPUT saw tailscale0, POSTROUTING eth0');
  assert.deepEqual(routingSteps(r), [
    'output dev tailscale0: routing: 5270 -> table 52: 100.64.0.0/10 dev tailscale0',
    'output dev eth0: routing: 5210 fwmark 0x80000/0xff0000 -> table main: default dev eth0',
  ]);
  assert.equal(r.steps.find((x) => x.table === '(routing)' && x.verdict === 'dev eth0')?.priority, -150, 'at the mangle table');
  // TCP is not marked: no re-route.
  assert.equal(outs(go(s, 'tcp 10.0.0.2:40000 > 100.100.1.1:443')), 'output:tailscale0 postrouting:tailscale0');
});

test('only route chains re-route: an nft filter chain in OUTPUT that sets the mark does not', () => {
  const mk = (type: 'filter' | 'route') => ruleset(nftTable('ip', 't', [nftChain('out', { hook: 'output', priority: -150, type }, [rule('meta mark set 0x80000', a.xmark(0x80000))])]));
  const routes = [parseRoute('100.64.0.0/10@tailscale0,table=52')];
  assert.equal(outs(go(sim(mk('filter'), TAILSCALE_RULES, routes), 'udp 10.0.0.2:1 > 100.100.1.1:2')), 'output:tailscale0 postrouting:tailscale0');
  assert.equal(outs(go(sim(mk('route'), TAILSCALE_RULES, routes), 'udp 10.0.0.2:1 > 100.100.1.1:2')), 'output:tailscale0 postrouting:eth0');
});

test('a queue consumer that changes the mark in OUTPUT re-routes the packet (nf_reinject); one that keeps it does not', () => {
  const rs = ruleset(iptTable('filter', { OUTPUT: [rule('-j NFQUEUE --queue-num 3', a.queue(3))] }));
  const s = sim(rs, TAILSCALE_RULES, [parseRoute('100.64.0.0/10@tailscale0,table=52')]);
  const answer = (v: string) => addQueueVerdict({ byQueue: new Map() }, v);
  assert.equal(outs(go(s, 'udp 10.0.0.2:1 > 100.100.1.1:2', { queueAnswers: answer('accept,mark=0x80000/0xff0000') })), 'output:tailscale0 postrouting:eth0');
  assert.equal(outs(go(s, 'udp 10.0.0.2:1 > 100.100.1.1:2', { queueAnswers: answer('accept') })), 'output:tailscale0 postrouting:tailscale0');
});

test('input routing uses the mark PREROUTING leaves: a forwarded packet marked in mangle PREROUTING takes its table', () => {
  const rs = ruleset(iptTable('mangle', { PREROUTING: [rule('-i eth0 -j MARK --set-xmark 0x10/0x10', m.iif('eth0'), a.xmark(0x10, 0x10))] }));
  const s = sim(rs, '0:\tfrom all lookup local\n100:\tfrom all fwmark 0x10/0x10 lookup 100\n32766:\tfrom all lookup main\n', [parseRoute('default@eth9,table=100')]);
  const r = go(s, 'tcp 192.0.2.1:1 > 10.1.0.9:80', { in: 'eth0' });
  assert.equal(outs(r), 'prerouting:- forward:eth9 postrouting:eth9');
  assert.deepEqual(routingSteps(r), ['prerouting dev eth9: routing: 100 fwmark 0x10/0x10 -> table 100: default dev eth9']);
  assert.equal(outs(go(s, 'tcp 192.0.2.1:1 > 10.1.0.9:80', { in: 'eth1' })), 'prerouting:- forward:eth1 postrouting:eth1', 'not marked: main');
  assert.equal(go(s, 'tcp 192.0.2.1:1 > 10.0.0.2:80', { in: 'eth0' }).outcomes[0].path.map((l) => l.hook).join(), 'prerouting,input', 'local first (rule 0)');
});

test('selectors: iif lo for locally generated packets, from/to, ipproto and ports, and a rule with a selector the simulator does not evaluate forks the trace', () => {
  const text = '0:\tfrom all lookup local\n10:\tfrom all iif lo ipproto udp dport 53 lookup 100\n20:\tfrom 192.0.2.0/24 to 10.1.0.0/16 lookup 100\n30:\tfrom all uidrange 1000-2000 lookup 100\n32766:\tfrom all lookup main\n';
  const s = sim(EMPTY, text, [parseRoute('default@eth9,table=100')]);
  assert.equal(outs(go(s, 'udp 10.0.0.2:1 > 192.0.2.9:53')).split(' ')[0], 'output:eth9', 'iif lo, udp, dport 53');
  const fwd = go(s, 'udp 192.0.2.1:1 > 10.1.0.9:53', { in: 'eth0' });
  assert.equal(outs(fwd), 'prerouting:- forward:eth9 postrouting:eth9', 'from/to');
  assert.equal(outs(go(s, 'udp 192.0.3.1:1 > 10.1.0.9:53', { in: 'eth0' })), 'prerouting:- forward:eth1 postrouting:eth1', 'iif is eth0, not lo; uid 0 is outside 1000-2000');
  const tcp = go(s, 'tcp 10.0.0.2:1 > 192.0.2.9:443');
  assert.equal(tcp.outcomes.length, 2, 'the socket owner is not known: uidrange forks');
  assert.deepEqual(tcp.outcomes.map((o) => o.path[0].oif), ['eth9', 'eth0']);
  assert.match(tcp.undeterminedBy[0].reason, /uidrange 1000-2000/);
});

test('unknown mark bits under an fwmark mask fork the route; known bits decide', () => {
  const rs = ruleset(iptTable('mangle', { OUTPUT: [rule('-j MARK --set-mark from a map', a.other('MARK', 'meta mark set tcp dport map { 443 : 0x80000 }', false))] }));
  const s = sim(rs, TAILSCALE_RULES, [parseRoute('100.64.0.0/10@tailscale0,table=52')]);
  const r = go(s, 'tcp 10.0.0.2:1 > 100.100.1.1:443');
  // Both ways the packet is accepted with the same (unknown) mark: the verdict stands, the routes differ.
  assert.equal(r.verdict, 'accept');
  assert.deepEqual(
    r.outcomes.map((o) => o.path.map((l) => l.oif).join(',')),
    ['tailscale0,eth0', 'tailscale0,tailscale0'],
  );
  assert.match(r.undeterminedBy[0].reason, /fwmark 0x80000\/0xff0000: bits of the mark are not known/);
});

test('goto and nop; rules of one family leave the other with the default rules; the JSON steps carry the routing step', () => {
  const text = '0:\tfrom all lookup local\n5:\tfrom all nop\n10:\tfrom all fwmark 0x1 goto 40\n20:\tfrom all lookup 100\n40:\tfrom all lookup main\n';
  const s = sim(EMPTY, text, [parseRoute('default@eth9,table=100'), parseRoute('default6@eth0')]);
  assert.equal(outs(go(s, 'udp 10.0.0.2:1 > 192.0.2.9:53')), 'output:eth9 postrouting:eth9');
  const g = go(s, 'udp 10.0.0.2:1 > 192.0.2.9:53', { mark: 1 });
  assert.equal(outs(g), 'output:eth0 postrouting:eth0');
  assert.match(g.steps[0].note ?? '', /5: nop; 10: goto 40/);
  const v6 = new Simulator(EMPTY, { locals: [parseLocalAddress('fd00::2@eth0')], ipRules: rules(text) }).trace({ packet: parsePacketSpec('udp [fd00::2]:1 > [fd00:9::1]:53') });
  assert.equal(v6.steps.filter((x) => x.table === '(routing)').length, 0, 'IPv6 has no rules given: no policy routing, no step');
  const j = traceJson(g) as { steps: Array<{ table: string; verdict: string }> };
  assert.deepEqual(j.steps.filter((x) => x.table === '(routing)').map((x) => x.verdict), ['dev eth0']);
});

test('compileRouting: the default rules alone are no policy; detached and unresolved rules never apply', () => {
  const def = compileRouting(rules('0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n'), MAIN);
  assert.equal(def.ip.policy, false);
  assert.equal(def.ip6.policy, false);
  assert.equal(compileRouting([], [...MAIN, parseRoute('default@wg0,table=51820')]).ip.policy, true, 'another table has routes');
  const odd = compileRouting(rules('0:\tfrom all lookup local\n10:\tfrom all iif cni9 [detached] lookup 100\n20:\tfrom all goto 25 unresolved\n32766:\tfrom all lookup main\n'), MAIN);
  assert.deepEqual(
    odd.ip.rules.map((r) => [r.priority, r.inert]),
    [
      [0, false],
      [10, true],
      [20, true],
      [32766, false],
    ],
  );
});
