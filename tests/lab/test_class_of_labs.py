"""A class of labs on one machine: one lab's fork bomb and memory hog stay in that lab.

A second lab (`<lab>-noisy`) runs bounded hostile programs as root, as a student could in
`invoke shell h1`; meanwhile the session lab plays the echo and TCP chat lessons, which must
pass. The hostile programs are bounded themselves (400 processes, 2 GiB), so a missing
limit fails the test without taking the machine down."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.control import topologies
from lab.control.engine import Engine
from lab.control.lab import Lab
from lab.control.programs import HostProgram
from lab.harness import scenario as scenarios
from lab.testing.plugin import remove

pytestmark = pytest.mark.lab

HOSTILE = Path(__file__).parent / "hostile"


@pytest.fixture(scope="module")
def noisy(engine: Engine, lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    hosts = topologies.trimmed(lab.compose_file, ["h1", "h2"], tmp_path_factory.mktemp("noisy") / "noisy.yaml")
    other = Lab(engine, f"{lab.name}-noisy-{uuid.uuid4().hex[:4]}", hosts)  # the hosts the hostile programs use
    other.up()
    yield other
    remove(other)


def test_one_labs_fork_bomb_and_memory_hog_leave_another_lab_working(lab: Lab, noisy: Lab) -> None:
    bomb = HostProgram(noisy, "h1", ["python3", "-c", (HOSTILE / "fork_bomb.py").read_text()]).start()
    hog = HostProgram(noisy, "h2", ["python3", "-c", (HOSTILE / "memory_hog.py").read_text()]).start()
    try:
        granted = bomb.wait_line("granted", timeout=60)
        assert hog.wait_exit(timeout=60) == 137, hog.transcript()  # SIGKILL: the OOM killer, at mem_limit
        assert noisy.exec("h2", ["true"]).exit_code == 0, "the hog's host itself survived its OOM kill"
        for lesson in ("echo", "tcp-chat"):  # while the bomb's processes hold noisy's h1 at its limit
            stage = scenarios.play(lab, lesson, say=lambda _: None)
            assert stage.passed, [c for c in stage.checks if not c.ok]
    finally:
        remove(noisy)  # from outside: the bomb's host has no process left to run `kill` with
    forks, refused = (int(n) for n in granted.split()[1::2])
    assert refused > 0 and forks < 256, f"the pids limit held the bomb at its host: {granted}"
    assert "holding 512 MiB" not in hog.stdout, "memory beyond mem_limit was granted"
