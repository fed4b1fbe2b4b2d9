"""TCP helpers for tests and scenarios: socket states with ``ss``, and an echo load."""

from __future__ import annotations

import json

from lab.control.lab import Lab
from lab.probes import program


def echo_load(lab: Lab, host: str, server: str, port: int, connections: int, size: int) -> list[list[object]]:
    """Send ``size`` random bytes on each of ``connections`` at once; [sent sha, echoed sha, bytes] each."""
    out = lab.exec(host, ["python3", "-c", program("echo_load"), server, str(port), str(connections), str(size)],
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
