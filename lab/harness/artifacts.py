"""What a failed lab test leaves behind, so a CI failure can be understood without a rerun."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from lab.control.capture import CaptureSet
from lab.control.lab import ROOT, Lab
from lab.control.programs import HostProgram

FOLDER = ROOT / "artifacts"


def folder_for(test_id: str, base: Path = FOLDER) -> Path:
    return base / re.sub(r"[^\w.-]+", "_", test_id)


def save(lab: Lab, folder: Path, programs: Sequence[HostProgram], captures: Sequence[CaptureSet]) -> Path:
    """Every program's transcript, every pcap, every host's log and the lab's status."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, program in enumerate(programs):
        (folder / f"program-{n}-{program.host}.txt").write_text(
            f"{program!r}\nexit={program.exit_code}\n{program.transcript()}\n")
    for n, cap in enumerate(captures):
        for host, path in cap.files.items():
            shutil.copy(path, folder / f"capture-{n}-{host}.pcap")
    for host, container in lab.containers().items():
        (folder / f"log-{host}.txt").write_bytes(container.logs())
    (folder / "status.json").write_text(json.dumps(lab.status_json(), indent=2))
    return folder
