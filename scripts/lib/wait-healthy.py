"""Waits until GET /health on 127.0.0.1:PORT answers 200; prints that moment (epoch ms).

Usage: wait-healthy.py PORT PID [TIMEOUT_SECONDS]. Polls every 10 ms from this one process: a curl per poll
(a process start each time) spent about a core-second of a 2-core machine during the start it was timing
(docs/benchmarks.md, "Session 11"). Exits 1 if PID has exited, 2 on timeout.
"""
import os
import socket
import sys
import time

port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + (float(sys.argv[3]) if len(sys.argv) > 3 else 60.0)
request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
while time.monotonic() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(request)
            if s.recv(16).startswith(b"HTTP/1.1 200"):
                print(time.time_ns() // 1_000_000)
                sys.exit(0)
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    time.sleep(0.01)
sys.exit(2)
