// Builders of raw IPv4/IPv6 packets for tests, written from the RFC header layouts independently of
// src/packet (which parses them). Checksums are left zero: the parsers do not check them.

export interface BuildOpts {
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  flags?: number;
  ttl?: number;
  payload?: Uint8Array | string;
}

function bytesOf(p: Uint8Array | string | undefined): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  return typeof p === 'string' ? new TextEncoder().encode(p) : p;
}

function v4(addr: string): number[] {
  return addr.split('.').map(Number);
}

function v6(addr: string): number[] {
  const [head, tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = addr.includes('::') ? [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

function l4(proto: 'tcp' | 'udp', o: BuildOpts, payload: Uint8Array): number[] {
  const sp = o.sport ?? 40000;
  const dp = o.dport ?? 80;
  if (proto === 'udp') {
    const len = 8 + payload.length;
    return [sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, len >> 8, len & 0xff, 0, 0];
  }
  return [sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 5 << 4, o.flags ?? 0x18, 0xff, 0xff, 0, 0, 0, 0];
}

export function ipv4Packet(proto: 'tcp' | 'udp', o: BuildOpts = {}): Uint8Array {
  const payload = bytesOf(o.payload);
  const l4h = l4(proto, o, payload);
  const total = 20 + l4h.length + payload.length;
  const ip = [0x45, 0, total >> 8, total & 0xff, 0, 1, 0x40, 0, o.ttl ?? 64, proto === 'tcp' ? 6 : 17, 0, 0, ...v4(o.src ?? '10.0.0.1'), ...v4(o.dst ?? '10.0.0.2')];
  return Uint8Array.from([...ip, ...l4h, ...payload]);
}

export function ipv6Packet(proto: 'tcp' | 'udp', o: BuildOpts = {}, ext: number[][] = []): Uint8Array {
  const payload = bytesOf(o.payload);
  const l4h = l4(proto, o, payload);
  const nh = proto === 'tcp' ? 6 : 17;
  // Extension headers given as [type, ...body]; chained in order.
  const extBytes: number[] = [];
  const types = ext.map((e) => e[0]);
  ext.forEach((e, i) => {
    const next = i + 1 < ext.length ? types[i + 1] : nh;
    const body = e.slice(1);
    extBytes.push(next, ...body);
  });
  const plen = extBytes.length + l4h.length + payload.length;
  const first = ext.length > 0 ? types[0] : nh;
  const ip = [0x60, 0, 0, 0, plen >> 8, plen & 0xff, first, o.ttl ?? 64, ...v6(o.src ?? 'fd00::1'), ...v6(o.dst ?? 'fd00::2')];
  return Uint8Array.from([...ip, ...extBytes, ...l4h, ...payload]);
}

/** A DNS query for `name` (RFC 1035 4.1), type A, written label by label. */
export function dnsQuery(name: string, id = 0x1234): Uint8Array {
  const labels = name.split('.').filter(Boolean).flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  return Uint8Array.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}
