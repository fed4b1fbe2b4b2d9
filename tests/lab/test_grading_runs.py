"""`invoke grade` interrupted: what is graded stays graded, nothing is left running (a second run
with the same seed grading nothing again is asserted at the end of test_grading's class)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_grading import CASES, hand_in

from lab.control.engine import Engine
from lab.control.lab import ROOT
from lab.control.labs import all_labs
from lab.control.wait import wait_until

pytestmark = pytest.mark.lab


def test_ctrl_c_leaves_nothing_running_and_a_rerun_completes(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "class"
    hand_in(folder, "a")  # graded; then b interrupted while it plays: its client never exits, so its
    hand_in(folder, "b", client=CASES / "no-exit" / "client.py")  # play lasts 8 s more after its lab is seen
    argv = [sys.executable, "-m", "invoke", "grade", str(folder), "--exercise", "echo", "--seed", "s4",
            "--parallel", "1", "--out", str(tmp_path / "out")]
    # Ctrl-C as a terminal gives it: a test run started in the background (`cmd &` in a script)
    # hands its children SIGINT ignored, and Python then never turns it into KeyboardInterrupt.
    grader = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        labs = wait_until(lambda: [lab.name for lab in all_labs(engine) if lab.name.startswith("grade-b-")],
                          120, "the second student's lab to start")
        assert grader.poll() is None, "still grading b"
        grader.send_signal(signal.SIGINT)
        out, err = grader.communicate(timeout=120)
    finally:
        grader.kill()
    assert grader.returncode == 130, (out, err)
    for lab in [labs[0].replace("grade-b-", "grade-a-"), labs[0]]:
        assert engine.containers(lab) == [] and engine.networks(lab) == [], f"Ctrl-C removed {lab}"
    rerun = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert "a: graded before with this seed (10/10)" in rerun.stdout
    assert [line.split(",")[:3] for line in (tmp_path / "out" / "grades.csv").read_text().splitlines()[1:]] == [
        ["a", "a", "10"], ["b", "b", "6"]]
