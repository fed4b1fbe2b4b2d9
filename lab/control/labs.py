"""Every lab on an engine: the overview `invoke status --all` shows, and removing them
(`invoke down --all`, `clean`, grading's cleanup). A lab is found by its hosts or, when they
are gone, by its isolated LAN networks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lab.control import workspace
from lab.control.engine import Engine
from lab.control.lab import Lab, lab_prefix
from lab.control.records import CONFIG_FILES, VERSION, HostContainer
from lab.errors import LabError


def all_labs(engine: Engine) -> list[Lab]:
    return [Lab(engine, name) for name in sorted(engine.projects())]


def down_all(engine: Engine, wanted: Callable[[str], bool] = lambda _: True
             ) -> tuple[dict[str, tuple[int, int]], dict[str, LabError]]:
    """Remove every lab whose name is ``wanted``; one that cannot be removed does not keep the
    others. (Removed: name -> containers and networks; failed: name -> why.)"""
    removed: dict[str, tuple[int, int]] = {}
    failed: dict[str, LabError] = {}
    for lab in all_labs(engine):
        if wanted(lab.name):
            try:
                removed[lab.name] = lab.down()
            except LabError as exc:
                failed[lab.name] = exc
    return removed, failed


@dataclass(frozen=True)
class LabSummary:
    name: str
    running: int  # hosts running
    hosts: int  # hosts it has
    prefix: str  # its LAB_PREFIX ("" when it has no network left)
    topology: str  # the Compose file it was started from
    compose: str  # the Compose that made it (1.29.2, 2.40.3)
    workspace: str  # the folder mounted at /work


def overview(engine: Engine) -> list[LabSummary]:
    """Every lab on the engine, from one listing of containers and one of networks (thirty
    labs are two API calls, not two hundred)."""
    hosts: dict[str, list[HostContainer]] = {}
    for c in engine.lab_containers():
        hosts.setdefault(c.project, []).append(c)
    prefixes: dict[str, str] = {}
    for net in engine.lab_networks():
        project = net.project
        hosts.setdefault(project, [])  # a lab of networks only: shown, with no host
        prefixes.setdefault(project, lab_prefix(net) or "")
    out = []
    for name, found in sorted(hosts.items()):
        labels = found[0].labels if found else {}
        mounts = [c.mounts[workspace.MOUNT] for c in found if workspace.MOUNT in c.mounts]
        out.append(LabSummary(name, sum(c.running for c in found), len(found), prefixes.get(name, ""),
                              labels.get(CONFIG_FILES, "").split(",")[0], labels.get(VERSION, "?"),
                              mounts[0] if mounts else ""))
    return out
