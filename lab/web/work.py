"""What the page does with the lab besides terminals: the exercises and their checks, and
captures. The same core as the CLI (``invoke exercise``, ``invoke check --json``, ``invoke
capture``, ``invoke flows``), called from the server's worker threads: each function here
blocks, on Docker or on a play.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.control import workspace
from lab.control.capture import Capture
from lab.control.lab import Lab
from lab.errors import RefusedError, ToolMissingError
from lab.harness import exercise as exercises
from lab.wire import pcap, pictures
from lab.wire.flows import ladder
from lab.wire.pcap import Packet


def lab_json(lab: Lab) -> dict[str, Any]:
    """Hosts with their LANs, addresses and state; the LANs with their subnets."""
    topo = lab.topology()
    states = {s.service: s.state for s in lab.status()}
    hosts = [{"name": h.name, "role": h.role, "lans": {lan: str(a) for lan, a in h.addresses.items()},
              "state": states.get(h.name, "missing")} for h in topo.hosts.values()]
    return {"lab": lab.name, "prefix": lab.running_prefix(), "workspace": str(lab.workspace() or ""),
            "lans": [{"name": lan.name, "subnet": str(lan.subnet)} for lan in topo.lans.values()], "hosts": hosts}


def topology_svg(lab: Lab) -> bytes:
    """The lab drawn by Graphviz; RefusedError(404) without `dot` (the page lists the hosts instead)."""
    from lab.report import draw  # matplotlib with it: 40 MiB the server needs only once a picture is asked for

    try:
        return draw.render_graph(draw.topology_graph(lab.topology()), "svg")
    except ToolMissingError as exc:
        raise RefusedError(404, str(exc)) from None


def exercise_list(work: Path) -> list[dict[str, Any]]:
    return [{"name": n, "roles": exercises.roles(n), "state": exercises.state(n, work)} for n in exercises.names()]


def start_exercise(work: Path, name: str) -> dict[str, Any]:
    """As `invoke exercise NAME`: the starters copied into work/NAME/, never over the student's."""
    copied, kept = workspace.copy_starters(exercises.starter(name), work, name)
    return {"exercise": name, "wrote": [f"{name}/{f}" for f in copied], "kept": [f"{name}/{f}" for f in kept]}


@dataclass
class Checks:
    """One check at a time per lab (two plays would share its hosts and ports); the last
    outcome's packets kept for its sequence diagram."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    packets: dict[str, list[Packet]] = field(default_factory=dict)
    keep: Callable[[str, dict[str, Any]], None] = lambda name, result: None  # told each result (`invoke serve`)

    def run(self, lab: Lab, name: str, say: Callable[[str], None]) -> dict[str, Any]:
        """The same JSON as `invoke check NAME --json`."""
        exercises.roles(name)  # an unknown exercise: 404 before anything runs
        if not self.lock.acquire(blocking=False):
            raise RefusedError(409, "a check is already running on this lab: wait for its result")
        try:
            outcome = exercises.check(lab, name, exercises.mounted(lab), say=say)
        finally:
            self.lock.release()
        self.packets[name] = list(outcome.stage.packets)
        result = outcome.as_json()
        self.keep(name, result)
        return result

    def sequence_svg(self, name: str) -> bytes:
        packets = self.packets.get(name)
        if not packets:
            raise RefusedError(404, f"no exchange recorded for {name}: run its check first")
        return sequence_svg(packets)


def sequence_svg(packets: list[Packet]) -> bytes:
    from lab.report import draw

    return draw.figure_bytes(draw.sequence_figure(pictures.diagram(packets)), "svg")


@dataclass
class Recording:
    id: str
    host: str
    bpf: str
    capture: Capture
    started: float
    packets: list[Packet] | None = None
    file: Path | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "host": self.host, "filter": self.bpf, "started": self.started,
                "running": self.packets is None, "packets": None if self.packets is None else len(self.packets),
                "file": self.file.name if self.file else None}


@dataclass
class Captures:
    """Captures started from the page, by id; each pcap saved under ``folder``."""

    folder: Path
    running: dict[str, Recording] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, lab: Lab, host: str, bpf: str = "") -> Recording:
        lab.topology().host(host)  # UnknownHostError for a name that is no host
        if len(bpf) > 500 or "\x00" in bpf:
            raise RefusedError(400, "a capture filter is at most 500 characters, without NUL")
        cap = Capture(lab, host, bpf).start()
        rec = Recording(uuid.uuid4().hex[:12], host, bpf, cap, time.time())
        with self.lock:
            self.running[rec.id] = rec
        return rec

    def get(self, cap_id: str) -> Recording:
        with self.lock:
            rec = self.running.get(cap_id)
        if rec is None:
            raise RefusedError(404, "no such capture")
        return rec

    def stop(self, lab: Lab, cap_id: str) -> dict[str, Any]:
        rec = self.get(cap_id)
        if rec.packets is None:
            data = rec.capture.stop()
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(rec.started))
            rec.file = rec.capture.save(self.folder / f"{lab.name}-{rec.host}-{stamp}-{rec.id[:4]}.pcap")
            rec.packets = pcap.parse(data, lab.topology().address_names())
        return {**rec.as_json(), "ladder": ladder(rec.packets)}

    def listing(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.as_json() for r in self.running.values()]

    def pcap_file(self, cap_id: str) -> Path:
        rec = self.get(cap_id)
        if rec.file is None:
            raise RefusedError(409, "the capture is still running: stop it first")
        return rec.file

    def stop_all(self) -> None:
        """At the server's end: no tcpdump left running on a host."""
        for rec in list(self.running.values()):
            if rec.packets is None and rec.capture.program is not None:
                rec.capture.program.stop()
