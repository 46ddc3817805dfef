// Input that spells JavaScript's own property names ("toString", "constructor", "__proto__") must be
// read like any other unknown word: reported, kept as text, never turned into a function or a rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIptablesSave, parseNftJson } from '../../../src/ruleset/index.js';

const NAMES = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'propertyIsEnumerable'];

function assertPlainData(value: unknown, path = '$'): void {
  assert.notEqual(typeof value, 'function', `${path} is a function`);
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
  for (const [k, v] of Object.entries(value)) assertPlainData(v, `${path}.${k}`);
}

test('iptables-save: prototype names in every position are unknown words, reported, never functions', () => {
  fc.assert(
    fc.property(fc.constantFrom(...NAMES), fc.nat(5), (name, where) => {
      const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':KUBE-X - [0:0]'];
      const rule = [
        `-A INPUT -m ${name} --x 1 -j ACCEPT`,
        `-A INPUT -j ${name}`,
        `-A INPUT -p tcp --dport ${name} -j ACCEPT`,
        `${name} INPUT -j ACCEPT`,
        `-A ${name} -j ACCEPT`,
        `-A INPUT -m mark --mark ${name} -j DROP`,
      ][where];
      lines.push(rule, 'COMMIT', '');
      const rs = parseIptablesSave(lines.join('\n'), { source: 'proto.rules' });
      assertPlainData(rs);
      assert.ok(rs.problems.some((p) => p.line === 4), `line 4 (${rule}) is reported: ${JSON.stringify(rs.problems)}`);
    }),
  );
});

test('iptables-save: prototype names as option names are unknown options of every module', () => {
  // Option tables are object literals: `--constructor` once resolved to Object.prototype.constructor
  // (`-j CT --constructor` was accepted without a word).
  for (const name of NAMES) {
    for (const rule of [`-m mark --${name} 1 -j ACCEPT`, `-p tcp --${name} 5 -j ACCEPT`, `-m comment --${name} x`, `-j CT --${name}`, `-j MARK --${name} 1`, `-j NFQUEUE --${name}`]) {
      const rs = parseIptablesSave(`*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING ${rule}\nCOMMIT\n`, { source: 'proto.rules' });
      assertPlainData(rs);
      assert.deepEqual(rs.problems.map((p) => [p.code, p.line, p.token]), [['UNKNOWN_OPTION', 3, `--${name}`]], rule);
    }
  }
});

test('nft JSON: prototype names as keys and values are unknown, reported, never functions', () => {
  for (const name of NAMES) {
    const doc = {
      nftables: [
        { table: { family: 'inet', name: 't', handle: 1 } },
        { chain: { family: 'inet', table: 't', name: 'c', handle: 2, type: 'filter', hook: 'input', prio: name, policy: 'accept' } },
        { rule: { family: 'inet', table: 't', chain: 'c', handle: 3, expr: [{ [name]: { x: 1 } }, { match: { op: '==', left: { meta: { key: name } }, right: name } }] } },
      ],
    };
    const rs = parseNftJson(JSON.stringify(doc), { source: 'proto.json' });
    assertPlainData(rs);
    assert.ok(rs.problems.length > 0, name);
  }
});
