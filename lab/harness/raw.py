"""Send arbitrary bytes as one UDP datagram from a lab host, and collect what comes back
(and the smallest echo server to answer).

For bad-input tests: empty, oversized, non-UTF-8 and random datagrams that no lab program
would send. The payload travels to the host on stdin (hex), so size is not limited by argv.
"""

from __future__ import annotations

import json

from lab.control.lab import Lab
from lab.control.programs import HostProgram


def minimal_udp_echo(port: int) -> str:
    """The smallest UDP echo server, as ``python3 -c`` source: a stand-in student's program, and
    the baseline a benchmark measures ``lab udp-echo-server`` against."""
    return (f"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('', {port}))\n"
            "while True:\n    d, a = s.recvfrom(65535)\n    s.sendto(d, a)\n")


_SNIPPET = r"""
import json, socket, sys
host, port, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
payload = bytes.fromhex(sys.stdin.read().strip())
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.settimeout(wait)
    s.sendto(payload, (host, port))
    replies = []
    try:
        while True:
            data, peer = s.recvfrom(65535)
            replies.append(data.hex())
            s.settimeout(0.2)  # anything else that belongs to this answer comes right after
    except (TimeoutError, ConnectionRefusedError):
        pass
print(json.dumps({"sent": len(payload), "replies": replies}))
"""


def send_datagram(lab: Lab, host: str, dest: str, port: int, payload: bytes, wait: float = 2.0) -> list[bytes]:
    """Send ``payload`` from ``host`` to ``dest:port``; the replies that arrived within ``wait``."""
    program = HostProgram(lab, host, ["python3", "-c", _SNIPPET, dest, str(port), str(wait)]).start()
    try:
        program.send(payload.hex() + "\n")
        program.close_stdin()
        program.wait_exit(wait + 30)
    finally:
        program.stop()
    result = json.loads(program.lines()[-1])
    assert result["sent"] == len(payload), result
    return [bytes.fromhex(r) for r in result["replies"]]
