"""Grading benchmark: a class graded one after another (up, check, down of the whole lab: the
baseline), then as `invoke grade` does, one after another and N labs at once, in one run.

    python benchmarks/bench_grade.py [--students 30] [--parallel N] [--rounds 1]

The class is the echo exercise, a mix of right and wrong submissions (the reference
solution and the known-wrong cases of tests/lab/exercises/echo/). Prints wall time, seconds
per submission, the peak memory of the grader and of the labs (the Docker host's memory in
use, sampled every 0.5 s), and the most labs at once, with ratios against one after another.
`invoke grade` starts labs of only the hosts the exercise names (echo: srv, h1, b1 and the
router, 4 of the 7 hosts); every run grades the same submissions with the same seed and must
give the same scores.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.control.engine import Engine  # noqa: E402
from lab.control.lab import Lab  # noqa: E402
from lab.harness import grading  # noqa: E402
from lab.harness.submissions import Submission, collect  # noqa: E402

CASES = ROOT / "tests" / "lab" / "exercises" / "echo"
MIX = [{}, {"server": "upper"}, {}, {"server": "small-buffer"}, {}, {"client": "no-exit"}, {"server": "localhost"}]


def make_class(folder: Path, students: int) -> None:
    for i in range(students):
        mine = folder / f"s{i:02d}"
        mine.mkdir(parents=True)
        wrong = MIX[i % len(MIX)]
        for role in ("server", "client"):
            shutil.copy(CASES / wrong.get(role, "solution") / f"{role}.py", mine / f"{role}.py")


def used_mib() -> float:
    """The machine's memory in use (MemTotal - MemAvailable): labs, Docker and the grader."""
    fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    kib = int(fields["MemTotal"].split()[0]) - int(fields["MemAvailable"].split()[0])
    return kib / 1024


class Sampler(threading.Thread):
    """The machine's memory in use and the grading labs up, every 0.5 s."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(daemon=True)
        self.engine, self.peak_mib, self.most_labs, self.done = engine, 0.0, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.peak_mib = max(self.peak_mib, used_mib())
            labs = {n for n in self.engine.projects() if n.startswith(grading.PREFIX)}
            self.most_labs = max(self.most_labs, len(labs))


def run(engine: Engine, subs: list[Submission], parallel: int, out: Path, whole: bool = False
        ) -> dict[str, Any]:
    """``whole``: the baseline, each submission in a lab of the whole default topology, one
    after another; else `invoke grade`'s way, ``parallel`` labs at once."""
    sampler = Sampler(engine)
    base = used_mib()
    sampler.start()
    start = time.perf_counter()
    grader = grading.Grading(engine, "echo", "bench", grading.Rules(), out)
    if whole:
        graded = [grading.grade_one(grader, sub) for sub in subs]
    else:
        graded = grading.grade(grader, subs, parallel, force=True, say=lambda _: None)
    seconds = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    return {"seconds": seconds, "per": seconds / len(subs), "labs": sampler.most_labs,
            "mib": sampler.peak_mib - base, "scores": {g.student: (g.score, _failed(g)) for g in graded}}


def _failed(g: grading.Graded) -> list[str]:
    return [f"{c.name}: {c.observed[:100]}" for c in g.checks if not c.ok]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--parallel", type=int, default=grading.default_parallel())
    parser.add_argument("--rounds", type=int, default=1, help="(one round: a class is many rounds already)")
    args = parser.parse_args()
    engine = Engine.connect()
    Lab(engine).build()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        make_class(folder, args.students)
        subs = collect(folder, ["client", "server"])
        runs = {"whole labs, one by one": run(engine, subs, 1, Path(tmp) / "whole", whole=True),
                "grade, one by one": run(engine, subs, 1, Path(tmp) / "serial"),
                f"grade, {args.parallel} at once": run(engine, subs, args.parallel, Path(tmp) / "parallel")}
    grader_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    baseline, serial, together = runs.values()
    total = sum(score for score, _ in baseline["scores"].values())
    print(f"grading {args.students} echo submissions (total score {total:g}; the grader's own peak RSS "
          f"{grader_mib:.0f} MiB)")
    for name, other in runs.items():  # the same seed must grade the same
        for student, (score, failed) in other["scores"].items():
            if score != baseline["scores"][student][0]:
                print(f"GRADED DIFFERENTLY {student} ({name}): {score} {failed}; "
                      f"baseline {baseline['scores'][student]}")
    print(f"{'':28}" + "".join(f"{name:>26}" for name in runs))
    for key, label in (("seconds", "wall time (s)"), ("per", "per submission (s)"), ("labs", "labs at once (most)"),
                       ("mib", "machine memory, peak (MiB)")):
        print(f"{label:<28}" + "".join(f"{r[key]:>26.1f}" for r in runs.values()))
    print(f"speed-up against the baseline: {baseline['seconds'] / together['seconds']:.2f}x (target >= 2x), "
          f"one by one {baseline['seconds'] / serial['seconds']:.2f}x; labs at once against one by one "
          f"{serial['seconds'] / together['seconds']:.2f}x; {together['per']:.1f} s per submission (target <= 10 s)")


if __name__ == "__main__":
    main()
