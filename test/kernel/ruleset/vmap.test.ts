// Verdict maps, expanded by the nft parser into one rule per element: real datagrams go through a chain of
// vmap rules (a named map with a concatenated key, an anonymous map with a port range), each element
// jumping to a counting chain; nft's counters must be what the expanded rules predict, evaluated here by a
// small evaluator of their matches (independent of the simulator).
import assert from 'node:assert/strict';
import { parseNftJson, type Expr } from '../../../src/ruleset/index.js';
import { kernelTest } from '../../helpers/kernel.js';

const TARGETS = ['c_a', 'c_b', 'c_c', 'c_d', 'c_e', 'c_f'];
const SCRIPT = [
  'table ip nfqg_vmap {',
  '  map m {',
  '    type ipv4_addr . inet_proto . inet_service : verdict',
  '    elements = { 127.0.0.2 . udp . 9 : jump c_a, 127.0.0.3 . udp . 9 : jump c_b, 127.0.0.2 . udp . 10 : jump c_c, 127.0.0.4 . tcp . 9 : jump c_d }',
  '  }',
  ...TARGETS.map((c) => `  chain ${c} { counter; }`),
  '  chain post {',
  '    type filter hook postrouting priority 200; policy accept;',
  '    ip daddr . meta l4proto . th dport vmap @m',
  '    udp dport vmap { 11 : jump c_e, 12-14 : jump c_f }',
  '  }',
  '}',
  '',
].join('\n');

// [address, port] of each datagram sent (UDP, from 127.0.0.1).
const SENT: Array<[string, number]> = [['127.0.0.2', 9], ['127.0.0.2', 9], ['127.0.0.3', 9], ['127.0.0.2', 10], ['127.0.0.4', 9], ['127.0.0.5', 11], ['127.0.0.5', 13], ['127.0.0.5', 14], ['127.0.0.5', 15]];
const SEND = `
const c = require('node:dgram').createSocket('udp4');
c.on('error', () => {});
const sent = ${JSON.stringify(SENT)};
c.bind(0, '127.0.0.1', async () => {
  for (const [a, p] of sent) await new Promise((r) => c.send('x', p, a, r));
  setTimeout(() => c.close(), 200);
});
`;

/** Whether a match holds for a UDP datagram to addr:port (only the kinds the expanded rules use). */
function holds(e: Expr, addr: string, port: number): boolean {
  if (e.type !== 'match') throw new Error('a match expected');
  let r: boolean;
  if (e.key === 'daddr') r = e.cidrs.some((c) => c === `${addr}/32`);
  else if (e.key === 'proto') r = e.protos.includes(17);
  else if (e.key === 'dport') r = (e.proto === undefined || e.proto === 17) && e.ranges.some(([lo, hi]) => port >= lo && port <= hi);
  else throw new Error(`unexpected match ${e.key}`);
  return e.invert ? !r : r;
}

kernelTest('verdict maps: each datagram reaches the chain the expanded rules say', 'rsvmap', async (ns) => {
  await ns.nft(SCRIPT);
  await ns.execOk(process.execPath, ['-e', SEND], { timeoutMs: 10_000 });
  const model = parseNftJson(await ns.execOk('nft', ['-j', 'list', 'ruleset'], { timeoutMs: 10_000 }), { source: 'nft -j' });
  assert.deepEqual(model.problems, []);
  const chains = new Map(model.tables[0].chains.map((c) => [c.name, c]));
  const post = chains.get('post')!;
  assert.equal(post.rules.length, 4 + 2, 'one rule per element');
  const expected = new Map(TARGETS.map((c) => [c, 0]));
  for (const [addr, port] of SENT) {
    const hit = post.rules.find((r) => r.exprs.slice(0, -1).every((e) => holds(e, addr, port)));
    const act = hit?.exprs.at(-1);
    if (act && act.type === 'action' && act.kind === 'jump') expected.set(act.chain, expected.get(act.chain)! + 1);
  }
  // What nft counted in each target chain.
  const listing = JSON.parse(await ns.execOk('nft', ['-j', 'list', 'table', 'ip', 'nfqg_vmap'], { timeoutMs: 10_000 })) as { nftables: Array<{ rule?: { chain: string; expr: Array<{ counter?: { packets: number } }> } }> };
  const counted = new Map(TARGETS.map((c) => [c, 0]));
  for (const i of listing.nftables) if (i.rule && counted.has(i.rule.chain)) counted.set(i.rule.chain, i.rule.expr.find((x) => x.counter)!.counter!.packets);
  assert.deepEqual([...counted], [...expected]);
  assert.deepEqual([...expected], [['c_a', 2], ['c_b', 1], ['c_c', 1], ['c_d', 0], ['c_e', 1], ['c_f', 2]]);
});
