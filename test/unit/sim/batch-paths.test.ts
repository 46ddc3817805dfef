// The fast paths of batch mode agree with what they stand in for: the character-level packet-spec reader
// with the full parser (same spec, same error and column), and Simulator.summarize() (lean walks) with
// trace() (full outcomes) on the rulesets of test/fixtures and a small kube-proxy ruleset whose
// `-m statistic` rules fork every service packet.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { mergeRulesets, parseIpRules, parseIptablesSave, parseNftJson, type Ruleset } from '../../../src/ruleset/index.js';
import { genKubeProxy } from '../../../src/ruleset/gen/kube-proxy.js';
import { addQueueVerdict, parseExtraHook, parseLocalAddress, type QueueAnswers } from '../../../src/sim/options.js';
import { PacketSpecError, parsePacketSpec, parseSpec, type PacketSpec } from '../../../src/sim/packet.js';
import { Simulator } from '../../../src/sim/trace.js';
import { parseNatTo } from '../../../src/sim/nat.js';
import { forEachPacketLine } from '../../../src/sim/batch.js';

type Parsed = { spec: string } | { error: string; column: number };

function parseWith(f: (line: string) => PacketSpec, line: string): Parsed {
  try {
    // JSON keeps the order of the fields: the fast path builds the spec in the full parser's order.
    return { spec: JSON.stringify(f(line)) };
  } catch (e) {
    if (!(e instanceof PacketSpecError)) throw e;
    return { error: e.message, column: e.column };
  }
}

/** Lines near the fast path's form: valid ones, and ones broken in the places it reads. */
const specLine = fc
  .tuple(
    fc.constantFrom('tcp', 'udp', 'icmp', 'TCP', 'Udp', 'sctp', 'tcq', ''),
    fc.constantFrom('10.0.0.1', '255.255.255.255', '1.2.3', '256.1.1.1', '01.2.3.4', '1.2.3.4x', '[fd00::1]', '::1', '1.2.3.4.5', '1..2.3'),
    fc.constantFrom(':40240', ':0', ':65535', ':65536', ':123456', ':', '', ':8a', '::1'),
    fc.constantFrom(' > ', '>', ' >', ' < ', ' >> ', '  >\t'),
    fc.constantFrom('10.96.0.10', '127.0.0.1', '1.2.3', 'fd00::2'),
    fc.constantFrom(':80', ':53', '', ':', ':99999'),
    fc.array(fc.constantFrom(' in eth0', ' out cni0', ' IN lo', ' in', ' in >', ' in a-very-long-interface0', ' in eth/0', ' in e+', ' mark 0x4000', ' ct established', ' syn', ' echo-reply', '>', ' x', '\r', '  '), { maxLength: 3 }),
  )
  .map(([p, s, sp, gt, d, dp, words]) => `${p} ${s}${sp}${gt}${d}${dp}${words.join('')}`);

test('packet specs: the fast path gives what the full parser gives, errors included', () => {
  fc.assert(
    fc.property(specLine, (line) => {
      assert.deepEqual(parseWith(parsePacketSpec, line), parseWith(parseSpec, line), line);
    }),
    { numRuns: 3000 },
  );
  // And the lines of the benchmark's mix, which take the fast path.
  for (const line of ['tcp 10.244.1.2:1024 > 10.96.0.10:80 in cni0', 'udp 192.0.2.1:5 > 10.0.0.2:30009 in eth0', 'icmp 10.0.0.1 > 10.0.0.2', 'tcp 1.2.3.4:1>5.6.7.8:2']) {
    assert.deepEqual(parseWith(parsePacketSpec, line), parseWith(parseSpec, line), line);
  }
});

test('--packets lines read in place: the same packets, line numbers and errors as split, comment removal and trim', () => {
  const piece = fc.constantFrom('tcp 10.0.0.1:1 > 10.0.0.2:2', 'udp 10.0.0.1:5 > 10.0.0.2:53 in eth0', 'icmp 1.2.3.4 > 5.6.7.8', 'tcp [fd00::1]:1 > [fd00::2]:2', 'bogus', 'tcp 1.2.3.4 > 5.6.7.8', '', ' ', '\t', '#', '# note', '\r', '\u00a0', '\ufeff', '\u2028', '\v', '\f', '\u001f', 'é', '\n', '\n', '\n');
  const file = fc.array(piece, { maxLength: 30 }).map((xs) => xs.join(''));
  type Got = [number, string];
  const reference = (text: string): Got[] => {
    const out: Got[] = [];
    text.split('\n').forEach((raw, i) => {
      const hash = raw.indexOf('#');
      const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
      if (line === '') return;
      const p = parseWith(parsePacketSpec, line);
      out.push([i + 1, JSON.stringify(p)]);
    });
    return out;
  };
  fc.assert(
    fc.property(file, (text) => {
      const got: Got[] = [];
      forEachPacketLine(text, (line, packet, error) => {
        got.push([line, JSON.stringify(packet ? { spec: JSON.stringify(packet) } : { error: error?.message, column: error?.column })]);
        return false;
      });
      assert.deepEqual(got, reference(text), JSON.stringify(text));
    }),
    { numRuns: 2000 },
  );
});

test('NAT targets: the fast reading of A.B.C.D[:PORT] gives what the general one gives', () => {
  // A leading blank takes the general reading (which trims), whatever the text.
  const text = fc
    .tuple(fc.constantFrom('10.244.98.54', '0.0.0.0', '255.255.255.255', '256.0.0.1', '1.2.3', '01.02.03.04', '1.2.3.4-1.2.3.9', '[fd00::1]', 'fd00::1', ''), fc.constantFrom('', ':8080', ':0', ':65535', ':123456', ':', ':80-90', ':x', '::80'))
    .map(([a, p]) => a + p);
  fc.assert(
    fc.property(text, fc.constantFrom('dnat', 'snat'), (t, kind) => {
      assert.equal(JSON.stringify(parseNatTo(t, kind)), JSON.stringify(parseNatTo(` ${t}`, kind)), t);
    }),
    { numRuns: 500 },
  );
});

const FIXTURES = 'test/fixtures/rulesets';

function fixtureRulesets(): Array<{ name: string; ruleset: Ruleset }> {
  const out: Array<{ name: string; ruleset: Ruleset }> = [];
  for (const dir of readdirSync(FIXTURES, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(FIXTURES, dir.name))) {
      const path = join(FIXTURES, dir.name, f);
      let rs: Ruleset;
      if (f.endsWith('.iptables-save')) rs = parseIptablesSave(readFileSync(path, 'utf8'), { source: f });
      else if (f.endsWith('.nft.json')) rs = parseNftJson(readFileSync(path, 'utf8'), { source: f });
      else continue;
      const rules = path.replace(/\.(iptables-save|nft\.json)$/, '.ip-rule');
      if (existsSync(rules)) rs = mergeRulesets(rs, parseIpRules(readFileSync(rules, 'utf8'), { source: 'ip-rule', family: 'ip' }));
      out.push({ name: `${dir.name}/${f}`, ruleset: rs });
    }
  }
  return out;
}

/** Packets from the addresses and ports the ruleset names, so that its rules are reached. */
function packetsFor(text: string, n: number, seed: number): PacketSpec[] {
  const v4 = [...new Set([...text.matchAll(/\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\b/g)].map((m) => m[1]))].filter((a) => a.split('.').every((x) => Number(x) < 256));
  v4.push('127.0.0.1', '10.0.0.2', '10.244.1.5', '192.0.2.7');
  const ports = [...new Set([...text.matchAll(/dport[\s"]*(\d{1,5})\b/g)].map((m) => Number(m[1])))].filter((p) => p < 65536);
  ports.push(22, 53, 80, 443, 30000);
  let x = seed;
  const rnd = (m: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % m;
  };
  const out: PacketSpec[] = [];
  for (let i = 0; i < n; i++) {
    const proto = ['tcp', 'udp', 'icmp'][rnd(3)];
    const ep = (a: string): string => (proto === 'icmp' ? a : `${a}:${rnd(2) ? ports[rnd(ports.length)] : 1024 + rnd(60000)}`);
    const words = [rnd(2) ? ` in ${['eth0', 'cni0', 'lo', 'eth1'][rnd(4)]}` : '', rnd(4) ? '' : ` mark 0x${[0x4000, 0x8000, 0x1, 0][rnd(4)].toString(16)}`, rnd(4) ? '' : ` ct ${['new', 'established', 'related', 'invalid'][rnd(4)]}`].join('');
    out.push(parsePacketSpec(`${proto} ${ep(v4[rnd(v4.length)])} > ${ep(v4[rnd(v4.length)])}${words}`));
  }
  return out;
}

test('summarize() combines outcomes as trace() does: verdict, deciding rule, mark and its known bits, count, truncation', () => {
  const cases = fixtureRulesets();
  cases.push({ name: 'gen kube-proxy 40 services', ruleset: parseIptablesSave(genKubeProxy({ services: 40 }), { source: 'gen' }) });
  const answers: QueueAnswers = { byQueue: new Map() };
  addQueueVerdict(answers, 'accept,mark=0x8000');
  let undetermined = 0;
  let agreeingForks = 0;
  let truncated = 0;
  cases.forEach(({ name, ruleset }, ci) => {
    const text = JSON.stringify(ruleset.tables.map((t) => t.chains.map((c) => c.rules.map((r) => r.text))));
    const sims = [
      new Simulator(ruleset, { locals: [parseLocalAddress('10.0.0.2/24@eth0')], conntrack: 'on', ipRules: ruleset.ipRules }),
      new Simulator(ruleset, { hooks: [parseExtraHook('input:FIRST:queue=80')], ipRules: ruleset.ipRules }),
    ];
    packetsFor(text, 150, ci + 1).forEach((packet, i) => {
      const sim = sims[i % 2];
      const max = [64, 1, 2, 3][i % 4];
      const input = { packet, queueAnswers: answers };
      const s = sim.summarize(input, max);
      for (const r of [sim.trace(input, { recordSteps: false, maxOutcomes: max }), sim.trace(input, { maxOutcomes: max })]) {
        const want = { verdict: r.verdict, decidedBy: r.decidedBy, mark: r.mark, markKnown: r.markKnown, outcomes: r.outcomes.length, truncated: r.truncated };
        assert.deepEqual(s, want, `${name}: packet ${i} (max ${max})`);
      }
      if (s.verdict === 'undetermined') undetermined++;
      else if (s.outcomes > 1) agreeingForks++;
      if (s.truncated) truncated++;
    });
  });
  // The comparison covered the cases that combine outcomes.
  assert.ok(undetermined > 50 && agreeingForks > 10 && truncated > 10, JSON.stringify({ undetermined, agreeingForks, truncated }));
});
