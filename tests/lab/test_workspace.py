"""The workspace: one folder, edited on the Docker host, seen and run on every lab host."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.control import topologies
from lab.control.defaults import COMPOSE_FILE
from lab.control.engine import Engine
from lab.control.lab import Lab
from lab.control.workspace import MOUNT, give
from lab.harness import exercise as exercises

pytestmark = pytest.mark.lab
CASES = Path(__file__).parent / "exercises"


@pytest.fixture
def folder(lab: Lab) -> Iterator[Path]:
    work = lab.workspace()
    assert work is not None
    made = work / ".socklab-tests" / uuid.uuid4().hex[:8]
    made.mkdir(parents=True)
    give(made.parent, work)
    give(made, work)  # as a folder the user made: theirs (and so the hosts' student's)
    yield made
    shutil.rmtree(made, ignore_errors=True)


def test_every_host_mounts_the_workspace_and_has_editors(lab: Lab, folder: Path) -> None:
    (folder / "note.txt").write_text("saved in my editor\n")
    inside = f"{MOUNT}/{folder.relative_to(lab.workspace()).as_posix()}/note.txt"  # type: ignore[arg-type]
    for host in lab.topology().hosts:
        assert lab.exec(host, ["cat", inside]).stdout == "saved in my editor\n"
    assert lab.exec("h1", ["which", "nano", "vim"], check=True).stdout.split() == [
        "/usr/bin/nano", "/usr/local/bin/vim"]
    with lab.open_session("h1", ["pwd"], workdir=MOUNT) as session:  # as `invoke shell` opens one
        assert b"".join(data for _, data in session).decode().strip() == MOUNT


def test_files_are_editable_from_both_sides(lab: Lab, folder: Path) -> None:
    inside = f"{MOUNT}/{folder.relative_to(lab.workspace()).as_posix()}"  # type: ignore[arg-type]
    lab.exec("b1", ["sh", "-c", f"echo from-student > {inside}/theirs.txt"], user="student", check=True)
    with (folder / "theirs.txt").open("a") as f:  # the user edits what the host wrote
        f.write("from-user\n")
    (folder / "mine.txt").write_text("from-user\n")
    if os.geteuid() == 0:  # as `invoke exercise` does: a file the tools write belongs to the workspace's owner
        owner = folder.parent.parent.stat()
        os.chown(folder / "mine.txt", owner.st_uid, owner.st_gid)
    lab.exec("h2", ["sh", "-c", f"echo from-student >> {inside}/mine.txt"], user="student", check=True)
    assert (folder / "theirs.txt").read_text() == "from-student\nfrom-user\n"
    assert (folder / "mine.txt").read_text() == "from-user\nfrom-student\n"


def test_an_edit_on_the_host_side_runs_at_the_next_check(lab: Lab, folder: Path) -> None:
    """Nothing is rebuilt or restarted: the same containers run the edited file."""
    before = {h: c.id for h, c in lab.containers().items()}
    work = lab.workspace()
    assert work is not None
    shutil.copy(CASES / "echo" / "solution" / "server.py", folder / "server.py")
    assert exercises.check(lab, "echo", work, say=lambda _: None, folder=folder).passed
    shutil.copy(CASES / "echo" / "upper" / "server.py", folder / "server.py")
    failed = {c.name for c in exercises.check(lab, "echo", work, say=lambda _: None, folder=folder).stage.checks
              if not c.ok}
    assert "server: replies from h1 byte-identical to what was sent" in failed
    assert {h: c.id for h, c in lab.containers().items()} == before


@pytest.mark.skipif(os.geteuid() != 0, reason="handing a folder to another uid needs root (CI runs as root)")
def test_the_hosts_student_takes_the_workspace_owners_uid(engine: Engine, tmp_path: Path) -> None:
    """A user who is not root (here uid 4242) owns what the hosts' student writes, and the reverse."""
    work = tmp_path / "ws"
    work.mkdir()
    os.chown(work, 4242, 4242)
    hosts = topologies.trimmed(COMPOSE_FILE, ["h1", "srv"], tmp_path / "ws.yaml")  # the hosts used here
    other = Lab(engine, f"ws{uuid.uuid4().hex[:6]}", hosts)
    try:
        other.up(workspace_dir=work)
        assert other.workspace() == work.resolve()
        assert other.exec("h1", ["id", "-u", "student"]).stdout.strip() == "4242"
        other.exec("h1", ["touch", f"{MOUNT}/by-student"], user="student", check=True)
        assert (work / "by-student").stat().st_uid == 4242
        (work / "by-user").write_text("x")
        os.chown(work / "by-user", 4242, 4242)
        other.exec("srv", ["sh", "-c", f"echo y >> {MOUNT}/by-user"], user="student", check=True)
        assert (work / "by-user").read_text() == "xy\n"
    finally:
        other.down()
