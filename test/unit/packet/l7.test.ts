import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createServer, type AddressInfo } from 'node:net';
import { createSocket } from 'node:dgram';
import { connect as tlsConnect } from 'node:tls';
import { Resolver } from 'node:dns/promises';
import { parseHttpRequest, headerValue } from '../../../src/packet/http.js';
import { extractSni } from '../../../src/packet/tls.js';
import { extractDnsQueryName } from '../../../src/packet/dns.js';
import { dnsQuery } from '../../helpers/packets.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A real ClientHello: what Node's TLS client (OpenSSL) sends first, captured on loopback. */
async function realClientHello(servername: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const srv = createServer((sock) => {
      sock.once('data', (d) => {
        resolve(Uint8Array.from(d));
        sock.destroy();
        srv.close();
      });
    });
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      const c = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
      c.on('error', () => undefined);
      setTimeout(() => c.destroy(), 1000).unref();
    });
    srv.on('error', reject);
  });
}

/** A real DNS query: what Node's resolver (c-ares) sends, captured on loopback. */
async function realDnsQuery(name: string): Promise<Uint8Array> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = (sock.address() as AddressInfo).port;
  const got = new Promise<Uint8Array>((r) => sock.once('message', (m) => r(Uint8Array.from(m))));
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  resolver.resolve4(name).catch(() => undefined);
  const q = await got;
  resolver.cancel();
  sock.close();
  return q;
}

test('HTTP/1.1 request head: method, path, host without port, headers', () => {
  const r = parseHttpRequest(enc('GET /admin/x?y=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: curl/8.0\r\n\r\n'));
  assert.ok(r);
  assert.equal(r.method, 'GET');
  assert.equal(r.path, '/admin/x?y=1');
  assert.equal(r.host, 'example.com');
  assert.equal(headerValue(r, 'user-agent'), 'curl/8.0');
  assert.equal(parseHttpRequest(enc('HTTP/1.1 200 OK\r\n\r\n')), null, 'a response is not a request');
  assert.equal(parseHttpRequest(enc('GET /a HTTP/2.0\r\n\r\n')), null);
  const cut = parseHttpRequest(enc('POST /p HTTP/1.0\r\nHost: a.b\r\nX-Cut: par'));
  assert.equal(cut?.host, 'a.b');
  assert.equal(cut?.headers.length, 1, 'an incomplete last line is not trusted');
});

test('TLS SNI from a real ClientHello (Node/OpenSSL), lowercased', async () => {
  const hello = await realClientHello('Api.Example.COM');
  assert.equal(extractSni(hello), 'api.example.com');
  // Cut where the name is no longer complete: no name rather than a wrong one.
  const idx = Buffer.from(hello).indexOf('Api.Example');
  assert.ok(idx > 0);
  assert.equal(extractSni(hello.subarray(0, idx + 3)), null);
  assert.equal(extractSni(enc('GET / HTTP/1.1\r\n')), null);
});

test('DNS query name from a real query (Node/c-ares) and from a hand-built one', async () => {
  const q = await realDnsQuery('Bad.Example.org');
  assert.equal(extractDnsQueryName(q), 'bad.example.org');
  assert.equal(extractDnsQueryName(dnsQuery('a.b.c')), 'a.b.c');
  const tcp = Uint8Array.from([0, q.length, ...q]);
  assert.equal(extractDnsQueryName(tcp, true), 'bad.example.org');
  const resp = Uint8Array.from(q);
  resp[2] |= 0x80;
  assert.equal(extractDnsQueryName(resp), null, 'responses are not queries');
});

test('HTTP, SNI and DNS extractors never throw on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (b, tcp) => {
      parseHttpRequest(b);
      extractSni(b);
      extractDnsQueryName(b, tcp);
    }),
    { numRuns: 3000 },
  );
});

test('extractors never throw on corrupted real inputs (prefixes with random byte edits)', async () => {
  const hello = await realClientHello('fuzz.example.net');
  const dns = await realDnsQuery('fuzz.example.net');
  const http = enc('GET /x HTTP/1.1\r\nHost: fuzz.example.net\r\nA: b\r\n\r\n');
  fc.assert(
    fc.property(fc.constantFrom(hello, dns, http), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), (src, edits, cut) => {
      const b = Uint8Array.from(src);
      for (const [at, v] of edits) b[at % b.length] = v;
      const t = b.subarray(0, cut % (b.length + 1));
      const sni = extractSni(t);
      if (sni !== null) assert.ok(sni.length <= 255);
      const name = extractDnsQueryName(t);
      if (name !== null) assert.ok(name.length <= 1024);
      parseHttpRequest(t);
    }),
    { numRuns: 3000 },
  );
});
