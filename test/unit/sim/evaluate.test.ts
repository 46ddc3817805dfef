// The simulator's evaluation on hand-built models: hook order and ties, first match, jumps/gotos/
// returns/policies, NFQUEUE answers, conntrack and connmark, NAT and the path, tri-state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addQueueVerdict, parseExtraHook, parseLocalAddress, parseRoute, type QueueAnswers } from '../../../src/sim/options.js';
import { parsePacketSpec } from '../../../src/sim/packet.js';
import { formatMark } from '../../../src/sim/state.js';
import { Simulator, finalText, traceJson, type TraceInput, type TraceResult } from '../../../src/sim/trace.js';
import type { Ruleset } from '../../../src/ruleset/model.js';
import { a, iptTable, m, nftChain, nftTable, rule, ruleset } from '../../helpers/sim-model.js';

function qa(...vs: string[]): QueueAnswers {
  const out: QueueAnswers = { byQueue: new Map() };
  for (const v of vs) addQueueVerdict(out, v);
  return out;
}

function trace(rs: Ruleset, packet: string, input: Omit<TraceInput, 'packet'> = {}, sim?: ConstructorParameters<typeof Simulator>[1]): TraceResult {
  return new Simulator(rs, sim).trace({ packet: parsePacketSpec(packet), ...input });
}

/** The chains and rules the packet matched, as "table chain #n verdict". */
function path(r: TraceResult): string[] {
  return r.steps.map((s) => `${s.table} ${s.chain} ${s.rule === null ? s.text : `#${s.rule}`} ${s.verdict}`);
}

const SEED_FILTER = iptTable('filter', {
  INPUT: [rule('-p tcp --dport 80 -j KUBE-FIREWALL', m.tcp(), m.dport(80, 80, 6), a.jump('KUBE-FIREWALL'))],
  'KUBE-FIREWALL': [rule('-m mark --mark 0x8000/0x8000 -j DROP', m.mark(0x8000, 0x8000), a.drop())],
});
const LOOP = 'tcp 127.0.0.1:40240 > 127.0.0.1:80';

test("the seed's outage: a FIRST hook queues, the consumer replaces the whole mark, KUBE-FIREWALL drops", () => {
  const r = trace(ruleset(SEED_FILTER), LOOP, { queueAnswers: qa('accept,mark=0x8000') }, { hooks: [parseExtraHook('input:FIRST:queue=80')] });
  assert.equal(r.verdict, 'drop');
  assert.deepEqual(r.decidedBy, { family: 'ip', table: 'filter', chain: 'KUBE-FIREWALL', rule: 1, text: '-m mark --mark 0x8000/0x8000 -j DROP' });
  assert.equal(formatMark(r.mark, r.markKnown), '0x00008000');
  assert.deepEqual(
    r.outcomes[0].path.map((l) => l.hook),
    ['output', 'postrouting', 'prerouting', 'input'],
  );
});

test("the seed's clear-mark hook at FIRST+1 erases the consumer's mark and the packet passes", () => {
  const r = trace(ruleset(SEED_FILTER), LOOP, { queueAnswers: qa('accept,mark=0x8000') }, { hooks: [parseExtraHook('input:FIRST:queue=80'), parseExtraHook('input:FIRST+1:clear-mark')] });
  assert.equal(r.verdict, 'accept');
  assert.equal(r.mark, 0);
});

test('mark ownership: accept,mark=V/M keeps the bits outside M', () => {
  const r = trace(ruleset(SEED_FILTER), LOOP, { mark: 0x4000, queueAnswers: qa('accept,mark=0x100000/0xf00000') }, { hooks: [parseExtraHook('input:FIRST:queue=80')] });
  assert.equal(r.verdict, 'accept');
  assert.equal(formatMark(r.mark, r.markKnown), '0x00104000');
});

test('a queue without consumer: bypass goes on, no bypass drops (decided by the queue rule)', () => {
  const rs = (bypass: boolean) => ruleset(iptTable('mangle', { INPUT: [rule('-j NFQUEUE', a.queue(5, bypass))] }));
  const by = trace(rs(true), LOOP);
  assert.equal(by.verdict, 'accept');
  assert.equal(by.decidedBy?.chain, 'INPUT');
  const no = trace(rs(false), LOOP);
  assert.equal(no.verdict, 'drop');
  assert.equal(no.decidedBy?.rule, 1);
  assert.equal(trace(rs(false), LOOP, { queueAnswers: qa('6:accept') }).verdict, 'drop', 'an answer for another queue is no consumer for this one');
  assert.equal(trace(rs(false), LOOP, { queueAnswers: qa('5:accept') }).verdict, 'accept');
  assert.equal(trace(rs(false), LOOP, { queueAnswers: qa('drop') }).verdict, 'drop');
  const hold = trace(rs(false), LOOP, { queueAnswers: qa('hold') });
  assert.equal(hold.verdict, 'queue');
  assert.equal(hold.decidedBy?.table, 'mangle');
});

test('NF_ACCEPT from the consumer continues with the next hook entry: later rules of the queueing chain never run', () => {
  const rs = ruleset(
    iptTable('mangle', { INPUT: [rule('-j NFQUEUE --queue-num 5', a.queue(5)), rule('-j DROP', a.drop())] }),
    iptTable('filter', { INPUT: [rule('-j MARK --set-xmark 0x1/0x1', a.xmark(0x1, 0x1))] }),
  );
  const r = trace(rs, LOOP, { queueAnswers: qa('accept') });
  assert.equal(r.verdict, 'accept');
  assert.equal(r.mark, 1);
  assert.ok(!path(r).some((p) => p.startsWith('mangle INPUT #2')), 'rule 2 of mangle INPUT must not run');
});

test('hook order: by priority; at equal priority the chain registered last runs first', () => {
  const rs = ruleset(
    iptTable('filter', { INPUT: [rule('-j MARK --set-xmark 0x1/0xff', a.xmark(0x1, 0xff))] }),
    nftTable('inet', 'late', [nftChain('c', { hook: 'input', priority: 0 }, [rule('meta mark set 0x2', a.xmark(0x2, 0xff))])]),
    nftTable('ip', 'early', [nftChain('c', { hook: 'input', priority: -1 }, [rule('meta mark set 0x3', a.xmark(0x3, 0xff))])]),
  );
  const r = trace(rs, LOOP);
  assert.deepEqual(
    r.steps.filter((s) => s.hook === 'input' && s.rule !== null).map((s) => `${s.table}`),
    ['early', 'late', 'filter'],
  );
  assert.equal(r.mark, 1, 'filter INPUT (registered first) runs last');
});

test('NAT chains run inside the NAT core entry at -100 whatever their own priority; their priority orders them among themselves', () => {
  const rs = ruleset(
    nftTable('ip', 'n', [
      nftChain('late', { hook: 'prerouting', priority: 50, type: 'nat' }, [rule('meta mark set mark or 0x10', a.xmark(0x10, 0x10))]),
      nftChain('early', { hook: 'prerouting', priority: -99, type: 'nat' }, [rule('ct state new meta mark set mark or 0x1', m.ctstate(['new']), a.xmark(0x1, 0x1))]),
    ]),
    nftTable('ip', 'f', [nftChain('c', { hook: 'prerouting', priority: 0 }, [rule('meta mark 0x11 drop', m.mark(0x11), a.drop())])]),
  );
  const r = trace(rs, 'tcp 10.0.0.1:1 > 10.0.0.2:80', {}, { locals: [parseLocalAddress('10.0.0.2')] });
  assert.deepEqual(
    r.steps.filter((s) => s.rule !== null).map((s) => `${s.table} ${s.chain} ${s.priority}`),
    ['n early -100', 'n late -100', 'f c 0'],
  );
  assert.equal(r.verdict, 'drop');
});

test('jump returns to the next rule, goto does not, return pops, the base chain policy decides at the end', () => {
  const rs = ruleset(
    iptTable(
      'filter',
      {
        INPUT: {
          policy: 'drop',
          rules: [
            rule('-j A', a.jump('A')),
            rule('-j MARK 0x1', a.xmark(0x1, 0x1)),
            rule('-g B', a.goto('B')),
            rule('-j ACCEPT', a.accept()),
          ],
        },
        A: [rule('-j MARK 0x10', a.xmark(0x10, 0x10)), rule('-j RETURN', a.ret()), rule('-j DROP', a.drop())],
        B: [rule('-j MARK 0x100', a.xmark(0x100, 0x100))],
      },
      'ip',
    ),
  );
  const r = trace(rs, LOOP);
  assert.equal(r.verdict, 'drop', 'goto B falls off B: the policy of INPUT (drop), not rule 4');
  assert.deepEqual(r.decidedBy, { family: 'ip', table: 'filter', chain: 'INPUT', rule: null, text: 'policy drop' });
  assert.equal(r.mark, 0x111);
  assert.deepEqual(path(r).filter((p) => p.startsWith('filter')), [
    'filter INPUT #1 jump A',
    'filter A #1 continue',
    'filter A #2 return',
    'filter INPUT #2 continue',
    'filter INPUT #3 goto B',
    'filter B #1 continue',
    'filter INPUT policy drop drop',
  ]);
});

test('marks: (mark & and) ^ xor; matches compare (mark & mask) == value; inversion', () => {
  const rs = ruleset(
    iptTable('mangle', {
      PREROUTING: [
        rule('--set-xmark 0x8000/0xc000', a.xmark(0x8000, 0xc000)),
        rule('! --mark 0x4000/0x4000 -j MARK --set-xmark 0x1/0x1', m.mark(0x4000, 0x4000, true), a.xmark(0x1, 0x1)),
        rule('--mark 0x8001/0x8001 -j ACCEPT', m.mark(0x8001, 0x8001), a.accept()),
      ],
    }),
  );
  const r = trace(rs, 'udp 10.0.0.1:1 > 10.0.0.9:53', { mark: 0x4000 });
  assert.equal(r.mark, 0x8001, '(0x4000 & ~0xc000) ^ 0x8000 = 0x8000, then | 0x1');
  assert.equal(r.steps.find((s) => s.rule === 3)?.verdict, 'accept');
});

test('CONNMARK save and restore with masks; nothing happens before conntrack or when untracked', () => {
  const rs = ruleset(
    iptTable('raw', { PREROUTING: [rule('CONNMARK --save-mark', a.save())] }),
    iptTable('mangle', {
      PREROUTING: [rule('CONNMARK --save-mark --nfmask 0xff --ctmask 0xf0', a.save(0xff, 0xf0)), rule('MARK --set-xmark 0x0/0xffffffff', a.xmark(0, 0xffffffff)), rule('CONNMARK --restore-mark --nfmask 0x0f --ctmask 0xff', a.restore(0x0f, 0xff))],
    }),
  );
  const r = trace(rs, 'udp 10.0.0.1:1 > 10.0.0.9:53', { mark: 0x3c, ctmark: 0x101 });
  // save: ct = (0x101 & ~0xf0) ^ (0x3c & 0xff) = 0x101 ^ 0x3c = 0x13d; restore: mark = (0 & ~0x0f) ^ (0x13d & 0xff) = 0x3d
  assert.equal(r.outcomes[0].ctmark, 0x13d);
  assert.equal(r.mark, 0x3d);
  const un = trace(ruleset(iptTable('raw', { PREROUTING: [rule('CT --notrack', a.notrack())] }), rs.tables[1]), 'udp 10.0.0.1:1 > 10.0.0.9:53', { mark: 0x3c, ctmark: 0x101 });
  assert.equal(un.mark, 0, 'untracked: save and restore do nothing; only the MARK rule clears the mark');
  assert.equal(un.outcomes[0].ct, 'untracked');
});

test('ct state: before conntrack (raw) every packet is INVALID; established packets skip NAT chains', () => {
  const rs = ruleset(
    iptTable('raw', { PREROUTING: [rule('--ctstate INVALID -j MARK 0x1', m.ctstate(['invalid']), a.xmark(0x1, 0x1))] }),
    iptTable('mangle', { PREROUTING: [rule('--ctstate NEW -j MARK 0x2', m.ctstate(['new']), a.xmark(0x2, 0x2))] }),
    iptTable('nat', { PREROUTING: [rule('-j DNAT --to-destination 10.0.0.2', a.dnat('10.0.0.2'))] }),
  );
  const locals = [parseLocalAddress('10.0.0.2')];
  const n = trace(rs, 'tcp 10.0.0.1:1 > 10.0.0.9:80', {}, { locals });
  assert.equal(n.mark, 0x3);
  assert.deepEqual(n.outcomes[0].path.map((l) => l.hook), ['prerouting', 'input'], 'DNAT to a local address: INPUT');
  assert.equal(finalText(n.outcomes[0].final).daddr, '10.0.0.2');
  const e = trace(rs, 'tcp 10.0.0.1:1 > 10.0.0.9:80', { ctState: 'established' }, { locals });
  assert.equal(e.mark, 0x1);
  assert.deepEqual(e.outcomes[0].path.map((l) => l.hook), ['prerouting', 'forward', 'postrouting']);
  assert.ok(e.steps.some((s) => s.verdict === 'skip' && /established/.test(s.note ?? '')));
});

test('interfaces: iif/oif per hook, + wildcards; POSTROUTING keeps the input device of forwarded packets only', () => {
  const rs = ruleset(
    iptTable('mangle', {
      FORWARD: [rule('-i eth+ -o cni0 -j MARK 0x1', m.iif('eth+'), m.oif('cni0'), a.xmark(0x1, 0x1))],
      POSTROUTING: [rule('-j U', a.jump('U'))],
      U: [rule('! -i eth1 -j MARK 0x10', m.iif('eth1', true), a.xmark(0x10, 0x10)), rule('-i eth1 -j MARK 0x100', m.iif('eth1'), a.xmark(0x100, 0x100))],
    }),
  );
  const fwd = trace(rs, 'tcp 10.0.0.1:1 > 10.244.0.5:80', { in: 'eth1', out: 'cni0' });
  assert.equal(fwd.mark, 0x101, 'forwarded: eth1 is still the input device in POSTROUTING');
  const viaRoute = new Simulator(rs, { routes: [parseRoute('10.244.0.0/16@cni0'), parseRoute('default@eth9')] }).trace({ packet: parsePacketSpec('tcp 10.0.0.1:1 > 10.244.0.5:80'), in: 'eth0' });
  assert.equal(viaRoute.mark, 0x11, 'the route picks cni0; eth0 is not eth1');
  const local = trace(rs, 'tcp 10.0.0.2:1 > 10.244.0.5:80', {}, { locals: [parseLocalAddress('10.0.0.2')] });
  assert.equal(local.mark, 0x10, 'locally generated: no input device, an empty name, so ! -i eth1 matches');
});

test('locality: 127.0.0.0/8 and ::1 always local, --local addresses too; a local source starts at OUTPUT', () => {
  const rs = ruleset(iptTable('filter', { INPUT: [] }));
  assert.equal(trace(rs, 'udp 10.0.0.1:1 > 10.0.0.2:53').outcomes[0].path.map((l) => l.hook).join(), 'prerouting,forward,postrouting');
  assert.equal(trace(rs, 'udp 10.0.0.1:1 > 10.0.0.2:53', {}, { locals: [parseLocalAddress('10.0.0.2/24@eth0')] }).outcomes[0].path.map((l) => l.hook).join(), 'prerouting,input');
  assert.equal(trace(rs, 'udp [::1]:1 > [::1]:53').outcomes[0].path.map((l) => l.hook).join(), 'output,postrouting,prerouting,input');
  assert.equal(trace(rs, 'udp 10.0.0.2:1 > 8.8.8.8:53', {}, { locals: [parseLocalAddress('10.0.0.2')] }).outcomes[0].path.map((l) => l.hook).join(), 'output,postrouting');
  // From outside with the node's own address as its source: a martian, dropped by routing (checked on the
  // kernel in test/kernel/sim/trace-kernel.test.ts).
  const martian = trace(rs, 'udp 10.0.0.2:1 > 8.8.8.8:53', { start: 'prerouting' }, { locals: [parseLocalAddress('10.0.0.2')] });
  assert.deepEqual([martian.outcomes[0].path.map((l) => l.hook).join(), martian.verdict], ['prerouting', 'drop']);
  assert.equal(trace(rs, 'udp 10.0.0.3:1 > 8.8.8.8:53', { start: 'prerouting' }, { locals: [parseLocalAddress('10.0.0.2')] }).outcomes[0].path.map((l) => l.hook).join(), 'prerouting,forward,postrouting');
});

test('families: ip tables see IPv4 only, ip6 tables IPv6 only, inet both', () => {
  const rs = ruleset(
    nftTable('ip', 'four', [nftChain('c', { hook: 'input', priority: 0 }, [rule('meta mark set mark or 1', a.xmark(0x1, 0x1))])]),
    nftTable('ip6', 'six', [nftChain('c', { hook: 'input', priority: 0 }, [rule('meta mark set mark or 2', a.xmark(0x2, 0x2))])]),
    nftTable('inet', 'both', [nftChain('c', { hook: 'input', priority: 0 }, [rule('meta mark set mark or 4', a.xmark(0x4, 0x4))])]),
  );
  assert.equal(trace(rs, 'udp 127.0.0.1:1 > 127.0.0.1:53').mark, 0x5);
  assert.equal(trace(rs, 'udp [::1]:1 > [::1]:53').mark, 0x6);
});

test('an address match of the other IP version does not match, inverted or not (nft nfproto dependency)', () => {
  // Checked on the kernel: test/kernel/sim/trace-kernel.test.ts replays this ruleset with an IPv6 packet.
  const rs = ruleset(
    nftTable('inet', 't', [
      nftChain('c', { hook: 'input', priority: 0 }, [
        rule('ip saddr != 10.0.0.0/24 meta mark set mark or 0x1', m.saddr('10.0.0.0/24', true), a.xmark(0x1, 0x1)),
        rule('ip6 saddr != fd00::/64 meta mark set mark or 0x2', m.saddr('fd00::/64', true), a.xmark(0x2, 0x2)),
        rule('ip6 saddr fd00::/64 meta mark set mark or 0x4', m.saddr('fd00::/64'), a.xmark(0x4, 0x4)),
        rule('ip daddr @v4 meta mark set mark or 0x8', m.set('v4', ['dst'], true), a.xmark(0x8, 0x8)),
      ]),
    ], [{ name: 'v4', keyType: 'ipv4_addr', elements: [{ key: '10.0.0.2' }] }]),
  );
  const sim = new Simulator(rs, { locals: [parseLocalAddress('fd00::2@eth0'), parseLocalAddress('10.0.0.2@eth0')] });
  assert.equal(sim.trace({ packet: parsePacketSpec('udp [fd00::1]:3000 > [fd00::2]:53') }).mark, 0x4);
  assert.equal(sim.trace({ packet: parsePacketSpec('udp 10.0.9.1:3000 > 10.0.0.2:53') }).mark, 0x1);
});

test('tri-state: an uninterpreted match makes the verdict undetermined, names the rule, and shows both outcomes', () => {
  const rs = ruleset(
    iptTable('filter', {
      INPUT: [rule('-m statistic --mode random --probability 0.5 -j DROP', m.other('statistic', '-m statistic --mode random --probability 0.5'), a.drop()), rule('-j ACCEPT', a.accept())],
    }),
  );
  const r = trace(rs, LOOP);
  assert.equal(r.verdict, 'undetermined');
  assert.equal(r.decidedBy?.rule, 1);
  assert.equal(r.outcomes.length, 2);
  assert.deepEqual(
    r.outcomes.map((o) => [o.verdict, o.assumptions[0].assumed]),
    [
      ['drop', 'matches'],
      ['accept', 'does not match'],
    ],
  );
  assert.match(r.undeterminedBy[0].reason, /statistic/);
  const j = traceJson(r);
  assert.equal(j.verdict, 'undetermined');
  assert.equal((j.outcomes as unknown[]).length, 2);
});

test('tri-state: an unknown match that cannot change the outcome leaves the verdict decided', () => {
  const rs = ruleset(iptTable('filter', { INPUT: [rule('-m owner --uid-owner 0 -j MARK 0x1', m.other('owner', '--uid-owner 0'), a.xmark(0x1, 0x1)), rule('-j ACCEPT', a.accept())] }));
  const r = trace(rs, LOOP);
  assert.equal(r.outcomes.length, 2);
  assert.equal(r.verdict, 'undetermined', 'the final mark differs (0x1 or 0)');
  const rs2 = ruleset(iptTable('filter', { INPUT: [rule('-m owner --uid-owner 0 -j LOG', m.other('owner', '--uid-owner 0'), a.other('LOG', '-j LOG', false)), rule('-j ACCEPT', a.accept())] }));
  const r2 = trace(rs2, LOOP);
  assert.equal(r2.outcomes.length, 2);
  assert.equal(r2.verdict, 'accept', 'both outcomes accept by rule 2 with the same mark');
  assert.equal(r2.decidedBy?.rule, 2);
});

test('tri-state: a statement that writes the mark in a way the simulator does not read makes those bits unknown', () => {
  const rs = ruleset(
    nftTable('ip', 't', [
      nftChain('c', { hook: 'input', priority: 0 }, [
        rule('meta mark set ip daddr map { ... }', a.other('mark-map', 'meta mark set ip daddr map { 127.0.0.1 : 0x8000 }', false)),
        rule('meta mark & 0x8000 == 0x8000 drop', m.mark(0x8000, 0x8000), a.drop()),
      ]),
    ]),
  );
  const r = trace(rs, LOOP);
  assert.equal(r.verdict, 'undetermined');
  assert.match(r.undeterminedBy[0].reason, /not known/);
  assert.equal(formatMark(r.mark, r.markKnown), '0x????????');
});

test('named sets with known elements are read; sets without contents (ipsets) are undetermined', () => {
  const t = nftTable('inet', 't', [nftChain('c', { hook: 'input', priority: 0 }, [rule('ip daddr . tcp dport @svc drop', m.set('svc', ['dst', 'dst']), a.drop())])], [
    { name: 'svc', keyType: 'ipv4_addr . inet_service', elements: [{ key: '127.0.0.0/8 . 80' }, { key: '10.0.0.1 . 443' }] },
  ]);
  assert.equal(trace(ruleset(t), LOOP).verdict, 'drop');
  assert.equal(trace(ruleset(t), 'tcp 127.0.0.1:1 > 127.0.0.1:81').verdict, 'accept');
  const ipset = ruleset(iptTable('filter', { INPUT: [rule('-m set --match-set KUBE-X dst -j DROP', m.set('KUBE-X', ['dst']), a.drop())] }));
  assert.equal(trace(ipset, LOOP).verdict, 'undetermined');
});

test('routing drops: a 127/8 destination arriving from outside is martian; DNAT of a loopback packet to a remote fails in the NAT hook', () => {
  const rs = ruleset(iptTable('nat', { PREROUTING: [rule('-j DNAT --to 127.0.0.1', m.ctstate(['new']), a.dnat('127.0.0.1'))] }));
  const r = trace(rs, 'tcp 10.0.0.1:1 > 10.0.0.9:80');
  assert.equal(r.verdict, 'drop');
  assert.equal(r.decidedBy, null);
  assert.ok(r.notes.some((n) => /martian/.test(n)));
});

test('TPROXY and unknown verdicts are followed both ways', () => {
  const rs = ruleset(iptTable('mangle', { PREROUTING: [rule('-j TPROXY --on-port 15001 --tproxy-mark 0x1/0x1', { type: 'action', kind: 'tproxy', port: 15001, mark: { value: 1, mask: 1 } })] }));
  const r = trace(rs, 'tcp 10.0.0.1:1 > 10.0.0.9:80');
  assert.equal(r.verdict, 'undetermined');
  assert.deepEqual(r.outcomes.map((o) => o.verdict), ['accept', 'drop']);
  assert.equal(r.outcomes[0].mark, 1);
});

test('a big chain with a destination index gives the same answer as a scan', () => {
  const rules = [];
  for (let i = 0; i < 200; i++) rules.push(rule(`-d 10.96.0.${i}/32 -j MARK ${i}`, m.daddr(`10.96.0.${i}/32`), m.tcp(), a.xmark(i, 0xff)));
  rules.splice(100, 0, rule('-d 10.96.0.0/24 ! -p udp -j MARK 0x8000', m.daddr('10.96.0.0/24'), m.proto(17), a.xmark(0x8000, 0x8000)));
  rules.push(rule('-j RETURN', a.ret()));
  const rs = ruleset(iptTable('mangle', { PREROUTING: rules }));
  const sim = new Simulator(rs);
  const chain = sim.program.tables[0].chains.get('PREROUTING');
  assert.ok(chain && !chain.prepared && chain.index === undefined, 'nothing is compiled before a walk enters the chain');
  for (const [dst, mark] of [
    ['10.96.0.7', 7],
    ['10.96.0.150', 150],
    ['10.96.1.1', 0],
  ] as const) {
    const r = sim.trace({ packet: parsePacketSpec(`tcp 10.0.0.1:1 > ${dst}:80`) });
    assert.ok(chain.index, 'the chain is indexed once entered');
    if (dst === '10.96.0.7') {
      // Lazy compilation: only the index's candidates for 10.96.0.7 were compiled (rule 8, the /24 rule, RETURN).
      assert.deepEqual(chain.rules.flatMap((x, i) => (x ? [i + 1] : [])), [8, 101, 202]);
    }
    assert.equal(r.mark, mark, dst);
    assert.deepEqual(r.steps.map((s) => s.rule).filter((x) => x !== null), mark ? [mark < 100 ? mark + 1 : mark + 2, 202] : [202]);
  }
  assert.equal(sim.trace({ packet: parsePacketSpec('udp 10.0.0.1:1 > 10.96.0.150:53') }).mark, 0x8000 ^ 0, 'the unindexed /24 rule still runs first for UDP');
});

test('an xt target CT read from nft -j (options not shown: maybe CT --notrack) is a choice: untracked or not', () => {
  const rs = ruleset(
    nftTable('ip', 'raw', [nftChain('PREROUTING', { hook: 'prerouting', priority: -300 }, [rule('tcp dport 80 counter xt target CT', m.dport(80, 80, 6), a.other('CT', 'xt target CT', false))])]),
    nftTable('inet', 't', [nftChain('in', { hook: 'input', priority: 10 }, [rule('ct state untracked drop', m.ctstate(['untracked']), a.drop())])]),
  );
  const locals = [parseLocalAddress('10.0.0.2')];
  const r = trace(rs, 'tcp 10.0.0.1:1 > 10.0.0.2:80', {}, { locals });
  assert.equal(r.verdict, 'undetermined');
  assert.deepEqual(r.outcomes.map((o) => [o.verdict, o.assumptions.map((x) => x.assumed)]), [
    ['drop', ['is CT --notrack: the packet stays untracked']],
    ['accept', ['is not --notrack (a zone, helper or timeout template)']],
  ]);
  // On loopback the packet keeps the entry OUTPUT gave it: PREROUTING's CT cannot untrack it.
  const lo = trace(rs, 'tcp 127.0.0.1:1 > 127.0.0.1:80', {}, { locals });
  assert.deepEqual([lo.verdict, lo.outcomes.length], ['accept', 1]);
  // An iptables CT target, its options known, is no choice.
  const known = ruleset(
    nftTable('ip', 'raw', [nftChain('PREROUTING', { hook: 'prerouting', priority: -300 }, [rule('-j CT --zone 3', a.other('CT', '-j CT --zone 3', false))])]),
    nftTable('inet', 't', [nftChain('in', { hook: 'input', priority: 10 }, [rule('ct state untracked drop', m.ctstate(['untracked']), a.drop())])]),
  );
  assert.equal(trace(known, 'tcp 10.0.0.1:1 > 10.0.0.2:80', {}, { locals }).verdict, 'accept');
});

test('a ct state or ctmark given for a family whose conntrack does not run is said to be unused, not silently dropped', () => {
  const noCt = ruleset(iptTable('filter', { INPUT: [rule('-p udp -j ACCEPT', m.udp(), a.accept())] }));
  const locals = [parseLocalAddress('10.0.0.2')];
  const pkt = 'udp 10.0.0.1:1 > 10.0.0.2:53';
  const note = (r: TraceResult) => r.notes.filter((n) => /not used: no IPv4 rule uses conntrack/.test(n));
  assert.deepEqual(note(trace(noCt, pkt, { ctState: 'established', ctmark: 0x3 }, { locals })), [
    'ct state established and ctmark 0x00000003 not used: no IPv4 rule uses conntrack, so it does not run and the packet has no entry; add --conntrack on if something else on the node uses it',
  ]);
  assert.deepEqual(note(trace(noCt, pkt, {}, { locals })), []);
  assert.deepEqual(note(trace(noCt, pkt, { ctmark: 0x3 }, { locals, conntrack: 'on' })), []);
  const r = trace(noCt, pkt, { ctmark: 0x3 }, { locals, conntrack: 'on' });
  assert.equal(formatMark(r.outcomes[0].ctmark, r.outcomes[0].ctmarkKnown), '0x00000003');
  const withCt = ruleset(iptTable('filter', { INPUT: [rule('-m conntrack --ctstate ESTABLISHED -j ACCEPT', m.ctstate(['established']), a.accept())] }));
  assert.deepEqual(note(trace(withCt, pkt, { ctState: 'established' }, { locals })), []);
});
