"""`invoke test`'s runs: which variants run beside the main run, which last, and how their
results come back (real processes standing in for pytest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lab.control import compose
from lab.testing import suite


@pytest.fixture
def both_composes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compose, "installed", lambda: [["docker", "compose"], ["docker-compose"]])
    monkeypatch.delenv("SOCKLAB_COMPOSE", raising=False)


def test_the_whole_suite_runs_the_variants_beside_and_the_browser_last(both_composes: None) -> None:
    the_plan = suite.plan(unit=False, k="", quick=False)
    assert the_plan.main.paths == ["tests/unit", "tests/lab"] and the_plan.main.options == ["-m", "not alone"]
    assert [(r.variant, r.env) for r in the_plan.beside][0] == ("docker-compose", {"SOCKLAB_COMPOSE": "docker-compose"})
    assert {r.variant for r in the_plan.beside[1:]} == {"chain", "lan50"}, "every other topology but nat"
    assert [(r.variant, r.options) for r in the_plan.last] == [("alone", ["-m", "alone"])]


@pytest.mark.parametrize("options", [{"unit": True}, {"k": "echo"}, {"quick": True}])
def test_a_part_of_the_suite_runs_alone(both_composes: None, options: dict[str, object]) -> None:
    the_plan = suite.plan(**{"unit": False, "k": "", "quick": False, **options})  # type: ignore[arg-type]
    assert the_plan.beside == [] and the_plan.last == []
    assert "alone" not in the_plan.main.options


def test_a_lab_run_names_its_lab_and_report_by_its_variant() -> None:
    args = suite.Run(["tests/lab/test_network.py"], "chain", options=["--topology=chain"]).argv(
        "socklab", "reports/junit.xml", 1, keep=False, lab=True)
    assert "--lab-name=socklab-chain" in args and "--junitxml=reports/junit-chain.xml" in args
    assert args[args.index("-n") + 1] == "1" and "--topology=chain" in args


def in_front(args: list[str], env: dict[str, str]) -> int:
    return subprocess.run(args, check=False).returncode


def fake(run: suite.Run, processes: int) -> list[str]:
    """A process in pytest's place that prints a summary line and exits as its paths say."""
    status = int(run.paths[0])
    return [sys.executable, "-c", f"print('= {status} failed =' if {status} else '= 3 passed ='); exit({status})"]


def test_a_failed_variant_beside_fails_the_run_and_shows_its_output(capsys: pytest.CaptureFixture[str],
                                                                    tmp_path: Path) -> None:
    said: list[str] = []
    beside = [suite.Run(["0"], "v1", "ok one"), suite.Run(["5"], "v2", "bad one")]
    the_plan = suite.Plan(suite.Run(["0"]), beside=beside, last=[suite.Run(["0"], "alone", "last one")])
    assert suite.execute(the_plan, fake, 2, said.append, in_front, logs=tmp_path) == 5
    assert "ok one: 3 passed" in said and "bad one: 5 failed" in said and said[-1] == "last one"
    assert "= 5 failed =" in capsys.readouterr().out, "a failed variant's whole output is shown"


def test_all_green_is_zero(tmp_path: Path) -> None:
    the_plan = suite.Plan(suite.Run(["0"]), beside=[suite.Run(["0"], "v1", "ok one")])
    assert suite.execute(the_plan, fake, 2, lambda line: None, in_front, logs=tmp_path) == 0
    assert (tmp_path / "v1.log").read_text().endswith("= 3 passed =\n")
