"""The HTML page (``lab.report.page``) of a play, a check or a failed lab test."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from lab.control.capture import CaptureSet
from lab.control.programs import HostProgram
from lab.control.topology import Topology
from lab.harness.exercise import transcript_lines
from lab.harness.scenario import Check, Stage, Transcript
from lab.report import page


def evidence(c: Check) -> page.Evidence:
    return page.Evidence(c.name, c.ok, c.observed, c.expected, c.hint,
                         tuple((t.program, text(t)) for t in c.transcripts), c.ladder)


def text(t: Transcript) -> str:
    return "\n".join(line.removeprefix("  ") for line in transcript_lines(t))


def write_stage(folder: Path, stage: Stage, narration: Sequence[str], topo: Topology | None = None,
                missing: Callable[[str], None] | None = None) -> Path:
    """A scenario's or `invoke check`'s page: narration, checks with evidence, every program's
    transcript, the exchange FLOW captured, the topology."""
    transcripts = [text(Transcript.of(p)) for p in stage.programs]
    return page.write(folder, f"{stage.name}: {stage.title}", narration, [evidence(c) for c in stage.checks],
                      stage.packets, topo, stage.pcaps, transcripts, missing=missing)


def write_failure(folder: Path, test: str, programs: Sequence[HostProgram], captures: Sequence[CaptureSet],
                  topo: Topology) -> Path:
    """A failed lab test's page: its programs, what it captured (each host's exchange), the lab."""
    packets = [p for cap in captures for host_packets in cap.packets.values() for p in host_packets]
    packets.sort(key=lambda p: p.time)
    pcaps = {f"capture-{n}-{host}": path for n, cap in enumerate(captures) for host, path in cap.files.items()}
    return page.write(folder, f"FAILED {test}", [], [], packets, topo, pcaps,
                      [text(Transcript.of(p)) for p in programs], index="report.html")
