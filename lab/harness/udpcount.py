"""Count which numbered datagrams arrive: for measuring loss on the real wire.

A sender on one host sends datagrams ``0..N-1`` (paced, so no socket buffer overflows and
only the network loses them), then an END marker several times; a receiver prints the
sorted list of numbers it got once END arrives (or after a quiet timeout).
"""

from __future__ import annotations

import json

from lab.control.lab import Lab
from lab.control.programs import HostProgram

RECEIVER = r"""
import json, socket, sys
port, quiet = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("", port)); s.settimeout(quiet)
print("listening", flush=True)
got = set()
try:
    while True:
        data, _ = s.recvfrom(100)
        if data == b"END": break
        got.add(int(data))
except TimeoutError:
    pass
print(json.dumps(sorted(got)))
"""
SENDER = r"""
import socket, sys, time
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in range(count):
    s.sendto(b"%d" % n, (host, port))
    time.sleep(0.0002)  # pacing: never more in flight than the receiver's buffer holds
for _ in range(30):
    s.sendto(b"END", (host, port))
    time.sleep(0.01)
"""


def received_numbers(lab: Lab, sender: str, receiver: str, port: int, count: int) -> list[int]:
    """Send ``count`` numbered datagrams from ``sender`` to ``receiver``; the numbers that arrived."""
    recv = HostProgram(lab, receiver, ["python3", "-c", RECEIVER, str(port), "5"]).start()
    try:
        recv.wait_line("listening")
        recv.wait_listening(port)
        lab.exec(sender, ["python3", "-c", SENDER, receiver, str(port), str(count)], check=True)
        recv.wait_exit(30)
    finally:
        recv.stop()
    numbers: list[int] = json.loads(recv.lines()[-1])
    return numbers
