"""`invoke test`'s runs: the main run, then the variants, then the browser's tests alone."""

from __future__ import annotations

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
    assert [r.workers for r in the_plan.then] == [1, 1, 1, 0], "a variant on one lab; the main run's workers otherwise"


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


def test_every_run_goes_in_turn_and_a_failed_one_fails_the_whole() -> None:
    ran: list[tuple[str, dict[str, str]]] = []
    said: list[str] = []

    def run(args: list[str], env: dict[str, str]) -> int:
        ran.append((" ".join(args), env))
        return 5 if args[0] == "v1" else 0

    the_plan = suite.Plan(suite.Run(["main"]), then=[suite.Run(["v1"], "v1", "under v1", {"SOCKLAB_COMPOSE": "v1"},
                                                               workers=1),
                                                      suite.Run(["alone"], "alone", "alone")])
    assert suite.execute(the_plan, lambda r, n: [*r.paths, str(n)], 4, said.append, run) == 5
    assert ran == [("main 4", {}), ("v1 1", {"SOCKLAB_COMPOSE": "v1"}), ("alone 4", {})]
    assert said == ["under v1", "alone"]
    assert suite.execute(suite.Plan(suite.Run(["main"])), lambda r, n: r.paths, 2, said.append, run) == 0
