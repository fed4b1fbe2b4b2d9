"""Send arbitrary bytes as one UDP datagram from a lab host, and collect what comes back
(and the smallest echo server to answer).

For bad-input tests: empty, oversized, non-UTF-8 and random datagrams that no lab program
would send. The payload travels to the host on stdin (hex), so size is not limited by argv.
"""

from __future__ import annotations

import json

from lab.control.lab import Lab
from lab.control.programs import HostProgram
from lab.probes import program


def minimal_udp_echo(port: int) -> str:
    """The smallest UDP echo server, as ``python3 -c`` source: a stand-in student's program, and
    the baseline a benchmark measures ``lab udp-echo-server`` against."""
    return (f"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('', {port}))\n"
            "while True:\n    d, a = s.recvfrom(65535)\n    s.sendto(d, a)\n")


def send_datagram(lab: Lab, host: str, dest: str, port: int, payload: bytes, wait: float = 2.0) -> list[bytes]:
    """Send ``payload`` from ``host`` to ``dest:port``; the replies that arrived within ``wait``."""
    sender = HostProgram(lab, host, ["python3", "-c", program("send_datagram"), dest, str(port), str(wait)]).start()
    try:
        sender.send(payload.hex() + "\n")
        sender.close_stdin()
        sender.wait_exit(wait + 30)
    finally:
        sender.stop()
    result = json.loads(sender.lines()[-1])
    assert result["sent"] == len(payload), result
    return [bytes.fromhex(r) for r in result["replies"]]
