// Netlink constants, named exactly as in the kernel's UAPI headers so that a reader can grep for them.

/** include/uapi/linux/netlink.h: protocol families for socket(AF_NETLINK, SOCK_RAW, proto). */
export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;

/** struct nlmsghdr is 16 bytes; messages and attributes are aligned to 4 bytes. */
export const NLMSG_HDRLEN = 16;
export const NLMSG_ALIGNTO = 4;
export const NLA_HDRLEN = 4;
export const NLA_ALIGNTO = 4;

/** Control message types below NLMSG_MIN_TYPE. */
export const NLMSG_NOOP = 0x1;
export const NLMSG_ERROR = 0x2;
export const NLMSG_DONE = 0x3;
export const NLMSG_OVERRUN = 0x4;
export const NLMSG_MIN_TYPE = 0x10;

/** nlmsg_flags. */
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
/** GET request flags: NLM_F_ROOT | NLM_F_MATCH asks for a dump. */
export const NLM_F_DUMP = 0x300;
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

/** nlattr nla_type flag bits. */
export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** enum nlmsgerr_attrs: TLVs after struct nlmsgerr when NETLINK_EXT_ACK is on. */
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;
export const NLMSGERR_ATTR_COOKIE = 3;
export const NLMSGERR_ATTR_POLICY = 4;
export const NLMSGERR_ATTR_MISS_TYPE = 5;
export const NLMSGERR_ATTR_MISS_NEST = 6;

/** Socket options (include/uapi/asm-generic/socket.h, include/linux/socket.h, netlink.h). */
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SOL_NETLINK = 270;
export const NETLINK_NO_ENOBUFS = 5;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

/** recvmsg msg_flags. */
export const MSG_TRUNC = 0x20;

/** include/uapi/linux/netfilter/nfnetlink.h: struct nfgenmsg is 4 bytes after nlmsghdr. */
export const NFGENMSG_LEN = 4;
export const NFNETLINK_V0 = 0;
export const NFNL_SUBSYS_CTNETLINK = 1;
export const NFNL_SUBSYS_QUEUE = 3;

/** Address families used in nfgenmsg.nfgen_family. */
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
