"""The pytest runs `invoke test` makes, and how they share the machine.

The main run (unit tests, then the lab tests on one lab per worker) streams to the terminal.
The variants (the lifecycle, host and network tests under the other Compose; the network and
IPv6 tests on every other shipped topology) each need a lab of their own, so they run one
after another *beside* the main run, on one worker, their output kept in a log and summed up
at the end (measured: 1,141 s in all this way, 1,254 s one after another; benchmarks/README.md).
The tests marked `alone` run last, by themselves: Chromium drops what it has in flight
whenever the machine's interfaces change, as they do when another lab comes or goes.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable
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

    def argv(self, name: str, junit: str, workers: int, keep: bool, lab: bool) -> list[str]:
        report = junit.replace(".xml", f"-{self.variant}.xml") if self.variant else junit
        args = [sys.executable, "-m", "pytest", *self.paths, f"--junitxml={report}", "--durations=15", *self.options]
        if lab:
            lab_name = f"{name}-{self.variant}" if self.variant else name
            # files handed out in collection order (the plugin puts the longest first), not by their count of tests
            args += ["--lab", f"--lab-name={lab_name}", "-n", str(workers), "--dist", "loadfile",
                     "--no-loadscope-reorder"]
            args += ["--keep-lab"] if keep else []
        return args


@dataclass
class Plan:
    main: Run
    beside: list[Run] = field(default_factory=list)
    last: list[Run] = field(default_factory=list)


def plan(unit: bool, k: str, quick: bool) -> Plan:
    """What `invoke test` runs for these options on this machine (Composes, topologies)."""
    from lab.control import compose, topologies

    options = ["-k", k] if k else []
    if quick:
        options += ["-m", "not lab or quick"]
    whole = not unit and not k and not quick
    if whole:
        options += ["-m", "not alone"]
    the_plan = Plan(Run(["tests/unit"] if unit else ["tests/unit", "tests/lab"], options=options))
    if not whole:
        return the_plan
    the_plan.last.append(Run(["tests/lab"], "alone", "the tests that need no other lab coming or going "
                             "meanwhile (marked `alone`), by themselves", options=["-m", "alone"]))
    if len(compose.installed()) > 1 and "SOCKLAB_COMPOSE" not in os.environ:
        other = " ".join(compose.installed()[1])
        the_plan.beside.append(Run(EITHER_COMPOSE, compose.installed()[1][-1], f"again with `{other}`",
                                   {"SOCKLAB_COMPOSE": other}))
    for each in topologies.names():
        described = topologies.describe(each)
        # a NAT topology blocks lan_b -> lan_a by design: tests/lab/test_nat.py tests it on a lab of its own
        if described.file != COMPOSE_FILE and described.nat is None:
            the_plan.beside.append(Run(EVERY_TOPOLOGY, each, f"again on {each}", options=[f"--topology={each}"]))
    return the_plan


def execute(the_plan: Plan, argv: Callable[[Run, int], list[str]], workers: int,
            say: Callable[[str], None], run: Callable[[list[str], dict[str, str]], int],
            logs: Path = ROOT / "reports" / "beside") -> int:
    """Run the plan: ``run`` runs a command in front (the task's Context, given the run's
    environment), the variants run beside it as processes of their own, their output in
    ``logs``. The first non-zero exit status of any run, or 0."""
    side = Beside(the_plan.beside, argv, logs)
    side.start()
    if side.runs:
        say(f"beside the main run, one after another: {'; '.join(r.title for r in side.runs)} "
            f"(their output: {logs}/)")
    try:
        failed = run(argv(the_plan.main, workers), the_plan.main.env)
    except BaseException:
        side.stop.set()  # interrupted: start no further variant (the running one got the same Ctrl-C)
        raise
    finally:
        side.join()
    for variant, status, log in side.results:
        said = log.read_text(errors="replace")
        if status:
            print(said, end="")
        summary = [line.strip("= ") for line in said.splitlines() if line.startswith("=")][-1:] or ["no summary"]
        say(f"{variant.title}: {summary[0]}")
        failed = failed or status
    for last in the_plan.last:
        say(last.title)
        failed = run(argv(last, workers), last.env) or failed
    return failed


def _run(args: list[str], **kwargs: object) -> int:
    return subprocess.run(args, cwd=ROOT, check=False, **kwargs).returncode  # type: ignore[call-overload]


class Beside(threading.Thread):
    """The variants, one after another on one worker each, in a thread beside the main run."""

    def __init__(self, runs: list[Run], argv: Callable[[Run, int], list[str]], logs: Path) -> None:
        super().__init__(daemon=True)
        self.runs, self.argv, self.logs = runs, argv, logs
        self.results: list[tuple[Run, int, Path]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for each in self.runs:
            if self.stop.is_set():
                return
            log = self.logs / f"{each.variant}.log"
            with log.open("w") as out:
                out.write(f"$ {shlex.join(self.argv(each, 1))}\n")
                out.flush()
                status = _run(self.argv(each, 1), env={**os.environ, **each.env}, stdout=out,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self.results.append((each, status, log))
