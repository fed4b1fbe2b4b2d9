"""A command run to its end on a lab host: through the host's agent against an exec of its own.

    python benchmarks/bench_exec.py [--commands N] [--rounds R] [--name LAB]

On a running lab (`invoke up`), h1 runs ``N`` short commands (``cat /proc/loadavg``) one after
another, both ways in each round and in the same process: the baseline is a `docker exec` per
command (what ``Engine.exec`` did before agents; asked here as user root, which agents do not
serve), against ``Lab.exec`` through the host's agent. Wall time and the whole machine's CPU
time (/proc/stat: Docker's daemons and the host's processes too) per command, median of the
rounds, and their ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.control.engine import Engine  # noqa: E402
from lab.control.lab import Lab  # noqa: E402

COMMAND = ["cat", "/proc/loadavg"]


def busy_seconds() -> float:
    """CPU time the whole machine has spent busy (not idle, not waiting on I/O), in seconds."""
    with open("/proc/stat") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / 100


def measure(run: Callable[[], object], commands: int) -> tuple[float, float]:
    """(wall, CPU) seconds per command."""
    cpu, start = busy_seconds(), time.monotonic()
    for _ in range(commands):
        run()
    return (time.monotonic() - start) / commands, (busy_seconds() - cpu) / commands


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--name", default="socklab")
    args = parser.parse_args()
    if args.commands < 1 or args.rounds < 1:
        parser.error("--commands and --rounds must be at least 1")
    lab = Lab(Engine.connect(), args.name)
    container = lab.container("h1")
    lab.exec("h1", COMMAND, check=True)  # the agent started, outside the measurement
    ways: dict[str, Callable[[], object]] = {
        "docker exec each": lambda: lab.engine.exec(container, COMMAND, user="root"),
        "through the agent": lambda: lab.exec("h1", COMMAND, check=True),
    }
    seen: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
    for _ in range(args.rounds):
        for way, run in ways.items():
            seen[way].append(measure(run, args.commands))
    base_wall = statistics.median(w for w, _ in seen["docker exec each"])
    base_cpu = statistics.median(c for _, c in seen["docker exec each"])
    print(f"{args.commands} commands on h1, median of {args.rounds} rounds")
    print(f"{'':20} {'wall/command':>13} {'CPU/command':>12} {'wall ratio':>11} {'CPU ratio':>10}")
    for way, figures in seen.items():
        wall = statistics.median(w for w, _ in figures)
        cpu = statistics.median(c for _, c in figures)
        print(f"{way:20} {wall * 1000:10.2f} ms {cpu * 1000:9.2f} ms {wall / base_wall:10.3f}x "
              f"{cpu / base_cpu:9.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
