"""NAT on the real lab, on a lab of the `nat` topology of its own (`<lab-name>-nat`): the
rewrite seen on both sides of the router, a mapping that expires, the port forward, and the
exercise's solution and a client without keepalives."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.control import topologies
from lab.control.engine import Engine
from lab.control.lab import Lab
from lab.harness import exercise as exercises
from lab.harness import scenario as scenarios
from lab.testing.plugin import lab_name, remove

pytestmark = pytest.mark.lab
CASES = Path(__file__).parent / "exercises" / "nat"
NAT = scenarios.load("nat")


@pytest.fixture(scope="module")
def nat_lab(engine: Engine, request: pytest.FixtureRequest) -> Iterator[Lab]:
    the_lab = Lab(engine, f"{lab_name(request.config)}-nat", topologies.compose_file("nat"))
    was_up = the_lab.is_up()
    the_lab.up()
    yield the_lab
    if not was_up and not request.config.getoption("--keep-lab"):
        remove(the_lab)


def test_the_nat_lesson_and_the_rewrite_on_both_sides_of_the_router(nat_lab: Lab) -> None:
    narration: list[str] = []
    stage = scenarios.play(nat_lab, "nat", say=narration.append, options=scenarios.PlayOptions(capture=True))
    assert stage.checks and all(c.ok for c in stage.checks), "\n".join(narration)
    topo = nat_lab.topology()
    seen = {(p.src, p.sport, p.dst) for p in stage.packets if p.payload == b"from h1"}
    h1, b1, (router,) = str(topo.host("h1").address), str(topo.host("b1").address), topo.nat_routers()
    assert (h1, 40000, b1) in seen, "on lan_a, h1's own address and port"
    assert {src for src, _, _ in seen} == {h1, str(router.nat)}, "on lan_b, the router's address"


def test_a_scenario_of_the_nat_needs_a_nat_router(lab: Lab) -> None:
    from lab.errors import ScenarioNeedsError

    with pytest.raises(ScenarioNeedsError, match=r"no router of it translates addresses \(NAT\).*--topology nat"):
        scenarios.play(lab, "nat", say=lambda _: None)


@pytest.mark.parametrize(("case", "should_fail"), [
    ("solution", set()),
    ("no-keepalive", {NAT.C_ALIVE, NAT.C_PUSH}),
])
def test_the_exercise_through_the_nat(nat_lab: Lab, case: str, should_fail: set[str]) -> None:
    work = nat_lab.workspace()
    assert work is not None
    folder = work / ".socklab-tests" / f"nat-{case}-{uuid.uuid4().hex[:6]}"
    shutil.copytree(CASES / case, folder)
    try:
        outcome = exercises.check(nat_lab, "nat", work, say=lambda _: None, folder=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report = exercises.render(outcome)
    assert outcome.stage.own, "the case's files took no role"
    assert {c.name for c in outcome.stage.checks if not c.ok} == should_fail, report
    if should_fail:
        assert "the longest silence before the push" in report and "keepalive" in report
