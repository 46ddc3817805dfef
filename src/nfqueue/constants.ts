// nfnetlink_queue constants, named as in include/uapi/linux/netfilter/nfnetlink_queue.h,
// include/uapi/linux/netfilter.h and nfnetlink_conntrack.h.

/** enum nfqnl_msg_types */
export const NFQNL_MSG_PACKET = 0;
export const NFQNL_MSG_VERDICT = 1;
export const NFQNL_MSG_CONFIG = 2;
export const NFQNL_MSG_VERDICT_BATCH = 3;

/** enum nfqnl_attr_type */
export const NFQA_PACKET_HDR = 1; // struct nfqnl_msg_packet_hdr { __be32 packet_id; __be16 hw_protocol; __u8 hook; } packed
export const NFQA_VERDICT_HDR = 2; // struct nfqnl_msg_verdict_hdr { __be32 verdict; __be32 id; }
export const NFQA_MARK = 3; // __be32
export const NFQA_TIMESTAMP = 4; // struct nfqnl_msg_packet_timestamp { __aligned_be64 sec; __aligned_be64 usec; }
export const NFQA_IFINDEX_INDEV = 5;
export const NFQA_IFINDEX_OUTDEV = 6;
export const NFQA_IFINDEX_PHYSINDEV = 7;
export const NFQA_IFINDEX_PHYSOUTDEV = 8;
export const NFQA_HWADDR = 9; // struct nfqnl_msg_packet_hw { __be16 hw_addrlen; __u16 _pad; __u8 hw_addr[8]; }
export const NFQA_PAYLOAD = 10;
export const NFQA_CT = 11; // nested CTA_*
export const NFQA_CT_INFO = 12; // __be32 enum ip_conntrack_info
export const NFQA_CAP_LEN = 13;
export const NFQA_SKB_INFO = 14;
export const NFQA_EXP = 15;
export const NFQA_UID = 16;
export const NFQA_GID = 17;
export const NFQA_SECCTX = 18;
export const NFQA_VLAN = 19; // nested NFQA_VLAN_*
export const NFQA_L2HDR = 20;
export const NFQA_PRIORITY = 21;
export const NFQA_MAX = 21;

/** enum nfqnl_vlan_attr */
export const NFQA_VLAN_PROTO = 1;
export const NFQA_VLAN_TCI = 2;

/** enum nfqnl_msg_config_cmds */
export const NFQNL_CFG_CMD_NONE = 0;
export const NFQNL_CFG_CMD_BIND = 1;
export const NFQNL_CFG_CMD_UNBIND = 2;
export const NFQNL_CFG_CMD_PF_BIND = 3;
export const NFQNL_CFG_CMD_PF_UNBIND = 4;

/** enum nfqnl_config_mode */
export const NFQNL_COPY_NONE = 0;
export const NFQNL_COPY_META = 1;
export const NFQNL_COPY_PACKET = 2;

/** enum nfqnl_attr_config */
export const NFQA_CFG_CMD = 1; // struct nfqnl_msg_config_cmd { __u8 command; __u8 _pad; __be16 pf; }
export const NFQA_CFG_PARAMS = 2; // struct nfqnl_msg_config_params { __be32 copy_range; __u8 copy_mode; } packed
export const NFQA_CFG_QUEUE_MAXLEN = 3;
export const NFQA_CFG_MASK = 4;
export const NFQA_CFG_FLAGS = 5;

/** NFQA_CFG_FLAGS bits */
export const NFQA_CFG_F_FAIL_OPEN = 1 << 0;
export const NFQA_CFG_F_CONNTRACK = 1 << 1;
export const NFQA_CFG_F_GSO = 1 << 2;
export const NFQA_CFG_F_UID_GID = 1 << 3;
export const NFQA_CFG_F_SECCTX = 1 << 4;

/** NFQA_SKB_INFO bits */
export const NFQA_SKB_CSUMNOTREADY = 1 << 0;
export const NFQA_SKB_GSO = 1 << 1;
export const NFQA_SKB_CSUM_NOTVERIFIED = 1 << 2;

/** include/uapi/linux/netfilter.h: verdicts */
export const NF_DROP = 0;
export const NF_ACCEPT = 1;
export const NF_STOLEN = 2;
export const NF_QUEUE = 3;
export const NF_REPEAT = 4;
export const NF_STOP = 5;
export const NF_VERDICT_FLAG_QUEUE_BYPASS = 0x00008000;
export const NF_VERDICT_QBITS = 16;

/** enum nf_inet_hooks */
export const NF_INET_PRE_ROUTING = 0;
export const NF_INET_LOCAL_IN = 1;
export const NF_INET_FORWARD = 2;
export const NF_INET_LOCAL_OUT = 3;
export const NF_INET_POST_ROUTING = 4;
export const HOOK_NAMES = ['prerouting', 'input', 'forward', 'output', 'postrouting'] as const;

/** enum ctattr_type (nfnetlink_conntrack.h), the ones a verdict or a packet message uses. */
export const CTA_STATUS = 3;
export const CTA_MARK = 8;
export const CTA_ID = 12;
export const CTA_ZONE = 18;
export const CTA_MARK_MASK = 21;

/** enum ip_conntrack_info */
export const IP_CT_ESTABLISHED = 0;
export const IP_CT_RELATED = 1;
export const IP_CT_NEW = 2;
export const IP_CT_ESTABLISHED_REPLY = 3;
export const IP_CT_RELATED_REPLY = 4;
export const IP_CT_UNTRACKED = 7;

/** The kernel's default queue length (NFQNL_QMAX_DEFAULT). */
export const NFQNL_QMAX_DEFAULT = 1024;
