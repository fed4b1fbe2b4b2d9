"""UDP echo round trips per second: our udp-echo-server against a minimal reference loop.

    python benchmarks/bench_udp.py [--count N] [--rounds R]

Both servers run on srv at once; a client on h1 (same LAN) and one on b1 (across the
router) make N sequential round trips to each, alternating, R rounds; the medians are
printed with our server's ratio to the reference. The lab is reused if running.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.control.engine import Engine  # noqa: E402
from lab.control.lab import Lab  # noqa: E402
from lab.control.programs import HostProgram  # noqa: E402
from lab.probes.raw import minimal_udp_echo  # noqa: E402

REFERENCE = minimal_udp_echo(9202)
CLIENT = r"""
import json, socket, sys, time
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
dest = (socket.gethostbyname(host), port)
payload = b"x" * 64
lost = 0
start = time.perf_counter()
for _ in range(count):
    s.sendto(payload, dest)
    try:
        s.recvfrom(2048)
    except TimeoutError:
        lost += 1
print(json.dumps({"seconds": time.perf_counter() - start, "lost": lost}))
"""


def rate(lab: Lab, host: str, port: int, count: int) -> float:
    out = lab.exec(host, ["python3", "-c", CLIENT, "srv", str(port), str(count)], check=True).stdout
    result = json.loads(out)
    return (count - result["lost"]) / result["seconds"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    lab = Lab(Engine.connect())
    lab.up()
    ours = HostProgram(lab, "srv", ["lab", "udp-echo-server", "--port", "9201", "--quiet"]).start()
    ref = HostProgram(lab, "srv", ["python3", "-c", REFERENCE]).start()
    try:
        ours.wait_listening(9201)
        ref.wait_listening(9202)
        print(f"UDP echo, 64-byte datagrams, {args.count} sequential round trips, median of {args.rounds} rounds")
        print(f"{'path':<26}{'reference rt/s':>16}{'ours rt/s':>12}{'ours/ref':>10}")
        for host, path in (("h1", "same LAN (h1 -> srv)"), ("b1", "via router (b1 -> srv)")):
            samples: dict[int, list[float]] = {9201: [], 9202: []}
            for _ in range(args.rounds):
                for port in (9202, 9201):
                    samples[port].append(rate(lab, host, port, args.count))
            r, o = statistics.median(samples[9202]), statistics.median(samples[9201])
            print(f"{path:<26}{r:>16.0f}{o:>12.0f}{o / r:>9.2f}x")
    finally:
        ours.stop()
        ref.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
