"""Choosing a lab's address prefix so that labs side by side never share a subnet.

A lab's compose file builds every subnet from LAB_PREFIX (two octets, e.g. ``10.201``).
A prefix is free when none of its subnets overlaps a Docker network's nor a route of the
machine the engine runs on (a VPN's 10.x, a LAN): a lab there would hide that network from
the machine. The choice is pure: it takes what is taken and returns a prefix; Docker's own
default address pools play no part (every lab subnet is given explicitly).
"""

from __future__ import annotations

import ipaddress
import random
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


def choose_prefix(compose_file: Path, taken: Taken, wanted: str | None = None,
                  spread: random.Random | None = None) -> str:
    """``wanted`` if it is free (else SubnetTakenError), or the first free candidate; with
    ``spread``, a free candidate drawn by it (a retry: labs started at the same moment, as a
    class server starts eight, all chose the first, and would all choose the next one too)."""
    if wanted is not None:
        clash = conflict(lab_subnets(compose_file, check_prefix(wanted)), taken)
        if clash:
            raise SubnetTakenError(*clash)
        return wanted
    order = list(CANDIDATES)
    if spread is not None:
        spread.shuffle(order)
    for prefix in order:  # the first free one, in that order (each costs reading the topology)
        if conflict(lab_subnets(compose_file, prefix), taken) is None:
            return prefix
    raise NoFreeSubnetError(len(CANDIDATES))


def parse_routes(text: str) -> dict[str, list[ipaddress.IPv4Network]]:
    """The machine's routes from /proc/net/route (all but the default route), by a name that
    says where each leads, e.g. "the machine's route via tun0"."""
    found: dict[str, list[ipaddress.IPv4Network]] = {}
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 8:
            continue
        try:  # little-endian hex, as the kernel writes them
            dest, mask = (ipaddress.IPv4Address(int(x, 16).to_bytes(4, "little")) for x in (cols[1], cols[7]))
            net = ipaddress.IPv4Network(f"{dest}/{mask}", strict=False)
        except ValueError:
            continue
        if net.prefixlen:
            found.setdefault(f"the machine's route via {cols[0]}", []).append(net)
    return found


def parse_local_addresses(fib_trie: str) -> dict[str, list[ipaddress.IPv4Network]]:
    """The machine's own addresses from /proc/net/fib_trie (the "/32 host LOCAL" entries), but
    loopback's: an address with no route of its own (a VPN's point-to-point end) counts too."""
    found: set[ipaddress.IPv4Address] = set()
    last = None
    for line in fib_trie.splitlines():
        text = line.strip()
        if text.startswith("|-- "):
            last = text[4:]
        elif text == "/32 host LOCAL" and last is not None:
            found.add(ipaddress.IPv4Address(last))
    return {f"the machine's address {a}": [ipaddress.IPv4Network(a)] for a in sorted(found) if not a.is_loopback}


def machine_routes(proc: Path = Path("/proc/net")) -> dict[str, list[ipaddress.IPv4Network]]:
    """This machine's routes and own addresses (none where /proc/net does not tell)."""
    found: dict[str, list[ipaddress.IPv4Network]] = {}
    for name, parse in (("route", parse_routes), ("fib_trie", parse_local_addresses)):
        try:
            found |= parse((proc / name).read_text())
        except (OSError, ValueError):
            pass
    return found


def prefix_of(subnet: ipaddress.IPv4Network) -> str:
    """The LAB_PREFIX a running lab was started with, read back from one of its subnets."""
    return ".".join(str(subnet.network_address).split(".")[:2])
