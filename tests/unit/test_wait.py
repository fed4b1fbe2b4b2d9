from __future__ import annotations

import pytest

from lab.control.wait import wait_until
from lab.errors import WaitTimeoutError


def test_returns_the_first_truthy_value() -> None:
    calls = iter([None, 0, "", "done"])
    assert wait_until(lambda: next(calls), timeout=5, what="it", interval=0) == "done"


def test_timeout_names_what_and_the_last_error() -> None:
    def never() -> None:
        raise ConnectionRefusedError("nobody home")

    with pytest.raises(WaitTimeoutError, match=r"waiting for the server .*ConnectionRefusedError: nobody home"):
        wait_until(never, timeout=0.05, what="the server", interval=0.01)
