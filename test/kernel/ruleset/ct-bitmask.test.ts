// ct state / ct status matches against real packets: every rule of chain c in ct-forms.nft is copied into
// one chain per kind of packet (new, established, related, invalid, untracked; DNAT and SNAT connections),
// one packet of each kind goes through, and the counters nft reports must be what the parser's reading
// of `nft -j list` predicts: all of the kind's packets when the rule holds for it, none otherwise.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseNftJson } from '../../../src/ruleset/index.js';
import { ctRuleHolds, type CtPacket } from '../../helpers/ctstate.js';
import { kernelTest } from '../../helpers/kernel.js';

const FORMS = readFileSync('test/fixtures/parser/ct-forms.nft', 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l.startsWith('ct ') && l.endsWith(' counter'));

interface Kind extends CtPacket {
  chain: string;
  /** Selects the kind's packet in the postrouting chain (after NAT, priority 200). */
  select: string;
}

// The traffic (SEND below): one UDP echo exchange on 127.0.0.1:7, one datagram each to closed port 9 of
// 127.0.0.2 (not tracked), 127.0.0.3, 127.0.0.4 (DNAT to .5) and 127.0.0.6 (SNAT to .7), and the ICMP
// port-unreachable errors those draw. An error about an untracked packet finds no connection: invalid.
const KINDS: Kind[] = [
  { chain: 'k_new', select: 'udp dport 7', state: 'new' },
  { chain: 'k_est', select: 'udp sport 7', state: 'established' },
  { chain: 'k_untracked', select: 'ip daddr 127.0.0.2 udp dport 9', state: 'untracked' },
  { chain: 'k_invalid', select: 'ip saddr 127.0.0.2 icmp type destination-unreachable', state: 'invalid' },
  { chain: 'k_new2', select: 'ip daddr 127.0.0.3 udp dport 9', state: 'new' },
  { chain: 'k_related', select: 'ip saddr 127.0.0.3 icmp type destination-unreachable', state: 'related' },
  { chain: 'k_dnat', select: 'ip daddr 127.0.0.5 udp dport 9', state: 'new', dnat: true },
  // The error's source is already mapped back to the address the sender used (127.0.0.4).
  { chain: 'k_dnat_rel', select: 'ip saddr 127.0.0.4 icmp type destination-unreachable', state: 'related', dnat: true },
  { chain: 'k_snat', select: 'ip daddr 127.0.0.6 udp dport 9', state: 'new', snat: true },
  { chain: 'k_snat_rel', select: 'ip saddr 127.0.0.6 icmp type destination-unreachable', state: 'related', snat: true },
];

const SCRIPT = [
  'table ip nfqg_raw {',
  '  chain out { type filter hook output priority -300; policy accept; ip daddr 127.0.0.2 udp dport 9 notrack; }',
  '}',
  'table ip nfqg_nat {',
  '  chain out { type nat hook output priority -100; policy accept; ip daddr 127.0.0.4 udp dport 9 dnat to 127.0.0.5; }',
  '  chain post { type nat hook postrouting priority 100; policy accept; ip daddr 127.0.0.6 udp dport 9 snat to 127.0.0.7; }',
  '}',
  'table ip nfqg_ct {',
  '  chain post {',
  '    type filter hook postrouting priority 200; policy accept;',
  ...KINDS.map((k) => `    ${k.select} counter jump ${k.chain}`),
  '  }',
  ...KINDS.flatMap((k) => [`  chain ${k.chain} {`, ...FORMS.map((f) => `    ${f}`), '  }']),
  '}',
  '',
].join('\n');

const SEND = `
const dgram = require('node:dgram');
const srv = dgram.createSocket('udp4');
srv.on('message', (m, r) => srv.send(m, r.port, r.address));
srv.bind(7, '127.0.0.1', () => {
  const c = dgram.createSocket('udp4');
  c.on('error', () => {});
  c.once('message', () => {
    for (const d of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.6']) c.send('y', 9, d);
    setTimeout(() => { c.close(); srv.close(); }, 300);
  });
  c.bind(0, '127.0.0.1', () => c.send('x', 7, '127.0.0.1'));
});
setTimeout(() => process.exit(3), 3000).unref();
`;

kernelTest('ct state and ct status rules count the packets the parser says they match', 'rsctbits', async (ns) => {
  assert.ok(FORMS.length >= 25, `${FORMS.length} forms read from ct-forms.nft`);
  await ns.nft(SCRIPT);
  await ns.execOk(process.execPath, ['-e', SEND], { timeoutMs: 10_000 });
  const listed = parseNftJson(await ns.execOk('nft', ['-j', 'list', 'table', 'ip', 'nfqg_ct'], { timeoutMs: 10_000 }), { source: 'nft -j' });
  assert.deepEqual(listed.problems, []);
  const chains = new Map(listed.tables[0].chains.map((c) => [c.name, c]));
  const post = chains.get('post')!;
  const uninterpreted = new Set<string>();
  KINDS.forEach((k, i) => {
    const total = post.rules[i].counters?.packets;
    assert.equal(total, 1, `one ${k.chain} packet went through (${k.select})`);
    const rules = chains.get(k.chain)!.rules;
    assert.equal(rules.length, FORMS.length);
    rules.forEach((r, j) => {
      const want = ctRuleHolds(r, k);
      if (want === undefined) {
        uninterpreted.add(FORMS[j]);
        return;
      }
      assert.equal(r.counters?.packets, want ? total : 0, `${FORMS[j]} (read as ${JSON.stringify(r.exprs)}) on ${k.chain}`);
    });
  });
  // Only exact tests of the whole status word stay uninterpreted (they read bits the model has not).
  assert.deepEqual([...uninterpreted].sort(), ['ct status != dnat counter', 'ct status == dnat counter', 'ct status confirmed counter', 'ct status { snat, dnat } counter']);
  // What the kernel does with the forms the simulator reported: `!=` with a flag list matched every
  // packet; `ct status != dnat` (an exact comparison) matched the DNAT connection's packet too.
  const count = (chain: string, form: string) => chains.get(chain)!.rules[FORMS.indexOf(form)].counters?.packets;
  for (const k of KINDS) assert.equal(count(k.chain, 'ct state != new,established counter'), 1, k.chain);
  assert.equal(count('k_dnat', 'ct status != dnat counter'), 1);
});
