"""`invoke test`'s runs: the main run, then the variants, then the browser's tests alone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lab.control import compose
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
