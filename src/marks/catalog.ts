// The component catalog, kept as data: one entry per component that uses the packet or connection mark
// on Kubernetes nodes, with what identifies its rules (chains, nft tables, comments, mark expressions,
// policy-routing rules), the bits it uses or reserves, and where each fact was read. Facts come from
// the components' sources (see each entry's `sources`); the summary the project keeps is
// shared/reference/mark-usage-by-component.md. To add a component, add an entry: no code changes.
import type { ComponentEntry, MarkUse } from './types.js';

const K8S = 'kubernetes/kubernetes';

/**
 * Calico's bits in iptables and nftables modes: felix allocates them lowest first from its mark mask
 * (default 0xffff0000, the whole of which it reserves), the rest being endpoint marks.
 */
function calicoBits(maskName: string): MarkUse[] {
  return [
    { space: 'mark', mask: 0xffff0000, meaning: 'calico', name: `mark range (${maskName})`, reserved: true },
    { space: 'mark', mask: 0x00010000, meaning: 'calico', name: 'accept bit' },
    { space: 'mark', mask: 0x00020000, meaning: 'calico', name: 'pass bit' },
    { space: 'mark', mask: 0x00040000, meaning: 'calico', name: 'drop bit (v3.30+; scratch0 before)' },
    { space: 'mark', mask: 0x00080000, meaning: 'calico', name: 'scratch0 bit (marks workload packets for the RPF check)' },
    { space: 'mark', mask: 0x00100000, meaning: 'calico', name: 'scratch1 bit' },
  ];
}

export const CATALOG: readonly ComponentEntry[] = [
  {
    id: 'kubelet',
    name: 'kubelet',
    family: 'kubernetes',
    identify: {
      // Its own chains in every version (hint, canary) and before v1.28 the drop bit's. KUBE-FIREWALL,
      // KUBE-MARK-MASQ and KUBE-POSTROUTING it shares with kube-proxy (see kube-proxy's sharedWith).
      chains: ['KUBE-MARK-DROP', 'KUBE-KUBELET-CANARY', 'KUBE-IPTABLES-HINT'],
      comments: ['^kubernetes firewall for dropping marked packets$'],
    },
    // Not reserved: kubelet v1.28+ writes no mark at all; before, its rules show the bits it uses.
    uses: [
      { space: 'mark', mask: 0x00008000, meaning: 'k8s-drop', name: 'drop bit (--iptables-drop-bit 15)' },
      { space: 'mark', mask: 0x00004000, meaning: 'k8s-masq', name: 'masquerade bit (--iptables-masquerade-bit 14)' },
    ],
    sources: [
      { repo: K8S, path: 'pkg/kubelet/kubelet_network_linux.go', version: '02c82103 (syncNetworkUtil, before KEP-3178)', note: 'nat KUBE-MARK-DROP -j MARK --or-mark 0x8000; filter KUBE-FIREWALL: "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP and "block incoming localnet connections", jumped to from INPUT and OUTPUT; nat KUBE-MARK-MASQ --or-mark 0x4000 and KUBE-POSTROUTING (! --mark 0x4000/0x4000 RETURN, --xor-mark 0x4000, MASQUERADE), "THIS MUST MATCH" kube-proxy\'s; mangle KUBE-IPTABLES-HINT; KUBE-KUBELET-CANARY (Monitor) in mangle, nat and filter' },
      { repo: K8S, path: 'PR #114472 (KEP-3178 IPTablesOwnershipCleanup beta, on by default)', version: 'v1.27', note: 'kubelet no longer creates KUBE-MARK-DROP, KUBE-MARK-MASQ, KUBE-POSTROUTING nor the drop-bit rule unless the gate is turned off' },
      { repo: K8S, path: 'PR #119374 (IPTablesOwnershipCleanup GA)', version: 'v1.28', note: 'the legacy code removed; --iptables-drop-bit and --iptables-masquerade-bit deprecated (removed in PR #122363)' },
      { repo: K8S, path: 'pkg/kubelet/kubelet_network_linux.go', version: 'a0d8ee79 (syncIPTablesRules, v1.28+)', note: 'only KUBE-IPTABLES-HINT, KUBE-FIREWALL with the localnet rule (IPv4; "kube-proxy (in iptables mode) creates an identical copy"), KUBE-KUBELET-CANARY: no mark' },
    ],
  },
  {
    id: 'kube-proxy-iptables',
    name: 'kube-proxy (iptables)',
    family: 'kubernetes',
    identify: {
      chains: [
        'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-FORWARD',
        'KUBE-PROXY-FIREWALL', 'KUBE-PROXY-CANARY', 'KUBE-SVC-*', 'KUBE-SVL-*', 'KUBE-SEP-*', 'KUBE-EXT-*', 'KUBE-FW-*', 'KUBE-XLB-*',
        // IPVS mode shares the marks and the postrouting chain.
        'KUBE-LOAD-BALANCER', 'KUBE-NODE-PORT', 'KUBE-IPVS-*', 'KUBE-SOURCE-RANGES-FIREWALL',
      ],
      comments: [
        '^kubernetes forwarding rules$', '^kubernetes service portals$', '^kubernetes externally-visible service portals$',
        '^kubernetes load balancer firewall$', '^kubernetes health check service ports$', '^kubernetes forwarding conntrack ',
      ],
      // kubelet before v1.28 writes the same KUBE-MARK-MASQ and KUBE-POSTROUTING; kube-proxy since v1.27
      // writes its own copy of kubelet's KUBE-FIREWALL localnet rule.
      sharedWith: {
        entry: 'kubelet',
        chains: ['KUBE-MARK-MASQ', 'KUBE-POSTROUTING', 'KUBE-FIREWALL'],
        comments: ['^kubernetes postrouting rules$', '^kubernetes service traffic requiring SNAT$', '^block incoming localnet connections$'],
      },
    },
    uses: [{ space: 'mark', mask: 0x00004000, meaning: 'k8s-masq', name: 'masquerade bit (--masquerade-bit 14)', reserved: true }],
    sources: [
      { repo: K8S, path: 'pkg/proxy/iptables/proxier.go', version: 'v1.28+', note: 'KUBE-MARK-MASQ -j MARK --or-mark 0x4000; KUBE-POSTROUTING ! --mark 0x4000/0x4000 RETURN, --xor-mark 0x4000, MASQUERADE; KUBE-FORWARD --mark 0x4000/0x4000 ACCEPT; iptablesKubeletJumpChains: KUBE-FIREWALL "block incoming localnet connections", a duplicate of kubelet\'s' },
      { repo: K8S, path: 'PR #114470 (KEP-3178 rule fixups)', version: 'v1.27', note: 'kube-proxy creates its own copy of kubelet\'s anti-martian-packet rule (KUBE-FIREWALL)' },
    ],
  },
  {
    id: 'kube-proxy-nftables',
    name: 'kube-proxy (nftables)',
    family: 'kubernetes',
    identify: { tables: ['kube-proxy'] },
    uses: [{ space: 'mark', mask: 0x00004000, meaning: 'k8s-masq', name: 'masquerade bit (--masquerade-bit 14)', reserved: true }],
    sources: [
      { repo: K8S, path: 'pkg/proxy/nftables/proxier.go', version: 'b0f823e6', note: 'table ip/ip6 kube-proxy; mark-for-masquerade: mark set mark or 0x4000; masquerading: mark and 0x4000 == 0 return, mark set mark xor 0x4000, masquerade fully-random' },
    ],
  },
  {
    id: 'calico-iptables',
    name: 'Calico (iptables)',
    family: 'calico',
    // Every felix rule carries its id, "cali:" and 16 characters (in nftables mode a ';' follows).
    identify: { chains: ['cali-*'], comments: ['^cali:[\\w-]{16}(?: |$)'] },
    uses: calicoBits('IptablesMarkMask'),
    sources: [
      { repo: 'projectcalico/calico', path: 'felix/config/config_params.go', version: '87c15906 (v3.34.0-0.dev)', note: 'IptablesMarkMask default 0xffff0000' },
      { repo: 'projectcalico/calico', path: 'felix/dataplane/driver.go', version: '87c15906', note: 'bits allocated lowest first: accept 0x10000, pass 0x20000, drop 0x40000, scratch0 0x80000, scratch1 0x100000, [wireguard], endpoint = the rest' },
      { repo: 'projectcalico/calico', path: 'felix/rules/static.go', version: '87c15906', note: 'ClearMark of accept|pass|scratch0|scratch1 (0x1b0000) in cali-INPUT, cali-OUTPUT, mangle cali-POSTROUTING, raw cali-PREROUTING/OUTPUT, all but accept in cali-FORWARD; raw cali-PREROUTING sets scratch0 on workload packets for the RPF check; FORWARD ends with accept-bit ACCEPT and --set-mark 0x10000/0x10000' },
      { repo: 'projectcalico/calico', path: 'felix/generictables/rules.go, felix/iptables/renderer.go', version: '87c15906', note: 'rule ids: comment "cali:" + 16 characters of a chained SHA-224 over the chain and its rules' },
    ],
  },
  {
    id: 'calico-nftables',
    name: 'Calico (nftables)',
    family: 'calico',
    // Every felix rule of this mode is in table "calico" (its comments read "cali:<id>;"). Felix also
    // keeps "arp calico-arp" (proxy-ARP suppression, no marks) in iptables mode as in this one.
    identify: { tables: ['calico'], sharedWith: { entry: 'calico-iptables', tables: ['calico-arp'] } },
    uses: calicoBits('NftablesMarkMask'),
    sources: [
      { repo: 'projectcalico/calico', path: 'felix/config/config_params.go', version: '87c15906', note: 'NftablesMarkMask default 0xffff0000 (same allocation as IptablesMarkMask)' },
      { repo: 'projectcalico/calico', path: 'felix/nftables/table.go, table_layer.go, renderer.go', version: '87c15906', note: 'one table "ip calico" (ip6 for v6) for every layer, chains <layer>-<chain>; base chains raw -300, mangle -150, dstnat, filter 0, srcnat+10 around kube-proxy\'s; rule comments "cali:<id>;"; ClearMark as "meta mark set mark & ~bits"' },
    ],
  },
  {
    id: 'calico-bpf',
    name: 'Calico (eBPF)',
    family: 'calico',
    identify: {
      // In eBPF mode felix keeps iptables (or nftables) rules that test and set the BPF programs' marks,
      // all of them with the SEEN bit 0x01000000 inside MarksMask; one such rule marks the whole node.
      variantOf: { entries: ['calico-iptables', 'calico-nftables'], marks: [{ space: 'mark', valueWithin: 0x1ff00000, valueHas: 0x01000000 }] },
    },
    uses: [
      { space: 'mark', mask: 0xffff0000, meaning: 'calico', name: 'mark range (IptablesMarkMask/NftablesMarkMask)', reserved: true },
      { space: 'mark', mask: 0x1ff00000, meaning: 'calico-bpf', name: 'eBPF programs\' marks (MarksMask: SEEN 0x01000000, BYPASS, FALLTHROUGH, NAT_OUT, MASQ, SKIP_FIB, CT_ESTABLISHED)', reserved: true },
      { space: 'mark', mask: 0x00010000, meaning: 'calico', name: 'accept bit' },
      { space: 'mark', mask: 0x00020000, meaning: 'calico', name: 'pass bit' },
      { space: 'mark', mask: 0x00040000, meaning: 'calico', name: 'drop bit' },
      { space: 'mark', mask: 0x00080000, meaning: 'calico', name: 'scratch0 bit' },
      { space: 'mark', mask: 0x20000000, meaning: 'calico', name: 'scratch1 bit (allocated above MarksMask)' },
    ],
    sources: [
      { repo: 'projectcalico/calico', path: 'felix/bpf/tc/defs/defs.go', version: '87c15906', note: 'MarksMask 0x1ff00000; MarkSeen 0x01000000, MarkSeenBypass 0x03000000, FallThrough 0x05000000, NATOutgoing 0x01800000, MASQ 0x03600000 (mask 0x03f00000), SkipFIB 0x01100000, BypassXDP 0x03500000, LinuxConntrackEstablished 0x08000000' },
      { repo: 'projectcalico/calico', path: 'felix/bpf-gpl/bpf.h', version: '87c15906', note: 'CALI_SKB_MARK_* (the same values; RELATED_RESOLVED 0x21000000, TUNNEL_KEY_SET 0x41000000, FROM_NAT_IFACE_OUT 0x81000000)' },
      { repo: 'projectcalico/calico', path: 'felix/dataplane/driver.go', version: '87c15906', note: 'the mark mask must cover MarksMask (panics otherwise); Calico\'s bits come from the rest: accept 0x10000, pass 0x20000, drop 0x40000, scratch0 0x80000, scratch1 0x20000000' },
      { repo: 'projectcalico/calico', path: 'felix/dataplane/linux/int_dataplane.go (setUpIptablesBPF), felix/rules/static.go (StaticBPFModeRawChains, StaticNATPostroutingChains), felix/rules/nat.go', version: '87c15906', note: 'filter INPUT/FORWARD/OUTPUT rules on the SEEN, BYPASS, FALLTHROUGH and CT_ESTABLISHED marks; raw cali-OUTPUT sets the whole mark to BYPASS 0x3000000 for accepted packets; nat "BPF loopback SNAT" and nat-outgoing on MASQ/NAT_OUT marks' },
    ],
  },
  {
    id: 'cilium',
    name: 'Cilium',
    family: 'cilium',
    identify: {
      chains: ['CILIUM_*', 'OLD_CILIUM_*'],
      comments: ['^cilium(-feeder)?:', '^cilium-xfrm-notrack:', '^cilium '],
      ipRules: { priorities: [9, 10], tables: ['2004', '2005'] },
    },
    uses: [
      { space: 'mark', mask: 0xffff0000, meaning: 'cilium-identity', name: 'security identity (low 16 bits of the identity, shifted)', reserved: true },
      { space: 'mark', mask: 0x0000f000, meaning: 'cilium-k8s-nibble', name: 'Kubernetes nibble (0x4000 masq, 0x8000 drop reserved; 0x1000 WireGuard/IPsec)', reserved: true },
      { space: 'mark', mask: 0x00004000, meaning: 'k8s-masq', name: 'K8sMasq bit (kept for kube-proxy)' },
      { space: 'mark', mask: 0x00008000, meaning: 'k8s-drop', name: 'K8sDrop bit (kept for kubelet)' },
      { space: 'mark', mask: 0x00000f00, meaning: 'cilium-magic', name: 'magic nibble (to/from proxy, host, encrypt/decrypt, overlay)', reserved: true },
      { space: 'mark', mask: 0x000000ff, meaning: 'cilium-cluster-id', name: 'identity high bits / cluster id', reserved: true },
      { space: 'mark', mask: 0x00000080, meaning: 'aws-primary-eni', name: 'primary-ENI bit (ENI mode CONNMARK)' },
      { space: 'ctmark', mask: 0x00000080, meaning: 'aws-primary-eni', name: 'primary-ENI connmark (ENI mode)' },
    ],
    sources: [
      { repo: 'cilium/cilium', path: 'pkg/datapath/linux/linux_defaults/mark.go', version: '~1.16-1.18', note: '0xFFFF0000 identity, 0xF000 k8s nibble (0x4000 masq, 0x8000 drop), 0x0F00 magic, 0x00FF identity high / cluster id' },
      { repo: 'cilium/cilium', path: 'pkg/datapath/iptables/iptables.go', version: '~1.16-1.18', note: 'CILIUM_* chains, "cilium:" and "cilium-feeder:" comments, --set-xmark 0xc00/0xf00, TPROXY --tproxy-mark 0x200' },
      { repo: 'cilium/cilium', path: 'pkg/datapath/linux/linux_defaults/linux_defaults.go', version: '~1.16-1.18', note: 'ip rule prio 9 to-proxy (table 2004), 10 from-proxy (2005); MarkMultinodeNodeport 0x80 (ENI connmark)' },
    ],
  },
  {
    id: 'istio',
    name: 'Istio',
    family: 'istio',
    identify: {
      chains: ['ISTIO_*'],
      tables: ['istio-proxy-*'],
      marks: [
        { space: 'mark', mask: 0xffffffff, value: 1337 },
        { space: 'ctmark', mask: 0xffffffff, value: 1337 },
        { space: 'mark', mask: 0x00000fff, value: 0x539 },
        { space: 'ctmark', mask: 0x00000fff, value: 0x111 },
      ],
      ipRules: { tables: ['133'] },
    },
    uses: [
      { space: 'mark', mask: 0x00000fff, meaning: 'istio', name: 'in-pod mark (1337/0xfff, TPROXY 0x111/0xfff)', reserved: true },
      { space: 'ctmark', mask: 0x00000fff, meaning: 'istio', name: 'in-pod connmark (0x111/0xfff)', reserved: true },
    ],
    sources: [
      { repo: 'istio/istio', path: 'tools/common/config/config.go', version: '1.31.0-alpha', note: 'InboundTProxyMark 1337 (0x539), route table 133; OutboundMark 1338' },
      { repo: 'istio/istio', path: 'cni/pkg/config/config.go', version: '1.31.0-alpha', note: 'InpodMark 1337/0xfff, InpodTProxyMark 0x111/0xfff, InpodRestoreMask 0xffffffff' },
    ],
    notes: 'Sidecar and ambient rules live in the pod network namespace; skb->mark is scrubbed on the veth, so they do not reach the node namespace.',
  },
  {
    id: 'weave',
    name: 'Weave Net',
    family: 'weave',
    identify: { chains: ['WEAVE', 'WEAVE-*'] },
    uses: [
      { space: 'mark', mask: 0x00040000, meaning: 'weave-npc-egress', name: 'network-policy egress-accept bit', reserved: true },
      { space: 'mark', mask: 0x00020000, meaning: 'weave-ipsec', name: 'IPsec bit', reserved: true },
    ],
    sources: [
      { repo: 'weaveworks/weave', path: 'npc/constants.go', version: '8c847638 (2.8.1+, archived)', note: 'EgressMark 0x40000/0x40000' },
      { repo: 'weaveworks/weave', path: 'net/ipsec/ipsec.go', version: '8c847638', note: 'mark 0x20000/0x20000 (1<<17)' },
    ],
  },
  {
    id: 'flannel',
    name: 'flannel',
    family: 'flannel',
    identify: { chains: ['FLANNEL-*'], tables: ['flannel-ipv4', 'flannel-ipv6'], comments: ['^flanneld '] },
    uses: [{ space: 'mark', mask: 0x00004000, meaning: 'k8s-masq', name: "kube-proxy's masquerade bit (hard-coded 0x4000/0x4000)" }],
    sources: [
      { repo: 'flannel-io/flannel', path: 'pkg/trafficmngr/trafficmngr.go', version: 'v0.28.9-8', note: 'KubeProxyMark "0x4000/0x4000"' },
      { repo: 'flannel-io/flannel', path: 'pkg/trafficmngr/nftables/nftables.go', version: 'v0.28.9-8', note: 'meta mark 0x4000 return: an exact, unmasked comparison' },
    ],
  },
  {
    id: 'kube-router',
    name: 'kube-router',
    family: 'kube-router',
    identify: {
      chains: ['KUBE-ROUTER-*', 'KUBE-NWPLCY-*', 'KUBE-POD-FW-*'],
      tables: ['kube-router-filter-ipv4', 'kube-router-filter-ipv6'],
      comments: ['^kube-router netpol', '^rule to mark traffic matching a network policy'],
      ipRules: { tables: ['78', '79', 'kube-router-dsr'] },
    },
    uses: [
      { space: 'mark', mask: 0x00010000, meaning: 'kube-router-netpol-match', name: 'network-policy match bit', reserved: true },
      { space: 'mark', mask: 0x00020000, meaning: 'kube-router-netpol-accept', name: 'network-policy accept bit', reserved: true },
      { space: 'mark', mask: 0x00003fff, meaning: 'kube-router-ipvs-fwmark', name: 'IPVS/DSR service fwmark (FNV32a & 0x3fff, written unmasked)' },
    ],
    sources: [
      { repo: 'cloudnativelabs/kube-router', path: 'pkg/controllers/netpol/npc_iptables.go', version: 'v2.11.0-1', note: 'KUBE-NWPLCY-* --set-xmark 0x10000/0x10000; KUBE-POD-FW-* ! mark 0x10000/0x10000 REJECT; 0x20000 accept' },
      { repo: 'cloudnativelabs/kube-router', path: 'pkg/controllers/proxy/utils.go', version: 'v2.11.0-1', note: 'generateUniqueFWMark FNV32a & 0x3FFF, set with --set-mark (no mask); ip rule fwmark X table 78' },
    ],
  },
  {
    id: 'antrea',
    name: 'Antrea',
    family: 'antrea',
    // Egress SNAT routing tables 101-120 (one per SNAT IP id), reply table 141.
    identify: { chains: ['ANTREA-*'], comments: ['^Antrea:'], ipRules: { tables: [...Array.from({ length: 20 }, (_, i) => String(101 + i)), '141'] } },
    uses: [
      { space: 'mark', mask: 0x80000000, meaning: 'antrea-host-local', name: 'host-local source bit (31)', reserved: true },
      { space: 'mark', mask: 0x40000000, meaning: 'antrea-egress-return', name: 'Egress no-encap return bit (30)', reserved: true },
      { space: 'mark', mask: 0x000000ff, meaning: 'antrea-snat-id', name: 'Egress SNAT IP id (low byte)', reserved: true },
      { space: 'ctmark', mask: 0x40000000, meaning: 'antrea-egress-return', name: 'hybrid-mode connmark' },
      { space: 'ctmark', mask: 0x00000080, meaning: 'aws-primary-eni', name: 'primary-ENI connmark (EKS)' },
    ],
    sources: [
      { repo: 'antrea-io/antrea', path: 'pkg/agent/types/net.go', version: 'v2.2.0-alpha.2-744', note: 'HostLocalSourceBit 31, EgressNoEncapReturnToRemoteBit 30, SNATIPMarkMask 0xFF' },
      { repo: 'antrea-io/antrea', path: 'pkg/agent/route/route_linux.go', version: 'v2.2.0-alpha.2-744', note: 'ANTREA-* chains, "Antrea: ..." comments, --or-mark 0x80000000' },
    ],
  },
  {
    id: 'ovn-kubernetes',
    name: 'OVN-Kubernetes',
    family: 'ovn-kubernetes',
    identify: { chains: ['OVN-KUBE-*'], tables: ['ovn-kubernetes'], ipRules: { priorities: [30], tables: ['7'], fwmarks: [0x1745ec] } },
    uses: [
      { space: 'mark', mask: 0x001745ec, meaning: 'ovn-itp', name: 'ITP mark 0x1745ec (written unmasked)', reserved: true },
      { space: 'mark', mask: 0x000003f0, meaning: 'ovn-egress-snat', name: 'egress-IP/node SNAT pkt_mark 0x3f0', reserved: true },
    ],
    sources: [
      { repo: 'ovn-org/ovn-kubernetes', path: 'go-controller/pkg/node/gateway_shared_intf.go', version: '6c366bb4 (v1.1.0-alpha-181)', note: 'OVN-KUBE-ITP -j MARK --set-xmark 0x1745ec (no mask); ip rule fwmark 0x1745ec lookup 7 prio 30; ovnKubeNodeSNATMark 0x3f0' },
    ],
  },
  {
    id: 'aws-vpc-cni',
    name: 'AWS VPC CNI',
    family: 'aws-vpc-cni',
    identify: {
      chains: ['AWS-SNAT-CHAIN-*', 'AWS-CONNMARK-CHAIN-*'],
      tables: ['aws-cni'],
      comments: ['^AWS, ', '^AWS SNAT CHAIN', '^AWS CONNMARK CHAIN'],
      ipRules: { priorities: [1024] },
    },
    uses: [
      { space: 'mark', mask: 0x00000080, meaning: 'aws-primary-eni', name: 'primary-ENI bit (AWS_VPC_K8S_CNI_CONNMARK)', reserved: true },
      { space: 'ctmark', mask: 0x00000080, meaning: 'aws-primary-eni', name: 'primary-ENI connmark', reserved: true },
    ],
    sources: [{ repo: 'aws/amazon-vpc-cni-k8s', path: 'pkg/networkutils/network.go', version: 'v1.23.1 prep', note: 'defaultConnmark 0x80; CONNMARK --set-mark 0x80/0x80, --restore-mark --mask 0x80; ip rule fwmark 0x80/0x80 lookup main prio 1024' }],
  },
  {
    id: 'tailscale',
    name: 'Tailscale',
    family: 'tailscale',
    identify: {
      chains: ['ts-*'],
      marks: [{ space: 'mark', mask: 0x00ff0000 }, { space: 'ctmark', mask: 0x00ff0000 }],
      ipRules: { priorities: [5210, 5230, 5250, 5270], tables: ['52'] },
    },
    uses: [
      { space: 'mark', mask: 0x00ff0000, meaning: 'tailscale', name: 'mark range (LinuxFwmarkMask 0xff0000)', reserved: true },
      { space: 'mark', mask: 0x00040000, meaning: 'tailscale', name: 'subnet-route mark 0x40000 (masquerade)' },
      { space: 'mark', mask: 0x00080000, meaning: 'tailscale', name: "bypass mark 0x80000 (tailscaled's own sockets, policy routing)" },
      { space: 'ctmark', mask: 0x00ff0000, meaning: 'tailscale', name: 'connmark range (v1.96+ save/restore)' },
    ],
    sources: [
      { repo: 'tailscale/tailscale', path: 'tsconst/linuxfw.go', version: 'de9ec7ee (v1.103.0-pre)', note: 'LinuxFwmarkMask 0xff0000, SubnetRouteMark 0x40000, BypassMark 0x80000' },
      { repo: 'tailscale/tailscale', path: 'util/linuxfw/iptables_runner.go', version: 'de9ec7ee', note: 'ts-forward --set-mark 0x40000/0xff0000, --mark 0x40000/0xff0000 ACCEPT; ts-postrouting MASQUERADE' },
      { repo: 'tailscale/tailscale', path: 'wgengine/router/osrouter/router_linux.go', version: 'de9ec7ee', note: 'ip rule 5210 fwmark 0x80000/0xff0000 lookup main; 5230, 5250, 5270 lookup 52' },
    ],
  },
  {
    id: 'wg-quick',
    name: 'wg-quick',
    family: 'wg-quick',
    identify: {
      comments: ['^wg-quick\\(8\\) rule for '],
      tables: ['wg-quick-*'],
      marks: [{ space: 'mark', mask: 0xffffffff, value: 51820 }],
      ipRules: { tables: ['51820'], fwmarks: [51820] },
    },
    uses: [
      { space: 'mark', mask: 0x0000ca6c, meaning: 'wg-fwmark', name: "fwmark 51820 (0xca6c), set on the tunnel's own UDP packets by the WireGuard socket", reserved: true },
      { space: 'ctmark', mask: 0x0000ca6c, meaning: 'wg-fwmark', name: "connmark copy of fwmark 51820 (saved on the tunnel's UDP flows, restored into the mark of their replies)" },
    ],
    sources: [{ repo: 'WireGuard/wireguard-tools', path: 'src/wg-quick/linux.bash', version: 'v1.0.20260223-4', note: 'fwmark = table = 51820 when Table=auto and AllowedIPs has /0; ip rule not fwmark 51820 table 51820; mangle CONNMARK --save-mark/--restore-mark without masks' }],
    notes: 'kubernetes/kubernetes#113659: 0xca6c carries 0x8000 (kubelet drop) and 0x4000 (kube-proxy masquerade).',
  },
  {
    id: 'docker',
    name: 'Docker',
    family: 'docker',
    identify: {
      chains: ['DOCKER', 'DOCKER-*'],
      tables: ['docker-bridges'],
      comments: ['^ALLOW FW MARK$'],
      marks: [{ space: 'mark', mask: 0xffffffff, value: 0xd0c4e3 }],
    },
    uses: [{ space: 'mark', mask: 0x00d0c4e3, meaning: 'docker-swarm-encrypted-overlay', name: 'Swarm encrypted-overlay mark 0xd0c4e3 (written unmasked)' }],
    sources: [
      { repo: 'moby/moby', path: 'daemon/libnetwork/drivers/overlay/encryption.go', version: 'docker-v29.7.2-150', note: 'mangle OUTPUT -p udp --dport 4789 -j MARK --set-mark 13681891 (0xd0c4e3)' },
      { repo: 'moby/moby', path: 'daemon/libnetwork/drivers/bridge (bridge-accept-fwmark)', version: 'docker-v29.0', note: 'filter -m mark --mark X[/M] -j ACCEPT comment "ALLOW FW MARK"' },
    ],
  },
  {
    id: 'firewalld',
    name: 'firewalld',
    family: 'firewalld',
    identify: {
      tables: ['firewalld'],
      chains: [
        'INPUT_direct', 'OUTPUT_direct', 'FORWARD_direct', 'PREROUTING_direct', 'POSTROUTING_direct', 'INPUT_ZONES', 'FORWARD_IN_ZONES',
        'FORWARD_OUT_ZONES', 'PREROUTING_ZONES', 'POSTROUTING_ZONES', 'IN_*', 'FWDI_*', 'FWDO_*', 'PRE_*', 'POST_*',
      ],
    },
    uses: [],
    sources: [{ repo: 'firewalld/firewalld', path: 'src/firewall/core/nftables.py', version: 'v0.6.0-alpha-1735', note: 'no built-in mark bits; rich rules "mark set=X/M"; rpfilter looks the mark up in the FIB' }],
  },
  {
    id: 'nfqueue',
    name: 'NFQUEUE consumer',
    family: 'nfqueue',
    identify: { queue: true, tables: ['kube-network-policies', 'nfqguard*'], comments: ['^nfqguard'] },
    uses: [],
    sources: [{ repo: 'torvalds/linux', path: 'net/netfilter/nfnetlink_queue.c', version: 'v6.12', note: 'a verdict with NFQA_MARK replaces skb->mark whole (no mask attribute)' }],
  },
];

export function catalogEntry(id: string, catalog: readonly ComponentEntry[] = CATALOG): ComponentEntry | undefined {
  return catalog.find((e) => e.id === id);
}
