// `nfqguard run` against the real kernel: each test has its own namespace with an echo server (the
// server) and probe/load processes (the clients), and runs the daemon as a real process.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { kernelTest } from '../../helpers/kernel.js';
import { assertNoRules, DaemonProc, echoServer, helper, mangleSave, probe, withTempConfig } from '../../helpers/daemon.js';
import { dnsQuery } from '../../helpers/packets.js';
import { NfQueue } from '../../../src/nfqueue/queue.js';
import { NetlinkError } from '../../../src/netlink/errors.js';

const CONFIG = (queue: number, extra = ''): string => `
name: kt
queue: { first: ${queue}, workers: 2 }
mark: { mask: 0x00f00000, bypass_ctmark: 0x01000000, bypass_mark: 0x00800000 }
steering:
  families: [ipv4, ipv6]
  rules:
    - { hook: input, protocol: tcp, dports: ["9001-9010"] }
    - { hook: input, protocol: udp, dports: [9053] }
rules:
  - { id: syn-block, match: { protocol: tcp, dst_port: 9009, tcp_flags: "syn,!ack" }, action: drop }
  - { id: from-10-99, match: { src: [10.99.0.0/16] }, action: drop }
  - { id: evil-content, match: { content: [ { text: evilpayload, nocase: true } ] }, action: drop }
  - { id: blocked-host, match: { http: { host: blocked.test } }, action: drop }
  - { id: blocked-sni, match: { tls_sni: "*.blocked.test" }, action: drop }
  - { id: blocked-dns, match: { dns_name: { suffix: .blocked.test } }, action: drop }
  - { id: watch, match: { content: [ { text: LOGME } ] }, action: log }
  - { id: marker, match: { content: [ { text: MARKME } ] }, action: mark, mark: 0x00100000 }
  - { id: trusted, match: { content: [ { text: BYPASSME } ] }, action: bypass }
metrics: { listen: 127.0.0.1:9477 }
${extra}`;

/** A real ClientHello (Node/OpenSSL) for `name`, captured on the host's loopback. */
function clientHello(name: string): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const srv = createServer((s) =>
      s.once('data', (d) => {
        resolve(Uint8Array.from(d));
        s.destroy();
        srv.close();
      }),
    );
    srv.listen(0, '127.0.0.1', () => {
      const c = tlsConnect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, servername: name, rejectUnauthorized: false });
      c.on('error', () => undefined);
    });
  });
}

const withConfig = <T>(queue: number, fn: (path: string) => Promise<T>, extra = ''): Promise<T> => withTempConfig(CONFIG(queue, extra), fn);

kernelTest('every rule kind detects and acts; marks touch only owned bits and KUBE-FIREWALL keeps working', 'drun', async (ns) => {
  await ns.execOk('ip', ['addr', 'add', '10.99.0.1/32', 'dev', 'lo']);
  // KUBE-MARK-MASQ-style mark on 9002, KUBE-MARK-DROP-style mark on payloads with DROPME to 9003, and
  // kube-proxy's KUBE-FIREWALL. An nft observer (added once the daemon runs) counts packets to 9002 whose mark is exactly
  // 0x4000 | 0x00100000 after the verdict.
  await ns.iptablesRestore(
    [
      '*mangle',
      '-A PREROUTING -p tcp --dport 9002 -j MARK --set-xmark 0x4000/0x4000',
      '-A PREROUTING -p tcp --dport 9003 -m string --string DROPME --algo bm -j MARK --set-xmark 0x8000/0x8000',
      'COMMIT',
      '*filter',
      ':KUBE-FIREWALL - [0:0]',
      '-A INPUT -j KUBE-FIREWALL',
      '-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP',
      'COMMIT',
      '',
    ].join('\n'),
  );
  await echoServer(ns, [9001, 9002, 9003, 9004, 9005, 9009, 9053]);
  const [blockedHello, fineHello] = await Promise.all([clientHello('x.blocked.test'), clientHello('fine.test')]);
  await withConfig(200, async (cfg) => {
    const d = await DaemonProc.start(ns, cfg);
    // The observer reads the owned bits, so the doctor's start-up check would rightly call it a
    // conflict: it goes in after the daemon started.
    await ns.nft('table inet obs {\n chain in { type filter hook input priority 10; tcp dport 9002 meta mark 0x00104000 counter; }\n}\n');
    try {
      const http = (host: string): string => `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
      const [plain, evil, hostBad, hostOk, sniBad, sniOk, dnsBad, dnsOk, syn, cidr, logged, marked, markedDrop, bypass, plain6, evil6, dns6] = await Promise.all([
        probe(ns, 'tcp', 9001, ['harmless']),
        probe(ns, 'tcp', 9001, ['xx EvilPayload yy']),
        probe(ns, 'tcp', 9001, [http('blocked.test')]),
        probe(ns, 'tcp', 9001, [http('ok.test')]),
        probe(ns, 'tcp', 9005, [blockedHello]),
        probe(ns, 'tcp', 9005, [fineHello]),
        probe(ns, 'udp', 9053, [dnsQuery('a.blocked.test')]),
        probe(ns, 'udp', 9053, [dnsQuery('a.fine.test')]),
        probe(ns, 'tcp', 9009, ['x']),
        probe(ns, 'tcp', 9001, ['x'], 800, '10.99.0.1'),
        probe(ns, 'tcp', 9001, ['LOGME please']),
        probe(ns, 'tcp', 9002, ['MARKME']),
        probe(ns, 'tcp', 9003, ['DROPME MARKME']),
        probe(ns, 'tcp', 9004, ['BYPASSME', 'second', 'third']),
        probe(ns, 'tcp', 9001, ['harmless'], 800, '::1'),
        probe(ns, 'tcp', 9001, ['xx EVILPAYLOAD'], 800, '::1'),
        probe(ns, 'udp', 9053, [dnsQuery('b.blocked.test')], 800, '::1'),
      ]);
      assert.equal(plain.echoed, 1, 'harmless traffic passes');
      assert.deepEqual([evil.connected, evil.echoed], [true, 0], 'content rule drops');
      assert.equal(hostBad.echoed, 0, 'HTTP host rule drops');
      assert.equal(hostOk.echoed, 1);
      assert.equal(sniBad.echoed, 0, 'SNI rule drops');
      assert.equal(sniOk.echoed, 1);
      assert.equal(dnsBad.echoed, 0, 'DNS rule drops');
      assert.equal(dnsOk.echoed, 1);
      assert.equal(syn.connected, false, 'TCP-flags rule drops the SYN');
      assert.equal(cidr.connected, false, 'CIDR rule drops traffic from 10.99.0.1');
      assert.equal(logged.echoed, 1, 'a log rule does not change the verdict');
      assert.equal(marked.echoed, 1, 'a marked packet passes KUBE-FIREWALL');
      assert.deepEqual([markedDrop.connected, markedDrop.echoed], [true, 0], 'the verdict mark keeps the KUBE-MARK-DROP bit: still dropped');
      assert.equal(bypass.echoed, 3, 'a bypassed flow keeps working');
      assert.equal(plain6.echoed, 1, 'IPv6 traffic is steered and passes');
      assert.deepEqual([evil6.connected, evil6.echoed], [true, 0], 'IPv6 content rule drops');
      assert.equal(dns6.echoed, 0, 'IPv6 DNS rule drops');
      const obs = await ns.execOk('nft', ['list', 'table', 'inet', 'obs']);
      const count = Number(/counter packets (\d+)/.exec(obs)?.[1] ?? 0);
      assert.ok(count >= 1, `the mark after the verdict is exactly 0x00104000 (owned bit set, 0x4000 kept): ${obs}`);
      // The bypass rule saw the later packets of the BYPASSME flow: they skipped the queue.
      const counters = await ns.execOk('iptables-save', ['-c', '-t', 'mangle']);
      const bypassLine = counters.split('\n').find((l) => l.includes('NFQG-kt-IN') && l.includes('connmark'));
      assert.ok(bypassLine, counters);
      assert.ok(Number(/^\[(\d+):/.exec(bypassLine)?.[1] ?? 0) >= 2, `flow-bypass rule counted the flow's later packets: ${bypassLine}`);
      const ev = await d.waitFor((l) => l.event === 'detection' && l.rule === 'watch', 2000);
      assert.equal(ev.dport, 9001);
      assert.equal(ev.src, '127.0.0.1');
      for (const rule of ['evil-content', 'blocked-host', 'blocked-sni', 'blocked-dns', 'marker', 'trusted', 'syn-block', 'from-10-99']) {
        await d.waitFor((l) => l.event === 'detection' && l.rule === rule, 2000);
      }
      const sniEv = await d.waitFor((l) => l.rule === 'blocked-sni', 100);
      assert.equal(sniEv.tls_sni, 'x.blocked.test');
      await d.waitFor((l) => l.rule === 'evil-content' && l.family === 'ipv6' && l.src === '::1', 2000);
      // Metrics, health and readiness.
      await new Promise((r) => setTimeout(r, 1200)); // one snapshot period
      const metrics = await ns.execOk('curl', ['-s', 'http://127.0.0.1:9477/metrics']);
      assert.match(metrics, /nfqguard_verdicts_total\{worker="\d",queue="20\d",rule="evil-content",action="drop"\} [1-9]/);
      assert.match(metrics, /nfqguard_packets_total\{worker="\d",queue="20\d"\} [1-9]/);
      assert.match(metrics, /nfqguard_verdict_latency_seconds_bucket\{worker="\d",queue="20\d",le="\+Inf"\} [1-9]/);
      assert.match(metrics, /nfqguard_queue_dropped\{queue="200"\} 0/);
      assert.match(metrics, /nfqguard_netlink_errors_total\{worker="\d",queue="20\d",kind="enobufs"\} 0/);
      assert.equal((await ns.execOk('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9477/readyz'])).trim(), '200');
      assert.equal((await ns.execOk('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9477/healthz'])).trim(), '200');
    } finally {
      const e = await d.kill('SIGTERM');
      assert.equal(e.code, 0);
    }
    await assertNoRules(ns);
    assert.match(await ns.execOk('iptables-save', ['-t', 'filter']), /KUBE-FIREWALL -m mark --mark 0x8000\/0x8000 -j DROP/, 'foreign rules untouched');
  });
}, { timeout: 40_000 });

kernelTest('SIGTERM under load: exit 0 within 2 s, no rule left behind, no connection stalled', 'dterm', async (ns) => {
  await echoServer(ns, [9001]);
  await withConfig(210, async (cfg) => {
    const d = await DaemonProc.start(ns, cfg);
    const load = ns.execOk(process.execPath, [helper('load'), '127.0.0.1', '9001', '2000'], { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 700));
    const e = await d.kill('SIGTERM');
    assert.equal(e.code, 0, d.stderr);
    assert.ok(e.ms < 2000, `stopped in ${e.ms} ms`);
    await assertNoRules(ns);
    const r = JSON.parse((await load).trim()) as { pings: number; maxPingGapMs: number; maxConnectGapMs: number };
    assert.ok(r.pings > 50, JSON.stringify(r));
    assert.ok(r.maxPingGapMs < 1000 && r.maxConnectGapMs < 1000, JSON.stringify(r));
    const stopped = d.lines.find((l) => l.msg === 'stopped: steering rules removed, queues unbound');
    assert.ok(stopped && Number(stopped.packets) > 0, 'the daemon inspected the load before stopping');
  });
}, { timeout: 30_000 });

kernelTest('SIGKILL under load: no connection stalls over 1 s (bypass); the next start removes the stale rules', 'dkill', async (ns) => {
  await echoServer(ns, [9001]);
  await withConfig(220, async (cfg) => {
    const d = await DaemonProc.start(ns, cfg);
    const load = ns.execOk(process.execPath, [helper('load'), '127.0.0.1', '9001', '3000'], { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1000));
    await d.kill('SIGKILL');
    const r = JSON.parse((await load).trim()) as { pings: number; maxPingGapMs: number; maxConnectGapMs: number; connects: number };
    assert.ok(r.pings > 100, JSON.stringify(r));
    assert.ok(r.maxPingGapMs < 1000, `longest stall of the open connection: ${r.maxPingGapMs} ms`);
    assert.ok(r.maxConnectGapMs < 1000, `longest time without a new connection: ${r.maxConnectGapMs} ms`);
    assert.match(await mangleSave(ns), /--queue-bypass/, 'the killed daemon left its rules (with bypass) behind');
    const again = await DaemonProc.start(ns, cfg);
    const stale = await again.waitFor((l) => typeof l.msg === 'string' && /removed \d+ stale rules/.test(l.msg), 100);
    assert.ok(stale);
    assert.equal((await again.kill('SIGTERM')).code, 0);
    await assertNoRules(ns);
  });
}, { timeout: 30_000 });

kernelTest('a second run on the same queue fails clearly with exit 2 and leaves the first alone', 'dtwice', async (ns) => {
  await echoServer(ns, [9001]);
  await withConfig(230, async (cfg) => {
    const first = await DaemonProc.start(ns, cfg);
    try {
      const before = await mangleSave(ns);
      const second = DaemonProc.spawn(ns, ['run', '--config', cfg]);
      const e = await second.exit;
      assert.equal(e.code, 2);
      const lines = second.stderr.trim().split('\n');
      assert.equal(lines.length, 1, second.stderr);
      assert.match(lines[0], /queue 23\d is already bound by/);
      assert.equal((await mangleSave(ns)).replace(/^#.*\n/gm, ''), before.replace(/^#.*\n/gm, ''), "the first daemon's rules are untouched");
      assert.equal((await probe(ns, 'tcp', 9001, ['still inspected'])).echoed, 1);
    } finally {
      assert.equal((await first.kill('SIGTERM')).code, 0);
    }
    await assertNoRules(ns);
  });
}, { timeout: 30_000 });

kernelTest('a queue another consumer holds: exit 2 with one line, and the worker that did bind is stopped quietly (no "worker exited", no restart)', 'dhalf', async (ns) => {
  // Only the first of the two queues is taken, so the second worker binds and has to be stopped again.
  const holder = await NfQueue.open({ queue: 250, netns: ns.path, onPacket: () => undefined });
  try {
    await withConfig(250, async (cfg) => {
      const d = DaemonProc.spawn(ns, ['run', '--config', cfg]);
      assert.equal((await d.exit).code, 2, d.stderr);
      assert.equal(d.stderr.trim().split('\n').length, 1, d.stderr);
      assert.match(d.stderr, /queue 250 is already bound by/);
      const noise = d.lines.filter((l) => /worker exited|restarting its worker|bypassed uninspected/.test(String(l.msg)));
      assert.deepEqual(noise, [], 'a start that fails is not a worker crash');
    });
  } finally {
    await holder.close();
  }
  await assertNoRules(ns);
}, { timeout: 30_000 });

kernelTest('without root: one line, exit 2; a mask conflict refuses to start unless --force', 'droot', async (ns) => {
  await withConfig(240, async (cfg) => {
    const nobody = ns.spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', process.execPath, helper('../../../bin/nfqguard').replace(/\.js$/, ''), 'run', '--config', cfg]);
    let err = '';
    nobody.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => nobody.on('exit', (c) => r(c)));
    assert.equal(code, 2, err);
    assert.match(err.trim(), /^nfqguard: nfqguard run needs root \(CAP_NET_ADMIN\)/);
    assert.equal(err.trim().split('\n').length, 1);
    // A node rule that uses an owned bit (0x00100000): refused, with the explanation.
    await ns.iptablesRestore('*mangle\n-A PREROUTING -p tcp --dport 22 -j MARK --set-xmark 0x00100000/0x00100000\nCOMMIT\n');
    const refused = DaemonProc.spawn(ns, ['run', '--config', cfg]);
    assert.equal((await refused.exit).code, 2);
    assert.match(refused.stderr, /conflicts with 1 rule/);
    assert.match(refused.stderr, /0x00100000/);
    await assertNoRules(ns);
    const forced = await DaemonProc.start(ns, cfg, ['--force']);
    await forced.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('mask conflict ignored (--force)'), 100);
    assert.equal((await forced.kill('SIGTERM')).code, 0);
    await assertNoRules(ns);
  });
}, { timeout: 30_000 });

const MORE_RULES = `
name: kt2
queue: { first: 260 }
steering:
  rules:
    - { hook: input, protocol: tcp, dports: [9001] }
rules:
  - { id: allow-first, match: { content: [ { text: ALLOWME } ] }, action: accept }
  - { id: evil, match: { content: [ { text: evilpayload } ] }, action: drop }
  - { id: post-admin, match: { protocol: tcp, dst_port: 9001, http: { method: [POST, PUT], path: { prefix: /admin } } }, action: drop }
  - { id: bad-agent, match: { http: { header: [ { name: User-Agent, value: { contains: EvilBot, nocase: true } } ] } }, action: drop }
  - { id: magic-at-start, match: { content: [ { hex: "de ad be ef", offset: 0, depth: 4 } ] }, action: drop }
  - { id: outbound-only, match: { direction: out, content: [ { text: OUTONLY } ] }, action: drop }
  - { id: inbound-only, match: { direction: in, content: [ { text: INONLY } ] }, action: drop }
metrics: { listen: 127.0.0.1:9479 }
`;

kernelTest('HTTP method/path/header, hex content at an offset and depth, direction and accept act in the kernel', 'drun2', async (ns) => {
  await echoServer(ns, [9001]);
  await withTempConfig(MORE_RULES, async (cfg) => {
    const d = await DaemonProc.start(ns, cfg);
    try {
      const req = (method: string, path: string, agent = 'curl/8'): string => `${method} ${path} HTTP/1.1\r\nHost: x.test\r\nUser-Agent: ${agent}\r\n\r\n`;
      const magic = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]);
      const magicLater = Uint8Array.from([0, 0, 0xde, 0xad, 0xbe, 0xef]);
      const results = await Promise.all([
        probe(ns, 'tcp', 9001, [req('POST', '/admin/users')]),
        probe(ns, 'tcp', 9001, [req('GET', '/admin/users')]),
        probe(ns, 'tcp', 9001, [req('PUT', '/public')]),
        probe(ns, 'tcp', 9001, [req('GET', '/', 'Mozilla evilbot/2')]),
        probe(ns, 'tcp', 9001, [magic]),
        probe(ns, 'tcp', 9001, [magicLater]),
        probe(ns, 'tcp', 9001, ['OUTONLY seen on input']),
        probe(ns, 'tcp', 9001, ['INONLY seen on input']),
        probe(ns, 'tcp', 9001, ['ALLOWME evilpayload']),
        probe(ns, 'tcp', 9001, ['evilpayload']),
      ]);
      assert.deepEqual(
        results.map((r) => r.echoed),
        [0, 1, 1, 0, 0, 1, 1, 0, 1, 0],
        'POST /admin dropped, GET /admin and PUT /public pass, the User-Agent rule drops, hex at offset 0 only, direction out never on input, in does, accept before drop wins',
      );
      assert.ok(results.every((r) => r.connected), 'every connection was made (the rules drop payloads, not SYNs)');
      for (const rule of ['post-admin', 'bad-agent', 'magic-at-start', 'inbound-only', 'evil']) await d.waitFor((l) => l.event === 'detection' && l.rule === rule, 2000);
      assert.ok(!d.lines.some((l) => l.event === 'detection' && l.rule === 'outbound-only'));
      const post = await d.waitFor((l) => l.rule === 'post-admin', 10);
      assert.equal(post.http_path, '/admin/users');
    } finally {
      assert.equal((await d.kill('SIGTERM')).code, 0);
    }
    await assertNoRules(ns);
  });
}, { timeout: 30_000 });

kernelTest('action bypass through NFQA_CT needs the ctnetlink glue: without it run refuses (exit 2) and names bypass_mark; with it, run starts', 'dnoct', async (ns) => {
  const cfg = `name: kt3\nqueue: { first: 270 }\nmark: { mask: 0x00f00000, bypass_ctmark: 0x01000000 }\nsteering:\n  rules:\n    - { hook: input, protocol: tcp, dports: [9001] }\nrules:\n  - { id: trusted, match: { content: [ { text: BYPASSME } ] }, action: bypass }\nmetrics: { listen: 127.0.0.1:9481 }\n`;
  // Whether this kernel has it: the queue's conntrack flag answers EOPNOTSUPP without it.
  let glue = true;
  try {
    await (await NfQueue.open({ queue: 271, conntrack: true, netns: ns.path, onPacket: () => undefined })).close();
  } catch (e) {
    if (!(e instanceof NetlinkError) || e.errno !== 95) throw e;
    glue = false;
  }
  await withTempConfig(cfg, async (path) => {
    if (glue) {
      const d = await DaemonProc.start(ns, path);
      assert.equal((await d.kill('SIGTERM')).code, 0);
    } else {
      const d = DaemonProc.spawn(ns, ['run', '--config', path]);
      assert.equal((await d.exit).code, 2, d.stderr);
      assert.match(d.stderr.trim(), /^nfqguard: queue 270: this kernel cannot set a connection mark from a verdict \(no CONFIG_NETFILTER_NETLINK_GLUE_CT\).*set mark\.bypass_mark/);
      assert.equal(d.stderr.trim().split('\n').length, 1);
    }
    // With bypass_mark (NF_REPEAT and a steering rule), it runs either way.
    await withTempConfig(cfg.replace('bypass_ctmark: 0x01000000', 'bypass_ctmark: 0x01000000, bypass_mark: 0x00800000'), async (withMark) => {
      const d = await DaemonProc.start(ns, withMark);
      assert.equal((await d.kill('SIGTERM')).code, 0);
    });
  });
  await assertNoRules(ns);
});
