"""Count which numbered datagrams arrive: for measuring loss on the real wire.

A sender on one host sends datagrams ``0..N-1`` (paced, so no socket buffer overflows and
only the network loses them), then an END marker several times; a receiver prints the
sorted list of numbers it got once END arrives (or after a quiet timeout).
"""

from __future__ import annotations

import json

from lab.control.lab import Lab
from lab.control.programs import HostProgram
from lab.probes import program


def received_numbers(lab: Lab, sender: str, receiver: str, port: int, count: int) -> list[int]:
    """Send ``count`` numbered datagrams from ``sender`` to ``receiver``; the numbers that arrived."""
    recv = HostProgram(lab, receiver, ["python3", "-c", program("count_receiver"), str(port), "5"]).start()
    try:
        recv.wait_line("listening")
        recv.wait_listening(port)
        lab.exec(sender, ["python3", "-c", program("count_sender"), receiver, str(port), str(count)], check=True)
        recv.wait_exit(30)
    finally:
        recv.stop()
    numbers: list[int] = json.loads(recv.lines()[-1])
    return numbers
