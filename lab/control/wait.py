"""Wait on a condition with a timeout, never on the clock alone."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from lab.errors import HostNotRunningError, LabNotRunningError, ProgramError, WaitTimeoutError

T = TypeVar("T")


def wait_until(
    check: Callable[[], T | None],
    timeout: float,
    what: str,
    interval: float = 0.05,
    backoff: float = 1.0,
) -> T:
    """Call ``check`` until it returns a truthy value and return that value.

    ``check`` may raise to mean "not yet"; the last exception is reported if time runs out.
    A ProgramError (the program waited on has ended or misbehaved), and a lab or host that is
    not running (removed under the waiter, as grading's Ctrl-C does) are final: they propagate.
    Raises WaitTimeoutError naming ``what`` after ``timeout`` seconds. ``backoff`` > 1: each
    pause that many times the last, up to half a second (a check that costs many API calls).
    """
    __tracebackhide__ = True
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        try:
            value = check()
        except (ProgramError, LabNotRunningError, HostNotRunningError):
            raise  # final: a program that ended, a lab or host removed, will not come back by waiting
        except Exception as exc:  # noqa: BLE001 - "not yet", remembered for the report
            last = f"{type(exc).__name__}: {exc}"
        else:
            if value:
                return value
        if time.monotonic() >= deadline:
            raise WaitTimeoutError(what, timeout, last)
        time.sleep(interval)
        interval = min(interval * backoff, max(interval, 0.5))
