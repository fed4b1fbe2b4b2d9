"""The lab's topology as typed data: LANs, hosts with their addresses and gateways, the routes
between LANs. ``lab.control.topology`` reads a Compose file into it and checks it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lab.errors import UnknownHostError

ROLES = ("client", "server", "router")
TTL = 64  # Linux's default: a ping crossing n routers comes back with 64 - n (IPv6: the hop limit)
ALL_NODES = ipaddress.IPv6Address("ff02::1")  # IPv6 has no broadcast; every node of a link joins this group


def ula_prefix(prefix: str) -> str:
    """The lab's IPv6 ULA /48 from its LAB_PREFIX, the octets' digits as hex groups:
    ``10.201`` -> ``fd00:10:201`` (LAN N: fd00:10:201:N::/64, host .X: ::X). Distinct prefixes
    give distinct /48s, so dual-stack labs never overlap either; fd00::/8 is ULA (RFC 4193),
    routed nowhere outside the lab."""
    first, second = prefix.split(".")
    return f"fd00:{int(first)}:{int(second)}"


@dataclass(frozen=True)
class Lan:
    name: str
    subnet: ipaddress.IPv4Network
    #: Docker's gateway address on this LAN. No one owns it (the host takes no address
    #: on a lab bridge), which is what the isolation test checks.
    gateway: ipaddress.IPv4Address
    subnet6: ipaddress.IPv6Network | None = None
    #: Docker's IPv6 gateway: unlike IPv4 the Docker host takes it on the bridge (20.10 has no
    #: inhibit for IPv6); each host's entrypoint drops what comes from it.
    gateway6: ipaddress.IPv6Address | None = None

    @property
    def broadcast(self) -> ipaddress.IPv4Address:
        return self.subnet.broadcast_address


@dataclass(frozen=True)
class Host:
    name: str
    role: str
    addresses: Mapping[str, ipaddress.IPv4Address]  # LAN name -> address
    gateway: ipaddress.IPv4Address | None = None  # the router's address on this host's LAN
    addresses6: Mapping[str, ipaddress.IPv6Address] = field(default_factory=dict)  # LAN -> IPv6 address
    gateway6: ipaddress.IPv6Address | None = None  # the router's IPv6 address on this host's LAN
    #: a NAT router's address on the LAN it hides its other LANs behind (LAB_NAT_OUTSIDE)
    nat: ipaddress.IPv4Address | None = None

    @property
    def lans(self) -> tuple[str, ...]:
        return tuple(self.addresses)

    @property
    def address(self) -> ipaddress.IPv4Address:
        """The host's address on its first LAN (its only one, unless it is a router)."""
        return next(iter(self.addresses.values()))

    @property
    def address6(self) -> ipaddress.IPv6Address | None:
        """The host's IPv6 address on its first LAN (None on an IPv4-only LAN)."""
        return self.addresses6.get(self.lans[0])


@dataclass(frozen=True)
class Route:
    """How ``host`` reaches a LAN it is not on: through ``via``, crossing ``hops`` routers
    (and over IPv6 through ``via6`` to ``subnet6``, on a dual-stack LAN)."""

    lan: str
    subnet: ipaddress.IPv4Network
    via: ipaddress.IPv4Address
    hops: int
    subnet6: ipaddress.IPv6Network | None = None
    via6: ipaddress.IPv6Address | None = None


@dataclass(frozen=True)
class Topology:
    source: Path
    lans: Mapping[str, Lan]
    hosts: Mapping[str, Host] = field(repr=False)

    def host(self, name: str) -> Host:
        try:
            return self.hosts[name]
        except KeyError:
            raise UnknownHostError(name, self.hosts) from None

    def hosts_on(self, lan: str) -> list[Host]:
        return [h for h in self.hosts.values() if lan in h.addresses]

    def end_hosts(self) -> list[Host]:
        """Every host but the routers: the machines lessons run programs on."""
        return [h for h in self.hosts.values() if h.role != "router"]

    def address_names(self) -> dict[str, str]:
        """Every address of the lab -> the name a picture or ladder shows for it."""
        names = {"255.255.255.255": "broadcast"}
        for lan in self.lans.values():
            names[str(lan.broadcast)] = f"{lan.name}-bcast"
        if any(lan.subnet6 for lan in self.lans.values()):
            names[str(ALL_NODES)] = "all-nodes"
        for host in self.hosts.values():
            for addr in (*host.addresses.values(), *host.addresses6.values()):
                names[str(addr)] = host.name
        return names

    def routers(self) -> list[Host]:
        return [h for h in self.hosts.values() if h.role == "router"]

    def nat_routers(self) -> list[Host]:
        """The routers that hide a LAN behind their address on another (NAT)."""
        return [h for h in self.routers() if h.nat is not None]

    def same_lan(self, a: str, b: str) -> bool:
        return bool(set(self.host(a).lans) & set(self.host(b).lans))

    def routes(self, name: str) -> dict[str, Route]:
        """Every LAN ``name`` is not on -> its route there (breadth first over LANs and routers:
        fewest routers, then the order of the file). A LAN no router leads to is absent."""
        host = self.host(name)
        found: dict[str, Route] = {}
        reached = {lan: 0 for lan in host.lans}
        first: dict[str, ipaddress.IPv4Address] = {}  # LAN -> the first router's address
        first6: dict[str, ipaddress.IPv6Address | None] = {}
        frontier = list(host.lans)
        while frontier:
            ahead = []
            for lan in frontier:
                for router in self.hosts_on(lan):
                    if router.role != "router" or router.name == name:
                        continue
                    for other in router.lans:
                        if other in reached:
                            continue
                        reached[other] = reached[lan] + 1
                        first[other] = first.get(lan, router.addresses[lan])
                        first6[other] = first6[lan] if lan in first6 else router.addresses6.get(lan)
                        subnet6 = self.lans[other].subnet6
                        found[other] = Route(other, self.lans[other].subnet, first[other], reached[other],
                                             subnet6, first6[other] if subnet6 else None)
                        ahead.append(other)
            frontier = ahead
        return found

    def static_routes(self, name: str) -> list[Route]:
        """The routes ``name`` needs beside its default route (via its gateway, if it has one)."""
        gateway = self.host(name).gateway
        return [r for r in self.routes(name).values() if r.via != gateway]

    def static_routes6(self, name: str) -> list[Route]:
        """The IPv6 routes ``name`` needs beside its IPv6 default route (via its gateway6)."""
        gateway6 = self.host(name).gateway6
        return [r for r in self.routes(name).values() if r.via6 is not None and r.via6 != gateway6]

    def hops(self, a: str, b: str) -> int:
        """Routers between ``a`` and ``b`` (0 on a shared LAN): a ping from a to b shows TTL - hops."""
        if self.same_lan(a, b):
            return 0
        routes = self.routes(a)
        return min(routes[lan].hops for lan in self.host(b).lans if lan in routes)
