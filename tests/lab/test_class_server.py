"""`invoke serve` on real containers, two students (labs `<--lab-name>-sv-<student>`): A's page starts A's
lab and its terminal works; B's token reaches nothing of A's; the instructor's terminal in A's lab
takes no keystrokes unless asked (?write=1); a server started again adopts A's running lab (the
same containers); A's fork bomb leaves B's terminal and page answering; an idle stop removes the
lab and keeps the workspace and the recordings."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from lab.control import topologies
from lab.control.defaults import COMPOSE_FILE
from lab.control.engine import Engine
from lab.control.wait import wait_until
from lab.testing.plugin import lab_name
from lab.web import auth
from lab.web.classroom import RUNNING, STOPPED, Classroom, DockerLabs
from lab.web.classserver import ClassServer
from lab.web.grades import Gradings
from lab.web.roster import Class, Student

pytestmark = pytest.mark.lab
# From a lab host: a TCP connection to PORT at each address, and how it went.
REACH = """
import socket, sys
for host in sys.argv[2:]:
    try:
        socket.create_connection((host, int(sys.argv[1])), timeout=2).close()
        print("reached")
    except ConnectionRefusedError:
        print("refused")
    except OSError:
        print("unreachable")
"""
STUDENTS = ["ana", "ben"]
BOMB = Path(__file__).parent / "grading" / "fork-bomb" / "server.py"  # bounded: its processes end within 60 s


def get(server: ClassServer, path: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


async def type_in(server: ClassServer, student: str, token: str, line: str, until: str, query: str = "",
                  within: float = 20) -> tuple[int, str]:
    """Open the student's terminal on h1 (``query``: more of its URL's), type ``line``; the output up to
    ``until``, else all it showed within ``within`` seconds (or the refusal)."""
    url = f"ws://127.0.0.1:{server.port}/lab/{student}/api/terminal/h1?cols=100&rows=30{query}"
    headers = {"Authorization": f"Bearer {token}", "Origin": f"http://127.0.0.1:{server.port}"}
    async with aiohttp.ClientSession() as session:
        try:
            ws = await session.ws_connect(url, headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status, ""
        seen = [""]
        await ws.send_bytes(line.encode() + b"\r")
        try:
            await read_until(ws, until, within, seen)
        except TimeoutError:
            pass
        await ws.close()
        return 101, seen[0]


async def read_until(ws: aiohttp.ClientWebSocketResponse, until: str, within: float, seen: list[str]) -> bool:
    """A terminal's output into ``seen[0]`` until it holds ``until`` (True), or the terminal
    closes (False); TimeoutError after ``within`` seconds."""
    async with asyncio.timeout(within):
        while until not in seen[0]:
            msg = await ws.receive()
            if msg.type == aiohttp.WSMsgType.BINARY:
                seen[0] += msg.data.decode(errors="replace")
            elif msg.type != aiohttp.WSMsgType.TEXT:
                return False
    return True


@pytest.fixture
def room_parts(engine: Engine, tmp_path: Path,
               request: pytest.FixtureRequest) -> Iterator[tuple[Class, Path, DockerLabs, dict[str, str]]]:
    the_class = Class(tmp_path / "class", [Student(s) for s in STUDENTS])
    the_class.issue()
    the_class.write_links("http://127.0.0.1")
    tokens = {row.split(",")[0]: row.rsplit("token=", 1)[1]
              for row in (tmp_path / "class" / "links.csv").read_text().splitlines()[1:]}
    tokens["instructor"] = (tmp_path / "class" / "instructor.txt").read_text().strip().rsplit("token=", 1)[1]
    # --lab-name=svt: labs svt-sv-ana, svt-sv-ben, of the hosts these tests and test_class_flood's use
    hosts = topologies.trimmed(COMPOSE_FILE, ["h1", "h2", "b1"], tmp_path / "sv.yaml")
    labs = DockerLabs(engine, f"{lab_name(request.config)}-sv-", hosts)
    yield the_class, (tmp_path / "class").resolve(), labs, tokens
    for student in STUDENTS:
        labs.stop(student)


def serve(the_class: Class, folder: Path, labs: DockerLabs, now: list[float]) -> ClassServer:
    room = Classroom(folder, STUDENTS, labs, capacity=2, idle=600, clock=lambda: now[0])
    room.adopt()
    server = ClassServer(the_class, room, Gradings(folder, lambda *a: []), "127.0.0.1", 0,
                         limiter=auth.Limiter(attempts=1000), sweep_every=3600)
    server.start()
    return server


def test_a_class_on_real_labs(room_parts: tuple[Class, Path, DockerLabs, dict[str, str]]) -> None:
    the_class, folder, labs, tokens = room_parts
    now = [1e9]
    server = serve(the_class, folder, labs, now)
    try:
        assert get(server, "/lab/ana/", tokens["ana"])[0] == 200  # the waiting page; the visit starts her lab
        wait_until(lambda: get(server, "/lab/ana/api/state", tokens["ana"])[1]["state"] == RUNNING, 90,
                   "ana's lab to run")
        assert labs.running() == {"ana"}  # ben's is not started by ana's visit
        assert get(server, "/lab/ben/", tokens["ben"])[0] == 200  # his visit starts his, for the fork bomb below
        status, seen = asyncio.run(type_in(server, "ana", tokens["ana"], "echo $((6*7))-$(hostname) > mark; "
                                           "cat mark", "42-h1"))
        assert status == 101 and "42-h1" in seen
        assert (folder / "work" / "ana" / "mark").read_text() == "42-h1\n"  # her workspace is /work
        # her hosts reach nothing outside her lab: not the server's port, on any of the machine's sides
        lab = labs.lab("ana")
        docker_side = [str(lan.subnet.network_address + 1) for lan in lab.topology().lans.values()]
        tried = lab.exec("h1", ["python3", "-c", REACH, str(server.port), "127.0.0.1", *docker_side], prints=True)
        assert tried.stdout.split() == ["refused"] + ["unreachable"] * len(docker_side), tried.output
        recordings = get(server, "/lab/ana/api/recordings", tokens["ana"])[1]
        assert len(recordings) == 1
        for path in ("/lab/ana/api/lab", "/lab/ana/api/files", "/lab/ana/api/files/mark", "/lab/ana/api/recordings",
                     f"/lab/ana/api/recordings/{recordings[0]['id']}", "/lab/ana/"):
            assert get(server, path, tokens["ben"]) == (404, {"error": "not found"}), path
        assert asyncio.run(type_in(server, "ana", tokens["ben"], "touch /work/ben-was-here", "$"))[0] == 404
        assert not (folder / "work" / "ana" / "ben-was-here").exists()
        # the instructor sees a terminal of hers, and types in it only when the page asks (?write=1)
        touch = "touch /work/instructor-was-here; echo $((6*7))-typed"
        status, seen = asyncio.run(type_in(server, "ana", tokens["instructor"], touch, "42-typed", within=3))
        assert status == 101 and "h1" in seen and "42-typed" not in seen, seen
        assert not (folder / "work" / "ana" / "instructor-was-here").exists()
        assert "42-typed" in asyncio.run(type_in(server, "ana", tokens["instructor"], touch, "42-typed", "&write=1"))[1]
        assert (folder / "work" / "ana" / "instructor-was-here").exists()
        wait_until(lambda: get(server, "/lab/ben/api/state", tokens["ben"])[1]["state"] == RUNNING, 90,
                   "ben's lab to run")
        before = {c.id for c in labs.lab("ana").listed().values()}
    finally:
        server.stop()
        server.room.close()
    server = serve(the_class, folder, labs, now)  # the server started again
    try:
        assert server.room.place("ana").state == RUNNING
        assert {c.id for c in labs.lab("ana").listed().values()} == before  # adopted, not started again
        assert "42-h1" in asyncio.run(type_in(server, "ana", tokens["ana"], "cat mark", "42-h1"))[1]
        # ana's fork bomb fills her h1 (its processes limit stops it); ben's terminal and page still answer at once
        shutil.copy(BOMB, folder / "work" / "ana" / "bomb.py")
        bomb = "python3 bomb.py; echo $((6*7))-bombed"
        seen = asyncio.run(type_in(server, "ana", tokens["ana"], bomb, "42-bombed"))[1]
        assert "42-bombed" in seen and "Resource temporarily unavailable" in seen, seen
        started = time.monotonic()
        assert "42-h1" in asyncio.run(type_in(server, "ben", tokens["ben"], "echo $((6*7))-$(hostname)", "42-h1",
                                              within=5))[1]
        assert get(server, "/lab/ben/api/state", tokens["ben"])[1]["state"] == RUNNING
        assert time.monotonic() - started < 5
        now[0] += 601
        assert sorted(server.room.sweep()) == STUDENTS
        wait_until(lambda: all(server.room.place(s).state == STOPPED for s in STUDENTS), 60, "the idle labs to stop")
        assert labs.running() == set() and not labs.lab("ana").listed() and not labs.lab("ben").listed()
        assert (folder / "work" / "ana" / "mark").read_text() == "42-h1\n"
        assert len(list((folder / "recordings" / "ana").glob("*.cast"))) == 5  # 3 of hers, 2 of the instructor's
    finally:
        server.stop()
        server.room.close()
