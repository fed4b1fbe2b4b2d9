"""Where socklab lives and what a lab is called unless told: read by every entry point,
`invoke --list` among them, so this module imports nothing (Docker is imported by the tasks
that reach it, through lab.control.engine)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
DEFAULT_WORKSPACE = ROOT / "work"
DEFAULT_NAME = "socklab"
