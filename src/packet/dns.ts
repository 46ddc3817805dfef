// DNS query name (RFC 1035 section 4.1.2) from a UDP payload, or from a TCP payload with its 2-byte
// length prefix. Only queries (QR = 0) with at least one question are read. Never throws; null when
// the bytes hold no readable name.

const MAX_NAME = 255;
const MAX_POINTERS = 8;

/** The first question's name, lowercased, without the trailing dot ("" for the root). */
export function extractDnsQueryName(b: Uint8Array, overTcp = false): string | null {
  const base = overTcp ? 2 : 0;
  if (b.length < base + 12 + 1) return null;
  const flags = (b[base + 2] << 8) | b[base + 3];
  if ((flags & 0x8000) !== 0) return null; // a response
  if (((flags >> 11) & 0x0f) > 2) return null; // opcode other than QUERY, IQUERY, STATUS
  const qdcount = (b[base + 4] << 8) | b[base + 5];
  if (qdcount === 0) return null;
  return readName(b, base, base + 12);
}

function readName(b: Uint8Array, msgStart: number, at: number): string | null {
  const labels: string[] = [];
  let total = 0;
  let pointers = 0;
  let i = at;
  for (;;) {
    if (i >= b.length) return null;
    const len = b[i];
    if (len === 0) break;
    if ((len & 0xc0) === 0xc0) {
      if (i + 1 >= b.length || ++pointers > MAX_POINTERS) return null;
      const target = msgStart + (((len & 0x3f) << 8) | b[i + 1]);
      if (target >= i) return null; // pointers must go backwards: no loops
      i = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return null; // reserved label types
    if (i + 1 + len > b.length) return null;
    total += len + 1;
    if (total > MAX_NAME) return null;
    let s = '';
    for (let k = i + 1; k <= i + len; k++) {
      let c = b[k];
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      s += c > 0x20 && c < 0x7f && c !== 0x2e ? String.fromCharCode(c) : `\\${c.toString().padStart(3, '0')}`;
    }
    labels.push(s);
    i += 1 + len;
  }
  return labels.join('.');
}
