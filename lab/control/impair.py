"""Fault injection on a lab host: packet loss, rate limits, delay.

Loss uses ``iptables -m statistic`` in chains of our own (SOCKLAB-OUT from OUTPUT for
egress, SOCKLAB-IN from INPUT for ingress), so clearing removes exactly what we added and
nothing else: ``random`` drops each packet with a probability, ``nth`` drops one packet in
every N, the same ones every time (reproducible). Loopback is never touched. Rate uses a
tbf qdisc on the host's LAN interfaces; delay needs netem (``sch_netem``), and a kernel
without it gets a clear error instead of a silent no-op.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lab.control.lab import Lab
from lab.errors import LabError

CHAINS = {"egress": ("SOCKLAB-OUT", "OUTPUT", "-o"), "ingress": ("SOCKLAB-IN", "INPUT", "-i")}
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


def apply(lab: Lab, host: str, imp: Impairment) -> None:
    imp.check()
    clear(lab, host)
    lines = []
    for direction in imp.directions:
        chain, parent, flag = CHAINS[direction]
        rules = loss_rules(imp)
        if rules:
            lines += [f"iptables -w -N {chain}", f"iptables -w -A {chain} {flag} lo -j RETURN"]
            lines += [f"iptables -w -A {chain} {rule}" for rule in rules]
            lines.append(f"iptables -w -I {parent} 1 -j {chain}")
    if lines:
        _sh(lab, host, " && ".join(lines))
    for iface in interfaces(lab, host):
        if imp.delay_ms:
            rate = f" rate {imp.rate}" if imp.rate else ""
            result = lab.exec(host, ["sh", "-c", f"tc qdisc replace dev {iface} root netem delay {imp.delay_ms:g}ms{rate}"])
            if result.exit_code != 0:
                clear(lab, host)
                if "unknown" in result.output.lower():
                    raise ImpairError("this kernel lacks sch_netem: delay and jitter cannot be emulated here "
                                      "(loss with --loss/--every and --rate still work)")
                raise ImpairError(f"on {host}: {result.output.strip()}")
        elif imp.rate:
            _sh(lab, host, f"tc qdisc replace dev {iface} root tbf rate {imp.rate} burst 32kbit latency 400ms")


def clear(lab: Lab, host: str) -> None:
    """Remove every impairment socklab added on ``host``. Safe to run twice."""
    script = []
    for chain, parent, _ in CHAINS.values():
        script += [f"while iptables -w -D {parent} -j {chain} 2>/dev/null; do :; done",
                   f"iptables -w -F {chain} 2>/dev/null", f"iptables -w -X {chain} 2>/dev/null"]
    for iface in interfaces(lab, host):
        script.append(f"tc qdisc del dev {iface} root 2>/dev/null")
    script.append("true")
    _sh(lab, host, "; ".join(script))


def show(lab: Lab, host: str) -> list[str]:
    """Active impairments on ``host``, one line each, with packets dropped so far."""
    out = _sh(lab, host, "for c in SOCKLAB-OUT SOCKLAB-IN; do echo \"== $c\"; "
                         "iptables -w -L $c -v -x -n 2>/dev/null; done; echo '== tc'; tc qdisc show")
    found: list[str] = []
    section = ""
    for line in out.splitlines():
        if line.startswith("== "):
            section = line[3:]
            continue
        if section.startswith("SOCKLAB") and "statistic" in line:
            packets = line.split()[0]
            mode = re.search(r"statistic mode (random probability [\d.]+|nth every \d+)", line)
            what = mode.group(1) if mode else "statistic"
            direction = "egress" if section.endswith("OUT") else "ingress"
            found.append(f"{direction} loss ({what}): {packets} dropped")
        elif section == "tc" and re.search(r"qdisc (tbf|netem) ", line):
            found.append(" ".join(line.split()[:2] + line.split()[4:]))
    return found
