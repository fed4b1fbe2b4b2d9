"""The one small wrapper around the Docker engine (docker SDK).

Everything socklab asks of Docker goes through ``Engine``; containers and networks are
always found by Compose's project label, never by name, so Compose v1 (``proj_svc_1``)
and v2 (``proj-svc-1``) look the same.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.networks import Network

from lab.control.dockerexec import DockerChannel
from lab.control.sessions import ExecSession
from lab.control.wait import wait_until
from lab.errors import DockerError, DockerUnavailableError, LabError, NetworkKeptError, WaitTimeoutError

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NETWORK = "com.docker.compose.network"
CONFIG_FILES = "com.docker.compose.project.config_files"  # both Composes: the files it was started from
VERSION = "com.docker.compose.version"  # the Compose that made a container: 1.29.2, 2.40.3
ISOLATED = "com.docker.network.bridge.inhibit_ipv4"  # every socklab LAN has it (docs/topologies.md)
T = TypeVar("T")


class HasId(Protocol):
    @property
    def id(self) -> str: ...


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
    def local(self) -> bool:
        """Does the engine run on this machine (its unix socket)? Else its routes, disk and
        modules are another machine's, and a workspace must be a folder there."""
        return str(self.api.base_url).startswith("http+docker://localhost")

    # --- containers ------------------------------------------------------------------
    def containers(self, project: str, inspect: bool = True) -> list[Container]:
        """The project's containers, inspected; one removed meanwhile (another lab's `down`,
        a grading lab ending) is left out, not an error. ``inspect=False``: one listing, with
        ids, labels and state, nothing more."""
        listed = self.client.containers.list(all=True, sparse=True, filters={"label": f"{PROJECT}={project}"})
        if not inspect:
            return listed
        found = []
        for sparse in listed:
            try:
                found.append(self.client.containers.get(sparse.id))
            except docker.errors.NotFound:
                pass
        return found

    def lab_containers(self) -> list[Container]:
        """Every socklab host of every lab, in one listing (ids, labels, state, mounts; nothing
        inspected: a sparse listing keeps the labels in ``attrs["Labels"]``)."""
        return list(self.client.containers.list(all=True, sparse=True, filters={"label": ["socklab.role", PROJECT]}))

    def inspect(self, container_id: str) -> Container:
        return self.client.containers.get(container_id)

    def lab_networks(self) -> list[Network]:
        """Every lab's networks (a Compose project's, isolated as socklab's LANs are), in one
        listing: also those of a lab whose containers are gone."""
        return [n for n in self.client.networks.list(filters={"label": PROJECT})
                if (n.attrs.get("Options") or {}).get(ISOLATED) == "true"]

    def facts(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The engine's `docker version` and `docker info`."""
        return self.client.version(), self.client.info()

    def projects(self) -> set[str]:
        """Names of the Compose projects that are socklab labs: by their hosts, or by networks
        left without hosts (an interrupted `down`, a network Docker keeps)."""
        return {c.attrs["Labels"][PROJECT] for c in self.lab_containers()} | \
            {n.attrs["Labels"][PROJECT] for n in self.lab_networks()}

    def remove_containers(self, containers: Sequence[Container]) -> None:
        """Force-remove in parallel: hosts keep no state worth a graceful stop."""

        def remove(c: Container) -> None:
            try:
                c.remove(force=True, v=True)
            except docker.errors.NotFound:
                pass  # already gone: removal is idempotent
            except docker.errors.APIError as exc:
                if "already in progress" not in str(exc):
                    raise

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(remove, containers))

    def exec(self, container: Container, cmd: Sequence[str], user: str = "",
             environment: dict[str, str] | None = None) -> ExecResult:
        code, (out, err) = translated(lambda: container.exec_run(list(cmd), user=user, demux=True,
                                                                 environment=environment))
        return ExecResult(code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace"))

    def open_session(self, container: HasId | str, argv: Sequence[str], *, user: str = "", workdir: str = "",
                     env: Mapping[str, str] | None = None, tty: bool = False, label: str = "") -> ExecSession:
        """Start ``argv`` in ``container`` (a record, or an id) with its stdin, stdout and stderr
        attached (``tty``: on a pty, whose size ``resize`` sets): an ``ExecSession``."""
        cid = container if isinstance(container, str) else container.id
        exec_id = translated(lambda: self.api.exec_create(
            cid, list(argv), stdin=True, stdout=True, stderr=True, tty=tty, user=user, workdir=workdir or None,
            environment=dict(env) if env else None)["Id"])
        conn = translated(lambda: self.api.exec_start(exec_id, tty=tty, socket=True))
        return ExecSession(DockerChannel(self.api, exec_id, conn, tty, translated), tty=tty,
                           label=label or " ".join(argv))

    # --- networks --------------------------------------------------------------------
    def networks(self, project: str) -> list[Network]:
        return list(self.client.networks.list(filters={"label": f"{PROJECT}={project}"}))

    def remove_networks(self, networks: Sequence[Network], timeout: float = 15) -> None:
        """Remove each network. One whose containers are still being removed (by us a moment ago,
        or by another `down`) has "active endpoints" for a while: wait for them to go. An endpoint
        whose container is already gone is stale (Docker 20.10 can leave one behind when containers
        on a network are removed at once) and never goes by itself: disconnect it by force. (One
        it no longer lists cannot be disconnected at all: the caller hears of it.)"""

        def gone(net: Network) -> bool:
            try:
                net.remove()
            except docker.errors.NotFound:
                return True
            except docker.errors.APIError as exc:
                if "active endpoints" not in str(exc):
                    raise
                self.drop_stale_endpoints(net)
                return False
            return True

        for net in networks:
            try:
                wait_until(functools.partial(gone, net), timeout, f"network {net.name} to lose its last container",
                           interval=0.2)
            except WaitTimeoutError:
                attached = sorted(e.get("Name", "?") for e in (net.attrs.get("Containers") or {}).values())
                if not attached:
                    raise NetworkKeptError(net.name, timeout) from None
                raise LabError(f"network {net.name} still has containers attached after {timeout:g}s: "
                               f"{', '.join(attached)}") from None

    def drop_stale_endpoints(self, net: Network) -> list[str]:
        """Force-disconnect the endpoints of `net` whose container no longer exists; their names.
        (Docker finds a stale endpoint by its name, not by the gone container's id.)"""
        try:
            net.reload()
        except docker.errors.NotFound:
            return []
        dropped = []
        for cid, endpoint in (net.attrs.get("Containers") or {}).items():
            try:
                self.client.containers.get(cid)
                continue  # a real container, perhaps still being removed: it goes by itself
            except docker.errors.NotFound:
                pass
            try:
                net.disconnect(endpoint.get("Name") or cid, force=True)
                dropped.append(endpoint.get("Name") or cid)
            except docker.errors.APIError:
                pass  # gone meanwhile, or Docker cannot: the caller's timeout reports the network
        return dropped

    def subnets_in_use(self, exclude_project: str | None = None) -> dict[str, list[ipaddress.IPv4Network]]:
        """Every Docker network's IPv4 subnets, by network name (optionally not one project's)."""
        taken: dict[str, list[ipaddress.IPv4Network]] = {}
        for net in self.client.networks.list():
            attrs: dict[str, Any] = net.attrs
            if exclude_project and (attrs.get("Labels") or {}).get(PROJECT) == exclude_project:
                continue
            for cfg in (attrs.get("IPAM") or {}).get("Config") or []:
                try:
                    subnet = ipaddress.ip_network(cfg.get("Subnet", ""), strict=False)
                except ValueError:
                    continue
                if isinstance(subnet, ipaddress.IPv4Network):
                    taken.setdefault(net.name, []).append(subnet)
        return taken

    # --- images ----------------------------------------------------------------------
    def has_image(self, tag: str) -> bool:
        try:
            self.client.images.get(tag)
        except docker.errors.ImageNotFound:
            return False
        return True

    def pull(self, ref: str) -> None:
        repo, _, tag = ref.partition(":")
        self.client.images.pull(repo, tag=tag or "latest")

    def build(self, root: Path, dockerfile: str, tag: str, buildargs: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Build ``tag`` from the context ``root``: Docker's progress, one decoded chunk at a time."""
        yield from self.api.build(path=str(root), dockerfile=dockerfile, tag=tag, buildargs=buildargs, rm=True,
                                  forcerm=True, decode=True)

    def tag(self, image: str, repo: str, tag: str) -> None:
        self.client.images.get(image).tag(repo, tag)

    def remove_images(self, prefixes: tuple[str, ...]) -> list[str]:
        """Remove every image tag starting with one of ``prefixes``; the tags removed."""
        removed = []
        for image in self.client.images.list():
            for tag in image.tags:
                if tag.startswith(prefixes):
                    self.client.images.remove(tag, force=True)
                    removed.append(tag)
        return removed

    def follow_logs(self, container: Container) -> Iterator[bytes]:
        """A container's log, then every new line, until the caller stops reading (or Ctrl-C)."""
        yield from container.logs(stream=True, follow=True)


def _context_host() -> str | None:
    """The current `docker context`'s endpoint, unless it is the default (this machine's)."""
    try:
        context = docker.ContextAPI.get_current_context()
    except docker.errors.DockerException:
        return None
    return None if context is None or context.name == "default" else context.Host
