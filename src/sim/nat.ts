// NAT targets as far as they change the packet's path: the new address and port of DNAT/SNAT/REDIRECT/
// MASQUERADE/NETMAP, read from the target's `to` text ('10.0.0.5', '10.0.0.5:8080', '[fd00::5]:80',
// '10.0.0.1-10.0.0.3', ':8080', '8080', '10.1.0.0/16').
import { endpointScan, parseAddr, parsePrefix, scanIpv4Port, type Addr, type Prefix } from './addr.js';

export interface NatTo {
  addr?: Addr;
  /** The text named a range of addresses: the kernel picks one by hash; the simulator takes the first. */
  addrRange: boolean;
  port?: number;
  portRange: boolean;
  /** NETMAP: the prefix that replaces the address's network part. */
  prefix?: Prefix;
  /** Text the simulator could not read. */
  unreadable?: string;
}

function parsePortPart(text: string, out: NatTo): void {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) {
    out.unreadable = text;
    return;
  }
  out.port = Number(m[1]);
  out.portRange = m[2] !== undefined && m[2] !== m[1];
}

/**
 * 'A.B.C.D' or 'A.B.C.D:PORT' (kube-proxy's 30,000 DNAT targets) read by character codes, as the general
 * reading below reads them; undefined for any other text.
 */
function fastNatTo(t: string): NatTo | undefined {
  if (!scanIpv4Port(t, 0, t.length)) return undefined;
  const out: NatTo = { addrRange: false, portRange: false, addr: { v: 4, n: endpointScan.addr } };
  // Up to 99999, as the general reading's \d{1,5}.
  if (endpointScan.port >= 0) out.port = endpointScan.port;
  return out;
}

export function parseNatTo(text: string | undefined, kind: string): NatTo {
  if (text !== undefined && (kind === 'dnat' || kind === 'snat')) {
    const fast = fastNatTo(text);
    if (fast) return fast;
  }
  const out: NatTo = { addrRange: false, portRange: false };
  if (text === undefined) return out;
  let t = text.trim().replace(/^(ip6?\s+)?to\s+/, '').replace(/^--to(-destination|-source|-ports)?[= ]/, '').trim();
  if (t === '') return out;
  if (kind === 'redirect' || kind === 'masquerade') {
    t = t.replace(/^:/, '');
    parsePortPart(t, out);
    return out;
  }
  if (kind === 'netmap') {
    const p = parsePrefix(t);
    if (p) out.prefix = p;
    else out.unreadable = t;
    return out;
  }
  let addrText = t;
  let portText: string | undefined;
  const br = /^\[([^\]]+)\](?::(.+))?$/.exec(t);
  if (br) {
    addrText = br[1];
    portText = br[2];
  } else if (t.startsWith(':') && !t.startsWith('::')) {
    addrText = '';
    portText = t.slice(1);
  } else if (t.split(':').length === 2) {
    [addrText, portText] = t.split(':');
  }
  if (addrText !== '') {
    const dash = addrText.indexOf('-');
    const first = dash >= 0 ? addrText.slice(0, dash) : addrText;
    const a = parseAddr(first);
    if (!a) out.unreadable = addrText;
    else {
      out.addr = a;
      out.addrRange = dash >= 0 && addrText.slice(dash + 1) !== first;
    }
  }
  if (portText !== undefined) parsePortPart(portText, out);
  return out;
}

/** NETMAP: the prefix's network bits, the address's host bits. */
export function netmapAddr(a: Addr, p: Prefix): Addr {
  if (a.v === 4 && p.v === 4) return { v: 4, n: ((p.net & p.mask) | (a.n & ~p.mask)) >>> 0 };
  if (a.v === 6 && p.v === 6) {
    const w = a.w.map((x, i) => ((p.net[i] & p.mask[i]) | (x & ~p.mask[i])) >>> 0);
    return { v: 6, w: [w[0], w[1], w[2], w[3]] };
  }
  return a;
}
