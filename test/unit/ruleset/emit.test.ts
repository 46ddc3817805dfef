// `nfqguard parse --emit iptables-save` of models that did not come from iptables text: the protocol a
// port test implies is printed (iptables refuses the module without it), and what the text cannot say is
// reported as a problem (exit 1), never silently dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from '../../helpers/cli.js';
import { parseIptablesSave, parseNftJson, serializeIptablesSave, type Ruleset } from '../../../src/ruleset/index.js';

/** An nft -j listing: one table of `family` named `name` with a filter chain on input holding `rules`. */
function nftJson(family: string, name: string, rules: unknown[][]): string {
  const nftables: unknown[] = [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family, name, handle: 1 } },
    { chain: { family, table: name, name: 'INPUT', handle: 1, type: 'filter', hook: 'input', prio: 0, policy: 'accept' } },
    ...rules.map((expr, i) => ({ rule: { family, table: name, chain: 'INPUT', handle: i + 2, expr } })),
  ];
  return JSON.stringify({ nftables });
}

const port = (proto: string, field: string, v: number, op = '==') => ({ match: { op, left: { payload: { protocol: proto, field } }, right: v } });

test('a port, tcp-flags or icmp test without a protocol match is printed with the -p it implies', () => {
  const text = nftJson('ip', 'filter', [
    [port('udp', 'dport', 53), { accept: null }],
    [port('tcp', 'sport', 80, '!='), { drop: null }],
    [{ match: { op: '==', left: { '&': [{ payload: { protocol: 'tcp', field: 'flags' } }, ['syn', 'ack']] }, right: 'syn' } }, { accept: null }],
    [{ match: { op: '==', left: { payload: { protocol: 'icmp', field: 'type' } }, right: 'echo-request' } }, { accept: null }],
  ]);
  const model = parseNftJson(text, { source: 'x' });
  assert.deepEqual(model.problems, []);
  const lines = serializeIptablesSave(model).split('\n').filter((l) => l.includes('-A INPUT'));
  assert.deepEqual(lines.map((l) => l.replace(/^\[\d+:\d+\] /, '')), [
    '-A INPUT -p udp -m udp --dport 53 -j ACCEPT',
    '-A INPUT -p tcp -m tcp ! --sport 80 -j DROP',
    '-A INPUT -p tcp -m tcp --tcp-flags SYN,ACK SYN -j ACCEPT',
    '-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT',
  ]);
  // and the text means what the model means
  const back = parseIptablesSave(serializeIptablesSave(model), { source: 'back' });
  assert.deepEqual(back.problems, []);
  const exprs = (r: Ruleset) => r.tables[0].chains.find((c) => c.name === 'INPUT')!.rules.map((x) => x.exprs.filter((e) => !(e.type === 'match' && e.key === 'proto')));
  assert.deepEqual(exprs(back), exprs(model));
});

test('a rule with an expression iptables cannot say, and a native nft table: NOT_EXPRESSIBLE warnings at their place, exit 1', async () => {
  const text = nftJson('ip', 'filter', [
    [{ match: { op: '==', left: { meta: { key: 'pkttype' } }, right: 'broadcast' } }, { drop: null }],
    [{ accept: null }],
  ]);
  const lost: string[][] = [];
  const out = serializeIptablesSave(parseNftJson(text, { source: 'x' }), { onLost: (l) => lost.push(l.lost) });
  assert.match(out, /^\S* ?-A INPUT -m comment --comment "nfqguard: not expressible in iptables: meta pkttype broadcast" -j DROP$/m);
  assert.deepEqual(lost, [['meta pkttype broadcast']]);

  const x = await cli(['parse', '-', '--emit', 'iptables-save'], { stdin: text });
  assert.equal(x.code, 1);
  assert.match(x.stderr, /^<stdin>:1:\d+: warning NOT_EXPRESSIBLE: filter INPUT: meta pkttype broadcast has no iptables-save form/m);
  assert.equal(x.stderr.trim().split('\n').length, 1, x.stderr);

  const native = await cli(['parse', '-', '--emit', 'iptables-save'], { stdin: nftJson('inet', 'mine', [[{ accept: null }]]) });
  assert.equal(native.code, 1);
  assert.match(native.stderr, /warning NOT_EXPRESSIBLE: native nftables table inet mine has no iptables-save form/);
  assert.doesNotMatch(native.stdout, /^-A /m);

  // The same input without --emit has nothing lost: clean.
  const plain = await cli(['parse', '-'], { stdin: text });
  assert.equal(plain.code, 0);
  assert.equal(plain.stderr, '');
});
