import { table } from '../../util/table.js';
import { ipv4Text, ipv6Text, parseIpv4, parseIpv6 } from '../../util/ip.js';
// Value syntax shared by iptables extensions: numbers as strtoul(..., 0) reads them, value/mask pairs,
// IPv4/IPv6 addresses with masks printed as inet_ntop does, ports and service names, protocol names.

/** strtoul base 0: 0x.. hex, 0.. octal, decimal; undefined unless the whole string is a number <= max. */
export function parseUint(text: string, max = 0xffffffff): number | undefined {
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) n = parseInt(text.slice(2), 16);
  else if (/^0[0-7]+$/.test(text)) n = parseInt(text.slice(1), 8);
  else if (/^[0-9]+$/.test(text)) n = Number(text);
  else return undefined;
  return Number.isSafeInteger(n) && n <= max ? n : undefined;
}

export function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}

/** `value[/mask]` with 32-bit numbers; mask defaults to 0xffffffff. */
export function parseMarkMask(text: string): { value: number; mask: number; hasMask: boolean } | undefined {
  const slash = text.indexOf('/');
  const v = parseUint(slash < 0 ? text : text.slice(0, slash));
  if (v === undefined) return undefined;
  if (slash < 0) return { value: v, mask: 0xffffffff, hasMask: false };
  const m = parseUint(text.slice(slash + 1));
  if (m === undefined) return undefined;
  return { value: v, mask: m, hasMask: true };
}

/** As xtables_print_mark_mask: `0xV` when the mask is all ones, else `0xV/0xM`. */
export function markMaskText(value: number, mask: number): string {
  return mask >>> 0 === 0xffffffff ? hex(value) : `${hex(value)}/${hex(mask)}`;
}

// ---------------------------------------------------------------------------------------------------
// Addresses (parsing and printing shared with the rest of the project)

export { parseIpv4, ipv4Text, parseIpv6, ipv6Text };



function prefixMask4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Prefix length of a contiguous mask, or -1. */
function maskLen4(mask: number): number {
  // Contiguous when the host part (~mask) is 2^k - 1; the prefix is then its count of leading zeros.
  const host = ~mask >>> 0;
  return (host & (host + 1)) === 0 ? Math.clz32(host) : -1;
}



function prefixGroups6(len: number): number[] {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) {
    const bits = Math.max(0, Math.min(16, len - i * 16));
    g.push(bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff);
  }
  return g;
}

function maskLen6(mask: number[]): number {
  for (let len = 0; len <= 128; len++) {
    const p = prefixGroups6(len);
    if (p.every((x, i) => x === mask[i])) return len;
  }
  return -1;
}

export interface ParsedAddr {
  family: 'ip' | 'ip6';
  /** Network address after masking, as text. */
  addr: string;
  /** Prefix length, or -1 for a non-contiguous mask. */
  prefix: number;
  /** The mask as text when it is not contiguous. */
  maskText?: string;
  /** The whole thing in CIDR form when contiguous, else addr/mask. */
  cidr: string;
  /** Whether addr and mask are both zero (matches everything). */
  any: boolean;
}

/**
 * `addr[/len|/mask]` for a family (undefined family: whichever parses). The host part is cleared, as
 * iptables does before it hands the rule to the kernel. Returns a reason string when invalid.
 */
export function parseAddrMask(text: string, family?: 'ip' | 'ip6'): ParsedAddr | string {
  const slash = text.indexOf('/');
  const a = slash < 0 ? text : text.slice(0, slash);
  const m = slash < 0 ? undefined : text.slice(slash + 1);
  const v4 = family === 'ip6' ? undefined : parseIpv4(a);
  if (v4 !== undefined) {
    let mask = 0xffffffff;
    if (m !== undefined) {
      if (/^[0-9]{1,2}$/.test(m) && Number(m) <= 32) mask = prefixMask4(Number(m));
      else {
        const mm = parseIpv4(m);
        if (mm === undefined) return `bad IPv4 mask "${m}"`;
        mask = mm;
      }
    }
    const net = (v4 & mask) >>> 0;
    const len = maskLen4(mask);
    // Already canonical (iptables-save's own form: no host bits, /len, no leading zeros): keep the text.
    if (m !== undefined && len >= 0 && net === v4 && (m.length === 1 || m.charCodeAt(0) !== 48) && /^[0-9]{1,2}$/.test(m) && !/(^|\.)0\d/.test(a)) {
      return { family: 'ip', addr: a, prefix: len, cidr: text, any: net === 0 && mask === 0 };
    }
    const addr = ipv4Text(net);
    const maskText = len < 0 ? ipv4Text(mask) : undefined;
    return { family: 'ip', addr, prefix: len, maskText, cidr: `${addr}/${len < 0 ? maskText : len}`, any: net === 0 && mask === 0 };
  }
  const v6 = family === 'ip' ? undefined : parseIpv6(a);
  if (v6 !== undefined) {
    let mask = prefixGroups6(128);
    if (m !== undefined) {
      if (/^[0-9]{1,3}$/.test(m) && Number(m) <= 128) mask = prefixGroups6(Number(m));
      else {
        const mm = parseIpv6(m);
        if (!mm) return `bad IPv6 mask "${m}"`;
        mask = mm;
      }
    }
    const net = v6.map((x, i) => x & mask[i]);
    const len = maskLen6(mask);
    const addr = ipv6Text(net);
    const maskText = len < 0 ? ipv6Text(mask) : undefined;
    return { family: 'ip6', addr, prefix: len, maskText, cidr: `${addr}/${len < 0 ? maskText : len}`, any: net.every((x) => x === 0) && mask.every((x) => x === 0) };
  }
  if (family === 'ip' && parseIpv6(a)) return 'an IPv6 address in an IPv4 rule (ip6tables rules? give them as such: --ip6tables-save, or parse --family ip6)';
  if (family === 'ip6' && parseIpv4(a) !== undefined) return 'an IPv4 address in an IPv6 rule (iptables rules? give them as such: --iptables-save, or parse --family ip)';
  return `not an ${family === 'ip6' ? 'IPv6' : family === 'ip' ? 'IPv4' : 'IP'} address: "${text}"`;
}

/** Looks like a DNS name rather than a malformed address. */
export function looksLikeHostname(text: string): boolean {
  const a = text.split('/')[0];
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(a) && /[A-Za-z]/.test(a);
}

// ---------------------------------------------------------------------------------------------------
// Protocols: iptables' own table first (xtables_chain_protos), then /etc/protocols as Debian's netbase ships it.

const CHAIN_PROTOS: Array<[string, number]> = [
  ['tcp', 6], ['sctp', 132], ['udp', 17], ['udplite', 136], ['icmp', 1], ['icmpv6', 58], ['ipv6-icmp', 58],
  ['esp', 50], ['ah', 51], ['ipv6-mh', 135], ['mh', 135], ['all', 0],
];

const ETC_PROTOCOLS: Array<[string, number]> = [
  ['ip', 0], ['hopopt', 0], ['icmp', 1], ['igmp', 2], ['ggp', 3], ['ipencap', 4], ['st', 5], ['tcp', 6], ['egp', 8],
  ['igp', 9], ['pup', 12], ['udp', 17], ['hmp', 20], ['xns-idp', 22], ['rdp', 27], ['iso-tp4', 29], ['dccp', 33],
  ['xtp', 36], ['ddp', 37], ['idpr-cmtp', 38], ['ipv6', 41], ['ipv6-route', 43], ['ipv6-frag', 44], ['idrp', 45],
  ['rsvp', 46], ['gre', 47], ['esp', 50], ['ah', 51], ['skip', 57], ['ipv6-icmp', 58], ['ipv6-nonxt', 59],
  ['ipv6-opts', 60], ['rspf', 73], ['vmtp', 81], ['eigrp', 88], ['ospf', 89], ['ax.25', 93], ['ipip', 94],
  ['etherip', 97], ['encap', 98], ['pim', 103], ['ipcomp', 108], ['vrrp', 112], ['l2tp', 115], ['isis', 124],
  ['sctp', 132], ['fc', 133], ['mobility-header', 135], ['udplite', 136], ['mpls-in-ip', 137], ['manet', 138],
  ['hip', 139], ['shim6', 140], ['wesp', 141], ['rohc', 142], ['ethernet', 143],
];

const PROTO_BY_NAME = new Map<string, number>();
for (const [n, v] of [...ETC_PROTOCOLS, ...CHAIN_PROTOS]) if (!PROTO_BY_NAME.has(n)) PROTO_BY_NAME.set(n, v);

/** Protocol name or number -> number (0 = all). */
export function parseProto(text: string): number | undefined {
  const n = parseUint(text, 255);
  if (n !== undefined) return n;
  return PROTO_BY_NAME.get(text.toLowerCase());
}

/** How iptables-save prints a protocol given by name: its own table's spelling for aliases. */
export function canonicalProtoName(name: string, n: number, family: 'ip' | 'ip6'): string {
  if (name === 'icmpv6') return 'ipv6-icmp';
  if (name === 'mh' || name === 'ipv6-mh') return protoName(n, family);
  return name;
}

/**
 * How iptables-save prints a protocol given as a number: by name when iptables' own table has it (every
 * version does: `-p 6` saves as `-p tcp`), else as written (1.8.9 looked the number up in /etc/protocols,
 * 1.8.10+ prints the number, so a dump keeps whichever it has).
 */
export function protoNumberText(written: string, n: number, family: 'ip' | 'ip6'): string {
  for (const [, v] of CHAIN_PROTOS) if (v === n && n !== 0 && n !== 135) return protoName(n, family);
  return written;
}

/** The name iptables-save prints for a protocol number (iptables 1.8.9: its table, then getprotobynumber). */
export function protoName(n: number, family: 'ip' | 'ip6' = 'ip'): string {
  if (n === 58) return family === 'ip6' ? 'ipv6-icmp' : 'ipv6-icmp';
  for (const [name, v] of CHAIN_PROTOS) if (v === n && name !== 'all') return name;
  for (const [name, v] of ETC_PROTOCOLS) if (v === n && v !== 0) return name;
  return String(n);
}

// ---------------------------------------------------------------------------------------------------
// Ports and services (getservbyname; the names seen in real rulesets, from netbase /etc/services).

const SERVICES: Readonly<Record<string, number>> = table({
  ftp: 21, 'ftp-data': 20, ssh: 22, telnet: 23, smtp: 25, domain: 53, bootps: 67, bootpc: 68, tftp: 69, http: 80,
  www: 80, kerberos: 88, pop3: 110, sunrpc: 111, ntp: 123, 'netbios-ns': 137, 'netbios-dgm': 138,
  'netbios-ssn': 139, imap: 143, imap2: 143, snmp: 161, 'snmp-trap': 162, bgp: 179, ldap: 389, https: 443,
  'microsoft-ds': 445, isakmp: 500, syslog: 514, submission: 587, ldaps: 636, rsync: 873, imaps: 993,
  pop3s: 995, openvpn: 1194, 'ms-sql-s': 1433, 'ms-sql-m': 1434, l2tp: 1701, pptp: 1723, radius: 1812,
  nfs: 2049, mysql: 3306, 'ipsec-nat-t': 4500, sip: 5060, 'postgresql': 5432, 'x11': 6000, 'http-alt': 8080,
  webcache: 8080, 'xmpp-client': 5222, 'xmpp-server': 5269, 'mdns': 5353, 'redis': 6379, 'git': 9418,
});

export function parsePort(text: string): number | undefined {
  const n = parseUint(text, 65535);
  if (n !== undefined) return n;
  return SERVICES[text.toLowerCase()];
}

/** `a`, `a:b`, `:b`, `a:` (iptables port range syntax). */
export function parsePortRange(text: string): [number, number] | undefined {
  const c = text.indexOf(':');
  if (c < 0) {
    const p = parsePort(text);
    return p === undefined ? undefined : [p, p];
  }
  const lo = c === 0 ? 0 : parsePort(text.slice(0, c));
  const hi = c === text.length - 1 ? 65535 : parsePort(text.slice(c + 1));
  if (lo === undefined || hi === undefined) return undefined;
  return lo <= hi ? [lo, hi] : undefined;
}

/** As iptables prints a range: `a` or `a:b`. */
export function portRangeText(r: [number, number]): string {
  return r[0] === r[1] ? String(r[0]) : `${r[0]}:${r[1]}`;
}
