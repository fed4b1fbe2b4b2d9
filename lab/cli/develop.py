"""Tasks for socklab's own developers: the test suite and the benchmarks.

A task imports what it uses in its body: `invoke --list` imports only the task modules.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from invoke import Context, Exit, task

from lab.control.arguments import within
from lab.control.defaults import DEFAULT_NAME, ROOT

if TYPE_CHECKING:

    pass
from lab.cli.common import NAME_HELP, Whole, _quote, open_lab, reports_errors, say

# Run again under the other Compose, when both are installed: what Compose creates.
EITHER_COMPOSE = ["tests/lab/test_lifecycle.py", "tests/lab/test_hosts.py", "tests/lab/test_network.py"]


# Run on every other shipped topology: up, the network derived from it, down.
EVERY_TOPOLOGY = ["tests/lab/test_network.py"]


@task(help={"unit": "only the unit tests (no Docker needed)", "keep": "leave the lab running afterwards",
            "name": NAME_HELP, "k": "only tests matching this pytest -k expression",
            "junit": "write JUnit XML here (default reports/junit.xml)",
            "workers": "lab test processes, each on a lab of its own (default 2)",
            "quick": "the unit tests and one lab play per exercise (its reference solution): minutes, not ten"})
@reports_errors
def test(c: Context, unit: bool = False, keep: bool = False, name: str = DEFAULT_NAME, k: str = "",
         junit: str = "reports/junit.xml", workers: int = Whole(2), quick: bool = False) -> None:
    """Run the test suite: unit tests, then the lab tests on real containers. With Compose v2
    and v1 both installed, the lifecycle, host and network tests run again under the other;
    the network tests run on every other shipped topology too. It ends by naming the optional
    programs (Graphviz, Chromium) this machine lacks, whose tests were skipped, and the slowest
    tests of each run are listed at its end."""
    from lab.control import compose, topologies
    from lab.control.defaults import COMPOSE_FILE
    from lab.control.lab import check_name

    within("--workers", workers, 1, 16, "a number of test processes")
    check_name(name)
    # Unit tests first: they need no Docker and fail in seconds.
    paths = ["tests/unit"] if unit else ["tests/unit", "tests/lab"]
    # Tests marked `alone` run after the others, by themselves: Chromium drops what it has in
    # flight whenever the machine's interfaces change, as they do when another lab comes or goes.
    alone = not unit and not k and not quick
    runs: list[tuple[list[str], str, dict[str, str], list[str]]] = [
        (paths, "", {}, ["-m", "not alone"] if alone else [])]
    if alone:
        runs.append((["tests/lab"], "alone", {}, ["-m", "alone"]))
    if not unit and not k and not quick:
        if len(compose.installed()) > 1 and "SOCKLAB_COMPOSE" not in os.environ:
            other = compose.installed()[1]
            runs.append((EITHER_COMPOSE, other[-1], {"SOCKLAB_COMPOSE": " ".join(other)}, []))
        for each in topologies.names():
            # a NAT topology blocks lan_b -> lan_a by design: tests/lab/test_nat.py tests it on a lab of its own
            if topologies.describe(each).file != COMPOSE_FILE and topologies.describe(each).nat is None:
                runs.append((EVERY_TOPOLOGY, each, {}, [f"--topology={each}"]))
    if not unit:  # once, here: two test processes must not bootstrap the same image at once
        open_lab(name).build(say=say)
    failed = 0
    for test_paths, variant, env, options in runs:
        if variant == "alone":
            say("the tests that need no other lab coming or going meanwhile (marked `alone`), by themselves")
        elif variant:
            say(f"again {'with `' + env['SOCKLAB_COMPOSE'] + '`' if env else 'on ' + variant}: {', '.join(test_paths)}")
        report = junit.replace(".xml", f"-{variant}.xml") if variant else junit
        args = [sys.executable, "-m", "pytest", *test_paths, f"--junitxml={report}", "--durations=15", *options]
        if not unit:
            # Two processes, each with a lab of its own (`{name}-gw0`, `-gw1`), a test file
            # each at a time: lab tests mostly wait on the network, so two halve the time.
            lab_name = f"{name}-{variant}" if variant else name
            args += ["--lab", f"--lab-name={lab_name}", "-n", str(workers), "--dist", "loadfile"]
            args += ["--keep-lab"] if keep else []
        if k:
            args += ["-k", k]
        if quick:
            args += ["-m", "not lab or quick"]
        with c.cd(str(ROOT)):
            result = c.run(" ".join(_quote(a) for a in args), warn=True, pty=False, env=env)
        failed = failed or (result.exited if result is not None else 1)
    for line in missing_tools():
        say(line)
    if failed:
        raise Exit(code=failed)


def missing_tools() -> list[str]:
    """The run's last word: what the optional programs not installed here cost, and their fix."""
    from lab.report.tools import TOOLS

    if os.environ.get("CI"):  # there they are not optional: their tests failed, not skipped
        return []
    return [f"tests that need {tool.title} are skipped on this machine (it {tool.used_for}): `{tool.install}`"
            for tool in TOOLS.values() if not tool.installed()]


BENCHMARKS = {"lab": "benchmarks/bench_lab.py", "udp": "benchmarks/bench_udp.py", "chat": "benchmarks/bench_chat.py",
              "tftp": "benchmarks/bench_tftp.py", "grade": "benchmarks/bench_grade.py",
              "class": "benchmarks/bench_class.py", "web": "benchmarks/bench_web.py",
              "serve": "benchmarks/bench_serve.py"}


@task(help={"suite": f"which benchmark: {', '.join(BENCHMARKS)} or all (default)",
            "rounds": "how many times each measurement is repeated"})
@reports_errors
def bench(c: Context, suite: str = "all", rounds: int = Whole(3)) -> None:
    """Run benchmarks that print ratios against a baseline measured in the same run."""
    within("--rounds", rounds, 1, 100, "a number of rounds")
    chosen = list(BENCHMARKS.values()) if suite == "all" else [BENCHMARKS.get(suite, "")]
    if not all(chosen):
        raise Exit(f"socklab: no benchmark {suite!r}; choose from {', '.join(BENCHMARKS)} or all", code=1)
    with c.cd(str(ROOT)):
        for script in chosen:
            c.run(f"{_quote(sys.executable)} {script} --rounds {rounds}", pty=False)
