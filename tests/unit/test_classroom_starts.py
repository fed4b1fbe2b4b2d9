"""The class server starts a bounded number of labs at once: each start is a Compose process
(about 47 MiB with v2), so the server with its children stays within its memory target
(benchmarks/README.md, the class server under load)."""

from __future__ import annotations

import threading
from pathlib import Path

from lab.control.wait import wait_until
from lab.web.classroom import RUNNING, STARTING, Classroom
from tests.unit.test_serve import FakeLabs

STUDENTS = [f"s{i}" for i in range(6)]


class CountingLabs(FakeLabs):
    """FakeLabs that count the starts under way, and the most at once."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = self.most = 0
        self.lock = threading.Lock()

    def start(self, student: str, work: Path) -> None:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            super().start(student, work)
        finally:
            with self.lock:
                self.inside -= 1


def test_at_most_starts_at_once_labs_start_together_and_the_rest_follow(tmp_path: Path) -> None:
    labs = CountingLabs()
    labs.gate.clear()  # every start waits here until the test opens it
    room = Classroom(tmp_path, STUDENTS, labs, capacity=6, idle=600, starts_at_once=2)
    for student in STUDENTS:
        room.visit(student)
    wait_until(lambda: labs.inside == 2, 5, "two labs starting")
    assert all(room.place(s).state == STARTING for s in STUDENTS)  # none queued: there is room for all six
    labs.gate.set()
    wait_until(lambda: all(room.place(s).state == RUNNING for s in STUDENTS), 5, "every lab to run")
    assert labs.most == 2 and len(room.start_times) == 6
    room.close()
