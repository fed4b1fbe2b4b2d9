"""The bad arguments only a lab can tell: a host it does not have, a lab that does not run.
Each task says so in one line and exits 1 (tests/unit/test_task_edges.py has the rest)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lab.control.lab import ROOT, Lab

pytestmark = pytest.mark.lab

NO_LAB = "nolab-edges"  # never started: a lab that does not run


def cases(lab: str) -> list[tuple[list[str], str]]:
    unknown = "`nosuch` is not a host of this lab; the hosts are: b1, b2, h1"
    not_running = f"lab `{NO_LAB}` is not running: run `invoke up --name {NO_LAB}`"
    return [
        (["shell", "nosuch", "--name", lab], unknown),
        (["shell", "", "--name", lab], "`` is not a host of this lab"),
        (["exec", "nosuch", "true", "--name", lab], unknown),
        (["logs", "--host", "nosuch", "--name", lab], unknown),
        (["capture", "nosuch", "--name", lab, "--seconds", "1"], unknown),
        (["impair", "nosuch", "--name", lab, "--loss", "5"], unknown),
        (["impair", "nosuch", "--name", lab, "--clear"], unknown),
        (["status", "--name", NO_LAB], not_running),
        (["shell", "h1", "--name", NO_LAB], not_running),
        (["exec", "h1", "true", "--name", NO_LAB], not_running),
        (["logs", "--name", NO_LAB], not_running),
        (["capture", "h1", "--name", NO_LAB, "--seconds", "1"], not_running),
        (["impair", "h1", "--name", NO_LAB, "--loss", "5"], not_running),
    ]


def test_unknown_hosts_and_labs_are_one_clear_line(lab: Lab) -> None:
    wrong = []
    for args, said in cases(lab.name):
        done = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=60, check=False, stdin=subprocess.DEVNULL)
        out = (done.stdout + done.stderr).strip()
        if done.returncode != 1 or "\n" in out or not out.startswith("socklab: ") or said not in out:
            wrong.append(f"invoke {' '.join(args)}: exit {done.returncode}, said:\n{out[-600:]}\n(wanted: {said})")
    assert not wrong, "\n\n".join(wrong)
    assert Lab(lab.engine, NO_LAB).containers() == {}, "no task started the lab it was wrongly given"
