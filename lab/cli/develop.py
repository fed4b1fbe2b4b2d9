"""Tasks for socklab's own developers: the test suite and the benchmarks.

A task imports what it uses in its body: `invoke --list` imports only the task modules.
"""

from __future__ import annotations

import os
import sys

from invoke import Context, Exit, task

from lab.cli.common import NAME_HELP, Whole, _quote, open_lab, reports_errors, say
from lab.control.arguments import within
from lab.control.defaults import DEFAULT_NAME, ROOT


@task(help={"unit": "only the unit tests (no Docker needed)", "keep": "leave the lab running afterwards",
            "name": NAME_HELP, "k": "only tests matching this pytest -k expression",
            "junit": "write JUnit XML here (default reports/junit.xml)",
            "workers": "lab test processes, each on a lab of its own (default 3: they mostly wait)",
            "quick": "the unit tests and one lab play per exercise (its reference solution): minutes, not ten"})
@reports_errors
def test(c: Context, unit: bool = False, keep: bool = False, name: str = DEFAULT_NAME, k: str = "",
         junit: str = "reports/junit.xml", workers: int = Whole(3), quick: bool = False) -> None:
    """Run the test suite: unit tests, then the lab tests on real containers. With Compose v2
    and v1 both installed, the lifecycle, host and network tests run again under the other;
    the network and IPv6 tests run on every other shipped topology too (each on a lab of its
    own, side by side after the main run; the browser's tests last, by themselves). It ends by naming the optional
    programs (Graphviz, Chromium) this machine lacks, whose tests were skipped, and the slowest
    tests of each run are listed at its end."""
    from lab.control.lab import check_name
    from lab.testing.suite import Run, execute, plan

    within("--workers", workers, 1, 16, "a number of test processes")
    check_name(name)
    lab = None if unit else open_lab(name)

    def build() -> None:  # once, here: two test processes must not bootstrap the same image at once
        if lab is not None:
            lab.build(say=say)

    def argv(run: Run, processes: int) -> list[str]:
        return run.argv(name, junit, processes, keep, lab=not unit)

    def run(args: list[str], env: dict[str, str]) -> int:
        with c.cd(str(ROOT)):
            result = c.run(" ".join(_quote(a) for a in args), warn=True, pty=False, env=env)
        return result.exited if result is not None else 1

    failed = execute(plan(unit, k, quick, building=lab is not None and not lab.built()), argv, workers, say, run,
                     build=build)
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
              "serve": "benchmarks/bench_serve.py", "exec": "benchmarks/bench_exec.py"}


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
