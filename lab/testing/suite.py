"""The pytest runs `invoke test` makes.

The main run: unit tests and lab tests, on one lab per worker (three by default: the lab
tests wait on timeouts more than they compute; files whose tests stand alone are handed out
test by test, plugin.ONE_BY_ONE); when the host image is to be built first (a fresh machine,
a changed tree), the unit tests run beside the build instead, and the main run is the lab
tests. Then the variants side by side, each on one lab with one worker (a second lab of 50
hosts cost more than it saved): the lifecycle, host and network tests under the other Compose;
the network and IPv6 tests on every other shipped topology. The tests marked `alone` run
last, by themselves: Chromium drops what it has in flight whenever the machine's interfaces
change, as they do when another lab comes or goes.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lab.control.defaults import COMPOSE_FILE, ROOT

# Run again under the other Compose, when both are installed: what Compose creates.
EITHER_COMPOSE = ["tests/lab/test_lifecycle.py", "tests/lab/test_hosts.py", "tests/lab/test_network.py"]

# Run on every other shipped topology: up, the network derived from it (both families), down.
EVERY_TOPOLOGY = ["tests/lab/test_network.py", "tests/lab/test_ipv6.py"]


@dataclass(frozen=True)
class Run:
    """One pytest process: its test paths, the variant it is ("" for the main run) and how."""

    paths: list[str]
    variant: str = ""
    title: str = ""
    env: dict[str, str] = field(default_factory=dict)
    options: list[str] = field(default_factory=list)
    workers: int = 0  # test processes (each on a lab of its own); 0: as many as `invoke test` is given
    beside: bool = False  # run side by side with the plan's other such runs, its output in a log
    lab: bool = True  # its tests may need a lab (`--lab`, one per worker); the unit tests' own run: False

    def argv(self, name: str, junit: str, workers: int, keep: bool, lab: bool) -> list[str]:
        report = junit.replace(".xml", f"-{self.variant}.xml") if self.variant else junit
        args = [sys.executable, "-m", "pytest", *self.paths, f"--junitxml={report}", "--durations=15", *self.options]
        if lab and self.lab:
            lab_name = f"{name}-{self.variant}" if self.variant else name
            # files handed out in collection order (the plugin puts the longest first), not by their count of tests
            args += ["--lab", f"--lab-name={lab_name}", "-n", str(workers), "--dist", "loadgroup",
                     "--no-loadscope-reorder"]
            args += ["--keep-lab"] if keep else []
        elif self.workers > 1:
            args += ["-n", str(self.workers)]
        return args


@dataclass
class Plan:
    main: Run
    then: list[Run] = field(default_factory=list)  # the variants, then the tests marked `alone`
    beside_build: Run | None = None  # the unit tests, while the host image builds (then not in main)


def plan(unit: bool, k: str, quick: bool, building: bool = False) -> Plan:
    """What `invoke test` runs for these options on this machine (Composes, topologies);
    ``building``: the host image is to be built first."""
    from lab.control import compose, topologies

    options = ["-k", k] if k else []
    if quick:
        options += ["-m", "not lab or quick"]
    whole = not unit and not k and not quick
    main = options + (["-m", "not alone"] if whole else [])
    if unit or not building:
        the_plan = Plan(Run(["tests/unit"] if unit else ["tests/unit", "tests/lab"], options=main))
    else:  # in two processes: the build mostly waits on the network and the disk
        the_plan = Plan(Run(["tests/lab"], options=main), beside_build=Run(
            ["tests/unit"], "unit", "the unit tests, while the host image builds", options=options, workers=2,
            lab=False))
    if not whole:
        return the_plan
    composes = compose.installed()
    if len(composes) > 1 and "SOCKLAB_COMPOSE" not in os.environ:
        other = " ".join(composes[1])
        the_plan.then.append(Run(EITHER_COMPOSE, composes[1][-1], f"again with `{other}`", {"SOCKLAB_COMPOSE": other},
                                 workers=1, beside=True))
    for each in topologies.names():
        described = topologies.describe(each)
        # a NAT topology blocks lan_b -> lan_a by design: tests/lab/test_nat.py tests it on a lab of its own
        if described.file != COMPOSE_FILE and described.nat is None:
            the_plan.then.append(Run(EVERY_TOPOLOGY, each, f"again on {each}", options=[f"--topology={each}"],
                                     workers=1, beside=True))
    the_plan.then.append(Run(["tests/lab"], "alone", "the tests that need no other lab coming or going meanwhile "
                             "(marked `alone`), by themselves", options=["-m", "alone"]))
    return the_plan


def execute(the_plan: Plan, argv: Callable[[Run, int], list[str]], workers: int,
            say: Callable[[str], None], run: Callable[[list[str], dict[str, str]], int],
            logs: Path = ROOT / "reports", build: Callable[[], object] = lambda: None) -> int:
    """Run the plan: ``build`` (beside the plan's unit tests, if it has them apart), the main
    run, then the variants side by side (each in a process of its own, its output in
    ``logs``/VARIANT.log, shown when all have ended), then the rest one after another
    (``run``: the task's Context, given the run's environment). The first non-zero exit
    status of any run, or 0. Nothing runs beside the main run: it keeps two cores busy, and
    with a variant beside it the load made timing checks fail (benchmarks/README.md)."""
    failed = 0
    if the_plan.beside_build:
        say(the_plan.beside_build.title)
        with ThreadPoolExecutor(1) as pool:
            building = pool.submit(build)
            failed = run(argv(the_plan.beside_build, the_plan.beside_build.workers), the_plan.beside_build.env)
            building.result()  # a failed build is the task's error, once the unit tests have said theirs
    else:
        build()
    failed = run(argv(the_plan.main, the_plan.main.workers or workers), the_plan.main.env) or failed
    beside = [each for each in the_plan.then if each.beside]
    if beside:
        say(f"side by side: {'; '.join(each.title for each in beside)}")
        with ThreadPoolExecutor(len(beside)) as pool:
            ended = list(pool.map(lambda each: _logged(argv(each, each.workers or workers), each.env,
                                                       logs / f"{each.variant}.log"), beside))
        for each, status in zip(beside, ended, strict=True):
            say(f"{each.title} ({logs / each.variant}.log):")
            print((logs / f"{each.variant}.log").read_text(errors="replace"), end="", flush=True)
            failed = failed or status
    for each in the_plan.then:
        if not each.beside:
            say(each.title)
            failed = run(argv(each, each.workers or workers), each.env) or failed
    return failed


def _logged(args: list[str], env: dict[str, str], log: Path) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        out.write(f"$ {shlex.join(args)}\n")
        out.flush()
        return subprocess.run(args, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, check=False).returncode
