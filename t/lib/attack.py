#!/usr/bin/env python3
"""attack.py - hostile and careless socketmap clients for the attack tests.

Each subcommand talks to a modo daemon on 127.0.0.1 and prints one line that the
shell test compares. Timings are printed in milliseconds.

  lookup PORT MAP KEY                one socketmap request: the reply's payload
  halfclose PORT MAP KEY             request, shutdown(SHUT_WR), then read: the reply
  frame PORT SIZE whole|split        a frame of SIZE bytes in all: "closed" or the reply
  slowloris PORT N SECONDS           N clients sending a byte every 300 ms: how many
                                     the server closed within SECONDS
  noread PORT MAP KEY COUNT SECONDS  COUNT requests, never read; hold SECONDS
  pipeline PORT PID MAP KEY COUNT SECONDS
                                     COUNT requests pipelined on one connection, none
                                     read for SECONDS (another client asks meanwhile),
                                     then every reply read: "RSS-BEFORE RSS-HELD
                                     OTHER-REPLY REPLIES" (RSS of PID in kB)
  stall PORT MAP BIGKEY COUNT KEY    COUNT pipelined BIGKEY lookups on one connection,
                                     then one KEY lookup on another: "LATENCY TOTAL"
                                     (ms; TOTAL: until the first client had all COUNT
                                     replies, "never" if it did not)
  parallel PORT MAP KEY...           one connection per key, all at once: "ms:STATUS"
                                     per key, in order
  burst PORT MAP KEY1 KEY2 ROUNDS    ROUNDS times both keys in one write, both replies
                                     read: total ms ({} in KEY2: the round's number)
  hold PORT N SECONDS                open N connections and hold them
  load PORT MAP SECONDS KEY=WANT...  six clients asking the keys in turn ({} in a key:
                                     a fresh number each time): "RIGHT TEMP WRONG"
  raw PORT BYTES                     send BYTES (backslash escapes), read for 0.5 s: the
                                     reply, then "closed" if the server closed
  abandon PORT socketmap|policy REQUEST...
                                     each request on its own connection, then a reset
  until PORT MAP KEY WANT SECONDS    ask KEY ({} = attempt) every 50 ms until the reply
                                     is WANT: ms taken, or "never"
  converge MAP KEY WANT COMMAND PORT...
                                     run COMMAND (a shell line that commits a change),
                                     then ask KEY of every PORT every 2 ms until each
                                     answers WANT: the ms each took after COMMAND
                                     returned, or "never" (5 s)
  policy PORT TEXT                   send TEXT (\\r and \\n escapes) to a policy server:
                                     the reply, or "closed"
"""
import os
import socket
import sys
import threading
import time


def ns(payload):
    data = payload.encode() if isinstance(payload, str) else payload
    return str(len(data)).encode() + b":" + data + b","


def connect(port, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=timeout)
    return s


def read_netstring(s, buf=b""):
    """One netstring from s (buf: bytes already read); returns (payload, rest) or (None, b"")."""
    while True:
        colon = buf.find(b":")
        if colon > 0:
            n = int(buf[:colon])
            if len(buf) >= colon + n + 2:
                return buf[colon + 1:colon + 1 + n].decode(errors="replace"), buf[colon + n + 2:]
        chunk = s.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk


def cmd_lookup(port, m, key):
    s = connect(port)
    s.sendall(ns(f"{m} {key}"))
    reply, _ = read_netstring(s)
    print(reply if reply is not None else "closed")


def cmd_halfclose(port, m, key):
    s = connect(port)
    s.sendall(ns(f"{m} {key}"))
    s.shutdown(socket.SHUT_WR)
    reply, _ = read_netstring(s)
    print(reply if reply is not None else "closed")


def cmd_frame(port, size, how):
    size = int(size)
    # "aliases x...x@test.com" in a frame of exactly size bytes in all
    head = "aliases "
    tail = "@test.com"
    for digits in range(1, 8):
        plen = size - digits - 2
        if len(str(plen)) == digits:
            break
    local = "x" * (plen - len(head) - len(tail))
    frame = ns(head + local + tail)
    assert len(frame) == size, (len(frame), size)
    s = connect(port)
    try:
        if how == "whole":
            s.sendall(frame)
        else:
            for i in range(0, len(frame), 1000):
                s.sendall(frame[i:i + 1000])
                time.sleep(0.02)
        reply, _ = read_netstring(s)
    except (ConnectionResetError, BrokenPipeError):
        reply = None
    print(reply if reply is not None else "closed")


def cmd_slowloris(port, n, seconds):
    n, seconds = int(n), float(seconds)
    socks = [connect(port) for _ in range(n)]
    for s in socks:  # a valid start of a frame that would end only after 1,500 bytes
        s.sendall(b"1500:aliases ")
    closed = set()
    start = time.time()
    while time.time() - start < seconds and len(closed) < n:
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                s.sendall(b"x")
                s.setblocking(False)
                try:
                    if s.recv(1) == b"":
                        closed.add(i)
                except BlockingIOError:
                    pass
                s.setblocking(True)
            except OSError:
                closed.add(i)
        time.sleep(0.3)
    print(len(closed))


def cmd_noread(port, m, key, count, seconds):
    s = connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    req = ns(f"{m} {key}")
    s.setblocking(False)
    sent = 0
    deadline = time.time() + float(seconds)
    data = req * int(count)
    while sent < len(data) and time.time() < deadline:
        try:
            sent += s.send(data[sent:])
        except BlockingIOError:
            time.sleep(0.05)
    while time.time() < deadline:
        time.sleep(0.1)
    print(sent // len(req))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def cmd_pipeline(port, pid, m, key, count, seconds):
    count = int(count)
    req = ns(f"{m} {key}")
    s = connect(port)
    rss0 = rss_kb(pid)
    sent = 0
    state = {"replies": 0}

    def writer():  # pipelines every request, as fast as the server takes them
        nonlocal sent
        chunk = req * 4096
        s.setblocking(True)
        while sent < count:
            n = min(4096, count - sent)
            s.sendall(chunk[: n * len(req)])
            sent += n

    w = threading.Thread(target=writer, daemon=True)
    w.start()
    time.sleep(float(seconds))  # nothing read meanwhile
    rss1 = rss_kb(pid)
    other = cmd_lookup_value(port, m, key)

    def reader():
        buf = b""
        got = 0
        s.settimeout(60)
        while got < count:
            data = s.recv(1 << 20)
            if not data:
                break
            buf += data
            pos = 0
            while True:
                colon = buf.find(b":", pos)
                if colon < 0:
                    break
                n = int(buf[pos:colon])
                if len(buf) < colon + 1 + n + 1:
                    break
                pos = colon + 1 + n + 1
                got += 1
            buf = buf[pos:]
        state["replies"] = got

    r = threading.Thread(target=reader, daemon=True)
    r.start()
    r.join(600)
    w.join(1)
    print(rss0, rss1, other.replace(" ", "_"), state["replies"])


def cmd_lookup_value(port, m, key):
    s = connect(port, timeout=5)
    s.sendall(ns(f"{m} {key}"))
    payload, _ = read_netstring(s)
    s.close()
    return payload if payload is not None else "closed"


def cmd_converge(m, key, want, command, *ports):
    import subprocess
    conns = [connect(p, timeout=5) for p in ports]
    subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    took = [None] * len(ports)
    while time.monotonic() - t0 < 5 and None in took:
        for i, s in enumerate(conns):
            if took[i] is not None:
                continue
            s.sendall(ns(f"{m} {key}"))
            reply, _ = read_netstring(s)
            if reply == want:
                took[i] = int((time.monotonic() - t0) * 1000)
        time.sleep(0.002)
    print(" ".join("never" if t is None else str(t) for t in took))


def cmd_stall(port, m, bigkey, count, key):
    want = int(count)
    a = connect(port)
    a.sendall(ns(f"{m} {bigkey}") * want)
    t0 = time.time()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # a client that reads everything as fast as it can, in a process of its
        got, buf, need = 0, b"", None  # own (a thread would share the GIL with the probe)
        try:
            while got < want:
                data = a.recv(1 << 20)
                if not data:
                    break
                buf += data
                while True:  # count whole netstrings
                    if need is None:
                        colon = buf.find(b":")
                        if colon < 0:
                            break
                        need = colon + 1 + int(buf[:colon]) + 1
                    if len(buf) < need:
                        break
                    buf, need, got = buf[need:], None, got + 1
        except OSError:
            pass
        os.write(wfd, (f"{(time.time() - t0) * 1000:.0f}" if got == want else "never").encode())
        os._exit(0)
    os.close(wfd)
    time.sleep(0.05)
    b = connect(port)
    t1 = time.time()
    b.sendall(ns(f"{m} {key}"))
    reply, _ = read_netstring(b)
    ms = (time.time() - t1) * 1000
    total = os.read(rfd, 64).decode() or "never"
    os.waitpid(pid, 0)
    print(f"{ms:.0f} {total}" if reply is not None else f"closed {total}")


def cmd_parallel(port, m, *keys):
    results = [None] * len(keys)
    socks = [connect(port, timeout=30) for _ in keys]
    t0 = time.time()

    def one(i):
        try:
            socks[i].sendall(ns(f"{m} {keys[i]}"))
            reply, _ = read_netstring(socks[i])
            status = reply.split(" ")[0] if reply is not None else "closed"
        except OSError:
            status = "error"
        results[i] = f"{(time.time() - t0) * 1000:.0f}:{status}"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(keys))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(" ".join(results))


def cmd_burst(port, m, k1, k2, rounds):
    s = connect(port)
    t0 = time.time()
    for i in range(int(rounds)):
        s.sendall(ns(f"{m} {k1}") + ns(f"{m} {k2.replace('{}', str(i))}"))
        buf = b""
        for _ in range(2):
            reply, buf = read_netstring(s, buf)
            if reply is None:
                print("closed")
                return
    print(f"{(time.time() - t0) * 1000:.0f}")


def cmd_until(port, m, keyfmt, want, seconds):
    """Ask keyfmt ({} = attempt number) every 50 ms on fresh connections until the reply
    is want: the ms it took (from this program's start), or "never"."""
    t0 = time.time()
    i = 0
    while time.time() - t0 < float(seconds):
        i += 1
        try:
            s = connect(port, timeout=5)
            s.sendall(ns(f"{m} {keyfmt.replace('{}', str(i))}"))
            reply, _ = read_netstring(s)
            s.close()
            if reply == want:
                print(f"{(time.time() - t0) * 1000:.0f}")
                return
        except OSError:
            pass
        time.sleep(0.05)
    print("never")


def cmd_abandon(port, proto, *requests):
    """Send each request on its own connection, wait a little, then reset them all
    (SO_LINGER 0): questions are left in flight with nobody to answer."""
    import struct
    socks = []
    for r in requests:
        s = connect(port)
        data = ns(r) if proto == "socketmap" else r.encode().decode("unicode_escape").encode()
        s.sendall(data)
        socks.append(s)
    time.sleep(0.3)
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    print(len(socks))


def cmd_raw(port, data):
    """Send raw bytes (\\ escapes), then read for half a second: what came back, then
    "closed" if the server closed the connection."""
    s = connect(port, timeout=0.5)
    s.sendall(data.encode().decode("unicode_escape").encode("latin-1"))
    out = b""
    closed = False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            out += chunk
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    print((out.decode(errors="replace") + (" closed" if closed else "")).strip())


def cmd_load(port, m, seconds, *pairs):
    """Six clients asking KEY=EXPECTED pairs in turn on persistent connections for
    SECONDS ({} in a key: a fresh number each time): "RIGHT TEMP WRONG" counts."""
    wanted = [p.split("=", 1) for p in pairs]
    counts = {"right": 0, "temp": 0, "wrong": 0}
    lock = threading.Lock()
    end = time.time() + float(seconds)
    serial = [0]

    def client(n):
        s = connect(port, timeout=30)
        i = n
        while time.time() < end:
            key, want = wanted[i % len(wanted)]
            i += 1
            with lock:
                serial[0] += 1
                key = key.replace("{}", str(serial[0]))
            s.sendall(ns(f"{m} {key}"))
            reply, _ = read_netstring(s)
            kind = "right" if reply == want else "temp" if reply and reply.startswith("TEMP") else "wrong"
            with lock:
                counts[kind] += 1
                if kind == "wrong" and counts[kind] <= 3:
                    sys.stderr.write(f"wrong: {key}: {reply!r}, want {want!r}\n")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"{counts['right']} {counts['temp']} {counts['wrong']}")


def cmd_hold(port, n, seconds):
    socks = []
    for _ in range(int(n)):
        try:
            socks.append(connect(port, timeout=2))
        except OSError:
            break
    time.sleep(float(seconds))
    print(len(socks))


def cmd_policy(port, text):
    s = connect(port, timeout=5)
    s.sendall(text.encode().decode("unicode_escape").encode())
    data = b""
    try:
        while not data.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    print(data.decode().strip() if data else "closed")


COMMANDS = {
    "converge": cmd_converge,
    "pipeline": cmd_pipeline,
    "lookup": cmd_lookup, "halfclose": cmd_halfclose, "frame": cmd_frame,
    "slowloris": cmd_slowloris, "noread": cmd_noread, "stall": cmd_stall,
    "parallel": cmd_parallel, "burst": cmd_burst, "hold": cmd_hold, "policy": cmd_policy,
    "until": cmd_until, "abandon": cmd_abandon, "raw": cmd_raw, "load": cmd_load,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except (socket.timeout, ConnectionRefusedError) as e:
        print(f"error: {e}")
