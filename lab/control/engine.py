"""The one small wrapper around the Docker engine (docker SDK).

Everything socklab asks of Docker goes through ``Engine``; containers and networks are
always found by Compose's project label, never by name, so Compose v1 (``proj_svc_1``)
and v2 (``proj-svc-1``) look the same.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.networks import Network

from lab.errors import DockerUnavailableError

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NETWORK = "com.docker.compose.network"


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
        try:
            client = docker.from_env(timeout=120)
            client.ping()
        except docker.errors.DockerException as exc:
            raise DockerUnavailableError(str(exc).split("(")[0].strip() or type(exc).__name__) from None
        return cls(client)

    # --- containers ------------------------------------------------------------------
    def containers(self, project: str) -> list[Container]:
        return list(self.client.containers.list(all=True, filters={"label": f"{PROJECT}={project}"}))

    def projects(self) -> set[str]:
        """Names of the Compose projects that run a socklab lab."""
        found = self.client.containers.list(all=True, filters={"label": ["socklab.role", PROJECT]})
        return {c.labels[PROJECT] for c in found}

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
        code, (out, err) = container.exec_run(list(cmd), user=user, demux=True, environment=environment)
        return ExecResult(code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace"))

    # --- networks --------------------------------------------------------------------
    def networks(self, project: str) -> list[Network]:
        return list(self.client.networks.list(filters={"label": f"{PROJECT}={project}"}))

    def remove_networks(self, networks: Sequence[Network]) -> None:
        for net in networks:
            try:
                net.remove()
            except docker.errors.NotFound:
                pass

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
