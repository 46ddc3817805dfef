// CIDR prefixes for IPv4 and IPv6, parsed once and matched against the number fields of
// PacketHeaders without allocating.

export interface Cidr {
  family: 4 | 6;
  /** Network and mask as 32-bit words: one for IPv4, four for IPv6. */
  net: Uint32Array;
  mask: Uint32Array;
  text: string;
}

function prefixMask(bits: number, words: number): Uint32Array {
  const m = new Uint32Array(words);
  for (let i = 0; i < words; i++) {
    const b = Math.max(0, Math.min(32, bits - i * 32));
    m[i] = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
  }
  return m;
}

export function parseIpv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return null;
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export function parseIpv6(text: string): Uint32Array | null {
  let t = text;
  let tail4: number | null = null;
  const last = t.lastIndexOf(':');
  if (t.includes('.') && last >= 0) {
    tail4 = parseIpv4(t.slice(last + 1));
    if (tail4 === null) return null;
    t = t.slice(0, last + 1) + '0:0';
  }
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const part = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = part(halves[0]);
  const tail = halves.length === 2 ? part(halves[1]) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const g = [...head, ...new Array(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ((g[2 * i] << 16) | g[2 * i + 1]) >>> 0;
  if (tail4 !== null) w[3] = tail4;
  return w;
}

/** Parses "10.0.0.0/8", "192.0.2.1", "fd00::/8" or "::1"; null when it is none of these. */
export function parseCidr(text: string): Cidr | null {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const lenText = slash < 0 ? undefined : t.slice(slash + 1);
  if (lenText !== undefined && !/^\d{1,3}$/.test(lenText)) return null;
  const v4 = parseIpv4(addr);
  if (v4 !== null) {
    const bits = lenText === undefined ? 32 : Number(lenText);
    if (bits > 32) return null;
    const mask = prefixMask(bits, 1);
    return { family: 4, net: Uint32Array.of((v4 & mask[0]) >>> 0), mask, text: t };
  }
  const v6 = parseIpv6(addr);
  if (v6 === null) return null;
  const bits = lenText === undefined ? 128 : Number(lenText);
  if (bits > 128) return null;
  const mask = prefixMask(bits, 4);
  return { family: 6, net: v6.map((w, i) => (w & mask[i]) >>> 0), mask, text: t };
}

export function cidrHas4(c: Cidr, addr: number): boolean {
  return c.family === 4 && ((addr & c.mask[0]) >>> 0) === c.net[0];
}

export function cidrHas6(c: Cidr, w: Uint32Array): boolean {
  if (c.family !== 6) return false;
  for (let i = 0; i < 4; i++) if (((w[i] & c.mask[i]) >>> 0) !== c.net[i]) return false;
  return true;
}
