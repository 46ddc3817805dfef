// ip rule output: fwmark value/mask (all ones when no mask is printed), not, tables and actions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpRules } from '../../../src/ruleset/index.js';
import { readFixture } from '../../helpers/ruleset-fixtures.js';

test('ip rule capture: fwmark rules as the kernel holds them', () => {
  const r = parseIpRules(readFixture('test/fixtures/parser/ip-rule.txt'), { source: 'ip-rule.txt', family: 'ip' });
  assert.deepEqual(r.problems, []);
  const by = new Map(r.ipRules.map((x) => [x.priority, x]));
  assert.deepEqual(by.get(5210)!.fwmark, { value: 0x80000, mask: 0xff0000 });
  assert.equal(by.get(5210)!.table, 'main');
  assert.deepEqual(by.get(100)!.fwmark, { value: 51820, mask: 0xffffffff });
  assert.equal(by.get(100)!.invert, true);
  assert.equal(by.get(101)!.suppressPrefixLength, 0);
  assert.equal(by.get(200)!.action, 'unreachable');
  assert.equal(by.get(300)!.action, 'blackhole');
  assert.equal(by.get(400)!.action, 'goto');
  assert.equal(by.get(500)!.action, 'prohibit');
  assert.deepEqual(by.get(600)!.fwmark, { value: 1, mask: 1 });
  assert.equal(by.get(600)!.table, '100');
  assert.equal(by.get(0)!.table, 'local');
  assert.equal(r.ipRules.length, 12);
});

test('bad lines and bad marks are problems with positions', () => {
  const r = parseIpRules('0:\tfrom all lookup local\nhello\n10:\tfrom all fwmark 0xzz lookup 5\n', { source: 's', family: 'ip6' });
  assert.deepEqual(r.problems.map((p) => [p.code, p.line, p.column]), [['BAD_IP_RULE', 2, 1], ['INVALID_MASK', 3, 14]]);
  assert.equal(r.ipRules.length, 1);
  assert.equal(r.ipRules[0].family, 'ip6');
});

test('a file with lines but no ip rule among them is an error (the wrong file); an empty one or a few bad lines are not', () => {
  const wrong = parseIpRules('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n', { source: 'w', family: 'ip' });
  assert.deepEqual(wrong.problems.map((p) => [p.code, p.severity]), [['BAD_IP_RULE', 'warning'], ['BAD_IP_RULE', 'warning'], ['BAD_IP_RULE', 'warning'], ['NO_IP_RULES', 'error']]);
  assert.deepEqual(parseIpRules('\n# nothing\n', { source: 'e', family: 'ip' }).problems, []);
  assert.ok(parseIpRules('0:\tfrom all lookup local\nhello\n', { source: 'p', family: 'ip' }).problems.every((p) => p.severity === 'warning'));
});
