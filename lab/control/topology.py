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

Dual stack: a LAN may also have an IPv6 subnet (the ULA /64 ``${LAB_PREFIX6}:N::/64``, where
LAB_PREFIX6 is derived from LAB_PREFIX by ``ula_prefix``); then every host on it has an IPv6
address there, a gateway6 beside its gateway, and /etc/hosts names it by both addresses.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from lab.control.topology_model import ALL_NODES, ROLES, TTL, Host, Lan, Route, Topology, ula_prefix
from lab.errors import TopologyError

__all__ = ["ALL_NODES", "ROLES", "TTL", "Host", "Lan", "Route", "Topology", "ula_prefix", "load", "interpolate"]

ISOLATION = {"com.docker.network.bridge.inhibit_ipv4": "true",
             "com.docker.network.bridge.enable_ip_masquerade": "false"}
_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Fill ``${NAME}`` and ``${NAME:-default}`` the way Compose does."""

    def fill(m: re.Match[str]) -> str:
        value = env.get(m["name"])
        if value:
            return value
        return m["default"] or ""

    return _VAR.sub(fill, text)


#: libyaml's loader where PyYAML has it (its wheels do): 10-25x faster than the pure-Python one
#: (compose.yaml 66 -> 3 ms, lan50's 218 -> 27 ms), the same documents.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """A YAML document, as ``yaml.safe_load`` reads it (a safe loader: plain data only)."""
    return yaml.load(text, Loader=_LOADER)


def load(path: Path, env: Mapping[str, str] | None = None) -> Topology:
    """Read and validate a compose file; ``env`` fills its variables (e.g. LAB_PREFIX; LAB_PREFIX6
    is derived from it unless given)."""
    name = str(path)
    env = dict(env or {})
    if env.get("LAB_PREFIX") and not env.get("LAB_PREFIX6"):
        env["LAB_PREFIX6"] = ula_prefix(env["LAB_PREFIX"])
    try:
        text = path.read_text()
    except OSError as exc:
        raise TopologyError(name, "(file)", f"cannot read it: {exc.strerror}") from None
    try:
        doc = parse_yaml(interpolate(text, env or {}))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise TopologyError(name, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return _Parser(name, path).parse(doc)


class _Parser:
    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self.names: dict[str, dict[str, set[str]]] = {}  # host -> its extra_hosts: name -> addresses

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
        if (not isinstance(configs, list) or len(configs) not in (1, 2)
                or not all(isinstance(c, dict) for c in configs)):
            raise self.fail(f"{where}.ipam.config", "needs one entry with subnet and gateway (IPv4), and "
                            "a second for IPv6 on a dual-stack LAN")
        subnet = self.parse_ip(ipaddress.IPv4Network, configs[0].get("subnet"), f"{where}.ipam.config.subnet")
        gateway = self.parse_ip(ipaddress.IPv4Address, configs[0].get("gateway"), f"{where}.ipam.config.gateway")
        if gateway not in subnet:
            raise self.fail(f"{where}.ipam.config.gateway", f"{gateway} is outside {subnet}")
        if len(configs) == 1:
            if spec.get("enable_ipv6"):
                raise self.fail(f"{where}.ipam.config", "enable_ipv6 needs a second entry: the IPv6 subnet")
            return Lan(name, subnet, gateway)
        field6 = f"{where}.ipam.config[1]"
        subnet6 = self.parse_ip(ipaddress.IPv6Network, configs[1].get("subnet"), f"{field6}.subnet")
        gateway6 = self.parse_ip(ipaddress.IPv6Address, configs[1].get("gateway"), f"{field6}.gateway")
        if gateway6 not in subnet6:
            raise self.fail(f"{field6}.gateway", f"{gateway6} is outside {subnet6}")
        if subnet6.prefixlen != 64 or not subnet6.subnet_of(ipaddress.IPv6Network("fd00::/8")):
            raise self.fail(f"{field6}.subnet", f"{subnet6} is not a ULA /64 (fd00::/8): lab addresses "
                            "must be routed nowhere outside the lab")
        if spec.get("enable_ipv6") is not True:
            raise self.fail(f"{where}.enable_ipv6", "must be true for a LAN with an IPv6 subnet")
        return Lan(name, subnet, gateway, subnet6, gateway6)

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
        addresses6: dict[str, ipaddress.IPv6Address] = {}
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
            raw6 = net.get("ipv6_address")
            if lan.subnet6 is None:
                if raw6 is not None:
                    raise self.fail(f"{field}.ipv6_address", f"{lan_name} has no IPv6 subnet")
                continue
            addr6 = self.parse_ip(ipaddress.IPv6Address, raw6, f"{field}.ipv6_address")
            if addr6 not in lan.subnet6 or addr6 in (lan.gateway6, lan.subnet6.network_address):
                raise self.fail(f"{field}.ipv6_address", f"{addr6} is not a usable host address of {lan.subnet6}")
            addresses6[lan_name] = addr6
        env = self.mapping(spec.get("environment") or {}, f"{where}.environment")
        gateway = gateway6 = nat = None
        if env.get("LAB_GATEWAY") is not None:
            gateway = self.parse_ip(ipaddress.IPv4Address, env["LAB_GATEWAY"], f"{where}.environment.LAB_GATEWAY")
        if env.get("LAB_GATEWAY6") is not None:
            gateway6 = self.parse_ip(ipaddress.IPv6Address, env["LAB_GATEWAY6"],
                                     f"{where}.environment.LAB_GATEWAY6")
        if env.get("LAB_NAT_OUTSIDE") is not None:
            nat = self.parse_ip(ipaddress.IPv4Address, env["LAB_NAT_OUTSIDE"], f"{where}.environment.LAB_NAT_OUTSIDE")
            if nat not in addresses.values():
                raise self.fail(f"{where}.environment.LAB_NAT_OUTSIDE", f"{nat} is not one of {name}'s addresses")
        self.names[name] = self.extra_hosts(spec.get("extra_hosts"), f"{where}.extra_hosts")
        return Host(name, role, addresses, gateway, addresses6, gateway6, nat)

    def extra_hosts(self, raw: Any, field: str) -> dict[str, set[str]]:
        """``["name:address", ...]`` (a name twice: its IPv4 and its IPv6 address) or
        ``{name: address}`` -> name -> its addresses (as ipaddress writes them)."""
        if isinstance(raw, dict):
            pairs = [(str(k), str(v)) for k, v in raw.items()]
        elif isinstance(raw, list) and all(isinstance(e, str) and ":" in e for e in raw):
            pairs = [(name, addr) for name, addr in (e.split(":", 1) for e in raw)]
        else:
            raise self.fail(field, "must list every lab host as \"name:address\" (names resolve from "
                            "/etc/hosts alone)")
        found: dict[str, set[str]] = {}
        for name, addr in pairs:
            try:
                addr = str(ipaddress.ip_address(addr))
            except ValueError:
                pass  # not an address: it matches none, and the check names the entry
            found.setdefault(name, set()).add(addr)
        return found

    def check_routing(self, hosts: Mapping[str, Host], lans: Mapping[str, Lan]) -> None:
        seen: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, str] = {}
        for host in hosts.values():
            where = f"services.{host.name}"
            for kind, found in (("ipv4_address", host.addresses), ("ipv6_address", host.addresses6)):
                for lan, addr in found.items():
                    if addr in seen:
                        raise self.fail(f"{where}.networks.{lan}.{kind}", f"{addr} is also {seen[addr]}'s address")
                    seen[addr] = host.name
            if host.role == "router":
                if len(host.addresses) < 2:
                    raise self.fail(f"{where}.networks", "a router joins two LANs or more")
                if host.gateway is not None or host.gateway6 is not None:
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
            routers6 = {str(r.addresses6[lan]): r.name for r in hosts.values()
                        if r.role == "router" and lan in r.addresses6}
            if routers6 and str(host.gateway6) not in routers6:
                choices = ", ".join(f"{a} ({n})" for a, n in routers6.items())
                raise self.fail(f"{where}.environment.LAB_GATEWAY6", f"must be a router's IPv6 address on {lan}: "
                                f"{choices}")
            if not routers6 and host.gateway6 is not None:
                raise self.fail(f"{where}.environment.LAB_GATEWAY6", f"{lan} has no IPv6 router to be the gateway")
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
                entries = names.get(other.name, set())
                for mine in (other.addresses, other.addresses6):  # a name for each family it has
                    if mine and not entries & {str(a) for a in mine.values()}:
                        first = next(iter(mine.values()))
                        raise self.fail(f"services.{host.name}.extra_hosts", f"needs \"{other.name}:{first}\" "
                                        f"(has {', '.join(sorted(entries)) or 'no entry'})")

    def parse_ip(self, kind: Any, raw: Any, field: str) -> Any:
        try:
            return kind(str(raw)) if raw is not None else kind("")
        except ValueError:
            raise self.fail(field, f"{raw!r} is not a valid {kind.__name__}") from None
