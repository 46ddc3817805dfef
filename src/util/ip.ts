// IP addresses and CIDR prefixes: parsing and printing as the kernel's tools do (inet_ntop), and prefix
// matching on 32-bit words without allocating. Shared by the ruleset parsers, the packet views, the
// detection engine and the steering-rule planner.

/** The value of the address scanIpv4() read last (a field, so that a scan allocates nothing). */
export const ipv4Scan = { value: 0 };

/**
 * Reads the dotted IPv4 address that starts at text[from], stopping at the first character that is
 * neither digit nor dot (or at `to`): the index where it stopped, with the address in ipv4Scan.value;
 * -1 if no well-formed address starts there. By hand, without split or regular expressions: the
 * ruleset parser, the packet-spec reader and NAT targets call it for every address of 100k-line inputs.
 */
export function scanIpv4(text: string, from: number, to: number): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let i = from;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else break;
  }
  if (dots !== 3 || digits === 0) return -1;
  ipv4Scan.value = (n * 256 + part) >>> 0;
  return i;
}

export function parseIpv4(text: string): number | undefined {
  return scanIpv4(text, 0, text.length) === text.length ? ipv4Scan.value : undefined;
}

export function ipv4Text(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** IPv6 as eight 16-bit groups; undefined if not valid (accepts an embedded dotted quad). */
export function parseIpv6(text: string): number[] | undefined {
  if (text.length < 2 || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let tail4: number[] = [];
  let s = text;
  if (s.indexOf('.') >= 0) {
    const lastColon = s.lastIndexOf(':');
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 === undefined || lastColon < 1) return undefined;
    tail4 = [v4 >>> 16, v4 & 0xffff];
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (g: string): number[] | undefined => {
    if (g === '') return [];
    const out: number[] = [];
    for (const x of g.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(x)) return undefined;
      out.push(parseInt(x, 16));
    }
    return out;
  };
  const want = 8 - tail4.length;
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > want - 1) return undefined;
    groups = [...head, ...new Array<number>(want - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(s);
    if (!all || all.length !== want) return undefined;
    groups = all;
  }
  return [...groups, ...tail4];
}

/** inet_ntop(AF_INET6) as glibc writes it: longest zero run (>= 2 groups) as ::, v4-mapped/compat dotted. */
export function ipv6Text(g: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
    const v4 = ipv4Text(((g[6] << 16) | g[7]) >>> 0);
    return (bestLen === 5 ? '::ffff:' : '::') + v4;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += g[i].toString(16);
  }
  return out;
}

/** Eight 16-bit groups as four 32-bit words (network order), and back. */
export function groupsToWords(g: number[]): Uint32Array {
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ((g[2 * i] << 16) | g[2 * i + 1]) >>> 0;
  return w;
}

export function wordsToGroups(w: ArrayLike<number>): number[] {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) g.push((w[i] >>> 16) & 0xffff, w[i] & 0xffff);
  return g;
}

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

/** Parses "10.0.0.0/8", "192.0.2.1", "fd00::/8" or "::1"; null when it is none of these. */
export function parseCidr(text: string): Cidr | null {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const lenText = slash < 0 ? undefined : t.slice(slash + 1);
  if (lenText !== undefined && !/^\d{1,3}$/.test(lenText)) return null;
  const v4 = parseIpv4(addr);
  if (v4 !== undefined) {
    const bits = lenText === undefined ? 32 : Number(lenText);
    if (bits > 32) return null;
    const mask = prefixMask(bits, 1);
    return { family: 4, net: Uint32Array.of((v4 & mask[0]) >>> 0), mask, text: t };
  }
  const g6 = parseIpv6(addr);
  if (g6 === undefined) return null;
  const v6 = groupsToWords(g6);
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
