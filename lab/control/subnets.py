"""Choosing a lab's address prefix so that labs side by side never share a subnet.

A lab's compose file builds every subnet from LAB_PREFIX (two octets, e.g. ``10.201``).
These functions are pure: they take the subnets Docker already has and return a prefix.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from lab.control import topology
from lab.errors import NoFreeSubnetError, SubnetTakenError, TopologyError

DEFAULT_PREFIX = "10.201"
#: Candidates, in order. 10.201-10.250 stay clear of Docker's default pools (172.17+, 192.168).
CANDIDATES = tuple(f"10.{n}" for n in range(201, 251))
_PREFIX = re.compile(r"^(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)$")

Taken = Mapping[str, Iterable[ipaddress.IPv4Network]]  # Docker network name -> its subnets


def check_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise TopologyError("--prefix", "LAB_PREFIX", f"{prefix!r} is not two octets like 10.201")
    return prefix


def lab_subnets(compose_file: Path, prefix: str) -> list[ipaddress.IPv4Network]:
    topo = topology.load(compose_file, {"LAB_PREFIX": prefix})
    return [lan.subnet for lan in topo.lans.values()]


def conflict(subnets: Iterable[ipaddress.IPv4Network], taken: Taken) -> tuple[str, str] | None:
    """The first (subnet, Docker network) pair that overlaps, or None."""
    for subnet in subnets:
        for network, others in taken.items():
            if any(subnet.overlaps(other) for other in others):
                return str(subnet), network
    return None


def choose_prefix(compose_file: Path, taken: Taken, wanted: str | None = None) -> str:
    """``wanted`` if it is free (else SubnetTakenError), or the first free candidate."""
    if wanted is not None:
        clash = conflict(lab_subnets(compose_file, check_prefix(wanted)), taken)
        if clash:
            raise SubnetTakenError(*clash)
        return wanted
    for prefix in CANDIDATES:
        if conflict(lab_subnets(compose_file, prefix), taken) is None:
            return prefix
    raise NoFreeSubnetError(len(CANDIDATES))


def prefix_of(subnet: ipaddress.IPv4Network) -> str:
    """The LAB_PREFIX a running lab was started with, read back from one of its subnets."""
    return ".".join(str(subnet.network_address).split(".")[:2])
