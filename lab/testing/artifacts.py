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
from lab.errors import LabError
from lab.harness import pages

FOLDER = ROOT / "artifacts"


def folder_for(test_id: str, base: Path = FOLDER) -> Path:
    return base / re.sub(r"[^\w.-]+", "_", test_id)


def save(lab: Lab, folder: Path, test: str, programs: Sequence[HostProgram],
         captures: Sequence[CaptureSet]) -> Path:
    """Every program's transcript, every pcap, every host's log, the lab's status, and a page
    (report.html) with the programs, the exchange drawn, and the lab."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, program in enumerate(programs):
        (folder / f"program-{n}-{program.host}.txt").write_text(
            f"{program!r}\nexit={program.exit_code}\n{program.transcript()}\n")
    for host, container in lab.containers().items():
        (folder / f"log-{host}.txt").write_bytes(lab.engine.logs(container.id))
    (folder / "status.json").write_text(json.dumps(lab.status_json(), indent=2))
    try:
        pages.write_failure(folder, test, programs, captures, lab.topology())  # copies the pcaps too
    except LabError as exc:  # a page that cannot be written: the rest is still there
        (folder / "report.txt").write_text(f"no report page: {exc}\n")
        for n, cap in enumerate(captures):
            for host, path in cap.files.items():
                shutil.copy(path, folder / f"capture-{n}-{host}.pcap")
    return folder
