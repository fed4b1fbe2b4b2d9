"""What a person reads: lab status as a rich table."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from lab.control.doctor import FAIL, OK, WARN, Finding
from lab.control.lab import HostStatus
from lab.control.labs import LabSummary

STATE_STYLE = {"running": "green", "exited": "red", "created": "yellow"}


def status_table(lab_name: str, prefix: str | None, rows: list[HostStatus]) -> Table:
    title = f"lab {lab_name}" + (f"  ({prefix}.0.0/16)" if prefix else "")
    table = Table(title=title, title_justify="left")
    for column in ("host", "role", "state", "networks", "container"):
        table.add_column(column)
    for row in rows:
        style = STATE_STYLE.get(row.state, "yellow")
        nets = "\n".join(f"{lan} {addr}" + (f"  {row.networks6[lan]}" if lan in row.networks6 else "")
                          for lan, addr in row.networks.items())  # a LAN a line: a router's stay readable
        table.add_row(row.service, row.role, f"[{style}]{row.state}[/]", nets, row.container)
    return table


def print_status(console: Console, lab_name: str, prefix: str | None, rows: list[HostStatus]) -> None:
    if not rows:
        console.print(f"lab {lab_name} is not running: run `invoke up`")
        return
    console.print(status_table(lab_name, prefix, rows))


def labs_table(labs: list[LabSummary]) -> Table:
    """Every lab on the engine, a row each (`invoke status --all`)."""
    table = Table(title=f"{len(labs)} labs", title_justify="left")
    for column in ("lab", "hosts", "subnets", "topology", "compose", "workspace"):
        table.add_column(column)
    for lab in labs:
        style = "green" if lab.running == lab.hosts else "yellow"
        table.add_row(lab.name, f"[{style}]{lab.running}/{lab.hosts} running[/]",
                      f"{lab.prefix}.0.0/16" if lab.prefix else "none", _short(lab.topology), lab.compose,
                      _short(lab.workspace))
    return table


def _short(path: str) -> str:
    """A path relative to the working folder when it is inside it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def findings_table(findings: list[Finding]) -> Table:
    """`invoke doctor`: a row per check, its verdict, what was found and what to do."""
    table = Table(title="socklab doctor", title_justify="left")
    for column in ("check", "", "what was found", "what to do"):
        table.add_column(column)
    style = {OK: "green", WARN: "yellow", FAIL: "bold red"}
    for f in findings:
        table.add_row(f.check, f"[{style[f.verdict]}]{f.verdict}[/]", f.detail, f.advice)
    return table
