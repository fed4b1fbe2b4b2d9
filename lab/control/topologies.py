"""The shipped topologies: short descriptions in lab/topologies/*.yaml, each written out as
the Compose file it describes (`invoke topologies --write`).

A description says only what differs between labs: the LANs, the hosts with their role,
LAN and address, and the routers with their address on each LAN they join::

    lans: {lan_a: 1, lan_b: 2}                  # subnets ${LAB_PREFIX}.1.0/24, .2.0/24
    hosts:
      h{1..3}: [client, lan_a, 11]              # h1 .11, h2 .12, h3 .13
      srv: [server, lan_a, 10]
    routers:
      router: {lan_a: 254, lan_b: 254}

Everything else, the same for every lab (capabilities, name resolution, isolation, the
gateway of each host), is written by `compose_text` once, so a fifty-host file is generated,
not typed, and still reads as plain Compose. The result is validated by ``topology.load``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.control.topology import parse_yaml
from lab.errors import TopologyError

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "lab" / "topologies"
DEFAULT = "default"
_RANGE = re.compile(r"^(?P<stem>[a-z][a-z0-9_-]*)\{(?P<first>\d+)\.\.(?P<last>\d+)\}$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
P = "${LAB_PREFIX:-10.201}"
#: The IPv6 twin of P: the ULA /48 of the lab, derived from LAB_PREFIX (topology.ula_prefix):
#: 10.201 -> fd00:10:201, so LAN N is fd00:10:201:N::/64 and host .X is ::X (same digits).
P6 = "${LAB_PREFIX6:-fd00:10:201}"
#: Each host's limits unless a description's ``limits:`` says otherwise: a student's fork bomb,
#: memory hog or endless loop stops at its own host.
HOST_LIMITS = {"pids": 256, "memory": "512m", "cpus": 1.0}


@dataclass(frozen=True)
class Description:
    name: str
    title: str
    file: Path  # the Compose file it is written to
    lans: dict[str, int]  # LAN -> N of ${LAB_PREFIX}.N.0/24
    hosts: dict[str, tuple[str, str, int]]  # host -> (role, LAN, last octet), ranges expanded
    routers: dict[str, dict[str, int]]  # router -> {LAN: last octet}
    limits: dict[str, Any] = field(default_factory=lambda: dict(HOST_LIMITS))  # every host's: pids, memory, cpus
    nat: Nat | None = None  # a router that hides a LAN behind its address on another


@dataclass(frozen=True)
class Nat:
    """``nat:`` of a description: ``router`` masquerades ``inside`` onto ``outside`` (source NAT,
    conntrack), forwards each UDP port of ``forward`` from its outside address to a host inside
    (destination NAT), and forgets a UDP mapping after ``udp_timeout`` seconds of silence."""

    router: str
    inside: str
    outside: str
    forward: dict[int, str]  # UDP port -> host inside (the same port there)
    udp_timeout: int = 30


def names() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.yaml") if not p.name.endswith(".compose.yaml"))


def compose_file(topology: str) -> Path:
    """`--topology` -> a Compose file: a shipped topology's name, or the path of any file."""
    if topology in names():
        return describe(topology).file
    path = Path(topology)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path.resolve()
    raise TopologyError("--topology", topology, f"no such topology; shipped: {', '.join(names())}, "
                        "or give the path of a Compose file")


def describe(name: str) -> Description:
    source = FOLDER / f"{name}.yaml"
    where = str(source)

    def fail(field: str, problem: str) -> TopologyError:
        return TopologyError(where, field, problem)

    try:
        doc = parse_yaml(source.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise fail("(file)", f"cannot read it: {exc}") from None
    if not isinstance(doc, dict):
        raise fail("(top level)", "must be a mapping")
    lans = doc.get("lans") or {}
    if not lans or not all(isinstance(n, int) and 0 <= n <= 255 for n in lans.values()):
        raise fail("lans", "maps each LAN's name to N (0-255) of ${LAB_PREFIX}.N.0/24")
    hosts: dict[str, tuple[str, str, int]] = {}
    for key, spec in (doc.get("hosts") or {}).items():
        if not (isinstance(spec, list) and len(spec) == 3 and spec[1] in lans and isinstance(spec[2], int)):
            raise fail(f"hosts.{key}", f"must be [role, LAN, last octet] with a LAN of {', '.join(lans)}")
        role, lan, octet = spec
        for i, host in enumerate(_expand(key, fail)):
            hosts[host] = (role, lan, octet + i)
    routers: dict[str, dict[str, int]] = doc.get("routers") or {}
    for router, joins in routers.items():
        if not isinstance(joins, dict) or not set(joins) <= set(lans):
            raise fail(f"routers.{router}", f"maps LANs ({', '.join(lans)}) to the router's last octet")
    limits = {**HOST_LIMITS, **(doc.get("limits") or {})}
    if set(limits) != set(HOST_LIMITS) or not re.fullmatch(r"\d+[kmg]", str(limits["memory"])):
        raise fail("limits", "sets pids (a number), memory (like 512m) and cpus (like 1.0), each optional")
    file = ROOT / str(doc.get("file", f"lab/topologies/{name}.compose.yaml"))
    nat = _nat(doc.get("nat"), routers, hosts, fail) if doc.get("nat") is not None else None
    return Description(name, str(doc.get("title", name)), file, dict(lans), hosts, dict(routers), limits, nat)


def _nat(spec: Any, routers: dict[str, dict[str, int]], hosts: dict[str, tuple[str, str, int]], fail: Any) -> Nat:
    if not isinstance(spec, dict) or spec.get("router") not in routers:
        raise fail("nat.router", f"names one of the routers ({', '.join(routers)})")
    joins = routers[spec["router"]]
    if spec.get("inside") not in joins or spec.get("outside") not in joins or spec["inside"] == spec["outside"]:
        raise fail("nat", f"inside and outside are two of the LANs {spec['router']} joins ({', '.join(joins)})")
    forward = spec.get("forward") or {}
    for port, host in forward.items():
        if not (isinstance(port, int) and 1 <= port <= 65535 and host in hosts and hosts[host][1] == spec["inside"]):
            raise fail(f"nat.forward.{port}", f"maps a UDP port to a host on {spec['inside']}")
    timeout = spec.get("udp_timeout", 30)
    if not isinstance(timeout, int) or timeout < 1:
        raise fail("nat.udp_timeout", "is a number of seconds")
    return Nat(spec["router"], spec["inside"], spec["outside"], dict(forward), timeout)


def _expand(key: str, fail: Any) -> list[str]:
    """``h{1..3}`` -> h1, h2, h3; a plain name -> itself."""
    match = _RANGE.match(key)
    if match:
        return [f"{match['stem']}{i}" for i in range(int(match["first"]), int(match["last"]) + 1)]
    if not _NAME.match(key):
        raise fail(f"hosts.{key}", "a host name is lower-case letters, digits, - and _, or a range like h{1..9}")
    return [key]


def compose_text(d: Description) -> str:
    """The Compose file of a description: the shared host template, then one block per host."""

    def address(lan: str, octet: int) -> str:
        return f'"{P}.{d.lans[lan]}.{octet}"'

    def address6(lan: str, octet: int) -> str:
        return f'"{P6}:{d.lans[lan]}::{octet}"'

    def addresses(lan: str, octet: int) -> str:
        return f"{{ipv4_address: {address(lan, octet)}, ipv6_address: {address6(lan, octet)}}}"

    gateways: dict[str, int] = {}  # LAN -> the first router's octet on it: its hosts' default route
    for joins in d.routers.values():
        for lan, octet in joins.items():
            gateways.setdefault(lan, octet)
    first = {**{h: (lan, o) for h, (_, lan, o) in d.hosts.items()},
             **{r: next(iter(j.items())) for r, j in d.routers.items()}}
    members = {lan: _wrap(" ".join(h for h, (_, on, _o) in d.hosts.items() if on == lan)) for lan in d.lans}
    width = max(len(m) for m in members.values())
    layout = []
    for lan, n in d.lans.items():
        routers = "  ".join(f"{r} .{j[lan]}" for r, j in d.routers.items() if lan in j)
        layout.append(f"#   {lan:<6} ${{LAB_PREFIX}}.{n}.0/24  ${{LAB_PREFIX6}}:{n}::/64   "
                      f"{members[lan]:<{width}}   {routers}".rstrip())
    out = [
        f"# socklab topology: {d.title}.",
        "#",
        *layout,
        "#",
        f"# Written by `invoke topologies --write` from lab/topologies/{d.name}.yaml: edit that, not this.",
        "# The conventions every topology follows are in docs/topologies.md.",
        "#",
        "# LAB_PREFIX (two octets, default 10.201) is chosen by `invoke up` so that several labs",
        "# (`invoke up --name alice`) never share a subnet; plain `docker compose up -d` uses the",
        "# default. Compose v1 rejects a top-level `name:`; the project name comes from `-p`.",
        "#",
        "# Isolation without `internal: true` (which drops 255.255.255.255, Python's '<broadcast>'):",
        "# the Docker host takes no address on a lab bridge (inhibit_ipv4) and masquerades nothing,",
        "# hosts route only through the lab's routers, and no router has a route out of the lab.",
        "# So broadcast works on each LAN and nothing reaches the host or the outside world.",
        "#",
        "# Dual stack: each LAN also has the ULA /64 ${LAB_PREFIX6}:N::/64 (LAB_PREFIX6 is derived",
        "# from LAB_PREFIX: 10.201 -> fd00:10:201), host .X is ::X there. Docker 20.10 puts its",
        "# IPv6 gateway (::1) on the bridge; each host's entrypoint drops what comes from it.",
        "",
        _HOST_TEMPLATE.strip("\n").format(**d.limits),
        "  extra_hosts: &lab-names",
        *[f'    - "{h}:{P}.{d.lans[lan]}.{o}"' for h, (lan, o) in first.items()],
        *[f'    - "{h}:{P6}:{d.lans[lan]}::{o}"' for h, (lan, o) in first.items()],
        "  stop_grace_period: 2s",
        "",
        "services:",
    ]
    for host, (role, lan, octet) in d.hosts.items():
        out += [f"  {host}:", "    <<: *lab-host", f"    hostname: {host}", f"    labels: {{socklab.role: {role}}}"]
        if lan in gateways:
            out.append(f"    environment: {{LAB_GATEWAY: {address(lan, gateways[lan])}, "
                       f"LAB_GATEWAY6: {address6(lan, gateways[lan])}}}")
        out.append(f"    networks: {{{lan}: {addresses(lan, octet)}}}")
    for router, joins in d.routers.items():
        out += [f"  {router}:", "    <<: *lab-host", f"    hostname: {router}", "    labels: {socklab.role: router}"]
        nat = d.nat if d.nat is not None and d.nat.router == router else None
        if nat is not None:  # the entrypoint writes the iptables rules from these
            forward = " ".join(f"{port}={address(d.hosts[host][1], d.hosts[host][2])[1:-1]}"
                               for port, host in nat.forward.items())
            out += ["    environment:", f'      LAB_NAT_INSIDE: "{P}.{d.lans[nat.inside]}.0/24"',
                    f"      LAB_NAT_OUTSIDE: {address(nat.outside, joins[nat.outside])}",
                    f'      LAB_NAT_FORWARD: "{forward}"']
        out += ["    sysctls:", "      net.ipv4.ip_forward: 1", "      net.ipv4.ip_unprivileged_port_start: 1024",
                "      net.ipv6.conf.all.forwarding: 1", "      net.ipv6.conf.default.forwarding: 1"]
        if nat is not None:  # a UDP mapping is forgotten after this many seconds without a datagram
            out += [f"      net.netfilter.nf_conntrack_udp_timeout: {nat.udp_timeout}",
                    f"      net.netfilter.nf_conntrack_udp_timeout_stream: {nat.udp_timeout}"]
        out += ["    networks:"]
        out += [f"      {lan}: {addresses(lan, octet)}" for lan, octet in joins.items()]
    out += ["", _BRIDGE_TEMPLATE.strip("\n"), "", "networks:"]
    for lan, n in d.lans.items():
        out += [f"  {lan}:", "    <<: *lab-bridge", "    ipam:", "      config:",
                f'        - {{subnet: "{P}.{n}.0/24", gateway: "{P}.{n}.1"}}',
                f'        - {{subnet: "{P6}:{n}::/64", gateway: "{P6}:{n}::1"}}']
    return "\n".join(out) + "\n"


def _wrap(members: str, width: int = 48) -> str:
    return members if len(members) <= width else members[:width].rsplit(" ", 1)[0] + " ..."


def with_nat() -> Path:
    """The Compose file of the first shipped topology with a NAT router (`nat`)."""
    for name in names():
        if describe(name).nat is not None:
            return describe(name).file
    raise TopologyError("lab/topologies", "nat", f"no shipped topology has a NAT router; shipped: {', '.join(names())}")


def trimmed(source: Path, keep: Iterable[str], to: Path) -> Path:
    """Write to ``to`` the topology ``source`` with only the hosts ``keep`` and every router
    (so every LAN still reaches every other): a smaller lab, quicker to start and remove,
    for a lesson that names only those hosts (`invoke grade`)."""
    try:
        doc = parse_yaml(source.read_text())  # anchors and merge keys resolved
    except (OSError, yaml.YAMLError) as exc:
        raise TopologyError(str(source), "(file)", f"cannot read it: {exc}") from None
    services = doc.get("services") or {}
    missing = sorted(set(keep) - set(services))
    if missing:
        raise TopologyError(str(source), "services", f"has no host {', '.join(missing)}")
    kept = {name: spec for name, spec in services.items()
            if name in keep or (spec.get("labels") or {}).get("socklab.role") == "router"}
    for spec in kept.values():
        spec["extra_hosts"] = [e for e in spec.get("extra_hosts") or [] if e.split(":", 1)[0] in kept]
    doc = {key: value for key, value in doc.items() if not key.startswith("x-")} | {"services": kept}
    head = f"# {source.name} with only {', '.join(sorted(kept))}: written by socklab, not to be edited.\n"
    to.parent.mkdir(parents=True, exist_ok=True)
    to.write_text(head + yaml.dump(doc, Dumper=_Plain, sort_keys=False, width=120))
    return to


class _Plain(yaml.SafeDumper):
    """Every value written out in full: no &anchors for what the hosts share."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write(name: str) -> Path:
    d = describe(name)
    d.file.write_text(compose_text(d))
    return d.file


def stale(name: str) -> bool:
    """True when the Compose file differs from what its description writes."""
    d = describe(name)
    return not d.file.exists() or d.file.read_text() != compose_text(d)


_HOST_TEMPLATE = """
x-lab-host: &lab-host
  image: ${{LAB_HOST_IMAGE:-socklab/host:latest}}
  init: true                       # tini as PID 1: SIGTERM stops a host at once
  cap_drop: [ALL]
  cap_add:
    - NET_ADMIN                    # routes, iptables, tc: the lab's own network changes
    - NET_RAW                      # ping, tcpdump
    - NET_BIND_SERVICE             # root may serve TFTP on port 69
    - SETUID                       # runuser/setpriv to the unprivileged user 'student'
    - SETGID
    - CHOWN                        # root managing files in served directories
    - DAC_OVERRIDE
    - FOWNER
    - KILL                         # root may stop a student's program
    - SYS_CHROOT                   # tftpd-hpa --secure chroots into the directory it serves
  sysctls:
    net.ipv4.ip_unprivileged_port_start: 1024   # Docker's default is 0; the lessons need 1024
    net.ipv4.ip_forward: 0         # only routers forward (Docker's default is 1)
    net.ipv6.conf.all.forwarding: 0
  dns: [127.0.0.1]                 # no name lookups leave the lab; lab names are in /etc/hosts
  # Limits (a description's `limits:`): a student's fork bomb, memory hog or endless loop
  # stops at its own host.
  pids_limit: {pids:<20} # processes and threads on this host
  mem_limit: {memory:<21} # beyond it the kernel kills the biggest process here
  memswap_limit: {memory:<17} # and no swap on top (Docker's default would double it)
  cpus: {cpus:<26} # at most this many cores
  # What the unprivileged `student` may write, each bounded and in memory (counted in
  # mem_limit, gone with the host): a loop writing files fills these, never the disk.
  tmpfs:
    - /tmp:size=64m,mode=1777
    - /var/tmp:size=16m,mode=1777
    - /run/lock:size=1m,mode=1777
    - /home/student:size=16m,mode=0700
  volumes:
    # The student's workspace (`invoke up --workspace DIR`, default ./work): edited on the
    # Docker host, run on every lab host. The entrypoint gives the host's `student` user the
    # folder owner's uid, so files are editable from both sides.
    # `invoke grade` mounts it read-only (LAB_WORKSPACE_MODE=ro): a submission writes only above.
    - "${{LAB_WORKSPACE:-./work}}:/work:${{LAB_WORKSPACE_MODE:-rw}}"
"""

_BRIDGE_TEMPLATE = """
x-lab-bridge: &lab-bridge
  driver: bridge
  enable_ipv6: true                # dual stack: the ULA /64 of each LAN beside its IPv4 /24
  driver_opts:
    com.docker.network.bridge.inhibit_ipv4: "true"
    com.docker.network.bridge.enable_ip_masquerade: "false"
"""
