// Disagreements the differential test found between the simulator and the kernel, each reduced to a
// small case and fixed. `kernel` is what the kernel answered (recorded from test/kernel/sim/
// regressions.test.ts, which checks it again on every run); the unit test holds the simulator to it.
import type { GCase, GTable } from './sim-gen.js';

export interface RegressionCase {
  name: string;
  /** What the kernel does, found the hard way. */
  fact: string;
  case: GCase;
  /** The kernel's answer for each packet of the case: verdict, deciding rule, final mark. */
  kernel: Array<{ verdict: 'accept' | 'drop'; decidedBy: string | null; mark: string }>;
}

/** The seed's set-up: NFQUEUE (queue 5) in mangle INPUT, a KUBE-FIREWALL-style DROP of mark 0x8000 in filter. */
function seedTables(): GTable[] {
  return [
    {
      kind: 'ipt',
      family: 'ip',
      name: 'mangle',
      chains: [{ name: 'INPUT', base: { hook: 'input', priority: -150, policy: 'accept', type: 'filter' }, rules: [{ matches: [{ k: 'l4', p: 'tcp', dport: 80, inv: false }], action: { k: 'queue', num: 5, bypass: false } }] }],
    },
    {
      kind: 'ipt',
      family: 'ip',
      name: 'filter',
      chains: [
        { name: 'INPUT', base: { hook: 'input', priority: 0, policy: 'accept', type: 'filter' }, rules: [{ matches: [], action: { k: 'jump', chain: 'U0' } }] },
        { name: 'U0', rules: [{ matches: [{ k: 'mark', v: 0x8000, m: 0x8000, inv: false }], action: { k: 'drop' } }] },
      ],
    },
  ];
}

export const REGRESSIONS: RegressionCase[] = [
  {
    name: 'dnat-loopback-source-out',
    fact: 'DNAT in OUTPUT routes again inside the NAT hook (nf_nat_ipv4_local_fn); a 127.0.0.1 source cannot leave through eth1, so the NAT hook drops the packet and later OUTPUT chains never run',
    case: {
      tables: [
        {
          kind: 'nft',
          family: 'ip',
          name: 't0',
          chains: [
            { name: 'b0', base: { hook: 'output', priority: 101, policy: 'accept', type: 'nat' }, rules: [{ matches: [], action: { k: 'dnat', to: '10.1.0.1' } }] },
            { name: 'b1', base: { hook: 'output', priority: 299, policy: 'accept', type: 'filter' }, rules: [{ matches: [], action: { k: 'mark', v: 0x10, m: 0x10 } }] },
          ],
        },
      ],
      packets: [{ kind: 'lo', proto: 'udp', dport: 443, mark: 1 }],
    },
    kernel: [{ verdict: 'drop', decidedBy: null, mark: '0x00000001' }],
  },
  {
    name: 'dnat-ipv6-loopback-source-out',
    fact: 'unlike IPv4, an IPv6 packet from ::1 DNATed in OUTPUT to a remote address is routed out of eth1 (ip6_route_me_harder does not refuse it)',
    case: {
      tables: [
        {
          kind: 'ipt',
          family: 'ip6',
          name: 'nat',
          chains: [{ name: 'OUTPUT', base: { hook: 'output', priority: -100, policy: 'accept', type: 'nat' }, rules: [{ matches: [], action: { k: 'dnat', to: 'fd00:1::1' } }] }],
        },
        {
          kind: 'nft',
          family: 'inet',
          name: 't0',
          chains: [{ name: 'b0', base: { hook: 'postrouting', priority: -301, policy: 'accept', type: 'filter' }, rules: [{ matches: [{ k: 'oif', name: 'eth+', inv: false }], action: { k: 'mark', v: 0x10, m: 0x10 } }] }],
        },
      ],
      packets: [{ kind: 'lo', v6: true, proto: 'tcp', dport: 22, mark: 0 }],
    },
    kernel: [{ verdict: 'accept', decidedBy: 'ip6 nat OUTPUT rule 1', mark: '0x00000010' }],
  },
  {
    name: 'nat-chain-without-conntrack',
    fact: 'a NAT chain alone does not make conntrack run in a namespace; with no rule using conntrack there is no entry and the NAT chains are never traversed',
    case: {
      tables: [
        {
          kind: 'ipt',
          family: 'ip',
          name: 'nat',
          chains: [{ name: 'INPUT', base: { hook: 'input', priority: 100, policy: 'accept', type: 'nat' }, rules: [{ matches: [], action: { k: 'mark', v: 0x100, m: 0x100 } }] }],
        },
      ],
      packets: [{ kind: 'in', proto: 'tcp', dport: 443, mark: 0 }],
    },
    kernel: [{ verdict: 'accept', decidedBy: null, mark: '0x00000000' }],
  },
  {
    name: 'loopback-skips-prerouting-nat',
    fact: "the NAT core registers all four NAT hooks with the first NAT chain; OUTPUT's empty NAT hook sets up the null binding, so on the loopback leg the PREROUTING NAT chains are skipped",
    case: {
      tables: [
        {
          kind: 'nft',
          family: 'ip',
          name: 't0',
          chains: [
            { name: 'b0', base: { hook: 'prerouting', priority: 299, policy: 'accept', type: 'nat' }, rules: [{ matches: [], action: { k: 'mark', v: 0x100, m: 0x100 } }] },
            { name: 'b1', base: { hook: 'postrouting', priority: 51, policy: 'accept', type: 'filter' }, rules: [{ matches: [{ k: 'ctstate', s: ['new'], inv: false }], action: { k: 'mark', v: 0x10, m: 0x10 } }] },
          ],
        },
      ],
      packets: [{ kind: 'local', proto: 'udp', dport: 22, mark: 0 }],
    },
    kernel: [{ verdict: 'accept', decidedBy: null, mark: '0x00000010' }],
  },
  {
    name: 'no-input-device-is-empty-name',
    fact: 'where a hook has no input device the kernel compares an empty name: iifname != "lo" (and iptables ! -i lo) match in POSTROUTING',
    case: {
      tables: [
        {
          kind: 'nft',
          family: 'ip',
          name: 't0',
          chains: [
            { name: 'u0', rules: [{ matches: [{ k: 'iif', name: 'lo', inv: true }], action: { k: 'mark', v: 0x4000, m: 0x4000 } }] },
            { name: 'b0', base: { hook: 'postrouting', priority: -149, policy: 'accept', type: 'filter' }, rules: [{ matches: [], action: { k: 'jump', chain: 'u0' } }] },
          ],
        },
        {
          kind: 'ipt',
          family: 'ip',
          name: 'mangle',
          chains: [
            { name: 'POSTROUTING', base: { hook: 'postrouting', priority: -150, policy: 'accept', type: 'filter' }, rules: [{ matches: [], action: { k: 'jump', chain: 'U0' } }] },
            { name: 'U0', rules: [{ matches: [{ k: 'iif', name: 'eth+', inv: true }], action: { k: 'mark', v: 0x1, m: 0x1 } }] },
          ],
        },
      ],
      packets: [{ kind: 'out', proto: 'udp', dport: 22, mark: 0 }],
    },
    kernel: [{ verdict: 'accept', decidedBy: null, mark: '0x00004001' }],
  },
  {
    name: 'nft-ct-mark-read-without-entry-breaks',
    fact: 'before conntrack (priority < -200) a native nft rule that reads the ct mark (ct mark set ct mark and ..., meta mark set ct mark) stops there like a failed match; iptables CONNMARK just goes on',
    case: {
      tables: [
        {
          kind: 'ipt',
          family: 'ip',
          name: 'raw',
          chains: [
            {
              name: 'OUTPUT',
              base: { hook: 'output', priority: -300, policy: 'accept', type: 'filter' },
              rules: [
                { matches: [], action: { k: 'ctmark', v: 0x10, m: 0x10 } },
                { matches: [], action: { k: 'restore', nf: 0x10, ct: 0x10 } },
              ],
            },
          ],
        },
        {
          kind: 'nft',
          family: 'ip',
          name: 't0',
          chains: [
            {
              name: 'b0',
              base: { hook: 'output', priority: -299, policy: 'accept', type: 'filter' },
              rules: [
                { matches: [], action: { k: 'ctmark', v: 0x0, m: 0x110 } },
                { matches: [], action: { k: 'save', nf: 0xffffffff, ct: 0xffffffff } },
                { matches: [], action: { k: 'restore', nf: 0xffffffff, ct: 0xffffffff } },
                { matches: [], action: { k: 'mark', v: 0x2, m: 0xff } },
              ],
            },
          ],
        },
      ],
      packets: [{ kind: 'out', proto: 'udp', dport: 80, mark: 0x1 }],
    },
    kernel: [{ verdict: 'accept', decidedBy: null, mark: '0x00000002' }],
  },
  {
    name: 'output-devices-fixed-after-dnat',
    fact: 'after DNAT in OUTPUT reroutes the packet to lo, later OUTPUT chains still see the old output device (the hook state is fixed for the hook); POSTROUTING sees lo',
    case: {
      tables: [
        {
          kind: 'ipt',
          family: 'ip',
          name: 'nat',
          chains: [{ name: 'OUTPUT', base: { hook: 'output', priority: -100, policy: 'accept', type: 'nat' }, rules: [{ matches: [{ k: 'l4', p: 'tcp', inv: false }], action: { k: 'dnat', to: '10.0.0.2:8080' } }] }],
        },
        {
          kind: 'nft',
          family: 'ip',
          name: 't0',
          chains: [
            { name: 'b0', base: { hook: 'output', priority: 100, policy: 'accept', type: 'filter' }, rules: [{ matches: [{ k: 'oif', name: 'eth1', inv: true }], action: { k: 'mark', v: 0x110000, m: 0x110000 } }] },
            { name: 'b1', base: { hook: 'postrouting', priority: 0, policy: 'accept', type: 'filter' }, rules: [{ matches: [{ k: 'oif', name: 'lo', inv: false }], action: { k: 'mark', v: 0x4000, m: 0x4000 } }] },
          ],
        },
      ],
      packets: [{ kind: 'out', proto: 'tcp', dport: 22, mark: 0 }],
    },
    kernel: [{ verdict: 'accept', decidedBy: 'ip nat OUTPUT rule 1', mark: '0x00004000' }],
  },
  {
    name: 'masquerade-via-lo',
    fact: "MASQUERADE of a packet leaving through lo takes the node's first global address in device order (inet_select_addr: 127.0.0.1 has host scope), not 127.0.0.1",
    case: {
      tables: [
        {
          kind: 'ipt',
          family: 'ip',
          name: 'nat',
          chains: [{ name: 'POSTROUTING', base: { hook: 'postrouting', priority: 100, policy: 'accept', type: 'nat' }, rules: [{ matches: [], action: { k: 'masquerade' } }] }],
        },
        {
          kind: 'nft',
          family: 'inet',
          name: 't0',
          chains: [
            { name: 'u0', rules: [{ matches: [], action: { k: 'mark', v: 0x10, m: 0x10 } }] },
            { name: 'b0', base: { hook: 'prerouting', priority: 51, policy: 'accept', type: 'filter' }, rules: [{ matches: [{ k: 'saddr', cidr: '10.0.0.0/24', inv: false }], action: { k: 'jump', chain: 'u0' } }] },
          ],
        },
      ],
      packets: [{ kind: 'local', proto: 'tcp', dport: 80, mark: 0 }],
    },
    kernel: [{ verdict: 'accept', decidedBy: 'ip nat POSTROUTING rule 1', mark: '0x00000010' }],
  },
  {
    name: 'postrouting-iif-of-forwarded',
    fact: 'in POSTROUTING a forwarded packet still has its input device (ip_output passes skb->dev): iifname "eth0" matches there, ! -i eth0 does not; a locally generated packet has none',
    case: {
      tables: [
        {
          kind: 'ipt',
          family: 'ip',
          name: 'mangle',
          chains: [
            { name: 'POSTROUTING', base: { hook: 'postrouting', priority: -150, policy: 'accept', type: 'filter' }, rules: [{ matches: [], action: { k: 'jump', chain: 'M' } }] },
            { name: 'M', rules: [{ matches: [{ k: 'iif', name: 'eth0', inv: true }], action: { k: 'mark', v: 0x1, m: 0x1 } }] },
          ],
        },
        {
          kind: 'nft',
          family: 'ip',
          name: 't0',
          chains: [{ name: 'b0', base: { hook: 'postrouting', priority: 0, policy: 'accept', type: 'filter' }, rules: [{ matches: [{ k: 'iif', name: 'eth0', inv: false }], action: { k: 'mark', v: 0x2000, m: 0x2000 } }] }],
        },
      ],
      packets: [
        { kind: 'fwd', proto: 'tcp', dport: 443, mark: 0 },
        { kind: 'out', proto: 'tcp', dport: 443, mark: 0 },
      ],
    },
    kernel: [
      { verdict: 'accept', decidedBy: null, mark: '0x00002000' },
      { verdict: 'accept', decidedBy: null, mark: '0x00000001' },
    ],
  },
  {
    name: 'dnat-to-ipv6-loopback',
    fact: 'a DNAT target "::1" is an address (not ":PORT"); a packet from outside DNATed to ::1 is then dropped by routing, as 127/8 is for IPv4',
    case: {
      tables: [
        {
          kind: 'ipt',
          family: 'ip6',
          name: 'nat',
          chains: [
            { name: 'PREROUTING', base: { hook: 'prerouting', priority: -100, policy: 'accept', type: 'nat' }, rules: [{ matches: [{ k: 'iif', name: 'eth1', inv: true }], action: { k: 'dnat', to: '::1' } }] },
            { name: 'INPUT', base: { hook: 'input', priority: 100, policy: 'accept', type: 'nat' }, rules: [{ matches: [], action: { k: 'mark', v: 0x8000, m: 0x18010 } }] },
          ],
        },
      ],
      packets: [{ kind: 'in', v6: true, proto: 'tcp', dport: 443, mark: 0 }],
    },
    kernel: [{ verdict: 'drop', decidedBy: null, mark: '0x00000000' }],
  },
  {
    name: 'nft-negated-state-set',
    fact: 'ct state != { a, b } is a negated membership (nft 1.0.6 compiles `ct state != a,b` to cmp neq (a|b), true for every packet: the generator writes the set form)',
    case: {
      tables: [
        {
          kind: 'nft',
          family: 'inet',
          name: 't0',
          chains: [{ name: 'b0', base: { hook: 'input', priority: 0, policy: 'accept', type: 'filter' }, rules: [{ matches: [{ k: 'ctstate', s: ['new', 'established'], inv: true }], action: { k: 'drop' } }] }],
        },
      ],
      packets: [{ kind: 'in', proto: 'tcp', dport: 80, mark: 0 }],
    },
    kernel: [{ verdict: 'accept', decidedBy: null, mark: '0x00000000' }],
  },
  {
    name: 'inet-nat-family-conntrack',
    fact: "an inet table's `dnat ip6 to ...` takes a conntrack reference for IPv6 only (nft_nat_init: the NAT's family, not the table's): IPv4 packets get no entry and the IPv4 NAT chains are not traversed, IPv6 ones are",
    case: {
      tables: [
        {
          kind: 'nft',
          family: 'inet',
          name: 't0',
          chains: [
            { name: 'b0', base: { hook: 'output', priority: 99, policy: 'accept', type: 'nat' }, rules: [{ matches: [], action: { k: 'dnat', to: 'fd00:1::1' } }] },
            { name: 'u0', rules: [] },
          ],
        },
        {
          kind: 'nft',
          family: 'inet',
          name: 't1',
          chains: [{ name: 'b0', base: { hook: 'prerouting', priority: -150, policy: 'accept', type: 'nat' }, rules: [{ matches: [], action: { k: 'mark', v: 0x100, m: 0x100 } }] }],
        },
      ],
      packets: [
        { kind: 'in1', proto: 'udp', dport: 22, mark: 0 },
        { kind: 'out', proto: 'tcp', dport: 443, mark: 0 },
        { kind: 'out', v6: true, proto: 'udp', dport: 443, mark: 0 },
        { kind: 'in', v6: true, proto: 'tcp', dport: 80, mark: 0 },
      ],
    },
    kernel: [
      { verdict: 'accept', decidedBy: null, mark: '0x00000000' },
      { verdict: 'accept', decidedBy: null, mark: '0x00000000' },
      { verdict: 'accept', decidedBy: 'inet t0 b0 rule 1', mark: '0x00000000' },
      { verdict: 'accept', decidedBy: null, mark: '0x00000100' },
    ],
  },
  {
    name: 'queue-bypass-then-routing-drop',
    fact: "a queue rule with bypass and no consumer lets the packet go on (the trace's verdict code carries NF_VERDICT_FLAG_QUEUE_BYPASS); the routing decision after PREROUTING (`not fwmark 0x10000/0x10000 unreachable`) then drops it without a traced rule",
    case: {
      tables: [
        {
          kind: 'ipt',
          family: 'ip',
          name: 'mangle',
          chains: [{ name: 'PREROUTING', base: { hook: 'prerouting', priority: -150, policy: 'drop', type: 'filter' }, rules: [{ matches: [], action: { k: 'queue', num: 6, bypass: true } }] }],
        },
      ],
      packets: [
        { kind: 'fwd', proto: 'tcp', dport: 22, mark: 0 },
        { kind: 'fwd', proto: 'tcp', dport: 22, mark: 0x10000 },
      ],
      routing: { rules: [{ priority: 100, not: true, fwmark: { v: 0x10000, m: 0x10000 }, action: 'unreachable' }], table100: ['net1'], dev: 'eth1' },
    },
    kernel: [
      { verdict: 'drop', decidedBy: null, mark: '0x00000000' },
      { verdict: 'accept', decidedBy: 'ip mangle PREROUTING rule 1', mark: '0x00010000' },
    ],
  },
  {
    name: 'seed-queue-whole-mark',
    fact: "the seed's outage: NFQUEUE in mangle INPUT, the consumer answers accept with the whole mark 0x8000, KUBE-FIREWALL-style DROP in filter INPUT",
    case: {
      tables: seedTables(),
      packets: [
        { kind: 'lo', proto: 'tcp', dport: 80, mark: 0 },
        { kind: 'in', proto: 'tcp', dport: 80, mark: 0x100 },
      ],
      queue5: 'accept,mark=0x8000',
    },
    kernel: [
      { verdict: 'drop', decidedBy: 'ip filter U0 rule 1', mark: '0x00008000' },
      { verdict: 'drop', decidedBy: 'ip filter U0 rule 1', mark: '0x00008000' },
    ],
  },
  {
    name: 'seed-queue-owned-bits',
    fact: 'the fix: the consumer sets only its own bits (mark=0x100000/0xf00000), other bits survive, KUBE-FIREWALL lets it through',
    case: {
      tables: seedTables(),
      packets: [{ kind: 'in', proto: 'tcp', dport: 80, mark: 0x4000 }],
      queue5: 'accept,mark=0x100000/0x100000',
    },
    kernel: [{ verdict: 'accept', decidedBy: 'ip mangle INPUT rule 1', mark: '0x00104000' }],
  },
  {
    name: 'iptables-nft-security-at-150',
    fact: 'iptables-nft registers the security table at priority 150, not NF_IP_PRI_SECURITY (50): an nft chain at 100 runs before it, so security INPUT sees the mark that chain sets',
    case: {
      tables: [
        {
          kind: 'ipt',
          family: 'ip',
          name: 'security',
          chains: [{ name: 'INPUT', base: { hook: 'input', priority: 150, policy: 'accept', type: 'filter' }, rules: [{ matches: [{ k: 'mark', v: 0x10, m: 0x10, inv: false }], action: { k: 'drop' } }] }],
        },
        {
          kind: 'nft',
          family: 'ip',
          name: 't0',
          chains: [{ name: 'b0', base: { hook: 'input', priority: 100, policy: 'accept', type: 'filter' }, rules: [{ matches: [], action: { k: 'mark', v: 0x10, m: 0x10 } }] }],
        },
      ],
      packets: [{ kind: 'in', proto: 'tcp', dport: 80, mark: 0 }],
    },
    kernel: [{ verdict: 'drop', decidedBy: 'ip security INPUT rule 1', mark: '0x00000010' }],
  },
  {
    name: 'queue-accept-then-routing-drop',
    fact: 'a packet the consumer accepts comes back with the verdict mark and is routed by it: here the ip rule blackholes it before any later chain, so the kernel trace ends at the queue rule; only the consumer knows it was accepted (mark 0x100), not lost in the queue',
    case: {
      tables: [
        {
          kind: 'ipt',
          family: 'ip6',
          name: 'raw',
          chains: [{ name: 'PREROUTING', base: { hook: 'prerouting', priority: -300, policy: 'accept', type: 'filter' }, rules: [{ matches: [], action: { k: 'queue', num: 5, bypass: false } }] }],
        },
      ],
      packets: [{ kind: 'fwd', v6: true, proto: 'tcp', dport: 443, mark: 0 }],
      queue5: 'accept,mark=0x100/0x100',
      routing: { rules: [{ priority: 100, not: true, fwmark: { m: 0x14001, v: 0x10001 }, action: 'blackhole' }], table100: ['net1'], dev: 'eth1' },
    },
    kernel: [{ verdict: 'drop', decidedBy: null, mark: '0x00000100' }],
  },
];
