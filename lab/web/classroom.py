"""A class's labs on one machine: each student's lab starts when they come, waits its turn
when the machine is full, and stops when they have gone quiet.

A student's lab is ``<prefix><student>`` (``class-alice``): deterministic, so a server started
again finds the labs that still run (``adopt``) instead of starting them twice. Everything
worth keeping is in the class's folder, not in the server::

    DIR/work/<student>/          the workspace, mounted at /work on every host of their lab
    DIR/recordings/<student>/    their terminal sessions (asciicast v2)
    DIR/captures/<student>/      their captures
    DIR/checks/<student>.json    the last result of each exercise's check (written by the server)

At most ``capacity`` labs run (or start) at once; whoever comes when it is full waits in a
queue, told their place and an estimate: when the labs ahead of them will have been idle long
enough to stop (if their students stay quiet), plus how long a lab takes to start here. A
lab with no request and no keystroke for ``idle`` seconds is stopped (``sweep``, which the
server calls now and then); its workspace and recordings stay, and the next visit starts it.

The labs themselves are behind ``Labs`` (Docker's in ``DockerLabs``; the unit tests give a
fake); starting and stopping run on worker threads, everything else under one lock.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lab.control import workspace
from lab.control.engine import Engine
from lab.control.lab import Lab
from lab.control.labs import overview
from lab.errors import LabError, RefusedError
from lab.web import routes, work

log = logging.getLogger(__name__)
STOPPED, QUEUED, STARTING, RUNNING, STOPPING, FAILED = "stopped", "queued", "starting", "running", "stopping", "failed"
FIRST_GUESS = 30.0  # seconds a lab takes to start, until one has been timed here
# Labs started at once: each start is a Compose process (about 47 MiB with v2); eight at once put
# the server with its children at 425 MiB (benchmarks/README.md, the class server under load).
STARTS_AT_ONCE = 4


class Labs(Protocol):
    def lab(self, student: str) -> Lab: ...

    def running(self) -> set[str]: ...  # students whose lab is up, from one listing

    def start(self, student: str, work: Path) -> None: ...

    def stop(self, student: str) -> None: ...


class DockerLabs:
    """Each student's lab on the engine, named ``prefix + student``, of the topology
    ``compose_file`` (default compose.yaml; a lab already running keeps its own)."""

    def __init__(self, engine: Engine, prefix: str = "class-", compose_file: Path | None = None) -> None:
        self.engine, self.prefix, self.compose_file = engine, prefix, compose_file

    def lab(self, student: str) -> Lab:
        return Lab(self.engine, self.prefix + student, self.compose_file)

    def running(self) -> set[str]:
        return {s.name.removeprefix(self.prefix) for s in overview(self.engine)
                if s.name.startswith(self.prefix) and s.hosts and s.running == s.hosts}

    def start(self, student: str, work: Path) -> None:
        self.lab(student).up(workspace_dir=work)

    def stop(self, student: str) -> None:
        self.lab(student).down()


@dataclass
class Place:
    """One student's corner of the class: their lab's state and what the page serves them."""

    student: str
    site: routes.Site
    state: str = STOPPED
    last: float = 0.0  # time of their last request or keystroke
    since: float = 0.0  # when the state began
    error: str = ""
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # exercise -> last result, in brief


class Classroom:
    def __init__(self, folder: Path, students: list[str], labs: Labs, capacity: int, idle: float,
                 clock: Callable[[], float] = time.time, starts_at_once: int = STARTS_AT_ONCE) -> None:
        self.folder, self.labs, self.capacity, self.idle, self.clock = folder, labs, capacity, idle, clock
        self.starting = threading.Semaphore(starts_at_once)  # the others wait, "starting" on their page
        self.lock = threading.RLock()
        self.queue: list[str] = []
        self.start_times: list[float] = []
        self.pool = ThreadPoolExecutor(max_workers=max(2, min(capacity, 8)), thread_name_prefix="class lab")
        self.places = {s: self._place(s) for s in students}

    def _place(self, student: str) -> Place:
        site = routes.Site(self.labs.lab(student), recordings=self.folder / "recordings" / student,
                           captures=work.Captures(self.folder / "captures" / student),
                           _work=workspace.prepare(self.folder / "work" / student))
        place = Place(student, site, last=self.clock(), since=self.clock())
        site.touch = lambda: self.touch(student)
        site.checks.keep = lambda name, result: self._keep(place, name, result)
        try:
            place.checks = json.loads(self._checks_file(student).read_text())
        except (OSError, ValueError):
            pass
        return place

    def _checks_file(self, student: str) -> Path:
        return self.folder / "checks" / f"{student}.json"

    def _keep(self, place: Place, exercise: str, result: dict[str, Any]) -> None:
        with self.lock:
            place.checks[exercise] = {"passed": bool(result.get("passed")), "summary": result.get("summary", ""),
                                      "at": self.clock()}
            data = json.dumps(place.checks, indent=1, ensure_ascii=False)
        path = self._checks_file(place.student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".new").write_text(data)
        path.with_suffix(".new").replace(path)

    def place(self, student: str) -> Place:
        found = self.places.get(student)
        if found is None:
            raise RefusedError(404, "not found")
        return found

    # --- the labs' lives ---------------------------------------------------------------
    def adopt(self) -> list[str]:
        """The roster's labs that already run (a server started again): running, fresh."""
        found = sorted(self.labs.running() & set(self.places))
        with self.lock:
            for student in found:
                self._set(self.places[student], RUNNING)
                self.places[student].last = self.clock()
        return found

    def touch(self, student: str) -> None:
        with self.lock:
            self.place(student).last = self.clock()

    def visit(self, student: str) -> Place:
        """The student is here: their lab starts, or queues, unless it runs or is on its way."""
        with self.lock:
            place = self.place(student)
            place.last = self.clock()
            if place.state in (STOPPED, FAILED) or (place.state == STOPPING and student not in self.queue):
                place.error = ""
                if place.state != STOPPING:
                    self._set(place, QUEUED)
                self.queue.append(student)
            self._pump()
            return place

    def _busy(self) -> int:
        return sum(p.state in (STARTING, RUNNING, STOPPING) for p in self.places.values())

    def _pump(self) -> None:
        """Start whoever is first in the queue while there is room."""
        while self.queue and self._busy() < self.capacity:
            place = self.places[self.queue.pop(0)]
            if place.state == STOPPING:  # still going: it is started again once stopped
                self.queue.insert(0, place.student)
                return
            self._set(place, STARTING)
            self.pool.submit(self._start, place)

    def _start(self, place: Place) -> None:
        try:
            with self.starting:
                began = time.monotonic()
                self.labs.start(place.student, place.site.workspace())
                took = time.monotonic() - began
        except Exception as exc:  # noqa: BLE001  (one student's lab failing is said on their page, not fatal)
            log.warning("lab of %s did not start: %s", place.student, exc)
            with self.lock:
                place.error = str(exc) if isinstance(exc, LabError) else f"internal error ({type(exc).__name__})"
                self._set(place, FAILED)
                self._pump()
            return
        with self.lock:
            self.start_times.append(took)
            self._set(place, RUNNING)
            place.last = self.clock()
            self._pump()

    def sweep(self) -> list[str]:
        """Stop every lab idle for longer than ``idle`` seconds; the students whose lab stops."""
        now = self.clock()
        with self.lock:
            quiet = [p for p in self.places.values() if p.state == RUNNING and now - p.last >= self.idle]
            for place in quiet:
                self._set(place, STOPPING)
        for place in quiet:
            self.pool.submit(self._stop, place)
        return [p.student for p in quiet]

    def _stop(self, place: Place) -> None:
        try:
            place.site.captures.stop_all()
            self.labs.stop(place.student)
        except Exception as exc:  # noqa: BLE001  (said on the instructor's page)
            log.warning("lab of %s did not stop: %s", place.student, exc)
            place.error = f"stopping: {exc}"
        with self.lock:
            self._set(place, STOPPED)
            if place.student in self.queue:  # came back while it stopped
                self._set(place, QUEUED)
            self._pump()

    def _set(self, place: Place, state: str) -> None:
        place.state, place.since = state, self.clock()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)

    # --- what the pages show -----------------------------------------------------------
    def start_estimate(self) -> float:
        times = self.start_times[-10:]
        return sum(times) / len(times) if times else FIRST_GUESS

    def state_json(self, student: str) -> dict[str, Any]:
        """Their lab's state; in the queue, their place and the estimated wait (seconds)."""
        with self.lock:
            place = self.place(student)
            out: dict[str, Any] = {"student": student, "state": place.state, "error": place.error}
            if student in self.queue and place.state == QUEUED:
                position = self.queue.index(student) + 1
                out["position"] = position
                out["estimate"] = self._wait(position)
            return out

    def _wait(self, position: int) -> float | None:
        """Seconds until the ``position``-th in the queue has a lab, if every lab ahead stays
        quiet: when that many labs reach their idle limit, plus a start. None: no lab runs whose
        end could be foreseen (one is failing or stopping: the next sweep says)."""
        now, start = self.clock(), self.start_estimate()
        ends = sorted(max(0.0, p.last + self.idle - now) + (start if p.state == STARTING else 0.0)
                      for p in self.places.values() if p.state in (RUNNING, STARTING))
        free = self.capacity - self._busy()
        if position <= free:
            return round(start, 1)
        ahead = position - free
        return round(ends[ahead - 1] + start, 1) if ahead <= len(ends) else None

    def overview(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"student": p.student, "state": p.state, "since": p.since, "last": p.last, "error": p.error,
                     "checks": dict(p.checks)} for p in self.places.values()]
