"""Shared by the unit and lab tests: the lab fixtures (lab.testing.plugin), and the ``needs``
marker for a test that needs an optional program (Graphviz's `dot`, Chromium).

``@pytest.mark.needs("dot")`` skips the test when `dot` is missing, naming the tool and how
to install it, and the run ends with a line per missing tool. In CI (``CI`` set) nothing is
skipped: CI installs them, so a missing one fails the tests that need it.
"""

from __future__ import annotations

import os

import pytest

from lab.report.tools import TOOLS, Tool

pytest_plugins = ["lab.testing.plugin", "pytester"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"needs(*tools): skipped without one of these programs ({', '.join(TOOLS)})")


def skip_reason(tool: Tool) -> str:
    return f"needs {tool.title}: {tool.install}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in item.iter_markers("needs"):
            for name in marker.args:
                if name not in TOOLS:
                    raise pytest.UsageError(f"{item.nodeid}: needs({name!r}): known tools are {', '.join(TOOLS)}")
                if not TOOLS[name].installed() and not os.environ.get("CI"):
                    item.add_marker(pytest.mark.skip(reason=skip_reason(TOOLS[name])))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """A line per missing tool: how many tests it cost and how to get it (the skips' reasons,
    so that it also counts what pytest-xdist's workers skipped)."""
    reasons = [str(report.longrepr[2]) for report in terminalreporter.stats.get("skipped", [])
               if isinstance(report.longrepr, tuple)]
    for tool in TOOLS.values():
        skipped = sum(reason.endswith(skip_reason(tool)) for reason in reasons)
        if skipped:
            terminalreporter.write_line(f"socklab: {skipped} skipped without {tool.title} (it {tool.used_for}): "
                                        f"`{tool.install}`, then run them again")
