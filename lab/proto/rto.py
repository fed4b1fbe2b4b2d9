"""The retransmission timeout, as TCP computes it (RFC 6298), with a floor suited to a LAN.

Arithmetic only: the caller measures round trips and says when the timer ran out.

- ``measured(rtt)`` takes a round trip of a packet sent once. Karn's rule: never time one
  that was retransmitted, since its ACK may answer either copy.
- ``expired()`` doubles the timeout (exponential backoff); ``progressed()`` ends the backoff
  when an ACK moves the transfer on, measurable or not: the path works again. (RFC 6298
  keeps the backoff until a measurement; under 20 % loss a window of 16 that loses nothing
  is rare, so the timeout would creep up to its ceiling and stay there.)
- The timeout never exceeds ``ceiling``: the peer's own timeout (TFTP's ``timeout``
  option), so that a peer with whole-second timers never waits on us longer than on itself.
- RFC 6298 asks for at least 1 s, a guard for the Internet's long and varying paths. A lab
  round trip is about 0.1 ms, and a timeout that fires too early costs one packet, so the
  floor is ``LAN_FLOOR``.
"""

from __future__ import annotations

from dataclasses import dataclass

LAN_FLOOR = 0.002   # seconds
INITIAL = 0.1       # before the first measurement (RFC 6298: 1 s)
GRANULARITY = 0.001  # G: the clock, as timers see it
ALPHA, BETA, K = 1 / 8, 1 / 4, 4


@dataclass
class Rto:
    ceiling: float = 1.0
    floor: float = LAN_FLOOR
    srtt: float | None = None
    rttvar: float = 0.0
    backoff: int = 0

    @property
    def value(self) -> float:
        base = INITIAL if self.srtt is None else self.srtt + max(GRANULARITY, K * self.rttvar)
        return min(self.ceiling, max(self.floor, base) * 2 ** self.backoff)

    def measured(self, rtt: float) -> None:
        if self.srtt is None:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar = (1 - BETA) * self.rttvar + BETA * abs(self.srtt - rtt)
            self.srtt = (1 - ALPHA) * self.srtt + ALPHA * rtt
        self.backoff = 0

    def progressed(self) -> None:
        self.backoff = 0

    def expired(self) -> None:
        if self.value < self.ceiling:
            self.backoff += 1
