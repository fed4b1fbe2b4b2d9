"""What a person reads: lab status as a rich table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from lab.control.lab import HostStatus

STATE_STYLE = {"running": "green", "exited": "red", "created": "yellow"}


def status_table(lab_name: str, prefix: str | None, rows: list[HostStatus]) -> Table:
    title = f"lab {lab_name}" + (f"  ({prefix}.0.0/16)" if prefix else "")
    table = Table(title=title, title_justify="left")
    for column in ("host", "role", "state", "networks", "container"):
        table.add_column(column)
    for row in rows:
        style = STATE_STYLE.get(row.state, "yellow")
        nets = "  ".join(f"{lan} {addr}" for lan, addr in row.networks.items())
        table.add_row(row.service, row.role, f"[{style}]{row.state}[/]", nets, row.container)
    return table


def print_status(console: Console, lab_name: str, prefix: str | None, rows: list[HostStatus]) -> None:
    if not rows:
        console.print(f"lab {lab_name} is not running: run `invoke up`")
        return
    console.print(status_table(lab_name, prefix, rows))
