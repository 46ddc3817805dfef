// The extensions beyond the core: TPROXY's mark, CT/NOTRACK, LOG levels, and modules kept verbatim (known
// options checked, unknown ones reported, semantics `other`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptablesSave, serializeIptablesSave, type Expr } from '../../../src/ruleset/index.js';
import { withoutComments } from '../../helpers/ruleset-fixtures.js';

function parse(table: string, rule: string, family?: 'ip' | 'ip6') {
  return parseIptablesSave(`*${table}\n${rule}\nCOMMIT\n`, { source: 't', family });
}

function exprs(table: string, rule: string, family?: 'ip' | 'ip6'): Expr[] {
  const r = parse(table, rule, family);
  assert.deepEqual(r.problems, []);
  return r.tables[0].chains.find((c) => c.rules.length)!.rules[0].exprs;
}

test('TPROXY: port, address, and the mark it sets as value/mask; saved with defaults', () => {
  assert.deepEqual(exprs('mangle', '-A PREROUTING -p tcp -j TPROXY --on-port 15001 --tproxy-mark 0x539'), [
    { type: 'match', key: 'proto', protos: [6] },
    { type: 'action', kind: 'tproxy', port: 15001, mark: { value: 0x539, mask: 0xffffffff } },
  ]);
  assert.deepEqual(exprs('mangle', '-A PREROUTING -p tcp -j TPROXY --on-port 8080 --on-ip 127.0.0.1 --tproxy-mark 0x200/0x200').at(-1), {
    type: 'action', kind: 'tproxy', port: 8080, addr: '127.0.0.1', mark: { value: 0x200, mask: 0x200 },
  });
  const r = parse('mangle', '-A PREROUTING -p tcp -j TPROXY --on-port 1');
  assert.match(withoutComments(serializeIptablesSave(r)), /-j TPROXY --on-port 1 --on-ip 0\.0\.0\.0 --tproxy-mark 0x0\/0x0$/m);
  assert.equal(parse('mangle', '-A PREROUTING -p tcp -j TPROXY --on-ip 1.2.3.4').problems[0].code, 'MISSING_OPTION');
});

test('CT --notrack and NOTRACK are notrack; other CT options stay other', () => {
  assert.deepEqual(exprs('raw', '-A PREROUTING -j CT --notrack'), [{ type: 'action', kind: 'notrack' }]);
  // xt_CT ignores the other options when --notrack is given (checked in a namespace: the packet is UNTRACKED).
  assert.deepEqual(exprs('raw', '-A PREROUTING -j CT --notrack --zone 5 --helper ftp'), [{ type: 'action', kind: 'notrack' }]);
  assert.match(withoutComments(serializeIptablesSave(parse('raw', '-A PREROUTING -j CT --zone 5 --notrack'))), /^-A PREROUTING -j CT --notrack --zone 5$/m);
  assert.deepEqual(exprs('raw', '-A PREROUTING -j NOTRACK'), [{ type: 'action', kind: 'notrack' }]);
  assert.deepEqual(exprs('raw', '-A PREROUTING -j CT --zone 5 --helper ftp'), [{ type: 'action', kind: 'other', name: 'CT', text: '-j CT --helper ftp --zone 5', terminal: false }]);
});

test('LOG: level names become numbers, the default level is not printed, prefix quoted as iptables does', () => {
  const r = parse('filter', '-A INPUT -j LOG --log-level info --log-prefix "a b: " --log-uid');
  assert.deepEqual(r.problems, []);
  assert.match(withoutComments(serializeIptablesSave(r)), /^-A INPUT -j LOG --log-prefix "a b: " --log-level 6 --log-uid$/m);
  assert.match(withoutComments(serializeIptablesSave(parse('filter', '-A INPUT -j LOG --log-level warning'))), /^-A INPUT -j LOG$/m);
});

test('modules kept verbatim: options checked, text kept, semantics other', () => {
  assert.deepEqual(exprs('filter', '-A INPUT -m owner --uid-owner 1337 -j ACCEPT')[0], { type: 'match', key: 'other', module: 'owner', text: '--uid-owner 1337' });
  assert.deepEqual(exprs('filter', '-A INPUT -m physdev ! --physdev-is-bridged')[0], { type: 'match', key: 'other', module: 'physdev', text: '! --physdev-is-bridged' });
  const r = parse('filter', '-A INPUT -m owner --uid-ownr 5 -j ACCEPT');
  assert.deepEqual(r.problems.map((p) => [p.code, p.column]), [['UNKNOWN_OPTION', 19]]);
  assert.match(withoutComments(serializeIptablesSave(r)), /-m owner --uid-ownr 5 -j ACCEPT/);
  const nflog = exprs('filter', '-A INPUT -j NFLOG --nflog-group 100 --nflog-prefix "x y"');
  assert.deepEqual(nflog, [{ type: 'action', kind: 'other', name: 'NFLOG', text: '-j NFLOG --nflog-group 100 --nflog-prefix "x y"', terminal: false }]);
  assert.deepEqual(exprs('nat', '-A PREROUTING -j NETMAP --to 10.0.0.0/24').at(-1), { type: 'action', kind: 'other', name: 'NETMAP', text: '-j NETMAP --to 10.0.0.0/24', terminal: true });
});

test('family-specific modules: ttl/TTL for IPv4, hl/HL for IPv6', () => {
  assert.deepEqual(parse('mangle', '-A PREROUTING -m ttl --ttl-eq 1', 'ip').problems, []);
  assert.equal(parse('mangle', '-A PREROUTING -m ttl --ttl-eq 1', 'ip6').problems[0].code, 'UNKNOWN_MATCH');
  assert.equal(parse('mangle', '-A POSTROUTING -j TTL --ttl-set 1', 'ip6').problems[0].code, 'FAMILY_MISMATCH');
  assert.deepEqual(parse('mangle', '-A POSTROUTING -j HL --hl-set 1', 'ip6').problems, []);
});

test('an address of the other family is FAMILY_MISMATCH with the option that reads the file right', () => {
  const v6in4 = parse('filter', '-A INPUT -s fd00::1/128 -j DROP', 'ip').problems;
  assert.deepEqual(v6in4.map((p) => [p.code, p.severity]), [['FAMILY_MISMATCH', 'error']]);
  assert.match(v6in4[0].message, /IPv6 address in an IPv4 rule .*--ip6tables-save, or parse --family ip6/);
  const v4in6 = parse('filter', '-A INPUT -d 10.0.0.1 -j DROP', 'ip6').problems;
  assert.match(v4in6[0].message, /IPv4 address in an IPv6 rule .*--iptables-save, or parse --family ip\)/);
});
