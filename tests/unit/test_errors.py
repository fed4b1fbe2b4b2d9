"""Clear, specific errors without a lab: Docker missing, bad names."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lab.control.lab import ROOT, Lab
from lab.errors import CaptureIncompleteError, InvalidLabNameError, LabNotRunningError, SubnetTakenError


def test_docker_unavailable_is_one_clear_line(tmp_path: object) -> None:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    done = subprocess.run([sys.executable, "-m", "invoke", "status"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("socklab: cannot reach the Docker engine"), done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["Alice", "a b", "-x", "", "x/y"])
def test_bad_lab_names(name: str) -> None:
    with pytest.raises(InvalidLabNameError, match="cannot name a lab"):
        Lab(engine=None, name=name)  # type: ignore[arg-type]


def test_messages_say_what_to_do() -> None:
    assert str(LabNotRunningError("socklab")) == "lab `socklab` is not running: run `invoke up`"
    assert "invoke up --name bob" in str(LabNotRunningError("bob"))
    assert "choose another --prefix" in str(SubnetTakenError("10.1.1.0/24", "x"))


def test_an_incomplete_capture_says_where_and_what_to_do() -> None:
    message = str(CaptureIncompleteError({"b1": 12, "srv": 3}))
    assert "12 on b1, 3 on srv dropped by the kernel" in message and "narrower filter" in message
