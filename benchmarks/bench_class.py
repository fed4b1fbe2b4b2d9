"""A class of labs on one machine: 30 labs up at once, raw Compose versus socklab, in one run.

    python benchmarks/bench_class.py [--labs 30] [--rounds 1]

Starts the same 30 projects of compose.yaml (7 hosts each) three ways, one after another,
each set left running until all 30 are up, then removed: raw `compose up -d` (the baseline:
it returns when the containers are started, knowing nothing of readiness), `invoke up --name
sNN` (a process each, as a person or a script runs it; to ready: every host has configured
its routes and said so) and `Lab.up` in one process (as `invoke grade` does). Prints the time
until all 30 are ready, its ratio against raw, and the memory an idle lab takes: the machine's
memory in use (MemTotal - MemAvailable) with all 30 up, less before, over 30; Docker's
containerd shims are counted in it, not only the hosts' own cgroups.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_grade import used_mib  # noqa: E402  (this folder is on the path: a script)

from lab.control import subnets  # noqa: E402
from lab.control.compose import Compose, detect  # noqa: E402
from lab.control.engine import Engine  # noqa: E402
from lab.control.lab import COMPOSE_FILE, Lab  # noqa: E402
from lab.control.labs import all_labs  # noqa: E402


def class_of(engine: Engine, labs: int, start: Callable[[int, str], None]) -> dict[str, float]:
    """Start ``labs`` labs with ``start(i, name)``; seconds until all are up, then MiB per lab."""
    before = used_mib()
    began = time.perf_counter()
    for i in range(labs):
        start(i, f"sl{i:02d}")
    seconds = time.perf_counter() - began
    per_lab = (used_mib() - before) / labs
    for lab in all_labs(engine):
        if lab.name.startswith("sl"):
            lab.down()
    return {"seconds": seconds, "mib": per_lab}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--labs", type=int, default=30)
    p.add_argument("--rounds", type=int, default=1, help="(one round: thirty labs are many already)")
    args = p.parse_args()
    engine = Engine.connect()
    tag = Lab(engine).build()
    for lab in all_labs(engine):
        if lab.name.startswith("sl"):
            lab.down()
    taken = engine.subnets_in_use()
    free = [p for p in subnets.CANDIDATES if not subnets.conflict(subnets.lab_subnets(COMPOSE_FILE, p), taken)]
    if len(free) < args.labs:
        sys.exit(f"only {len(free)} lab prefixes are free: `invoke down --all` first")
    with tempfile.TemporaryDirectory() as work:
        def raw(i: int, name: str) -> None:  # the prefixes chosen beforehand: Compose alone, timed
            Compose(COMPOSE_FILE, name, {"LAB_PREFIX": free[i], "LAB_HOST_IMAGE": tag, "LAB_WORKSPACE": work}).up()

        def invoked(i: int, name: str) -> None:
            subprocess.run([sys.executable, "-m", "invoke", "up", "--name", name, "--workspace", work],
                           cwd=ROOT, check=True, capture_output=True)

        def in_process(i: int, name: str) -> None:
            Lab(engine, name).up(workspace_dir=Path(work))

        runs = {"raw compose up -d": class_of(engine, args.labs, raw),
                "invoke up (to ready)": class_of(engine, args.labs, invoked),
                "Lab.up (to ready)": class_of(engine, args.labs, in_process)}
    base = runs["raw compose up -d"]["seconds"]
    print(f"{args.labs} labs of {len(Lab(engine).topology().hosts)} hosts, one after another, all left up; "
          f"{' '.join(detect())}")
    print(f"{'':24}{'all up (s)':>12}{'vs raw':>10}{'MiB per idle lab':>18}")
    for name, r in runs.items():
        print(f"{name:<24}{r['seconds']:>12.1f}{r['seconds'] / base:>9.2f}x{r['mib']:>18.1f}")
    print("targets: at most 1.2x raw, at most 100 MiB per idle lab")
    return 0


if __name__ == "__main__":
    sys.exit(main())
