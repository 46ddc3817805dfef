// The kernel replay's sender for a locally generated packet that starts with a mark: the mark is the
// socket's (SO_MARK), as a marked program's would be, so that the socket's own route lookup sees it
// (ip rule fwmark) and the OUTPUT hook sees the device that lookup chose. Node's sockets cannot set
// SO_MARK, so this one is Python (python3 is one of the project's system requirements), run as
// `ip netns exec NS python3 -c SOURCE`. Same protocol as send.ts: one JSON spec per line on stdin
// ({n, proto, saddr, daddr, sport, dport, mark, waitMs}); "sent N" or "error N MESSAGE" on stdout.
export const SEND_MARKED_PY = String.raw`
import json, select, socket, sys, time
SO_MARK = 36
pending = []
def reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
def send(spec):
    fam = socket.AF_INET6 if ":" in spec["daddr"] else socket.AF_INET
    tcp = spec["proto"] == "tcp"
    s = socket.socket(fam, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_MARK, spec.get("mark", 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((spec["saddr"], spec["sport"]))
    if tcp:
        # A SYN: the socket is dropped before the first retransmission. A refused route is an answer.
        s.setblocking(False)
        s.connect_ex((spec["daddr"], spec["dport"]))
        pending.append((time.monotonic() + spec.get("waitMs", 700) / 1000.0, s))
    else:
        try:
            s.sendto(b"nfqguard trace", (spec["daddr"], spec["dport"]))
        except OSError:
            pass  # EPERM (netfilter dropped it), EINVAL/EHOSTUNREACH/ENETUNREACH (routing): answers
        s.close()
    reply("sent %d" % spec["n"])
buf = b""
while True:
    now = time.monotonic()
    while pending and pending[0][0] <= now:
        pending.pop(0)[1].close()
    timeout = max(0.0, pending[0][0] - now) if pending else None
    r, _, _ = select.select([sys.stdin.buffer], [], [], timeout)
    if not r:
        continue
    chunk = sys.stdin.buffer.read1(65536)
    if not chunk:
        break
    buf += chunk
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        n = -1
        try:
            spec = json.loads(line)
            n = spec["n"]
            send(spec)
        except Exception as e:
            reply("error %d %s" % (n, e))
for _, s in pending:
    s.close()
`;
