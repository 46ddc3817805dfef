// TLS ClientHello server name (SNI, RFC 6066 section 3) from the first bytes of a TCP payload.
// Reads as far as the bytes go: a ClientHello split over segments still yields the name when the
// server_name extension is in the first one. Never throws; null when there is no name to read.

const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST = 0x00;

/** Cheap first test: a TLS handshake record carrying a ClientHello. */
export function looksLikeClientHello(b: Uint8Array): boolean {
  return b.length >= 6 && b[0] === CONTENT_HANDSHAKE && b[1] === 0x03 && b[5] === HANDSHAKE_CLIENT_HELLO;
}

export function extractSni(b: Uint8Array): string | null {
  if (!looksLikeClientHello(b)) return null;
  const n = b.length;
  // record header (5) + handshake header (4) + client_version (2) + random (32)
  let i = 5 + 4 + 2 + 32;
  if (i + 1 > n) return null;
  i += 1 + b[i]; // session_id
  if (i + 2 > n) return null;
  i += 2 + ((b[i] << 8) | b[i + 1]); // cipher_suites
  if (i + 1 > n) return null;
  i += 1 + b[i]; // compression_methods
  if (i + 2 > n) return null;
  const extEnd = Math.min(n, i + 2 + ((b[i] << 8) | b[i + 1]));
  i += 2;
  while (i + 4 <= extEnd) {
    const type = (b[i] << 8) | b[i + 1];
    const len = (b[i + 2] << 8) | b[i + 3];
    i += 4;
    if (type === EXT_SERVER_NAME) return readServerNameList(b, i, Math.min(extEnd, i + len));
    i += len;
  }
  return null;
}

function readServerNameList(b: Uint8Array, i: number, end: number): string | null {
  if (i + 2 > end) return null;
  const listEnd = Math.min(end, i + 2 + ((b[i] << 8) | b[i + 1]));
  i += 2;
  while (i + 3 <= listEnd) {
    const type = b[i];
    const len = (b[i + 1] << 8) | b[i + 2];
    i += 3;
    if (i + len > listEnd) return null;
    if (type === NAME_TYPE_HOST) return hostName(b, i, i + len);
    i += len;
  }
  return null;
}

/** A DNS host name in ASCII, lowercased; null when it holds anything else. */
function hostName(b: Uint8Array, start: number, end: number): string | null {
  if (end <= start || end - start > 255) return null;
  let s = '';
  for (let i = start; i < end; i++) {
    let c = b[i];
    if (c < 0x21 || c > 0x7e) return null;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    s += String.fromCharCode(c);
  }
  return s.endsWith('.') ? s.slice(0, -1) : s;
}
