"""Fault injection on a lab host: packet loss, rate limits, delay.

Loss uses ``iptables -m statistic``: ``random`` drops each packet with a probability,
``nth`` drops one packet in every N, the same ones every time (reproducible).

- ingress loss on X: X's own INPUT (and FORWARD, on the router) jumps to SOCKLAB-IN.
- egress loss on X: a packet dropped in X's OUTPUT chain makes the sender's ``sendto`` fail
  with EPERM, which a lossy network never does, and this kernel has no tc drop actions. So
  X's egress is lost where the wire delivers it: every host sharing a LAN with X drops that
  share of the packets *from X* as they arrive (chain SOCKLAB-FROM-X, from INPUT, and from
  FORWARD on the router). The sender sees nothing, as on a real lossy link.

Everything lives in chains of our own, so clearing removes exactly what we added. Rate uses
a tbf qdisc on the host's LAN interfaces; delay needs netem (``sch_netem``), and a kernel
without it gets a clear error instead of a silent no-op.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from lab.control.lab import Lab
from lab.errors import LabError

INGRESS = "SOCKLAB-IN"
_RATE = re.compile(r"^\d+(\.\d+)?([kmg]?bit|[kmg]?bps)$", re.IGNORECASE)


class ImpairError(LabError):
    pass


@dataclass(frozen=True)
class Impairment:
    loss: float = 0.0  # percent of packets dropped at random
    every: int = 0  # drop one packet in every N (deterministic)
    direction: str = "both"
    rate: str = ""  # e.g. 1mbit
    delay_ms: float = 0.0

    def check(self) -> Impairment:
        if self.direction not in ("egress", "ingress", "both"):
            raise ImpairError(f"--direction is egress, ingress or both, not {self.direction!r}")
        if self.loss and self.every:
            raise ImpairError("choose --loss PCT (random) or --every N (deterministic), not both")
        if not 0 <= self.loss <= 100:
            raise ImpairError(f"--loss is a percentage from 0 to 100, not {self.loss:g}")
        if self.every < 0 or self.every == 1:
            raise ImpairError("--every N drops one packet in every N: N must be 2 or more")
        if self.rate and not _RATE.match(self.rate):
            raise ImpairError(f"--rate {self.rate!r} is not a tc rate like 1mbit or 500kbit")
        if not (self.loss or self.every or self.rate or self.delay_ms):
            raise ImpairError("nothing to do: give --loss, --every, --rate or --delay (or --clear)")
        return self

    @property
    def directions(self) -> list[str]:
        return ["egress", "ingress"] if self.direction == "both" else [self.direction]


def _sh(lab: Lab, host: str, script: str) -> str:
    result = lab.exec(host, ["sh", "-c", script])
    if result.exit_code != 0:
        raise ImpairError(f"on {host}: {result.output.strip() or 'failed'}")
    return result.stdout


def interfaces(lab: Lab, host: str) -> list[str]:
    out = _sh(lab, host, "ls /sys/class/net")
    return sorted(name for name in out.split() if name != "lo")


def loss_rules(imp: Impairment) -> list[str]:
    """The iptables arguments (after -A CHAIN) that drop packets as asked."""
    if imp.loss:
        return [f"-m statistic --mode random --probability {imp.loss / 100:.6f} -j DROP"]
    if imp.every:
        return [f"-m statistic --mode nth --every {imp.every} --packet 0 -j DROP"]
    return []


def _hooks(lab: Lab, host: str) -> list[str]:
    """The chains where packets arriving at ``host`` pass: INPUT, and FORWARD on a router."""
    return ["INPUT", "FORWARD"] if lab.layout.host(host).role == "router" else ["INPUT"]


def _install(lab: Lab, host: str, chain: str, match: str, rules: list[str]) -> None:
    lines = [f"iptables -w -N {chain}"]
    lines += [f"iptables -w -A {chain} {match} {rule}" for rule in rules]
    lines += [f"iptables -w -I {hook} 1 -j {chain}" for hook in _hooks(lab, host)]
    _sh(lab, host, " && ".join(lines))


def _uninstall(chain: str) -> str:
    return "; ".join(f"while iptables -w -D {hook} -j {chain} 2>/dev/null; do :; done" for hook in
                     ("INPUT", "FORWARD")) + f"; iptables -w -F {chain} 2>/dev/null; iptables -w -X {chain} 2>/dev/null"


def peers(lab: Lab, host: str) -> dict[str, list[str]]:
    """Every host sharing a LAN with ``host`` -> ``host``'s addresses it receives packets from."""
    topo = lab.topology()
    me = topo.host(host)
    found: dict[str, list[str]] = {}
    for lan, addr in me.addresses.items():
        for other in topo.hosts_on(lan):
            if other.name != host:
                found.setdefault(other.name, []).append(str(addr))
    return found


def apply(lab: Lab, host: str, imp: Impairment) -> None:
    imp.check()
    clear(lab, host)
    rules = loss_rules(imp)
    if rules and "ingress" in imp.directions:
        _install(lab, host, INGRESS, "! -i lo", rules)
    if rules and "egress" in imp.directions:
        for peer, sources in peers(lab, host).items():
            for source in sources:
                _install(lab, peer, f"SOCKLAB-FROM-{host}", f"-s {source}", rules)
    for iface in interfaces(lab, host):
        if imp.delay_ms:
            rate = f" rate {imp.rate}" if imp.rate else ""
            netem = f"tc qdisc replace dev {iface} root netem delay {imp.delay_ms:g}ms{rate}"
            result = lab.exec(host, ["sh", "-c", netem])
            if result.exit_code != 0:
                clear(lab, host)
                if "unknown" in result.output.lower():
                    raise ImpairError("this kernel lacks sch_netem: delay and jitter cannot be emulated here "
                                      "(loss with --loss/--every and --rate still work)")
                raise ImpairError(f"on {host}: {result.output.strip()}")
        elif imp.rate:
            _sh(lab, host, f"tc qdisc replace dev {iface} root tbf rate {imp.rate} burst 32kbit latency 400ms")


def clear(lab: Lab, host: str) -> None:
    """Remove every impairment socklab added for ``host``. Safe to run twice."""
    script = [_uninstall(INGRESS)] + [f"tc qdisc del dev {iface} root 2>/dev/null" for iface in interfaces(lab, host)]
    _sh(lab, host, "; ".join(script) + "; true")
    for peer in peers(lab, host):
        _sh(lab, peer, _uninstall(f"SOCKLAB-FROM-{host}") + "; true")


_CHAIN = re.compile(r"^Chain (SOCKLAB-IN|SOCKLAB-FROM-(\S+))")
_MODE = re.compile(r"statistic mode (random probability [\d.]+|nth every \d+)")


def _read(lab: Lab, host: str) -> tuple[list[tuple[str, str, int]], list[str]]:
    """One look at a host: (whose, mode, dropped) per loss rule, and its shaping qdiscs."""
    out = lab.exec(host, ["sh", "-c", "iptables -w -L -v -x -n; echo '== tc'; tc qdisc show"]).stdout
    rules, qdiscs, owner = [], [], ""
    head, _, tc = out.partition("== tc")
    for line in head.splitlines():
        chain = _CHAIN.match(line)
        if chain:
            owner = f"in:{host}" if chain.group(1) == INGRESS else f"out:{chain.group(2)}"
        elif line.startswith("Chain "):
            owner = ""
        elif owner and (mode := _MODE.search(line)):
            rules.append((owner, mode.group(1), int(line.split()[0])))
    for line in tc.splitlines():
        if re.search(r"qdisc (tbf|netem) ", line):
            qdiscs.append(" ".join(line.split()[:2] + line.split()[4:]))
    return rules, qdiscs


def report(lab: Lab) -> dict[str, list[str]]:
    """Every running host's active impairments, one line each, with packets dropped so far."""
    hosts = [name for name, c in lab.containers().items() if c.status == "running"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = dict(zip(hosts, pool.map(lambda h: _read(lab, h), hosts), strict=True))
    lines: dict[str, list[str]] = {h: [] for h in hosts}
    egress: dict[tuple[str, str], int] = {}
    for host, (rules, qdiscs) in seen.items():
        for owner, mode, dropped in rules:
            if owner.startswith("in:"):
                lines[host].append(f"ingress loss ({mode}): {dropped} dropped")
            else:
                key = (owner[4:], mode)
                egress[key] = egress.get(key, 0) + dropped
        lines[host] += qdiscs
    for (host, mode), dropped in egress.items():
        lines.setdefault(host, []).append(f"egress loss ({mode}, dropped where it arrives): {dropped} dropped")
    return lines


def show(lab: Lab, host: str) -> list[str]:
    """Active impairments of ``host`` (reading every host: egress loss lives on its peers)."""
    return report(lab).get(host, [])
