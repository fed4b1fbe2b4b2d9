"""A report page opened in a real browser (headless Chromium): rendered to PNG, with what its
console said and how many of its images the browser could show. The report tests use it.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lab.errors import PictureError
from lab.report.tools import CHROMIUM

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=5000"]
_CONSOLE = re.compile(r":CONSOLE(?::\d+)?\] (.*)$")
_IMAGES = re.compile(r'data-images="(\d+)/(\d+)"')


@dataclass(frozen=True)
class Rendering:
    png: Path
    console: list[str]  # every message the page's console printed
    images_shown: int
    images: int


def find() -> str:
    return CHROMIUM.find()


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([find(), *FLAGS, "--enable-logging=stderr", "--v=0", *args], capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise PictureError(f"Chromium did not finish within {timeout:g}s") from None


def render(page: Path, png: Path, width: int = 1200, height: int = 2400, timeout: float = 60) -> Rendering:
    """Open ``page`` (a file), screenshot it to ``png``, and read back its console and images."""
    url = page.resolve().as_uri()
    shot = _run([f"--screenshot={png.resolve()}", f"--window-size={width},{height}", url], timeout)
    if not png.is_file():
        raise PictureError(f"Chromium wrote no screenshot of {page}: {shot.stderr.strip()[-300:]}")
    dom = _run(["--dump-dom", url], timeout)
    console = [m[1] for line in (shot.stderr + dom.stderr).splitlines() if (m := _CONSOLE.search(line))]
    counted = _IMAGES.search(dom.stdout)
    shown, total = (int(counted[1]), int(counted[2])) if counted else (0, -1)
    return Rendering(png, console, shown, total)
