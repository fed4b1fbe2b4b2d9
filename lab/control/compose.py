"""Running Compose, v2 (``docker compose``) or v1 (``docker-compose`` 1.29), alike.

Only ``up`` goes through Compose: it is the user-facing definition of the lab. Everything
that reads or removes a lab uses the engine and the project label, which both versions set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lab.errors import ComposeError, ComposeNotFoundError

#: Where the docker CLI looks for its plugins (docs.docker.com, "CLI plugins"): finding the
#: Compose plugin here spares a `docker compose version` (a tenth of a second) on every task.
PLUGIN_DIRS = ("{config}/cli-plugins", "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
               "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins")


def _plugin() -> Path | None:
    """The Compose plugin the docker CLI would run (the first of PLUGIN_DIRS that has one)."""
    config = os.environ.get("DOCKER_CONFIG") or os.path.expanduser("~/.docker")
    found = (Path(d.format(config=config)) / "docker-compose" for d in PLUGIN_DIRS)
    return next((p for p in found if os.access(p, os.X_OK)), None)


@cache
def installed() -> list[tuple[str, ...]]:
    """The Compose commands on this machine, v2 (``docker compose``) first."""
    found: list[tuple[str, ...]] = []
    if shutil.which("docker"):
        probe = ["docker", "compose", "version"]
        if _plugin() is not None or subprocess.run(probe, capture_output=True, check=False).returncode == 0:
            found.append(("docker", "compose"))
    if shutil.which("docker-compose"):
        found.append(("docker-compose",))
    return found


def detect() -> tuple[str, ...]:
    """The Compose command: SOCKLAB_COMPOSE if set, else v2 if present, else v1."""
    forced = os.environ.get("SOCKLAB_COMPOSE")
    if forced:
        return tuple(forced.split())
    if not installed():
        raise ComposeNotFoundError()
    return installed()[0]


def major() -> int:
    """1 for docker-compose (v1), 2 for the `docker compose` plugin."""
    return 1 if detect()[-1].rsplit("/", 1)[-1] == "docker-compose" and len(detect()) == 1 else 2


def argv() -> list[str]:
    """The program to run for ``detect()``: for ``docker compose``, the plugin's binary itself
    when it is found where the CLI looks (it runs alone as well, with the same flags, labels and
    contexts), which spares the docker CLI's start and its plugin scan: ~50 ms of every `up`."""
    cmd = detect()
    plugin = _plugin() if cmd == ("docker", "compose") else None
    return [str(plugin)] if plugin is not None else list(cmd)


@dataclass(frozen=True)
class Compose:
    file: Path
    project: str
    env: Mapping[str, str]

    def command(self, *args: str) -> list[str]:
        return [*argv(), "--project-name", self.project, "--file", str(self.file), *args]

    def run(self, *args: str) -> str:
        cmd = self.command(*args)
        proc = subprocess.run(
            cmd, capture_output=True, text=True, check=False, env={**os.environ, **self.env},
            cwd=self.file.parent,
        )
        if proc.returncode != 0:
            raise ComposeError(cmd, proc.stdout + proc.stderr)
        return proc.stdout + proc.stderr

    def up(self) -> str:
        # --remove-orphans: a host dropped from compose.yaml since the last run goes too.
        return self.run("up", "--detach", "--remove-orphans", "--no-build")
