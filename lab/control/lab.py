"""A lab: one Compose project of socklab hosts, and everything done to it.

``Lab`` is passed around explicitly (no module state). It builds and starts the lab,
waits until every host has configured its network and said so, reports status, runs
commands on hosts, and removes exactly this project's containers and networks.
"""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from lab.control import compose, images, subnets, topology, workspace
from lab.control.compose import Compose
from lab.control.defaults import COMPOSE_FILE, DEFAULT_NAME, DEFAULT_WORKSPACE, ROOT
from lab.control.engine import Engine, ExecResult
from lab.control.records import CONFIG_FILES, VERSION, HostContainer, LabNetwork
from lab.control.sessions import ExecSession
from lab.control.topology import Topology
from lab.control.wait import wait_until
from lab.errors import (
    CommandFailedError,
    ComposeError,
    DockerError,
    HostNotRunningError,
    InvalidLabNameError,
    LabConflictError,
    LabError,
    LabNotRunningError,
    SubnetTakenError,
)

READY = "socklab: ready"
ATTEMPTS = 8  # subnet choices when other labs, started at the same moment, take ours
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
T = TypeVar("T")


def check_name(name: str) -> str:
    """A lab's name is its Compose project's: lowercase letters, digits, '-' and '_'."""
    if not _NAME.match(name):
        raise InvalidLabNameError(name)
    return name


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class HostStatus:
    service: str
    role: str
    container: str
    state: str
    networks: dict[str, str]  # LAN name -> address
    networks6: dict[str, str] = field(default_factory=dict)  # LAN name -> IPv6 address (dual-stack LANs)


class Lab:
    def __init__(self, engine: Engine, name: str = DEFAULT_NAME, compose_file: Path | None = None,
                 root: Path = ROOT) -> None:
        """``compose_file``: the topology to start (`up`); by default the one the lab runs, else
        compose.yaml."""
        check_name(name)
        self.engine = engine
        self.name = name
        self._compose_file = compose_file
        self.root = root
        self._topology: Topology | None = None  # read once; `up` and `down` read it afresh
        self._containers: dict[str, HostContainer] | None = None  # by host; re-listed when one is stale

    def __repr__(self) -> str:
        return f"Lab({self.name!r})"

    # --- what is there ---------------------------------------------------------------
    @property
    def compose_file(self) -> Path:
        if self._compose_file is None:
            self._compose_file = self.started_from() or COMPOSE_FILE
        return self._compose_file

    def started_from(self) -> Path | None:
        """The topology file the running lab was started from (Compose labels its containers)."""
        for c in self.engine.containers(self.name, inspect=False):
            files = c.labels.get(CONFIG_FILES)
            if files:
                return Path(files.split(",")[0])
        return None

    def running_prefix(self) -> str | None:
        """The LAB_PREFIX the existing project's networks were made with, if any."""
        return next(filter(None, (lab_prefix(net) for net in self.engine.networks(self.name))), None)

    def topology(self) -> Topology:
        """The lab as it runs: hosts, roles, and addresses from the prefix its networks were made
        with (the default prefix when it is not running). One Docker query and one parse per Lab:
        ``up`` and ``down`` replace it."""
        if self._topology is None:
            prefix = self.running_prefix() or subnets.DEFAULT_PREFIX
            self._topology = topology.load(self.compose_file, {"LAB_PREFIX": prefix})
        return self._topology

    def containers(self) -> dict[str, HostContainer]:
        return {c.service: c for c in self.engine.containers(self.name) if c.service}

    def listed(self) -> dict[str, HostContainer]:
        """The lab's containers by host, from one listing (labels, state, networks and mounts;
        not inspected)."""
        return {c.service: c for c in self.engine.containers(self.name, inspect=False) if c.service}

    def is_up(self) -> bool:
        found = self.listed()
        expected = self.topology().hosts
        return set(found) >= set(expected) and all(found[h].running for h in expected)

    def container(self, host: str, fresh: bool = False) -> HostContainer:
        """The running container of ``host``, from a listing kept between calls (``fresh``: list
        again; a command that meets a stale one does, see ``on_host``)."""
        self.topology().host(host)  # UnknownHostError, listing the valid names
        kept = (self._containers or {}).get(host)
        if fresh or kept is None or not kept.running:  # what was down may be back: look again
            self._containers = self.containers()
        found = self._containers
        if not found:
            raise LabNotRunningError(self.name)
        if host not in found:
            raise HostNotRunningError(self.name, host, "missing")
        container = found[host]
        if not container.running:
            raise HostNotRunningError(self.name, host, container.state)
        return container

    def on_host(self, host: str, action: Callable[[HostContainer], T]) -> T:
        """``action(container)``; a container that stopped or was replaced since it was listed
        is listed again, once (HostNotRunningError if the host is really down)."""
        try:
            return action(self.container(host))
        except DockerError as exc:
            if exc.status not in (404, 409):  # 409: "container ... is not running"
                raise
        return action(self.container(host, fresh=True))

    def status(self) -> list[HostStatus]:
        nets = {n.name: n.lan for n in self.engine.networks(self.name)}
        roles = {h.name: h.role for h in self.topology().hosts.values()}
        rows = []
        for service, c in sorted(self.listed().items()):
            rows.append(HostStatus(
                service=service, role=roles.get(service, "?"), container=c.name, state=c.state,
                networks={nets.get(k, k): v.address for k, v in sorted(c.networks.items())},
                networks6={nets.get(k, k): v.address6 for k, v in sorted(c.networks.items()) if v.address6},
            ))
        return rows

    def status_json(self) -> dict[str, Any]:
        return {"lab": self.name, "prefix": self.running_prefix(),
                "hosts": [asdict(s) for s in self.status()]}

    # --- lifecycle -------------------------------------------------------------------
    def build(self, force: bool = False, say: Callable[[str], None] = _quiet) -> str:
        return images.ensure_host(self.engine, self.root, say, force=force)

    def built(self) -> bool:
        """Is the host image of this tree here already (`build` would do nothing)?"""
        return self.engine.has_image(images.host_tag(self.root))

    def workspace(self) -> Path | None:
        """The folder the running lab mounts at /work (None if no host runs)."""
        for c in self.listed().values():
            if workspace.MOUNT in c.mounts:
                return Path(c.mounts[workspace.MOUNT])
        return None

    def up(self, prefix: str | None = None, timeout: float = 90,
           say: Callable[[str], None] = _quiet, workspace_dir: Path | None = None,
           read_only: bool = False) -> Topology:
        """Build if needed, start (or repair) the lab, and return once every host is ready.

        ``workspace_dir`` is mounted at /work on every host (default: the one the lab
        already mounts, else ``work/``), ``read_only`` for grading."""
        tag = self.build(say=say)
        running = self.running_prefix()
        if running and prefix and prefix != running:
            raise LabConflictError(self.name, f"runs on {running}.x.x")
        started = self.started_from()
        if started and started.resolve() != self.compose_file.resolve():
            raise LabConflictError(self.name, f"runs the topology {started}")
        mounted = self.workspace()
        work = workspace.prepare(workspace_dir or mounted or DEFAULT_WORKSPACE)
        if mounted and work != mounted:
            raise LabConflictError(self.name, f"mounts the workspace {mounted}")
        lost: dict[str, list[ipaddress.IPv4Network]] = {}  # prefixes another lab took as we tried
        for attempt in range(ATTEMPTS):
            if running and self.made_by_the_other_compose(tag):
                # Up already, from this image: the other Compose (v1 after v2) would find its
                # own config hash missing and recreate every host. (The same Compose is asked:
                # it changes what the topology file changed, and nothing else.)
                topo = topology.load(self.compose_file, {"LAB_PREFIX": running})
                break
            taken = {**self.engine.subnets_in_use(exclude_project=self.name), **lost,
                     **(subnets.machine_routes() if self.engine.local else {})}
            chosen = running or subnets.choose_prefix(self.compose_file, taken, prefix,
                                                      spread=random.Random() if attempt else None)
            topo = topology.load(self.compose_file, {"LAB_PREFIX": chosen})
            compose = Compose(self.compose_file, self.name,
                              {"LAB_PREFIX": chosen, "LAB_HOST_IMAGE": tag, "LAB_WORKSPACE": str(work),
                               "LAB_WORKSPACE_MODE": "ro" if read_only else "rw",
                               "LAB_PREFIX6": topology.ula_prefix(chosen)})
            try:
                compose.up()
                break
            except ComposeError as exc:
                if "overlaps" not in exc.output:
                    raise
                # Another lab took the subnet between our check and Compose's create (labs
                # started at once): choose again, another one, unless the prefix was the user's.
                if running or prefix or attempt == ATTEMPTS - 1:
                    raise SubnetTakenError(f"{chosen}.x.x", "(created concurrently)") from None
                lost[f"(taken as we tried {chosen})"] = subnets.lab_subnets(self.compose_file, chosen)
                self.engine.remove_networks(self.engine.networks(self.name))
        self._topology, self._containers = topo, None
        self.wait_ready(topo, timeout)
        self.install_routes(topo)
        return topo

    def made_by_the_other_compose(self, tag: str) -> bool:
        """Every host runs from the image ``tag``, made by the Compose we would not use now."""
        found = self.containers().values()
        ours = compose.major()
        return self.is_up() and all(c.image == tag and
                                    not c.labels.get(VERSION, "").startswith(f"{ours}.") for c in found)

    def install_routes(self, topo: Topology) -> None:
        """Each host's static routes to LANs beyond its gateway (several routers), IPv4 and IPv6,
        from the topology."""
        for host in topo.hosts:
            lines = [f"ip route replace {r.subnet} via {r.via}" for r in topo.static_routes(host)]
            lines += [f"ip -6 route replace {r.subnet6} via {r.via6}" for r in topo.static_routes6(host)]
            if lines:
                self.exec(host, ["sh", "-ec", "; ".join(lines)], check=True)

    def wait_ready(self, topo: Topology, timeout: float = 90) -> None:
        """Every host is running and has said READY in its current run.

        Each round lists the lab's containers once and reads the logs of only those not seen
        ready yet (all at once), less often as the wait goes on: thirty labs starting at once do
        not ask Docker for every host's logs fifty times a second. (The first pauses are short:
        under Compose v2 the last hosts say READY a few tenths after `up` returns, and each round
        waited too long is time `invoke up` adds to Compose's.)"""
        seen: set[str] = set()  # containers (ids) that said READY

        def said_ready(container_id: str) -> bool:
            return _ready(self.engine, self.engine.inspect(container_id))

        def all_ready() -> bool:
            listed = self.listed()
            pending = [h for h in topo.hosts if h not in listed or not listed[h].running]
            unseen = [listed[h].id for h in topo.hosts if h not in pending and listed[h].id not in seen]
            if unseen:
                with ThreadPoolExecutor(max_workers=len(unseen)) as pool:  # each is two calls: at once
                    seen.update(i for i, ready in zip(unseen, pool.map(said_ready, unseen), strict=True) if ready)
            pending += [h for h in topo.hosts if h not in pending and listed[h].id not in seen]
            if pending:
                raise LabError(f"not ready: {', '.join(sorted(pending))}")  # reported if time runs out
            return True

        wait_until(all_ready, timeout, f"lab `{self.name}` hosts to be ready", interval=0.02, backoff=1.15)

    def down(self) -> tuple[int, int]:
        """Remove this lab's containers, then its networks. Safe to run twice."""
        self._topology, self._containers = None, None
        containers = self.engine.containers(self.name, inspect=False)  # ids and networks: enough to remove
        networks = self.engine.networks(self.name)
        self.engine.remove_project(containers, networks)
        return len(containers), len(networks)

    # --- commands on hosts -----------------------------------------------------------
    def exec(self, host: str, cmd: Sequence[str], user: str = "", check: bool = False,
             prints: bool = False) -> ExecResult:
        """Run ``cmd`` on ``host`` to its end. ``prints``: the command always prints when it
        succeeds (sha256sum, date, cat): an empty answer with status 0 is Docker losing a quick
        exec's output, which it now and then does under load (moby#27289), so it is asked again,
        twice at most. Only for commands that read, never for ones that change anything."""
        for _ in range(3):
            result = self.on_host(host, lambda container: self.engine.exec(container, cmd, user=user))
            if not (prints and result.exit_code == 0 and not result.stdout):
                break
        if check and result.exit_code != 0:
            raise CommandFailedError(host, list(cmd), result.exit_code, result.output)
        return result

    def open_session(self, host: str, argv: Sequence[str], *, user: str = "", workdir: str = "",
                     env: dict[str, str] | None = None, tty: bool = False, label: str = "",
                     pump: bool = True) -> ExecSession:
        """Start ``argv`` on ``host`` with its stdin and output attached (see ``ExecSession``)."""
        return self.on_host(host, lambda container: self.engine.open_session(
            container, argv, user=user, workdir=workdir, env=env, tty=tty, label=label, pump=pump))


def _ready(engine: Engine, container: HostContainer) -> bool:
    """Running, and READY logged since the previous run ended.

    Not "since StartedAt": a host can print before Docker records its start. Every line of
    an earlier run precedes that run's FinishedAt, which stays zero until a first stop.
    """
    if not container.running:
        return False
    finished = container.finished_at
    since = None if finished.startswith("0001-") or not finished else _timestamp(finished)
    return READY.encode() in engine.logs(container.id, since=since)


def _timestamp(docker_time: str) -> float:
    # Docker gives nanoseconds ("...:05.123456789Z"); datetime takes microseconds.
    head, _, frac = docker_time.rstrip("Z").partition(".")
    stamp = datetime.fromisoformat(head + "+00:00").timestamp()
    return stamp + float("0." + (frac or "0")[:6])


def lab_prefix(net: LabNetwork) -> str | None:
    """The LAB_PREFIX a lab network was made with (from its IPv4 subnet)."""
    for cidr in net.subnets:
        subnet = ipaddress.ip_network(cidr, strict=False)
        if isinstance(subnet, ipaddress.IPv4Network):
            return subnets.prefix_of(subnet)
    return None
