"""Lab lifecycle benchmark: raw Compose versus socklab, measured in one run.

    python benchmarks/bench_lab.py [--rounds N] [--cold]

Prints, for the same compose file and image: raw `compose up -d` / `down` (the command a person
types: `docker compose` or `docker-compose`, as SOCKLAB_COMPOSE or detection chooses) against
`invoke up` (to ready: every host has configured its routes and said so) / `invoke down`,
as seconds (median of N rounds) and as ratios; with --cold, `invoke build` from nothing
(removes the socklab images first); and each host's idle memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.control import images  # noqa: E402
from lab.control.compose import detect  # noqa: E402
from lab.control.engine import Engine  # noqa: E402
from lab.control.lab import COMPOSE_FILE, Lab  # noqa: E402
from lab.control.topology_model import ula_prefix  # noqa: E402


def timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def invoke(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, check=True, capture_output=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--cold", action="store_true", help="also time a cold build (removes socklab images)")
    p.add_argument("--name", default="slbench", help="lab name (the raw project is NAME-raw)")
    p.add_argument("--prefix", default="10.249", help="LAB_PREFIX of both labs (one at a time)")
    args = p.parse_args()
    engine = Engine.connect()
    say = print if os.environ.get("VERBOSE") else (lambda _: None)

    results: dict[str, float] = {}
    if args.cold:
        engine.remove_images(images.PREFIXES)
        results["cold build (s)"] = timed(lambda: Lab(engine).build(say=say))

    tag = Lab(engine).build(say=say)
    raw_lab, our_lab = Lab(engine, f"{args.name}-raw"), Lab(engine, args.name)
    raw_lab.down()
    our_lab.down()
    prefix = args.prefix
    raw_env = {**os.environ, "LAB_PREFIX": prefix, "LAB_PREFIX6": ula_prefix(prefix), "LAB_HOST_IMAGE": tag}

    def raw(*args: str) -> None:  # as a person types it: `docker compose` through the docker CLI
        subprocess.run([*detect(), "--project-name", raw_lab.name, "--file", str(COMPOSE_FILE), *args],
                       env=raw_env, cwd=ROOT, check=True, capture_output=True)

    samples: dict[str, list[float]] = {k: [] for k in ("raw up", "raw down", "invoke up", "invoke down",
                                                       "Lab.up", "Lab.down")}
    for _ in range(args.rounds):
        samples["raw up"].append(timed(lambda: raw("up", "--detach")))
        samples["raw down"].append(timed(lambda: raw("down")))
        samples["invoke up"].append(timed(lambda: invoke("up", "--name", our_lab.name, "--prefix", prefix)))
        samples["invoke down"].append(timed(lambda: invoke("down", "--name", our_lab.name)))
        samples["Lab.up"].append(timed(lambda: our_lab.up(prefix=prefix)))
        if _ == args.rounds - 1:
            results["idle memory per host (MiB)"] = idle_memory(our_lab)
        samples["Lab.down"].append(timed(our_lab.down))
    med = {k: statistics.median(v) for k, v in samples.items()}

    print(f"socklab lifecycle benchmark: {' '.join(detect())}, {len(Lab(engine).topology().hosts)} hosts, "
          f"image {images.host_tag(ROOT)}, median of {args.rounds} rounds")
    print(f"{'step':<28}{'seconds':>10}{'ratio vs raw':>16}")
    for ours, base in (("invoke up", "raw up"), ("Lab.up", "raw up"),
                       ("invoke down", "raw down"), ("Lab.down", "raw down")):
        print(f"{base:<28}{med[base]:>10.2f}{'1.00x':>16}")
        print(f"{ours + (' (to ready)' if 'up' in ours else ''):<28}{med[ours]:>10.2f}"
              f"{med[ours] / med[base]:>15.2f}x")
    for key, value in results.items():
        print(f"{key:<28}{value:>10.1f}")
    return 0


def idle_memory(lab: Lab) -> float:
    usages = []
    for container in lab.containers().values():
        usages.append(lab.engine.memory_used(container) / 2**20)
    return statistics.mean(usages) if usages else 0.0


if __name__ == "__main__":
    sys.exit(main())
