"""The lab's topology as data: compose.yaml -> a validated, typed model.

compose.yaml is the single source of truth. It is read once, its ``${VAR:-default}``
references are filled in (as Compose would), and it is checked for what a socklab lab
needs: LANs with fixed subnets, hosts with a fixed address on each LAN they join, a
hostname equal to the service name, a role, and for every non-router host a gateway that
is the router's address on its LAN. Errors name the file, the field and the problem.
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

    @property
    def lans(self) -> tuple[str, ...]:
        return tuple(self.addresses)

    @property
    def address(self) -> ipaddress.IPv4Address:
        """The host's address on its first LAN (its only one, unless it is the router)."""
        return next(iter(self.addresses.values()))


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
        """Every host but the router: the machines lessons run programs on."""
        return [h for h in self.hosts.values() if h.role != "router"]

    def same_lan(self, a: str, b: str) -> bool:
        return bool(set(self.host(a).lans) & set(self.host(b).lans))


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
        env = spec.get("environment") or {}
        raw_gw = self.mapping(env, f"{where}.environment").get("LAB_GATEWAY")
        gateway = None
        if role != "router":
            gateway = self.parse_ip(ipaddress.IPv4Address, raw_gw, f"{where}.environment.LAB_GATEWAY")
        return Host(name, role, addresses, gateway)

    def check_routing(self, hosts: Mapping[str, Host], lans: Mapping[str, Lan]) -> None:
        routers = [h for h in hosts.values() if h.role == "router"]
        if len(routers) != 1:
            raise self.fail("services", f"needs exactly one host with role router, found {len(routers)}")
        router = routers[0]
        for lan in lans:
            if lan not in router.addresses:
                raise self.fail(f"services.{router.name}.networks", f"the router must join every LAN; {lan} is missing")
        seen: dict[ipaddress.IPv4Address, str] = {}
        for host in hosts.values():
            for lan, addr in host.addresses.items():
                if addr in seen:
                    raise self.fail(f"services.{host.name}.networks.{lan}.ipv4_address",
                                    f"{addr} is also {seen[addr]}'s address")
                seen[addr] = host.name
            if host.role == "router":
                continue
            if len(host.addresses) != 1:
                raise self.fail(f"services.{host.name}.networks", "a lab host joins exactly one LAN")
            (lan,) = host.addresses
            if host.gateway != router.addresses[lan]:
                raise self.fail(f"services.{host.name}.environment.LAB_GATEWAY",
                                f"must be the router's address on {lan}, {router.addresses[lan]}")

    def parse_ip(self, kind: Any, raw: Any, field: str) -> Any:
        try:
            return kind(str(raw)) if raw is not None else kind("")
        except ValueError:
            raise self.fail(field, f"{raw!r} is not a valid {kind.__name__}") from None
