"""`invoke serve` on real containers: one student's UDP flood stays in their lab.

ana runs a bounded flood in her terminal (tests/lab/hostile/udp_flood.py: as fast as it can
send, to her LAN's broadcast, to her b1 across her router, and to ben's h2 and b1 by address),
while ben types in his terminal and asks the server for his lab's state. Counters on port
PORT count what reaches each side: ana's h2 (her broadcast) and b1 (across her router) see
the flood, which proves the counters count; ben's h2 and b1 see none of it. The flood runs
until the test has seen ben's answers (a stop file), so they came while it ran.
"""

from __future__ import annotations

import asyncio
import shutil
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from test_class_server import get, read_until, room_parts, serve, type_in  # noqa: F401, F811  (room_parts: a fixture)

from lab.control.lab import Lab
from lab.control.programs import HostProgram
from lab.control.wait import wait_until
from lab.web.classroom import RUNNING, DockerLabs
from lab.web.classserver import ClassServer
from lab.web.roster import Class

pytestmark = pytest.mark.lab
FLOOD = Path(__file__).parent / "hostile" / "udp_flood.py"
PORT = 9999
# On a lab host: count the datagrams that reach PORT (broadcast or not) until stdin ends (at most 120 s).
COUNTER = """
import os, select, socket, sys, time
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind(("", int(sys.argv[1])))
    s.setblocking(False)
    print("listening", flush=True)
    count, end = 0, time.monotonic() + 120
    while time.monotonic() < end:
        ready = select.select([s, 0], [], [], 1)[0]
        if s in ready:
            try:
                while True:
                    s.recv(2048)
                    count += 1
            except BlockingIOError:
                pass
        if 0 in ready and not os.read(0, 100):
            break
    print("counted", count, flush=True)
"""


def ipv4(lab: Lab, host: str) -> str:
    return next(a for a in lab.exec(host, ["hostname", "-I"], prints=True).stdout.split() if "." in a)


async def flood_while_ben_works(server: ClassServer, tokens: dict[str, str], stop: Path,
                                targets: list[str]) -> tuple[str, str, tuple[int, str], str]:
    """ana's flood in her terminal; once it runs, ben's terminal and state; then the stop file.
    (ana's terminal output; what ben saw: his lab's state, his terminal's status and output;
    ana's output when ben's answers were in)."""
    url = f"ws://127.0.0.1:{server.port}/lab/ana/api/terminal/h1?cols=100&rows=30"
    headers = {"Authorization": f"Bearer {tokens['ana']}", "Origin": f"http://127.0.0.1:{server.port}"}
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url, headers=headers)
        seen = [""]
        command = f"python3 flood.py {PORT} 60 50000000 /work/flood.stop b1 {' '.join(targets)}; echo $((6*7))-flooded"
        await ws.send_bytes(command.encode() + b"\r")
        assert await read_until(ws, "flooding\r\n", 20, seen), seen[0]
        rest = asyncio.create_task(read_until(ws, "42-flooded", 90, seen))  # her output, read as it comes
        state = await asyncio.to_thread(get, server, "/lab/ben/api/state", tokens["ben"])
        ben = await type_in(server, "ben", tokens["ben"], "echo $((6*7))-$(hostname)", "42-h1", within=10)
        during = seen[0]
        stop.touch()
        assert await rest, seen[0]
        await ws.close()
        return seen[0], str(state[1].get("state")) if state[0] == 200 else f"HTTP {state[0]}", ben, during


def runs(server: ClassServer, tokens: dict[str, str], student: str) -> bool:
    return bool(get(server, f"/lab/{student}/api/state", tokens[student])[1]["state"] == RUNNING)


def test_a_flood_stays_in_the_flooders_lab(room_parts: tuple[Class, Path, DockerLabs, dict[str, str]]  # noqa: F811
                                           ) -> None:
    the_class, folder, labs, tokens = room_parts
    server = serve(the_class, folder, labs, [1e9])
    counters: dict[str, HostProgram] = {}
    try:
        for student in ("ana", "ben"):
            assert get(server, f"/lab/{student}/", tokens[student])[0] == 200  # the visit starts the lab
        for student in ("ana", "ben"):
            wait_until(partial(runs, server, tokens, student), 120, f"{student}'s lab to run")
        shutil.copy(FLOOD, folder / "work" / "ana" / "flood.py")
        ben_lab = labs.lab("ben")
        for student in ("ana", "ben"):
            for host in ("h2", "b1"):
                counters[f"{student} {host}"] = HostProgram(labs.lab(student), host,
                                                            ["python3", "-c", COUNTER, str(PORT)]).start()
        for counter in counters.values():
            counter.wait_line("listening", timeout=30)
        out, ben_state, (ben_status, ben_seen), during = asyncio.run(flood_while_ben_works(
            server, tokens, folder / "work" / "ana" / "flood.stop", [ipv4(ben_lab, "h2"), ipv4(ben_lab, "b1")]))
        counted = {}
        for name, counter in counters.items():
            counter.close_stdin()
            counted[name] = int(counter.wait_line("counted", timeout=30).split()[1])
    finally:
        for counter in counters.values():
            counter.stop()
        server.stop()
        server.room.close()
    sent = int(out.split("sent ")[1].split()[0])
    assert "sent " not in during, f"the flood ended before ben's answers came: {during}"
    assert ben_state == RUNNING and ben_status == 101 and "42-h1" in ben_seen, (ben_state, ben_status, ben_seen)
    # the counters count: ana's own hosts saw her flood (a share of it: UDP drops what a socket cannot keep up with)
    assert counted["ana h2"] > 0 and counted["ana b1"] > 0, (counted, sent)
    assert counted["ben h2"] == 0 and counted["ben b1"] == 0, f"the flood reached ben's lab: {counted}"
