import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MarkOwnershipError, checkOwned, mergeMark, parseMark } from '../../../src/nfqueue/marks.js';

test('the seed: KUBE-MARK-MASQ 0x4000 survives a verdict that owns 0x00f00000', () => {
  assert.equal(mergeMark(0x4000, 0x00100000, 0x00f00000), 0x00104000);
  assert.equal(mergeMark(0x8000, 0x00100000, 0x00f00000), 0x00108000, 'the drop bit stays: KUBE-FIREWALL still drops');
  assert.equal(mergeMark(0x00f04000, 0, 0x00f00000), 0x4000, 'owned bits not asked for are cleared');
});

test('merged mark: bits outside the mask come from the packet, bits inside from the verdict', () => {
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffffff), (packet, bits, mask) => {
      const out = mergeMark(packet, bits, mask);
      assert.equal((out & ~mask) >>> 0, (packet & ~mask) >>> 0);
      assert.equal((out & mask) >>> 0, (bits & mask) >>> 0);
      assert.ok(out >= 0 && out <= 0xffffffff);
    }),
  );
});

test('asking for bits outside the owned mask is a typed error naming them', () => {
  assert.doesNotThrow(() => checkOwned(0x00100000, 0x00f00000));
  assert.throws(
    () => checkOwned(0x8000, 0x00f00000),
    (e: unknown) => e instanceof MarkOwnershipError && e.code === 'ERR_MARK_NOT_OWNED' && /0x00008000/.test(e.message),
  );
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), (bits, mask) => {
      const outside = (bits & ~mask) !== 0;
      let threw = false;
      try {
        checkOwned(bits, mask);
      } catch (e) {
        threw = e instanceof MarkOwnershipError;
      }
      assert.equal(threw, outside);
    }),
  );
});

test('parseMark reads hex, binary and decimal 32-bit values and refuses the rest', () => {
  assert.equal(parseMark('0x8000'), 0x8000);
  assert.equal(parseMark('0b101'), 5);
  assert.equal(parseMark('51820'), 0xca6c);
  assert.equal(parseMark('0xffffffff'), 0xffffffff);
  for (const bad of ['', '0x', '-1', '0x100000000', '12abc', '1.5']) assert.equal(parseMark(bad), undefined, bad);
});
