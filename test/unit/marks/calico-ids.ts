// Felix's rule ids: the "cali:<16 characters>" comment on every rule Calico writes. For each chain,
// SHA-224 of the chain's name, then for each rule SHA-224 of the previous digest followed by felix's own
// rendering of the rule; the id is that digest in unpadded base64url, cut to 16 characters (read in
// projectcalico/calico felix/generictables/rules.go RuleHashes, felix/iptables/renderer.go and
// felix/nftables/renderer.go @ 87c15906). What felix hashes:
// - iptables: the line it would append, with the id comment replaced by HASH
//   ("-A cali-INPUT HASH --in-interface cali+ --goto cali-wl-to-host");
// - nftables: the rule text between the chain name and the comment ("iifname cali* counter goto ...").
// Rules felix inserts into a base chain hash over that chain's name, rules it appends over
// "<chain>*appends*" (felix/iptables/table.go expectedHashesForInsertAppendChain).
//
// The fixture scripts hold felix's rendering with the ids in place; `calicoIdCheck` recomputes every id
// from the script's own lines, and `node dist/test/unit/marks/calico-ids.js --write FILE...` fills them in.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

/** The ids felix gives the rules of one chain, in order. */
export function felixIds(chain: string, rendered: readonly string[]): string[] {
  let digest = createHash('sha224').update(chain).digest();
  return rendered.map((r) => {
    digest = createHash('sha224').update(digest).update(r).digest();
    return digest.toString('base64url').slice(0, 16);
  });
}

interface Line {
  /** Index of the line in the script. */
  at: number;
  /** The id the script has. */
  id: string;
  /** What felix hashes for this rule. */
  hashed: string;
}

const IPT_ID = /^(-[AI]) (\S+) -m comment --comment "cali:([^"]*)"(?: (.*))?$/;
const NFT_RULE = /^add rule \S+ \S+ (\S+) (.*?) comment "cali:([^";]*);[^"]*"$/;
const NFT_BASE = /^(filter|nat|mangle|raw)-[A-Z]+$/;

/**
 * Every felix rule of a fixture script, grouped by the sequence its id is chained over: iptables-restore
 * blocks (table by table; `-I` lines into a base chain are written in reverse, as felix writes them) and
 * nft scripts (a `#` line naming AppendRules marks the rules just after it, in one base chain, as appended).
 */
export function felixSequences(script: string): Map<string, Line[]> {
  const seqs = new Map<string, Line[]>();
  const lines = script.split('\n');
  let table = '';
  // After an AppendRules note: the base chain its rules go to, once the first one is read.
  let appends: string | null | undefined;
  const push = (key: string, l: Line, front: boolean) => {
    const s = seqs.get(key) ?? [];
    if (front) s.unshift(l);
    else s.push(l);
    seqs.set(key, s);
  };
  for (let at = 0; at < lines.length; at++) {
    const text = lines[at].trim();
    if (text.startsWith('*')) table = text.slice(1);
    if (text.startsWith('#')) {
      appends = text.includes('AppendRules') ? null : undefined;
      continue;
    }
    const i = IPT_ID.exec(text);
    if (i) {
      const [, op, chain, id, rest] = i;
      const base = /^[A-Z]+$/.test(chain);
      const seqChain = base && op === '-A' ? `${chain}*appends*` : chain;
      const hashed = `-A ${seqChain} HASH${rest ? ` ${rest}` : ''}`;
      push(`${table} ${seqChain}`, { at, id, hashed }, base && op === '-I');
      continue;
    }
    const n = NFT_RULE.exec(text);
    if (n) {
      const [, chain, body, id] = n;
      if (appends === null && NFT_BASE.test(chain)) appends = chain;
      else if (appends !== chain) appends = undefined;
      const seqChain = appends === chain ? `${chain}*appends*` : chain;
      push(`nft ${seqChain}`, { at, id, hashed: body }, false);
      continue;
    }
    appends = undefined;
  }
  return seqs;
}

/** The rules whose id is not felix's: [line number (1-based), id in the script, felix's id]. */
export function calicoIdCheck(script: string): Array<[number, string, string]> {
  const wrong: Array<[number, string, string]> = [];
  for (const [key, seq] of felixSequences(script)) {
    const chain = key.slice(key.indexOf(' ') + 1);
    const ids = felixIds(chain, seq.map((l) => l.hashed));
    seq.forEach((l, k) => {
      if (l.id !== ids[k]) wrong.push([l.at + 1, l.id, ids[k]]);
    });
  }
  return wrong.sort((a, b) => a[0] - b[0]);
}

/** The script with every felix id recomputed. */
export function fillCalicoIds(script: string): string {
  const lines = script.split('\n');
  for (const [at, id, want] of calicoIdCheck(script)) lines[at - 1] = lines[at - 1].replace(`cali:${id}`, `cali:${want}`);
  return lines.join('\n');
}

if (process.argv[2] === '--write') {
  for (const f of process.argv.slice(3)) {
    const before = readFileSync(f, 'utf8');
    const after = fillCalicoIds(before);
    if (after !== before) writeFileSync(f, after);
    process.stderr.write(`${f}: ${calicoIdCheck(before).length} ids filled\n`);
  }
}
