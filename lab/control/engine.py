"""The one door to the Docker engine (docker SDK).

Everything socklab asks of Docker goes through ``Engine``: it answers with socklab's records
(lab/control/records.py), runs interactive commands as ``ExecSession``s, and turns every
docker SDK error into ``DockerError`` (``translated``). Only this module and its helper
dockerio.py import ``docker`` (tests/unit/test_layers.py checks). Compose runs as a command
(compose.py); what it made is read back here. Containers and networks are always found by
Compose's project label, never by name, so Compose v1 (``proj_svc_1``) and v2
(``proj-svc-1``) look the same.
"""

from __future__ import annotations

import functools
import io
import ipaddress
import os
import tarfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import docker
import docker.errors

from lab.control import dockerio
from lab.control.agents import Agents
from lab.control.dockerio import DockerChannel
from lab.control.records import PROJECT, HostContainer, Image, LabNetwork
from lab.control.sessions import ExecSession
from lab.control.wait import wait_until
from lab.errors import DockerError, DockerUnavailableError, LabError, NetworkKeptError, WaitTimeoutError

T = TypeVar("T")


def translated(call: Callable[[], T]) -> T:
    """``call()``, with a docker SDK error turned into socklab's DockerError: the one place
    where Docker's exceptions become socklab's."""
    try:
        return call()
    except docker.errors.APIError as exc:
        raise DockerError(str(exc.explanation or exc), exc.status_code) from exc
    except docker.errors.DockerException as exc:
        raise DockerError(str(exc)) from exc


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Engine:
    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self.api = client.api
        # commands run to their end go through a helper on each host (lab.control.agents)
        self.agents = Agents(lambda cid, argv: self.open_session(cid, argv, label=f"agent on {cid[:12]}"))

    @classmethod
    def connect(cls) -> Engine:
        """The engine DOCKER_HOST names (unix://, tcp://, ssh://), else the current `docker
        context`'s, else this machine's: the one the docker CLI and Compose v2 use too."""
        try:
            where = None if os.environ.get("DOCKER_HOST") else _context_host()
            client = docker.DockerClient(base_url=where, timeout=120) if where else docker.from_env(timeout=120)
            client.ping()
        except docker.errors.DockerException as exc:
            raise DockerUnavailableError(str(exc).split("(")[0].strip() or type(exc).__name__) from None
        return cls(client)

    @property
    def url(self) -> str:
        return str(self.api.base_url)

    @property
    def local(self) -> bool:
        """Does the engine run on this machine (its unix socket)? Else its routes, disk and
        modules are another machine's, and a workspace must be a folder there."""
        return self.url.startswith("http+docker://localhost")

    # --- containers ------------------------------------------------------------------
    def containers(self, project: str, inspect: bool = True) -> list[HostContainer]:
        """The project's containers, inspected; one removed meanwhile (another lab's `down`,
        a grading lab ending) is left out, not an error. ``inspect=False``: one listing, with
        ids, labels, state, networks and mounts, nothing more."""
        listed = translated(lambda: self.api.containers(all=True, filters={"label": f"{PROJECT}={project}"}))
        if not inspect:
            return [dockerio.host_container(d) for d in listed]
        found = []
        for d in listed:
            try:
                found.append(self.inspect(d["Id"]))
            except DockerError as exc:
                if not exc.gone:
                    raise
        return found

    def lab_containers(self) -> list[HostContainer]:
        """Every socklab host of every lab, in one listing (nothing inspected)."""
        listed = translated(lambda: self.api.containers(all=True, filters={"label": ["socklab.role", PROJECT]}))
        return [dockerio.host_container(d) for d in listed]

    def inspect(self, container_id: str) -> HostContainer:
        return dockerio.host_container(translated(lambda: self.api.inspect_container(container_id)))

    def lab_networks(self) -> list[LabNetwork]:
        """Every lab's networks (a Compose project's, isolated as socklab's LANs are), in one
        listing: also those of a lab whose containers are gone."""
        return [n for n in self._networks({"label": PROJECT}) if n.isolated]

    def facts(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The engine's `docker version` and `docker info`."""
        return translated(self.api.version), translated(self.api.info)

    def projects(self) -> set[str]:
        """Names of the Compose projects that are socklab labs: by their hosts, or by networks
        left without hosts (an interrupted `down`, a network Docker keeps)."""
        return {c.project for c in self.lab_containers()} | {n.project for n in self.lab_networks()}

    def remove_containers(self, containers: Sequence[HostContainer]) -> None:
        """Force-remove in parallel: hosts keep no state worth a graceful stop."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self._remove_container, containers))

    def _remove_container(self, c: HostContainer) -> None:
        self.agents.forget(c.id)
        try:
            translated(lambda: self.api.remove_container(c.id, v=True, force=True))
        except DockerError as exc:
            if not exc.gone and "already in progress" not in str(exc):  # gone: removal is idempotent
                raise

    def remove_project(self, containers: Sequence[HostContainer], networks: Sequence[LabNetwork]) -> None:
        """Remove ``containers`` in parallel, and each network as soon as the containers listed on
        it are gone (Docker removes networks one at a time: the first starts while the other
        LAN's hosts are still going)."""
        with ThreadPoolExecutor(max_workers=len(containers) + len(networks) or 1) as pool:
            # Every container is queued before any network: a network's wait never holds a
            # worker that one of its containers needs.
            removing = {c.id: pool.submit(self._remove_container, c) for c in containers}

            def after_its_hosts(net: LabNetwork) -> None:
                for c in containers:
                    if net.name in c.networks:
                        removing[c.id].result()
                self._remove_network(net)

            for done in [*removing.values(), *(pool.submit(after_its_hosts, n) for n in networks)]:
                done.result()

    def kill(self, container: HostContainer) -> None:
        translated(lambda: self.api.kill(container.id))

    def exec(self, container: HostContainer, cmd: Sequence[str], user: str = "",
             environment: dict[str, str] | None = None) -> ExecResult:
        """Run ``cmd`` to its end, as the host's default user, through the host's agent
        (lab.control.agents); with an exec of its own as ``user``, with ``environment``, or
        where no agent answers."""
        answer = None if user or environment else self.agents.run(container.id, cmd)
        if answer is not None:
            code, out, err = answer
            return ExecResult(code, out.decode(errors="replace"), err.decode(errors="replace"))

        def run() -> ExecResult:
            exec_id = self.api.exec_create(container.id, list(cmd), user=user, environment=environment)["Id"]
            out, err = self.api.exec_start(exec_id, demux=True)
            code = self.api.exec_inspect(exec_id)["ExitCode"]
            return ExecResult(code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace"))

        return translated(run)

    def open_session(self, container: HostContainer | str, argv: Sequence[str], *, user: str = "", workdir: str = "",
                     env: Mapping[str, str] | None = None, tty: bool = False, label: str = "",
                     pump: bool = True) -> ExecSession:
        """Start ``argv`` in ``container`` (a record, or an id) with its stdin, stdout and stderr
        attached (``tty``: on a pty, whose size ``resize`` sets): an ``ExecSession`` (``pump``: see there)."""
        cid = container if isinstance(container, str) else container.id
        exec_id = translated(lambda: self.api.exec_create(
            cid, list(argv), stdin=True, stdout=True, stderr=True, tty=tty, user=user, workdir=workdir or None,
            environment=dict(env) if env else None)["Id"])
        conn = translated(lambda: self.api.exec_start(exec_id, tty=tty, socket=True))
        return ExecSession(DockerChannel(self.api, exec_id, conn, tty, translated), tty=tty,
                           label=label or " ".join(argv), pump=pump)

    def memory_used(self, container: HostContainer) -> int:
        """Bytes of memory the container uses now, its page cache of files not in use aside."""
        mem = translated(lambda: self.api.stats(container.id, stream=False))["memory_stats"]
        return int(mem.get("usage", 0) - mem.get("stats", {}).get("inactive_file", 0))

    def read_file(self, container: HostContainer, path: str) -> bytes:
        """The content of the file ``path`` in ``container`` (as `docker cp` copies it)."""
        stream, _ = translated(lambda: self.api.get_archive(container.id, path))
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.next()
            extracted = tar.extractfile(member) if member else None
            return extracted.read() if extracted else b""

    def logs(self, container_id: str, since: float | None = None) -> bytes:
        """A container's log (``since``: only what it printed from that Unix time on)."""
        return translated(lambda: self.api.logs(container_id, since=since))

    def follow_logs(self, container_id: str) -> Iterator[bytes]:
        """A container's log, then every new line, until the caller stops reading (or Ctrl-C)."""
        yield from translated(lambda: self.api.logs(container_id, stream=True, follow=True))

    # --- networks --------------------------------------------------------------------
    def _networks(self, filters: dict[str, Any] | None = None) -> list[LabNetwork]:
        return [dockerio.lab_network(d) for d in translated(lambda: self.api.networks(filters=filters))]

    def networks(self, project: str) -> list[LabNetwork]:
        return self._networks({"label": f"{PROJECT}={project}"})

    def remove_networks(self, networks: Sequence[LabNetwork], timeout: float = 15) -> None:
        """Remove each network, at once (each takes Docker ~0.15 s): see ``_remove_network``."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(functools.partial(self._remove_network, timeout=timeout), networks))

    def _remove_network(self, net: LabNetwork, timeout: float = 15) -> None:
        """Remove a network. One whose containers are still being removed (by us a moment ago,
        or by another `down`) has "active endpoints" for a while: wait for them to go. An endpoint
        whose container is already gone is stale (Docker 20.10 can leave one behind when containers
        on a network are removed at once) and never goes by itself: disconnect it by force. (One
        it no longer lists cannot be disconnected at all: the caller hears of it.)"""

        def gone() -> bool:
            try:
                translated(lambda: self.api.remove_network(net.id))
            except DockerError as exc:
                if exc.gone:
                    return True
                if "active endpoints" not in str(exc):
                    raise
                self.drop_stale_endpoints(net)
                return False
            return True

        try:
            wait_until(gone, timeout, f"network {net.name} to lose its last container", interval=0.2)
        except WaitTimeoutError:
            attached = sorted(net.endpoints.values())
            if not attached:
                raise NetworkKeptError(net.name, timeout) from None
            raise LabError(f"network {net.name} still has containers attached after {timeout:g}s: "
                           f"{', '.join(attached)}") from None

    def drop_stale_endpoints(self, net: LabNetwork) -> list[str]:
        """Force-disconnect the endpoints of `net` whose container no longer exists; their names.
        (Docker finds a stale endpoint by its name, not by the gone container's id.)"""
        try:
            now = dockerio.lab_network(translated(lambda: self.api.inspect_network(net.id)))
        except DockerError as exc:
            if exc.gone:
                return []
            raise
        dropped = []
        for cid, name in now.endpoints.items():
            try:
                self.inspect(cid)
                continue  # a real container, perhaps still being removed: it goes by itself
            except DockerError as exc:
                if not exc.gone:
                    raise
            try:
                translated(lambda: self.api.disconnect_container_from_network(name, net.id, force=True))  # noqa: B023
                dropped.append(name)
            except DockerError:
                pass  # gone meanwhile, or Docker cannot: the caller's timeout reports the network
        return dropped

    def subnets_in_use(self, exclude_project: str | None = None) -> dict[str, list[ipaddress.IPv4Network]]:
        """Every Docker network's IPv4 subnets, by network name (optionally not one project's)."""
        taken: dict[str, list[ipaddress.IPv4Network]] = {}
        for net in self._networks():
            if exclude_project and net.project == exclude_project:
                continue
            for cidr in net.subnets:
                try:
                    subnet = ipaddress.ip_network(cidr, strict=False)
                except ValueError:
                    continue
                if isinstance(subnet, ipaddress.IPv4Network):
                    taken.setdefault(net.name, []).append(subnet)
        return taken

    # --- images ----------------------------------------------------------------------
    def image(self, tag: str) -> Image | None:
        try:
            return dockerio.image(translated(lambda: self.api.inspect_image(tag)))
        except DockerError as exc:
            if exc.gone:
                return None
            raise

    def has_image(self, tag: str) -> bool:
        return self.image(tag) is not None

    def pull(self, ref: str) -> None:
        repo, _, tag = ref.partition(":")
        translated(lambda: self.api.pull(repo, tag=tag or "latest"))

    def build(self, root: Path, dockerfile: str, tag: str, buildargs: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Build ``tag`` from the context ``root``: Docker's progress, one decoded chunk at a time."""
        chunks = translated(lambda: self.api.build(path=str(root), dockerfile=dockerfile, tag=tag, buildargs=buildargs,
                                                   rm=True, forcerm=True, decode=True))
        while (chunk := translated(lambda: next(chunks, None))) is not None:
            yield chunk

    def tag(self, image: str, repo: str, tag: str) -> None:
        translated(lambda: self.api.tag(image, repo, tag))

    def remove_images(self, prefixes: tuple[str, ...]) -> list[str]:
        """Remove every image tag starting with one of ``prefixes``; the tags removed."""
        removed = []
        for found in translated(self.api.images):
            for tag in dockerio.image(found).tags:
                if tag.startswith(prefixes):
                    translated(lambda: self.api.remove_image(tag, force=True))  # noqa: B023
                    removed.append(tag)
        return removed


def _context_host() -> str | None:
    """The current `docker context`'s endpoint, unless it is the default (this machine's)."""
    try:
        context = docker.ContextAPI.get_current_context()
    except docker.errors.DockerException:
        return None
    return None if context is None or context.name == "default" else context.Host
