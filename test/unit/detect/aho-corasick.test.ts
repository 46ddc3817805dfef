import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AhoCorasick, FOLD } from '../../../src/detect/aho-corasick.js';

/** Every occurrence by brute force, case-folded: the oracle. */
function naive(patterns: Uint8Array[], b: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let end = 1; end <= b.length; end++) {
    patterns.forEach((p, id) => {
      const s = end - p.length;
      if (s < 0) return;
      for (let i = 0; i < p.length; i++) if (FOLD[b[s + i]] !== FOLD[p[i]]) return;
      out.push([id, s]);
    });
  }
  return out;
}

const key = (h: Array<[number, number]>): string[] => h.map(([a, b]) => `${a}@${b}`).sort();

test('finds overlapping patterns, case-insensitively', () => {
  const pats = ['he', 'she', 'his', 'hers'].map((s) => new TextEncoder().encode(s));
  const ac = new AhoCorasick(pats);
  const hits = ac.findAll(new TextEncoder().encode('uSHErs'));
  assert.deepEqual(key(hits), key([[1, 1], [0, 2], [3, 2]]));
});

test('agrees with brute force on random patterns and texts (small alphabet, many overlaps)', () => {
  const byte = fc.constantFrom(0x61, 0x62, 0x41, 0x42, 0x00, 0xff);
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 5 }).map((a) => a.map((x) => [0x61, 0x62, 0x41, 0x42, 0x00, 0xff][x % 6])), { minLength: 1, maxLength: 8 }), fc.array(byte, { maxLength: 60 }), (pats, text) => {
      const b = Uint8Array.from(text);
      assert.deepEqual(key(new AhoCorasick(pats).findAll(b)), key(naive(pats, b)));
    }),
    { numRuns: 500 },
  );
});
