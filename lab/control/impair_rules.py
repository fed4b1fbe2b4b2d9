"""Impairments as data: what to do to a host's traffic (``Impairment``), the iptables rules
that do it, and reading back what the kernel reports. Pure: ``lab.control.impair`` runs it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lab.errors import ImpairError

INGRESS = "SOCKLAB-IN"
REFUSE = "SOCKLAB-OUT"  # from OUTPUT: the host's own sends, refused (sendto() fails with EPERM)
_RATE = re.compile(r"^\d+(\.\d+)?([kmg]?bit|[kmg]?bps)$", re.IGNORECASE)


MAX_EVERY = 2**31 - 1  # iptables' statistic match counts in 32 bits
MAX_DELAY_MS = 60_000  # a minute: longer than any exercise waits


@dataclass(frozen=True)
class Impairment:
    loss: float = 0.0  # percent of packets dropped at random
    every: int = 0  # drop one packet in every N (deterministic)
    direction: str = "both"
    rate: str = ""  # e.g. 1mbit
    delay_ms: float = 0.0
    refuse: float = 0.0  # percent of the host's own sends its stack refuses (EPERM), as a host firewall does

    def check(self) -> Impairment:
        if self.direction not in ("egress", "ingress", "both"):
            raise ImpairError(f"--direction is egress, ingress or both, not {self.direction!r}")
        if self.loss and self.every:
            raise ImpairError("choose --loss PCT (random) or --every N (deterministic), not both")
        if not 0 <= self.loss <= 100:
            raise ImpairError(f"--loss is a percentage from 0 to 100, not {self.loss:g}")
        if self.every < 0 or self.every == 1 or self.every > MAX_EVERY:
            raise ImpairError(f"--every N drops one packet in every N: N must be from 2 to {MAX_EVERY}")
        if not 0 <= self.delay_ms <= MAX_DELAY_MS:
            raise ImpairError(f"--delay is milliseconds from 0 to {MAX_DELAY_MS}, not {self.delay_ms:g}")
        if not 0 <= self.refuse <= 100:
            raise ImpairError(f"--refuse is a percentage from 0 to 100, not {self.refuse:g}")
        if self.rate and not _RATE.match(self.rate):
            raise ImpairError(f"--rate {self.rate!r} is not a tc rate like 1mbit or 500kbit")
        if not (self.loss or self.every or self.rate or self.delay_ms or self.refuse):
            raise ImpairError("nothing to do: give --loss, --every, --refuse, --rate or --delay (or --clear)")
        return self

    @property
    def directions(self) -> list[str]:
        return ["egress", "ingress"] if self.direction == "both" else [self.direction]


def _random_drop(percent: float) -> str:
    return f"-m statistic --mode random --probability {percent / 100:.6f} -j DROP"


def refuse_rules(imp: Impairment) -> list[str]:
    """The iptables arguments that refuse a share of the host's own sends."""
    return [_random_drop(imp.refuse)] if imp.refuse else []


def loss_rules(imp: Impairment) -> list[str]:
    """The iptables arguments (after -A CHAIN) that drop packets as asked."""
    if imp.loss:
        return [_random_drop(imp.loss)]
    if imp.every:
        return [f"-m statistic --mode nth --every {imp.every} --packet 0 -j DROP"]
    return []


_CHAIN = re.compile(r"^Chain (SOCKLAB-IN|SOCKLAB-OUT|SOCKLAB-FROM-(\S+))")
_MODE = re.compile(r"statistic mode (random probability [\d.]+|nth every \d+)")


def parse(host: str, out: str) -> tuple[list[tuple[str, str, int]], list[str]]:
    """``iptables -L -v -x -n``, then ``== tc``, then ``tc qdisc show``: (whose, mode, dropped)
    per loss rule, and the shaping qdiscs."""
    rules, qdiscs, owner = [], [], ""
    head, _, tc = out.partition("== tc")
    for line in head.splitlines():
        chain = _CHAIN.match(line)
        if chain:
            owner = {INGRESS: f"in:{host}", REFUSE: f"refuse:{host}"}.get(chain.group(1), f"out:{chain.group(2)}")
        elif line.startswith("Chain "):
            owner = ""
        elif owner and (mode := _MODE.search(line)):
            rules.append((owner, mode.group(1), int(line.split()[0])))
    for line in tc.splitlines():
        if re.search(r"qdisc (tbf|netem) ", line):
            qdiscs.append(" ".join(line.split()[:2] + line.split()[4:]))
    return rules, qdiscs
