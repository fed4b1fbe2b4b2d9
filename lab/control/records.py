"""What the Engine tells of Docker, as socklab's own records (never docker SDK objects).

Plain frozen data: a host container, a lab network, an image. Anything above the Engine
reads these; tests build them by hand (tests/unit/fakes.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Labels Compose puts on what it makes, and the option every socklab LAN has.
PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NETWORK = "com.docker.compose.network"
CONFIG_FILES = "com.docker.compose.project.config_files"  # both Composes: the files it was started from
VERSION = "com.docker.compose.version"  # the Compose that made a container: 1.29.2, 2.40.3
ISOLATED = "com.docker.network.bridge.inhibit_ipv4"  # docs/topologies.md


@dataclass(frozen=True)
class Attachment:
    """A container's place on one Docker network."""

    address: str  # its IPv4 address there ("" if none)
    mac: str = ""
    address6: str = ""  # its global IPv6 address there ("" on an IPv4-only network)


@dataclass(frozen=True)
class Confinement:
    """What a container may do (its HostConfig): known only of an inspected container."""

    privileged: bool
    init: bool
    cap_add: tuple[str, ...]
    cap_drop: tuple[str, ...]
    pids_limit: int | None
    memory: int
    memory_swap: int
    nano_cpus: int


@dataclass(frozen=True)
class HostContainer:
    """A lab host's container. From a listing: no ``image`` digest nor ``confinement``, and
    ``finished_at`` empty; inspected: everything."""

    id: str
    name: str
    project: str  # the Compose project: the lab's name
    service: str  # the Compose service: the host's name ("" for a container Compose did not make)
    state: str  # running, exited, created, restarting, ...
    labels: Mapping[str, str] = field(default_factory=dict)
    networks: Mapping[str, Attachment] = field(default_factory=dict)  # by Docker network name
    mounts: Mapping[str, str] = field(default_factory=dict)  # destination -> source
    image: str = ""  # the image it was created from, as named then
    finished_at: str = ""  # when its previous run ended (Docker's time; "0001-..." never)
    confinement: Confinement | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"


@dataclass(frozen=True)
class LabNetwork:
    """A Docker network of a Compose project."""

    id: str
    name: str  # Docker's name: proj_lan_a
    project: str
    lan: str  # the name in the topology file: lan_a
    subnets: tuple[str, ...] = ()  # as Docker gives them: 10.201.1.0/24, fd00::/64
    isolated: bool = False  # socklab's LANs are (no masquerade, no host address)
    endpoints: Mapping[str, str] = field(default_factory=dict)  # container id -> endpoint name (inspected)


@dataclass(frozen=True)
class Image:
    id: str
    tags: tuple[str, ...]
