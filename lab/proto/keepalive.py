"""When to send through a NAT, without sockets: a client's keepalives and a server's pushes.

A NAT router keeps a UDP mapping (inside address and port <-> its own address and a port)
only while datagrams cross it: after its UDP timeout (Linux: nf_conntrack_udp_timeout, 30 s,
120 s once both sides spoke; 5 s in the lab's nat topology) it forgets the mapping, and a
datagram the server sends to it afterwards is dropped at the router. A client that wants to
hear from its server keeps the mapping alive with a datagram more often than that
(RFC 4787 section 4.3: at least every 2 minutes for a standard NAT; far more often in practice).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Peer = tuple[str, int]
HELLO, WELCOME, KEEPALIVE, PUSH = "hello", "welcome", "keepalive", "push"


@dataclass
class Keepalive:
    """A client's schedule: a keepalive ``interval`` seconds after the last datagram it sent
    (0: never)."""

    interval: float
    last: float = 0.0

    def sent(self, now: float) -> None:
        self.last = now

    def wait(self, now: float) -> float | None:
        """Seconds until the next keepalive is due (0: now), None when there are none."""
        return None if self.interval <= 0 else max(0.0, self.last + self.interval - now)


@dataclass
class Pushes:
    """A server's schedule: one ``push`` to each client ``after`` seconds after its hello,
    to the address the hello came from (the NAT's, for a client behind one)."""

    after: float
    due_at: dict[Peer, float] = field(default_factory=dict)

    def received(self, peer: Peer, text: str, now: float) -> list[tuple[Peer, str]]:
        """What to send back at once; a hello also schedules that client's push."""
        if text != HELLO:
            return []
        self.due_at.setdefault(peer, now + self.after)
        return [(peer, WELCOME)]

    def due(self, now: float) -> list[tuple[Peer, str]]:
        """The pushes due by ``now``, each once."""
        ready = [peer for peer, at in self.due_at.items() if at <= now]
        for peer in ready:
            self.due_at[peer] = float("inf")
        return [(peer, PUSH) for peer in ready]

    def wait(self, now: float) -> float | None:
        pending = [at for at in self.due_at.values() if at != float("inf")]
        return max(0.0, min(pending) - now) if pending else None
