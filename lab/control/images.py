"""Building the lab's host image, from a registry's Debian or a locally bootstrapped one.

The host image is tagged by a hash of everything that goes into it (the Dockerfile,
its scripts and the in-lab layers of ``lab``), so an unchanged tree never rebuilds and a
changed program never runs stale. The base comes, in order, from: SOCKLAB_BASE_IMAGE;
a local ``debian:bookworm``; a local bootstrapped ``socklab/base:bookworm``; a pull from
the registry; and, with no registry, ``images/base/bootstrap.sh`` (mmdebstrap + import).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from lab.control.engine import Engine
from lab.errors import DockerError, ImageError

log = logging.getLogger(__name__)

REGISTRY_BASE = "debian:bookworm"
LOCAL_BASE = "socklab/base:bookworm"
HOST_REPO = "socklab/host"
#: What bootstraps Debian with no registry, in order of preference (bootstrap.sh: mmdebstrap
#: is about twice as fast); the first is installed with apt-get when neither is.
BOOTSTRAPPERS = ("mmdebstrap", "debootstrap")
PREFIXES = ("socklab/host:", "socklab/base:")  # every image socklab makes (`invoke clean --images`)
#: What the host image is made of, relative to the project root (see .dockerignore).
CONTEXT = ("images/host", "lab/__init__.py", "lab/__main__.py", "lab/errors.py", "lab/apps", "lab/proto")

Say = Callable[[str], None]


def context_files(root: Path) -> Iterator[Path]:
    for entry in CONTEXT:
        path = root / entry
        if path.is_file():
            yield path
        else:
            yield from sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def host_tag(root: Path) -> str:
    digest = hashlib.sha256()
    for path in context_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"{HOST_REPO}:{digest.hexdigest()[:12]}"


def ensure_base(engine: Engine, root: Path, say: Say) -> str:
    forced = os.environ.get("SOCKLAB_BASE_IMAGE")
    if forced:
        if not engine.has_image(forced):
            raise ImageError(f"SOCKLAB_BASE_IMAGE={forced} is not a local image: pull or build it first")
        return forced
    for tag in (REGISTRY_BASE, LOCAL_BASE):
        if engine.has_image(tag):
            return tag
    try:
        engine.pull(REGISTRY_BASE)
        say(f"pulled {REGISTRY_BASE} from the registry")
        return REGISTRY_BASE
    except DockerError as exc:
        say(f"no registry reachable ({str(exc)[:80]}...): bootstrapping {LOCAL_BASE} "
            "locally (about 35 s)")
    bootstrap(root, say)
    return LOCAL_BASE


def bootstrapper() -> str | None:
    """The bootstrapping tool this machine has, if any."""
    return next((tool for tool in BOOTSTRAPPERS if shutil.which(tool)), None)


def bootstrap(root: Path, say: Say) -> None:
    if not bootstrapper():
        tool = BOOTSTRAPPERS[0]
        if os.geteuid() == 0 and shutil.which("apt-get"):
            say(f"installing {tool} with apt-get")
            for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", tool]):
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                      env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
                if proc.returncode != 0:
                    raise ImageError(f"`{' '.join(cmd)}` failed:\n{proc.stderr[-1500:]}")
        else:
            raise ImageError(f"no registry is reachable and {tool} is missing: "
                             f"run `sudo apt-get install {tool}`, then `invoke build`")
    cmd = ["bash", str(root / "images/base/bootstrap.sh"), LOCAL_BASE]
    if os.geteuid() != 0:
        cmd = ["sudo", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ImageError(f"bootstrapping {LOCAL_BASE} failed:\n{proc.stderr[-2000:]}")
    say(f"bootstrapped {LOCAL_BASE}")


def ensure_host(engine: Engine, root: Path, say: Say, force: bool = False) -> str:
    """Build the host image if its content-tag is missing (or ``force``); return the tag."""
    tag = host_tag(root)
    if engine.has_image(tag) and not force:
        return tag
    base = ensure_base(engine, root, say)
    say(f"building {tag} on {base}")
    lines: list[str] = []
    try:
        for chunk in engine.build(root, "images/host/Dockerfile", tag, {"BASE": base}):
            if "error" in chunk:
                raise ImageError(f"building {tag} failed: {chunk['error'].strip()}\n" + "".join(lines[-15:]))
            if "stream" in chunk:
                lines.append(chunk["stream"])
                log.debug(chunk["stream"].rstrip())
    except DockerError as exc:
        raise ImageError(f"building {tag} failed: {exc}") from None
    engine.tag(tag, HOST_REPO, "latest")
    say(f"built {tag}")
    return tag
