// The "cali:" ids in the Calico fixtures are the ones felix computes for those rules. The algorithm is
// checked against ids published from real nodes: felix's own nftables dump (projectcalico/calico
// felix/fv/cali-nftables-dump.txt @ 87c15906) and iptables ids found in public iptables-save dumps of
// Calico nodes (the INPUT jump Cz_u1IQiXIMmKD4c in projectcalico/felix#1421; the FORWARD appends and the
// v3.2x raw cali-PREROUTING ids in node dumps published on GitHub).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { calicoIdCheck, felixIds, felixSequences } from './calico-ids.js';
import { CORPUS } from './corpus.js';

test('felixIds reproduces ids published from real Calico nodes', () => {
  // iptables: felix's inserted jumps (chain name, then the rule as felix hashes it).
  assert.deepEqual(felixIds('INPUT', ['-A INPUT HASH --jump cali-INPUT']), ['Cz_u1IQiXIMmKD4c']);
  assert.deepEqual(felixIds('PREROUTING', ['-A PREROUTING HASH --jump cali-PREROUTING']), ['6gwbT8clXdHdC1b1']);
  // iptables, FORWARD's appended rules: over "FORWARD*appends*".
  assert.deepEqual(
    felixIds('FORWARD*appends*', [
      '-A FORWARD*appends* HASH -m comment --comment "Policy explicitly accepted packet." -m mark --mark 0x10000/0x10000 --jump ACCEPT',
      '-A FORWARD*appends* HASH --jump MARK --set-mark 0x10000/0x10000',
    ]),
    ['S93hcgKJrXEqnTfs', 'mp77cMpurHhyjLrM'],
  );
  // iptables raw cali-PREROUTING of Calico v3.2x (0xf0000 = accept|pass|scratch0|scratch1 then).
  const c = 'cali-PREROUTING';
  assert.deepEqual(
    felixIds(c, [`-A ${c} HASH --jump MARK --set-mark 0/0xf0000`, `-A ${c} HASH --in-interface cali+ --jump MARK --set-mark 0x40000/0x40000`, `-A ${c} HASH -m mark --mark 0x40000/0x40000 --jump cali-rpf-skip`, `-A ${c} HASH -m mark --mark 0x40000/0x40000 -m rpfilter --invert --validmark --jump DROP`]),
    ['XFX5xbM8B9qR10JG', 'EWMPb0zVROM-woQp', 'PWuxTAIaFCtsg5Qa', 'fSSbGND7dgyemWU7'],
  );
  // nftables (felix/fv/cali-nftables-dump.txt): a regular chain, a base chain's insert and appends.
  assert.deepEqual(
    felixIds('filter-cali-FORWARD', [
      'counter meta mark set mark & 0xffe5ffff',
      'meta mark & 0x10000 == 0 counter jump filter-cali-from-hep-forward',
      'iifname cali* counter jump filter-cali-from-wl-dispatch',
    ]),
    ['DjLNGAdnReheqqCp', 'nYRf9HAGIu4qv2zI', 'otxs2Q4D05BNLIsQ'],
  );
  assert.deepEqual(felixIds('filter-FORWARD', ['counter jump filter-cali-FORWARD']), ['dpfqBgJrpRwlrqw1']);
  assert.deepEqual(felixIds('filter-FORWARD*appends*', ['meta mark & 0x10000 == 0x10000 counter accept', 'counter meta mark set mark or 0x10000']), ['yp7iNUYNEhDmKF6E', 'fXaqbwKfGHq5dvHP']);
  // A rule without an action gets no counter: the verdict-map dispatch.
  assert.deepEqual(felixIds('filter-cali-from-wl-dispatch', ['iifname vmap @filter-cali-from-wl-dispatch']), ['Lui9n9_J-BlSLUtk']);
});

for (const name of ['iptables', 'nftables', 'bpf']) {
  test(`calico/${name}.sh: every rule's id is felix's`, () => {
    const script = readFileSync(join(CORPUS, 'calico', `${name}.sh`), 'utf8');
    const seqs = felixSequences(script);
    const rules = [...seqs.values()].reduce((n, s) => n + s.length, 0);
    assert.ok(rules >= 20, `${rules} felix rules read`);
    assert.deepEqual(calicoIdCheck(script), []);
    // The check can fail: one changed rule breaks its own id and every later one in its chain.
    const broken = script.replace('--jump MARK --set-mark 0/0x1b0000', '--jump MARK --set-mark 0/0x1f0000').replace('meta mark set mark & 0xffe4ffff', 'meta mark set mark & 0xffe0ffff').replace('--set-mark 0/0x200b0000', '--set-mark 0/0x200f0000');
    assert.ok(calicoIdCheck(broken).length >= 3, 'a changed rule is caught');
  });
}
