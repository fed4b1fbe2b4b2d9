"""The lab's topology as data: compose.yaml -> a validated, typed model.

A topology file (compose.yaml, or one given to `invoke up --topology`) is the single source
of truth. It is read once, its ``${VAR:-default}`` references are filled in (as Compose
would), and it is checked against the conventions in docs/topologies.md: isolated bridge
LANs with fixed subnets, hosts with a fixed address, a hostname equal to the service name,
a role, every lab name in every host's /etc/hosts, routers joining two LANs or more so that
every LAN reaches every other, and for every other host on a LAN with a router a gateway
that is such a router's address there. Errors name the file, the field and the problem.

Routing is derived, not written: ``Topology.routes`` gives each host the next hop to every
LAN it is not on (shortest path in routers), which `Lab.up` installs as static routes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.errors import TopologyError, UnknownHostError

ROLES = ("client", "server", "router")
TTL = 64  # Linux's default: a ping crossing n routers comes back with 64 - n
ISOLATION = {"com.docker.network.bridge.inhibit_ipv4": "true",
             "com.docker.network.bridge.enable_ip_masquerade": "false"}
_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class Lan:
    name: str
    subnet: ipaddress.IPv4Network
    #: Docker's gateway address on this LAN. No one owns it (the host takes no address
    #: on a lab bridge), which is what the isolation test checks.
    gateway: ipaddress.IPv4Address

    @property
    def broadcast(self) -> ipaddress.IPv4Address:
        return self.subnet.broadcast_address


@dataclass(frozen=True)
class Host:
    name: str
    role: str
    addresses: Mapping[str, ipaddress.IPv4Address]  # LAN name -> address
    gateway: ipaddress.IPv4Address | None = None  # the router's address on this host's LAN
    #: a NAT router's address on the LAN it hides its other LANs behind (LAB_NAT_OUTSIDE)
    nat: ipaddress.IPv4Address | None = None

    @property
    def lans(self) -> tuple[str, ...]:
        return tuple(self.addresses)

    @property
    def address(self) -> ipaddress.IPv4Address:
        """The host's address on its first LAN (its only one, unless it is a router)."""
        return next(iter(self.addresses.values()))


@dataclass(frozen=True)
class Route:
    """How ``host`` reaches a LAN it is not on: through ``via``, crossing ``hops`` routers."""

    lan: str
    subnet: ipaddress.IPv4Network
    via: ipaddress.IPv4Address
    hops: int


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
        for host in self.hosts.values():
            for addr in host.addresses.values():
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
                        found[other] = Route(other, self.lans[other].subnet, first[other], reached[other])
                        ahead.append(other)
            frontier = ahead
        return found

    def static_routes(self, name: str) -> list[Route]:
        """The routes ``name`` needs beside its default route (via its gateway, if it has one)."""
        gateway = self.host(name).gateway
        return [r for r in self.routes(name).values() if r.via != gateway]

    def hops(self, a: str, b: str) -> int:
        """Routers between ``a`` and ``b`` (0 on a shared LAN): a ping from a to b shows TTL - hops."""
        if self.same_lan(a, b):
            return 0
        routes = self.routes(a)
        return min(routes[lan].hops for lan in self.host(b).lans if lan in routes)


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Fill ``${NAME}`` and ``${NAME:-default}`` the way Compose does."""

    def fill(m: re.Match[str]) -> str:
        value = env.get(m["name"])
        if value:
            return value
        return m["default"] or ""

    return _VAR.sub(fill, text)


def load(path: Path, env: Mapping[str, str] | None = None) -> Topology:
    """Read and validate a compose file; ``env`` fills its variables (e.g. LAB_PREFIX)."""
    name = str(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise TopologyError(name, "(file)", f"cannot read it: {exc.strerror}") from None
    try:
        doc = yaml.safe_load(interpolate(text, env or {}))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise TopologyError(name, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return _Parser(name, path).parse(doc)


class _Parser:
    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self.names: dict[str, dict[str, str]] = {}  # host -> its extra_hosts

    def fail(self, field: str, problem: str) -> TopologyError:
        return TopologyError(self.name, field, problem)

    def mapping(self, value: Any, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field, f"must be a mapping, not {type(value).__name__}")
        return value

    def parse(self, doc: Any) -> Topology:
        doc = self.mapping(doc, "(top level)")
        if "name" in doc:
            raise self.fail("name", "Compose v1 rejects a top-level `name:`; the lab name comes from -p")
        lans = {n: self.lan(n, v) for n, v in self.mapping(doc.get("networks"), "networks").items()}
        services = self.mapping(doc.get("services"), "services")
        hosts = {n: self.host(n, v, lans) for n, v in services.items()}
        self.check_routing(hosts, lans)
        return Topology(source=self.path, lans=lans, hosts=hosts)

    def lan(self, name: str, spec: Any) -> Lan:
        where = f"networks.{name}"
        spec = self.mapping(spec, where)
        if spec.get("internal"):
            raise self.fail(f"{where}.internal", "internal networks drop 255.255.255.255; isolation "
                            "comes from inhibit_ipv4 and the router instead")
        if spec.get("driver", "bridge") != "bridge":
            raise self.fail(f"{where}.driver", f"a LAN is a bridge network, not {spec['driver']!r}")
        opts = self.mapping(spec.get("driver_opts") or {}, f"{where}.driver_opts")
        for key, value in ISOLATION.items():
            if str(opts.get(key)).lower() != value:
                raise self.fail(f"{where}.driver_opts", f"needs {key}: \"{value}\" (the Docker host "
                                "must take no address on a LAN and masquerade nothing)")
        configs = self.mapping(spec.get("ipam"), f"{where}.ipam").get("config")
        if not isinstance(configs, list) or len(configs) != 1 or not isinstance(configs[0], dict):
            raise self.fail(f"{where}.ipam.config", "needs exactly one entry with subnet and gateway")
        subnet = self.parse_ip(ipaddress.IPv4Network, configs[0].get("subnet"), f"{where}.ipam.config.subnet")
        gateway = self.parse_ip(ipaddress.IPv4Address, configs[0].get("gateway"), f"{where}.ipam.config.gateway")
        if gateway not in subnet:
            raise self.fail(f"{where}.ipam.config.gateway", f"{gateway} is outside {subnet}")
        return Lan(name, subnet, gateway)

    def host(self, name: str, spec: Any, lans: Mapping[str, Lan]) -> Host:
        where = f"services.{name}"
        spec = self.mapping(spec, where)
        if spec.get("hostname") != name:
            raise self.fail(f"{where}.hostname", f"must equal the service name `{name}`")
        if spec.get("privileged"):
            raise self.fail(f"{where}.privileged", "lab hosts never run privileged")
        for vol in spec.get("volumes") or []:
            if "docker.sock" in str(vol):
                raise self.fail(f"{where}.volumes", "lab hosts never get the Docker socket")
        role = self.mapping(spec.get("labels"), f"{where}.labels").get("socklab.role")
        if role not in ROLES:
            raise self.fail(f"{where}.labels.socklab.role", f"must be one of {', '.join(ROLES)}, not {role!r}")
        nets = self.mapping(spec.get("networks"), f"{where}.networks")
        addresses: dict[str, ipaddress.IPv4Address] = {}
        for lan_name, net in nets.items():
            field = f"{where}.networks.{lan_name}"
            if lan_name not in lans:
                raise self.fail(field, f"no such network; the networks are: {', '.join(lans)}")
            raw = self.mapping(net, field).get("ipv4_address")
            addr = self.parse_ip(ipaddress.IPv4Address, raw, f"{field}.ipv4_address")
            lan = lans[lan_name]
            if addr not in lan.subnet or addr in (lan.gateway, lan.subnet.network_address, lan.broadcast):
                raise self.fail(f"{field}.ipv4_address", f"{addr} is not a usable host address of {lan.subnet}")
            addresses[lan_name] = addr
        env = self.mapping(spec.get("environment") or {}, f"{where}.environment")
        raw_gw = env.get("LAB_GATEWAY")
        gateway = None
        if raw_gw is not None:
            gateway = self.parse_ip(ipaddress.IPv4Address, raw_gw, f"{where}.environment.LAB_GATEWAY")
        raw_nat = env.get("LAB_NAT_OUTSIDE")
        nat = None
        if raw_nat is not None:
            nat = self.parse_ip(ipaddress.IPv4Address, raw_nat, f"{where}.environment.LAB_NAT_OUTSIDE")
            if nat not in addresses.values():
                raise self.fail(f"{where}.environment.LAB_NAT_OUTSIDE", f"{nat} is not one of {name}'s addresses")
        self.names[name] = self.extra_hosts(spec.get("extra_hosts"), f"{where}.extra_hosts")
        return Host(name, role, addresses, gateway, nat)

    def extra_hosts(self, raw: Any, field: str) -> dict[str, str]:
        """``["name:address", ...]`` or ``{name: address}`` -> a dict."""
        if isinstance(raw, dict):
            return {str(k): str(v) for k, v in raw.items()}
        if not isinstance(raw, list) or not all(isinstance(e, str) and ":" in e for e in raw):
            raise self.fail(field, "must list every lab host as \"name:address\" (names resolve from "
                            "/etc/hosts alone)")
        return dict(e.split(":", 1) for e in raw)

    def check_routing(self, hosts: Mapping[str, Host], lans: Mapping[str, Lan]) -> None:
        seen: dict[ipaddress.IPv4Address, str] = {}
        for host in hosts.values():
            where = f"services.{host.name}"
            for lan, addr in host.addresses.items():
                if addr in seen:
                    raise self.fail(f"{where}.networks.{lan}.ipv4_address", f"{addr} is also {seen[addr]}'s address")
                seen[addr] = host.name
            if host.role == "router":
                if len(host.addresses) < 2:
                    raise self.fail(f"{where}.networks", "a router joins two LANs or more")
                if host.gateway is not None:
                    raise self.fail(f"{where}.environment.LAB_GATEWAY", "a router has no gateway: its "
                                    "routes to other LANs are derived from the topology")
                continue
            if len(host.addresses) != 1:
                raise self.fail(f"{where}.networks", "a lab host joins exactly one LAN (only routers join more)")
            (lan,) = host.addresses
            routers = {str(r.addresses[lan]): r.name for r in hosts.values() if r.role == "router" and lan in r.lans}
            if routers and str(host.gateway) not in routers:
                choices = ", ".join(f"{a} ({n})" for a, n in routers.items())
                raise self.fail(f"{where}.environment.LAB_GATEWAY", f"must be a router's address on {lan}: {choices}")
            if not routers and host.gateway is not None:
                raise self.fail(f"{where}.environment.LAB_GATEWAY", f"{lan} has no router to be the gateway")
        topo = Topology(source=self.path, lans=lans, hosts=hosts)
        if hosts:
            start = next(iter(hosts.values()))
            cut_off = [lan for lan in lans if lan not in start.lans and lan not in topo.routes(start.name)]
            if cut_off:
                raise self.fail("services", f"no router leads from {start.lans[0]} to {', '.join(cut_off)}: "
                                "every LAN must reach every other")
        for host in hosts.values():
            names = self.names[host.name]
            for other in hosts.values():
                entry = names.get(other.name)
                if entry not in {str(a) for a in other.addresses.values()}:
                    raise self.fail(f"services.{host.name}.extra_hosts",
                                    f"needs \"{other.name}:{other.address}\" (has {entry or 'no entry'})")

    def parse_ip(self, kind: Any, raw: Any, field: str) -> Any:
        try:
            return kind(str(raw)) if raw is not None else kind("")
        except ValueError:
            raise self.fail(field, f"{raw!r} is not a valid {kind.__name__}") from None
