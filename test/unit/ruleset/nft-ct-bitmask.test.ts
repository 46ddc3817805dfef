// ct state / ct status matches against nft's own compilation of them. ct-forms.json and ct-forms.netlink
// are two listings of the same loaded ruleset (nft -j, nft --debug=netlink): the parser reads the JSON,
// and an independent evaluator here runs the kernel bytecode (ct load, bitwise, cmp, lookup) on every
// state and NAT status a packet can have. Both must agree on which packets each rule matches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNftJson, type CtState, type Rule } from '../../../src/ruleset/index.js';
import { ctRuleHolds } from '../../helpers/ctstate.js';
import { readFixture } from '../../helpers/ruleset-fixtures.js';

const DIR = 'test/fixtures/parser';

type Op =
  | { op: 'load'; key: 'state' | 'status' }
  | { op: 'bitwise'; and: number; xor: number }
  | { op: 'cmp'; eq: boolean; value: number }
  | { op: 'lookup'; set: string; invert: boolean };

/** The debug listing: rules by handle (their operations) and anonymous sets (their elements). */
function readNetlink(text: string): { rules: Map<number, Op[]>; sets: Map<string, number[]> } {
  const rules = new Map<number, Op[]>();
  const sets = new Map<string, number[]>();
  let ops: Op[] | undefined;
  let elems: number[] | undefined;
  const word = (hex: string): number => parseInt(hex.replace(/^0x/, ''), 16) >>> 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('table ')) break; // the text listing that follows the bytecode
    if (line.startsWith('#') || line.trim() === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^ip \S+ @(\S+)$/.exec(line))) {
      sets.set(m[1], (elems = []));
      ops = undefined;
    } else if ((m = /^ip \S+ \S+ (\d+)(?: \d+)?$/.exec(line))) {
      rules.set(Number(m[1]), (ops = []));
      elems = undefined;
    } else if ((m = /^\s+element ([0-9a-f]+)\s/.exec(line)) && elems) {
      elems.push(word(m[1]));
    } else if ((m = /^\s+\[ ct load (state|status) => reg 1 \]$/.exec(line)) && ops) {
      ops.push({ op: 'load', key: m[1] as 'state' | 'status' });
    } else if ((m = /^\s+\[ bitwise reg 1 = \( reg 1 & (0x[0-9a-f]+) \) \^ (0x[0-9a-f]+) \]$/.exec(line)) && ops) {
      ops.push({ op: 'bitwise', and: word(m[1]), xor: word(m[2]) });
    } else if ((m = /^\s+\[ cmp (eq|neq) reg 1 (0x[0-9a-f]+) \]$/.exec(line)) && ops) {
      ops.push({ op: 'cmp', eq: m[1] === 'eq', value: word(m[2]) });
    } else if ((m = /^\s+\[ lookup reg 1 set (\S+) (0x[0-9a-f]+) \]$/.exec(line)) && ops) {
      ops.push({ op: 'lookup', set: m[1], invert: (word(m[2]) & 1) === 1 });
    } else if (/^\s+\[ counter /.test(line)) {
      // no effect on the match
    } else {
      throw new Error(`unread line of the debug listing: ${line}`);
    }
  }
  return { rules, sets };
}

/** A packet as the ct expression sees it: its state bit, and its conntrack's status (none without one). */
interface CtView {
  state: CtState;
  status?: number;
}

const STATE_BIT: Record<string, number> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 };
const IPS_SRC_NAT = 0x10;
const IPS_DST_NAT = 0x20;
// Bits a real entry carries besides NAT (IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED | IPS_*_NAT_DONE).
const OTHER_STATUS = [0, 0x8, 0x8 | 0x2 | 0x4, 0x8 | 0x80 | 0x100];

/** nft_do_chain on one rule: false as soon as an expression breaks. */
function runBytecode(ops: Op[], sets: Map<string, number[]>, p: CtView): boolean {
  let reg = 0;
  for (const o of ops) {
    switch (o.op) {
      case 'load':
        if (o.key === 'state') reg = STATE_BIT[p.state];
        else if (p.status === undefined) return false; // nft_ct_get_eval: no conntrack, NFT_BREAK
        else reg = p.status;
        break;
      case 'bitwise':
        reg = ((reg & o.and) ^ o.xor) >>> 0;
        break;
      case 'cmp':
        if ((reg === o.value) !== o.eq) return false;
        break;
      case 'lookup':
        if (sets.get(o.set)!.includes(reg) === o.invert) return false;
        break;
    }
  }
  return true;
}

/** The model's reading (the NAT states are status bits of the entry). */
function runModel(rule: Rule, p: CtView): boolean | undefined {
  return ctRuleHolds(rule, { state: p.state, snat: ((p.status ?? 0) & IPS_SRC_NAT) !== 0, dnat: ((p.status ?? 0) & IPS_DST_NAT) !== 0 });
}

/** Every packet view: without an entry (invalid, untracked), and with one in each state, NAT status and other bits. */
function views(): CtView[] {
  const out: CtView[] = [{ state: 'invalid' }, { state: 'untracked' }];
  for (const state of ['new', 'established', 'related'] as const) {
    for (const nat of [0, IPS_SRC_NAT, IPS_DST_NAT, IPS_SRC_NAT | IPS_DST_NAT]) for (const other of OTHER_STATUS) out.push({ state, status: nat | other });
  }
  return out;
}

const parsed = parseNftJson(readFixture(`${DIR}/ct-forms.json`), { source: 'ct-forms.json' });
const bytecode = readNetlink(readFixture(`${DIR}/ct-forms.netlink`));

test('every ct state / ct status rule of the capture means what the kernel bytecode computes', () => {
  assert.deepEqual(parsed.problems, []);
  const rules = parsed.tables[0].chains[0].rules;
  assert.equal(rules.length, bytecode.rules.size);
  let read = 0;
  for (const r of rules) {
    const handle = (r.syntax as { handle: number }).handle;
    const ops = bytecode.rules.get(handle)!;
    assert.ok(ops, `rule handle ${handle} in the debug listing`);
    const readAs = r.exprs.filter((e) => e.type === 'match');
    if (readAs.some((e) => e.key === 'other')) {
      // Kept uninterpreted: only a status test that reads bits the model does not have may be.
      assert.ok(ops.some((o) => o.op === 'load' && o.key === 'status'), `${r.text} is uninterpreted`);
      // ...and it really depends on them: two views that differ only in non-NAT bits disagree somewhere.
      assert.ok(views().some((v) => v.status !== undefined && runBytecode(ops, bytecode.sets, v) !== runBytecode(ops, bytecode.sets, { ...v, status: v.status & (IPS_SRC_NAT | IPS_DST_NAT) })), `${r.text} could have been read`);
      continue;
    }
    read++;
    for (const v of views()) {
      assert.equal(runModel(r, v), runBytecode(ops, bytecode.sets, v), `${r.text} on ${JSON.stringify(v)}: ${JSON.stringify(readAs)}`);
    }
  }
  assert.ok(read >= 20, `${read} rules read`);
});

test('the forms the brief names: != with a flag list holds for every packet, the set form is a negated set, no operator is a flag test', () => {
  const byText = new Map(parsed.tables[0].chains[0].rules.map((r) => [r.text.replace(/ counter$/, ''), r.exprs.filter((e) => e.type === 'match')]));
  assert.deepEqual(byText.get('ct state != established | new'), [{ type: 'match', key: 'ctstate', states: [], invert: true }]);
  assert.deepEqual(byText.get('ct state != { established, new }'), [{ type: 'match', key: 'ctstate', states: ['established', 'new'], invert: true }]);
  assert.deepEqual(byText.get('ct state established,new'), [{ type: 'match', key: 'ctstate', states: ['established', 'new'] }]);
  assert.deepEqual(byText.get('ct state established | new'), [{ type: 'match', key: 'ctstate', states: [] }]);
  assert.deepEqual(byText.get('ct status dnat'), [{ type: 'match', key: 'ctstate', states: ['dnat'] }]);
  assert.equal(byText.get('ct status != dnat')![0].key, 'other');
});
