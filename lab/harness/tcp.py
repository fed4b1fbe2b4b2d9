"""TCP helpers for tests and scenarios: socket states with ``ss``, and an echo load."""

from __future__ import annotations

import json

from lab.control.lab import Lab

_ECHO_LOAD = r"""
import hashlib, json, os, socket, sys, threading
host, port, conns, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
results = [None] * conns
def one(i):
    data = os.urandom(size)
    with socket.create_connection((host, port), timeout=10) as s:
        def send():
            for off in range(0, size, 8192):
                s.sendall(data[off:off + 8192])
            s.shutdown(socket.SHUT_WR)
        t = threading.Thread(target=send)
        t.start()
        got = bytearray()
        while chunk := s.recv(65536):
            got += chunk
        t.join()
    results[i] = [hashlib.sha256(data).hexdigest(), hashlib.sha256(got).hexdigest(), len(got)]
threads = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results))
"""


def echo_load(lab: Lab, host: str, server: str, port: int, connections: int, size: int) -> list[list[object]]:
    """Send ``size`` random bytes on each of ``connections`` at once; [sent sha, echoed sha, bytes] each."""
    out = lab.exec(host, ["python3", "-c", _ECHO_LOAD, server, str(port), str(connections), str(size)],
                   check=True).stdout
    result: list[list[object]] = json.loads(out)
    return result


def tcp_states(lab: Lab, host: str, port: int) -> list[dict[str, str]]:
    """Every TCP socket on ``host`` with ``port`` at either end: state, local and peer."""
    out = lab.exec(host, ["ss", "-Htan", f"( sport = :{port} or dport = :{port} )"]).stdout
    rows = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 5:
            rows.append({"state": fields[0], "local": fields[3], "peer": fields[4]})
    return rows
