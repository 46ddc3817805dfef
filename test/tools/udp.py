#!/usr/bin/env python3
"""UDP traffic for real-kernel tests, run inside a test's network namespace.

  udp.py recv PORT COUNT TIMEOUT   bind 127.0.0.1:PORT, print "ready", then one JSON line per datagram
                                   {"data": "...", "mark": N} (mark from SO_RCVMARK: the mark the packet
                                   carried when it was delivered), until COUNT datagrams or TIMEOUT seconds.
  udp.py send PORT PAYLOAD...      send each PAYLOAD as one datagram to 127.0.0.1:PORT
  udp.py flood PORT COUNT SIZE     send COUNT datagrams of SIZE bytes as fast as possible
"""
import json
import socket
import struct
import sys
import time

SO_RCVMARK = 75  # include/uapi/asm-generic/socket.h (Linux >= 5.19): turns the cmsg on
SO_MARK = 36  # ... which arrives with type SO_MARK (net/core/sock.c sock_recv_mark)


def recv(port: int, count: int, timeout: float) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVMARK, 1)
    s.bind(("127.0.0.1", port))
    print("ready", flush=True)
    deadline = time.monotonic() + timeout
    got = 0
    while got < count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, anc, _flags, _addr = s.recvmsg(65535, socket.CMSG_SPACE(4))
        except socket.timeout:
            break
        mark = None
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == SO_MARK:
                mark = struct.unpack("=I", cdata[:4])[0]
        print(json.dumps({"data": data.decode("latin-1"), "mark": mark}), flush=True)
        got += 1


def send(port: int, payloads: list) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for p in payloads:
        s.sendto(p.encode("latin-1"), ("127.0.0.1", port))


def flood(port: int, count: int, size: int) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    data = b"x" * size
    sent = 0
    while sent < count:
        try:
            s.sendto(data, ("127.0.0.1", port))
            sent += 1
        except BlockingIOError:
            time.sleep(0.0005)
    print(json.dumps({"sent": sent}), flush=True)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "recv":
        recv(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "send":
        send(int(sys.argv[2]), sys.argv[3:])
    elif cmd == "flood":
        flood(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("usage: udp.py recv|send|flood ...")
