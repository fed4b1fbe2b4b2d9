"""Every scenario, played on the real lab: each of its checks must hold."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from lab.control.lab import Lab
from lab.errors import UnknownRoleError
from lab.harness import pages
from lab.harness import scenario as scenarios
from lab.probes.raw import minimal_udp_echo
from lab.report import browser

pytestmark = pytest.mark.lab


@pytest.mark.parametrize("name", [n for n in scenarios.names() if not getattr(scenarios.load(n), "NEEDS",
                                                                             scenarios.Needs()).nat])
def test_scenario(lab: Lab, name: str) -> None:
    """(nat needs a NAT router: tests/lab/test_nat.py plays it on a lab of the nat topology.)"""
    narration: list[str] = []
    stage = scenarios.play(lab, name, say=narration.append)
    failed = [c for c in stage.checks if not c.ok]
    assert stage.checks and not failed, "\n".join(narration)


MINIMAL_ECHO = minimal_udp_echo(9001)


def test_a_students_server_can_take_a_role(lab: Lab) -> None:
    stage = scenarios.play(lab, "echo", {"server": ["python3", "-c", MINIMAL_ECHO]}, say=lambda _: None)
    assert stage.passed, stage.checks


def test_a_broken_server_in_a_role_fails_the_checks(lab: Lab) -> None:
    """A server that upper-cases its replies is not an echo server: the scenario says so."""
    broken = MINIMAL_ECHO.replace("s.sendto(d, a)", "s.sendto(d.upper(), a)")
    stage = scenarios.play(lab, "echo", {"server": ["python3", "-c", broken]}, say=lambda _: None)
    failed = {c.name for c in stage.checks if not c.ok}
    assert "server: replies from h1 byte-identical to what was sent" in failed


def test_unknown_role_is_named(lab: Lab) -> None:
    with pytest.raises(UnknownRoleError, match="^scenario `echo` has no role `boss`; its roles are: server, client$"):
        scenarios.play(lab, "echo", {"boss": ["true"]}, say=lambda _: None)


@pytest.mark.needs("dot", "chromium")
def test_a_failed_play_makes_a_report_a_browser_shows(lab: Lab, tmp_path: Path) -> None:
    """`invoke check --report`: the page of a play with a broken server holds every check with
    its evidence, the exchange, the lab, the pcap; Chromium shows it without a console error."""
    broken = MINIMAL_ECHO.replace("s.sendto(d, a)", "s.sendto(d.upper(), a)")
    narration: list[str] = []
    stage = scenarios.play(lab, "echo", {"server": ["python3", "-c", broken]}, say=narration.append,
                           options=scenarios.PlayOptions(capture=True, pcap_folder=tmp_path / "pcaps"))
    out = pages.write_stage(tmp_path / "report", stage, narration, lab.topology())
    page = out.read_text()
    for check in stage.checks:
        assert html.escape(check.name) in page
    assert "FAIL" in page and html.escape("replies from h1 byte-identical") in page
    assert {p.name for p in out.parent.iterdir()} >= {"index.html", "sequence.svg", "topology.svg", "h1.pcap"}
    shown = browser.render(out, tmp_path / "report.png")
    assert shown.console == [] and shown.images_shown == shown.images >= 2
