"""`invoke serve` on real containers, two students (labs `sv-<student>`): A's page starts A's
lab and its terminal works; B's token reaches nothing of A's; a server started again adopts
A's running lab (the same containers); an idle stop removes the lab and keeps the workspace
and the recording."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from lab.control.engine import Engine
from lab.control.wait import wait_until
from lab.web import auth
from lab.web.classroom import RUNNING, STOPPED, Classroom, DockerLabs
from lab.web.classserver import ClassServer
from lab.web.grades import Gradings
from lab.web.roster import Class, Student

pytestmark = pytest.mark.lab
PREFIX = "sv-"
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


async def type_in(server: ClassServer, student: str, token: str, line: str, until: str) -> tuple[int, str]:
    """Open the student's terminal on h1, type ``line``; the output up to ``until`` (or the refusal)."""
    url = f"ws://127.0.0.1:{server.port}/lab/{student}/api/terminal/h1?cols=100&rows=30"
    headers = {"Authorization": f"Bearer {token}", "Origin": f"http://127.0.0.1:{server.port}"}
    async with aiohttp.ClientSession() as session:
        try:
            ws = await session.ws_connect(url, headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status, ""
        seen = ""
        await ws.send_bytes(line.encode() + b"\r")
        async with asyncio.timeout(20):
            while until not in seen:
                msg = await ws.receive()
                if msg.type == aiohttp.WSMsgType.BINARY:
                    seen += msg.data.decode(errors="replace")
                elif msg.type != aiohttp.WSMsgType.TEXT:
                    break
        await ws.close()
        return 101, seen


@pytest.fixture
def room_parts(engine: Engine, tmp_path: Path) -> Iterator[tuple[Class, Path, DockerLabs, dict[str, str]]]:
    the_class = Class(tmp_path / "class", [Student(s) for s in STUDENTS])
    the_class.issue()
    the_class.write_links("http://127.0.0.1")
    tokens = {row.split(",")[0]: row.rsplit("token=", 1)[1]
              for row in (tmp_path / "class" / "links.csv").read_text().splitlines()[1:]}
    labs = DockerLabs(engine, PREFIX)
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
        before = {c.id for c in labs.lab("ana").listed().values()}
    finally:
        server.stop()
        server.room.close()
    server = serve(the_class, folder, labs, now)  # the server started again
    try:
        assert server.room.place("ana").state == RUNNING
        assert {c.id for c in labs.lab("ana").listed().values()} == before  # adopted, not started again
        assert "42-h1" in asyncio.run(type_in(server, "ana", tokens["ana"], "cat mark", "42-h1"))[1]
        now[0] += 601
        assert server.room.sweep() == ["ana"]
        wait_until(lambda: server.room.place("ana").state == STOPPED, 60, "ana's idle lab to stop")
        assert labs.running() == set() and not labs.lab("ana").listed()
        assert (folder / "work" / "ana" / "mark").read_text() == "42-h1\n"
        assert len(list((folder / "recordings" / "ana").glob("*.cast"))) == 2
    finally:
        server.stop()
        server.room.close()
