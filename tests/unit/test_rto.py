"""The retransmission timer's arithmetic (RFC 6298 with a LAN floor)."""

from __future__ import annotations

import pytest

from lab.proto.rto import INITIAL, LAN_FLOOR, Rto


def test_before_any_measurement_the_initial_value_capped_by_the_ceiling() -> None:
    assert Rto().value == INITIAL
    assert Rto(ceiling=0.05).value == 0.05


def test_a_lan_round_trip_gives_the_floor() -> None:
    timer = Rto()
    timer.measured(0.0002)
    assert timer.value == LAN_FLOOR


def test_the_first_measurement_and_the_smoothing_of_rfc_6298() -> None:
    timer = Rto()
    timer.measured(0.1)
    assert (timer.srtt, timer.rttvar) == (0.1, 0.05)
    assert timer.value == pytest.approx(0.1 + 4 * 0.05)
    timer.measured(0.2)
    assert timer.rttvar == pytest.approx(0.75 * 0.05 + 0.25 * 0.1)
    assert timer.srtt == pytest.approx(0.875 * 0.1 + 0.125 * 0.2)


def test_backoff_doubles_up_to_the_ceiling_and_a_measurement_ends_it() -> None:
    timer = Rto(ceiling=1.0)
    timer.measured(0.0002)
    values = []
    for _ in range(10):
        values.append(timer.value)
        timer.expired()
    assert values[:4] == [LAN_FLOOR, 2 * LAN_FLOOR, 4 * LAN_FLOOR, 8 * LAN_FLOOR]
    assert max(values) == 1.0 and timer.backoff < 10, "no doubling past the ceiling"
    timer.measured(0.0002)
    assert timer.value == LAN_FLOOR
