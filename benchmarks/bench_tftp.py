"""TFTP throughput: our client and server against tftp-hpa's, over the same link, one run.

    python benchmarks/bench_tftp.py [--size-mb 50] [--rounds 1]

A file on srv is fetched by b1 (across the router) with: the tftp-hpa client from tftpd-hpa
(the baseline); our client from our server at blksize 512 / window 1, at blksize 1468, and
at blksize 1468 with windowsize 16; and our client from atftpd with windowsize 16. Each
transfer is checked by SHA-256; MB/s and the ratio to the baseline are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.control.engine import Engine  # noqa: E402
from lab.control.lab import Lab  # noqa: E402
from lab.harness.programs import HostProgram  # noqa: E402
from lab.harness.tftp import make_file, sha256  # noqa: E402

DIR = "/srv/bench"
SERVERS = {
    "tftpd-hpa": ["in.tftpd", "-L", "-s", DIR],
    "ours": ["lab", "tftp-server", "--root", DIR],
    "atftpd": ["atftpd", "--daemon", "--no-fork", "--user", "root.root", "--logfile", "/dev/null", DIR],
}
RUNS = [  # (label, server, client command)
    ("tftp-hpa <- tftpd-hpa (baseline)", "tftpd-hpa", "tftp -m binary srv -c get bench.bin /tmp/bench.bin"),
    ("ours <- ours, 512/1", "ours", "lab tftp get srv bench.bin /tmp/bench.bin"),
    ("ours <- ours, blksize 1468", "ours", "lab tftp get srv bench.bin /tmp/bench.bin --blksize 1468"),
    ("ours <- ours, 1468 + window 16", "ours",
     "lab tftp get srv bench.bin /tmp/bench.bin --blksize 1468 --windowsize 16"),
    ("ours <- atftpd, 1468 + window 16", "atftpd",
     "lab tftp get srv bench.bin /tmp/bench.bin --blksize 1468 --windowsize 16"),
]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size-mb", type=int, default=50)
    p.add_argument("--rounds", type=int, default=1)
    args = p.parse_args()
    lab = Lab(Engine.connect())
    lab.up()
    size = args.size_mb * 1024 * 1024
    original = make_file(lab, "srv", f"{DIR}/bench.bin", size)
    results: dict[str, float] = {}
    for label, server_name, command in RUNS:
        server = HostProgram(lab, "srv", SERVERS[server_name]).start()
        try:
            server.wait_listening(69)
            samples = []
            for _ in range(args.rounds):
                lab.exec("b1", ["rm", "-f", "/tmp/bench.bin"])
                start = time.perf_counter()
                lab.exec("b1", ["sh", "-c", command], check=True)
                samples.append(time.perf_counter() - start)
                if sha256(lab, "b1", "/tmp/bench.bin") != original:
                    raise SystemExit(f"{label}: the file differs")
            results[label] = size / statistics.median(samples) / 1e6
        finally:
            server.stop()
    base = results[RUNS[0][0]]
    print(f"TFTP get of {args.size_mb} MB, srv -> b1 across the router, median of {args.rounds}; every file checked")
    print(f"{'transfer':<36}{'MB/s':>8}{'vs tftp-hpa':>13}")
    for label, rate in results.items():
        print(f"{label:<36}{rate:>8.2f}{rate / base:>12.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
