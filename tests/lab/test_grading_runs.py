"""`invoke grade` run twice, and interrupted: what is graded stays graded, nothing is left running."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_grading import CASES, hand_in

from lab.control.engine import Engine
from lab.control.lab import ROOT
from lab.control.wait import wait_until
from lab.harness import grading
from lab.harness.submissions import collect

pytestmark = pytest.mark.lab


def test_a_second_run_with_the_same_seed_grades_nothing_again(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "class"
    hand_in(folder, "ref")
    hand_in(folder, "noexit", client=CASES / "no-exit" / "client.py")
    run = grading.Grading(engine, "echo", "s2", grading.Rules(), tmp_path / "out")
    first = grading.grade(run, collect(folder, ["client", "server"]), 1, say=print)
    said: list[str] = []
    again = grading.grade(run, collect(folder, ["client", "server"]), 1, say=said.append)
    assert [g.score for g in again] == [g.score for g in first] == [6.0, 10.0]
    assert all("graded before with this seed" in line or "this machine" in line for line in said), said
    assert grading.values_for("s2", "ref") == grading.values_for("s2", "ref") != grading.values_for("s3", "ref")


def test_ctrl_c_leaves_nothing_running_and_a_rerun_completes(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "class"
    for student in ("a", "b"):  # a graded, b interrupted while its lab starts
        hand_in(folder, student)
    argv = [sys.executable, "-m", "invoke", "grade", str(folder), "--exercise", "echo", "--seed", "s4",
            "--parallel", "1", "--out", str(tmp_path / "out")]
    grader = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: engine.containers("grade-b"), 120, "the second student's lab to start")
        grader.send_signal(signal.SIGINT)
        _, err = grader.communicate(timeout=120)
    finally:
        grader.kill()
    assert grader.returncode == 130, err
    for lab in ("grade-a", "grade-b"):
        assert engine.containers(lab) == [] and engine.networks(lab) == [], f"Ctrl-C removed {lab}"
    rerun = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert "a: graded before with this seed (10/10)" in rerun.stdout
    assert [line.split(",")[:3] for line in (tmp_path / "out" / "grades.csv").read_text().splitlines()[1:]] == [
        ["a", "a", "10"], ["b", "b", "10"]]
