"""Probes: what a lesson or a test asks of the lab beyond the `lab` programs: small stdlib
programs run on a host (``programs/``, real files that linters and readers see), and what
``ss``, ``sha256sum`` or a capture say.
"""

from __future__ import annotations

from pathlib import Path

PROGRAMS = Path(__file__).parent / "programs"


def program(name: str) -> str:
    """The source of ``programs/<name>.py``, to run with ``python3 -c`` on a host."""
    return (PROGRAMS / f"{name}.py").read_text()
