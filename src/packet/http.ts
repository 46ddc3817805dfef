// HTTP/1.x request head from the first bytes of a TCP payload: method, target, version and headers.
// Works on what one segment holds (a cut-off head yields the lines that are complete). Never throws;
// returns null for anything that is not the start of an HTTP/1.x request.

export interface HttpRequest {
  method: string;
  /** The request target as sent (origin form "/a?b", absolute form, or "*"). */
  path: string;
  version: string;
  /** Host header value, lowercased, without the port. */
  host?: string;
  /** Header fields in order; names lowercased, values trimmed (latin1). */
  headers: Array<[string, string]>;
}

const MAX_HEAD = 8192;
const MAX_METHOD = 16;

function isTokenChar(c: number): boolean {
  // RFC 9110 tchar, restricted to what request methods use in practice: A-Z, a-z, 0-9, '-', '_'.
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** Cheap first test for the hot path: an uppercase letter run followed by a space. */
export function looksLikeHttpRequest(b: Uint8Array): boolean {
  if (b.length < 14) return false;
  let i = 0;
  while (i < MAX_METHOD && i < b.length && b[i] >= 0x41 && b[i] <= 0x5a) i++;
  return i >= 3 && i < b.length && b[i] === 0x20;
}

export function parseHttpRequest(b: Uint8Array): HttpRequest | null {
  if (!looksLikeHttpRequest(b)) return null;
  const end = Math.min(b.length, MAX_HEAD);
  let i = 0;
  while (i < end && isTokenChar(b[i])) i++;
  const method = latin1(b, 0, i);
  if (b[i] !== 0x20) return null;
  const targetStart = ++i;
  while (i < end && b[i] !== 0x20 && b[i] !== 0x0d && b[i] !== 0x0a) i++;
  if (i >= end || b[i] !== 0x20 || i === targetStart) return null;
  const path = latin1(b, targetStart, i);
  const verStart = ++i;
  while (i < end && b[i] !== 0x0d && b[i] !== 0x0a) i++;
  const version = latin1(b, verStart, i);
  if (!/^HTTP\/1\.[01]$/.test(version)) return null;
  const req: HttpRequest = { method, path, version, headers: [] };
  // Header lines: each ends with CRLF (or a bare LF); an empty line ends the head.
  i = skipEol(b, i, end);
  while (i < end) {
    const lineStart = i;
    while (i < end && b[i] !== 0x0a) i++;
    if (i >= end) break; // incomplete last line: not trusted
    const lineEnd = i > lineStart && b[i - 1] === 0x0d ? i - 1 : i;
    i++;
    if (lineEnd === lineStart) break;
    let colon = lineStart;
    while (colon < lineEnd && b[colon] !== 0x3a) colon++;
    if (colon === lineEnd || colon === lineStart) continue; // not a field line: skip it
    const name = latin1(b, lineStart, colon).trim().toLowerCase();
    const value = latin1(b, colon + 1, lineEnd).trim();
    req.headers.push([name, value]);
    if (name === 'host' && req.host === undefined) req.host = stripPort(value.toLowerCase());
  }
  if (req.host === undefined && /^https?:\/\//i.test(path)) {
    const m = /^https?:\/\/([^/?#]+)/i.exec(path);
    if (m) req.host = stripPort(m[1].toLowerCase());
  }
  return req;
}

function skipEol(b: Uint8Array, i: number, end: number): number {
  if (i < end && b[i] === 0x0d) i++;
  if (i < end && b[i] === 0x0a) i++;
  return i;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close > 0 ? host.slice(1, close) : host;
  }
  const colon = host.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
}

/** The first value of header `name` (lowercase), or undefined. */
export function headerValue(req: HttpRequest, name: string): string | undefined {
  for (const [n, v] of req.headers) if (n === name) return v;
  return undefined;
}
