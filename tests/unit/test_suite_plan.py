"""`invoke test`'s runs: the main run, then the variants, then the browser's tests alone."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from lab.control import compose
from lab.errors import ImageError
from lab.testing import suite


@pytest.fixture
def both_composes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compose, "installed", lambda: [["docker", "compose"], ["docker-compose"]])
    monkeypatch.delenv("SOCKLAB_COMPOSE", raising=False)


def test_the_whole_suite_runs_the_variants_then_the_browser_alone(both_composes: None) -> None:
    the_plan = suite.plan(unit=False, k="", quick=False)
    assert the_plan.main.paths == ["tests/unit", "tests/lab"] and the_plan.main.options == ["-m", "not alone"]
    assert [(r.variant, r.env) for r in the_plan.then][0] == ("docker-compose", {"SOCKLAB_COMPOSE": "docker-compose"})
    assert {r.variant for r in the_plan.then[1:-1]} == {"chain", "lan50"}, "every other topology but nat"
    assert (the_plan.then[-1].variant, the_plan.then[-1].options) == ("alone", ["-m", "alone"]), "the browser last"
    assert [(r.workers, r.beside) for r in the_plan.then] == [(1, True)] * 3 + [(0, False)], "variants on a lab each"


@pytest.mark.parametrize("options", [{"unit": True}, {"k": "echo"}, {"quick": True}])
def test_a_part_of_the_suite_runs_alone(both_composes: None, options: dict[str, object]) -> None:
    the_plan = suite.plan(**{"unit": False, "k": "", "quick": False, **options})  # type: ignore[arg-type]
    assert the_plan.then == []
    assert "alone" not in the_plan.main.options


def test_a_lab_run_names_its_lab_and_report_by_its_variant() -> None:
    args = suite.Run(["tests/lab/test_network.py"], "chain", options=["--topology=chain"]).argv(
        "socklab", "reports/junit.xml", 1, keep=False, lab=True)
    assert "--lab-name=socklab-chain" in args and "--junitxml=reports/junit-chain.xml" in args
    assert args[args.index("-n") + 1] == "1" and "--topology=chain" in args


def test_the_variants_run_side_by_side_and_a_failed_run_fails_the_whole(tmp_path: Path) -> None:
    ran: list[tuple[str, dict[str, str]]] = []
    said: list[str] = []

    def run(args: list[str], env: dict[str, str]) -> int:
        ran.append((" ".join(args), env))
        return 0

    def argv(each: suite.Run, workers: int) -> list[str]:  # a variant: a process that waits for the other
        if not each.beside:
            return [*each.paths, str(workers)]
        mine, other = tmp_path / each.variant, tmp_path / ("b" if each.variant == "a" else "a")
        wait = (f"import pathlib,sys,time; pathlib.Path({str(mine)!r}).touch(); print({each.variant!r}, sys.argv[1])\n"
                f"end = time.monotonic() + 10\n"  # one after another, the first would wait in vain: status 9
                f"while not pathlib.Path({str(other)!r}).exists():\n"
                f"    time.sleep(0.01) if time.monotonic() < end else sys.exit(9)\n"
                f"sys.exit({each.paths[0]})")
        return [sys.executable, "-c", wait, str(workers)]

    variants = [suite.Run(["3"], "a", "on a", workers=1, beside=True), suite.Run(["0"], "b", "on b", beside=True)]
    the_plan = suite.Plan(suite.Run(["main"]), then=[*variants, suite.Run(["alone"], "alone", "alone")])
    assert suite.execute(the_plan, argv, 4, said.append, run, logs=tmp_path / "logs") == 3
    assert ran == [("main 4", {}), ("alone 4", {})], "the rest in turn, through the task's Context"
    assert said[0] == "side by side: on a; on b" and said[-1] == "alone"
    logs = tmp_path / "logs"
    assert (logs / "a.log").read_text().endswith("a 1\n") and "b 4" in (logs / "b.log").read_text()
    assert suite.execute(suite.Plan(suite.Run(["main"])), argv, 2, said.append, run) == 0


def test_while_the_image_builds_the_unit_tests_run_beside_it(both_composes: None) -> None:
    the_plan = suite.plan(unit=False, k="", quick=False, building=True)
    assert the_plan.beside_build is not None and the_plan.beside_build.paths == ["tests/unit"]
    assert the_plan.main.paths == ["tests/lab"] and the_plan.main.options == ["-m", "not alone"]
    args = the_plan.beside_build.argv("socklab", "reports/junit.xml", 3, keep=False, lab=True)
    assert "--lab" not in args and args[args.index("-n") + 1] == "2" and "--junitxml=reports/junit-unit.xml" in args
    assert suite.plan(unit=True, k="", quick=False, building=True).beside_build is None, "--unit builds nothing"
    assert suite.plan(unit=False, k="", quick=False).beside_build is None, "built: the unit tests in the main run"

    events: list[str] = []
    both = threading.Barrier(2, timeout=10)  # the build waits for the unit run to start, and the other way round

    def build() -> None:
        events.append("build started")
        both.wait()

    def run(args: list[str], env: dict[str, str]) -> int:
        if args == ["tests/unit"]:
            both.wait()
        events.append(" ".join(args))
        return 0

    the_plan.then.clear()  # the variants are another test's
    assert suite.execute(the_plan, lambda each, workers: each.paths, 3, events.append, run, build=build) == 0
    assert events[:4] == ["the unit tests, while the host image builds", "build started", "tests/unit", "tests/lab"]


def test_a_failed_build_is_the_tasks_error_after_the_unit_tests(both_composes: None) -> None:
    ran: list[list[str]] = []

    def build() -> None:
        raise ImageError("building socklab/host failed: no space left on device")

    the_plan = suite.plan(unit=False, k="", quick=False, building=True)
    the_plan.then.clear()
    with pytest.raises(ImageError, match="no space left"):
        suite.execute(the_plan, lambda each, workers: each.paths, 3, print,
                      lambda args, env: ran.append(args) or 0, build=build)
    assert ran == [["tests/unit"]], "the unit tests ran; no lab test ran on an image that is not there"
