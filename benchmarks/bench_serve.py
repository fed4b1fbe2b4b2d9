"""The class server under load: one student alone, then a whole class at once, in one run.

    python benchmarks/bench_serve.py [--students 30] [--seconds 20] [--queue 10] [--rounds 1]

`invoke serve` is started as an instructor starts it (its own process; its RSS, and its
children's, read from /proc every half second), with a roster of ``s01``.. and the lab prefix
``bserve-``. Each student signs in with their link from ``DIR/links.csv`` from an address of
their own (127.0.0.11, .12, ...: the sign-in limit is per address, as in a classroom), which
opens their page and so starts their lab; the API is polled until it says the lab runs (the
time to a ready lab). Then each student opens two terminals (h1 and h2, as the page does) and
types into each what bench_web.py types (`stty raw -echo; exec cat`; a word printed after stty
says it took effect), then 5 keystrokes a second, staggered, each timed from its send until its
echo is back and checked to be that key.

1. one student alone: their lab, two terminals, ``--seconds`` of typing (the baseline);
2. ``--students`` at once (``--labs-at-once`` as many: no queue): time to ready, then the same typing;
3. again from no lab with ``--labs-at-once --queue``: the rest wait in the queue, each lab
   left as soon as it is ready, so it idles out (``--idle-minutes 0.1``, the least) and the
   next starts. Time to ready.

Every lab named ``bserve-*`` is removed at the end, on Ctrl-C and on failure too.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_web import baseline, percentiles, rss_mib  # noqa: E402  (this folder is on the path: a script)

from lab.control.engine import Engine  # noqa: E402
from lab.control.lab import Lab  # noqa: E402
from lab.control.labs import all_labs  # noqa: E402
from lab.errors import LabError  # noqa: E402

PREFIX = "bserve-"
KEYS_PER_SECOND = 5
DIRECT_KEYS = 200  # typed one after another through `docker exec -it`, beside the students
KEYS = b"abcdefghijklmnopqrstuvwxyz"
# bench_web.py's terminal set-up, and a word printed once it has taken effect (its own echo reads RE''ADY)
SETUP = b"stty raw -echo; echo RE''ADY; exec cat\r"


def tree_rss_mib(pid: int) -> float:
    """RSS of a process and all its descendants (Compose runs as a child while a lab starts)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += rss_mib(p)
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, AttributeError):  # it ended meanwhile
            pass
    return total


def busy_share(window: float = 2.0) -> float:
    """How busy the machine's CPUs were over the next ``window`` seconds (0..1, from /proc/stat)."""
    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(values), values[3] + values[4]  # all, idle + iowait
    all1, idle1 = sample()
    time.sleep(window)  # the window measured, not a wait for something
    all2, idle2 = sample()
    return 1 - (idle2 - idle1) / max(1, all2 - all1)


def settle(most: float = 0.25, limit: float = 180) -> tuple[float, float]:
    """Wait until the labs' start has died down (the CPUs at most ``most`` busy over 2 s) or
    ``limit`` seconds have passed: a class types into labs that have started, not while they
    start. Seconds waited, and the share busy at the end."""
    began = time.monotonic()
    while (busy := busy_share()) > most and time.monotonic() - began < limit:
        pass
    return time.monotonic() - began, busy


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Memory(threading.Thread):
    """The server's RSS alone and with its children, at most, every 0.5 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.server, self.tree, self.done = pid, 0.0, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            try:
                self.server = max(self.server, rss_mib(self.pid))
            except OSError:
                return
            self.tree = max(self.tree, tree_rss_mib(self.pid))

    def reset(self) -> None:
        self.server = self.tree = 0.0


@contextmanager
def serving(folder: Path, roster: Path, at_once: int, idle_minutes: float) -> Iterator[tuple[int, Memory]]:
    """`invoke serve` in its own process: its pid, and its memory being sampled."""
    argv = [sys.executable, "-m", "invoke", "serve", "--roster", str(roster), "--state", str(folder),
            "--bind", "127.0.0.1", "--port", "0", "--labs-at-once", str(at_once),
            "--idle-minutes", str(idle_minutes), "--prefix", PREFIX]
    server = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        said = ""
        while "instructor's page: http://" not in (line := server.stdout.readline()):  # the link comes last
            said += line
            if not line:
                raise SystemExit(f"invoke serve said: {said!r}")
        memory = Memory(server.pid)
        memory.start()
        yield server.pid, memory
        memory.done.set()
    finally:
        server.terminate()
        server.wait(30)


class Student:
    """One student's browser: their own address, their cookie, their lab's API."""

    def __init__(self, number: int, sid: str, link: str) -> None:
        self.sid, self.link, self.number = sid, link, number
        self.base = link.split("/?")[0]
        self.client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(f"127.0.0.{11 + number}", 0)),
            cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Origin": self.base})

    async def to_ready(self) -> float:
        """Seconds from opening the link (sign-in, the page, which starts the lab) until the
        API says the lab runs."""
        began = time.perf_counter()
        async with self.client.get(self.link) as page:  # redirected to /lab/<id>/: the visit starts it
            if page.status != 200 or not page.url.path.startswith(f"/lab/{self.sid}"):
                raise SystemExit(f"{self.sid}: the link gave {page.status} at {page.url}")
        while True:
            async with self.client.get(f"{self.base}/lab/{self.sid}/api/state") as answer:
                state = await answer.json()
            if state["state"] == "running":
                return time.perf_counter() - began
            if state["state"] == "failed":
                raise SystemExit(f"{self.sid}: the lab did not start: {state['error']}")
            await asyncio.sleep(0.25)  # a poll's period (the page's own is 2 s)

    async def type_in(self, host: str, seconds: float, offset: float, opened: asyncio.Barrier
                      ) -> tuple[list[float], int]:
        """A terminal on ``host``: once every terminal of the class is open (``opened``),
        keystrokes at 5 a second, first after ``offset`` s, for ``seconds``; each one's time to
        its echo, and how many echoes were not that key."""
        ws = await self.client.ws_connect(f"{self.base}/lab/{self.sid}/api/terminal/{host}?cols=80&rows=24")

        async def receive(timeout: float = 20) -> bytes:
            while True:
                msg = await asyncio.wait_for(ws.receive(), timeout)
                if msg.type == aiohttp.WSMsgType.BINARY:
                    return bytes(msg.data)
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"{self.sid} {host}: the terminal closed: {msg}")

        async def until(wanted: bytes) -> None:
            seen = b""
            while wanted not in seen:
                seen += await receive()

        try:
            await until(b"$ ")
            await ws.send_bytes(SETUP)
            await until(b"READY")  # printed after stty ran: from here on only cat echoes, once
            await opened.wait()  # the class types into open terminals, not while sixty shells start
            times, wrong = [], 0
            start = time.perf_counter() + offset
            for i in range(int(seconds * KEYS_PER_SECOND)):
                await asyncio.sleep(max(0.0, start + i / KEYS_PER_SECOND - time.perf_counter()))
                key = KEYS[i % len(KEYS):][:1]
                sent = time.perf_counter()
                await ws.send_bytes(key)
                echo = b""
                while not echo.endswith(key):  # anything else before it is counted wrong, not carried on
                    echo += await receive()
                times.append(time.perf_counter() - sent)
                wrong += echo != key
            return times, wrong
        finally:
            await ws.close()

    async def typing(self, seconds: float, offset: float, opened: asyncio.Barrier) -> tuple[list[float], int]:
        both = await asyncio.gather(self.type_in("h1", seconds, offset, opened),
                                    self.type_in("h2", seconds, offset + 0.5 / KEYS_PER_SECOND, opened))
        return both[0][0] + both[1][0], both[0][1] + both[1][1]


@dataclass
class Run:
    """What one run measured: seconds to a ready lab (each student), and the typing."""

    ready: list[float]
    times: list[float] = field(default_factory=list)  # seconds from each key to its echo
    wrong: int = 0  # echoes that were not the key
    cores: float = 0.0  # the server's CPU while typing
    load: float = 0.0  # the machine's load average then
    settled: tuple[float, float] = (0.0, 0.0)  # seconds waited for the start to die down, busy share then
    direct: list[float] = field(default_factory=list)  # `docker exec -it` meanwhile: key to echo


async def class_run(links: list[tuple[str, str]], seconds: float, typing: bool, server: int,
                    direct: Lab | None = None) -> Run:
    """Every student opens their link at once; time to ready each, then (``typing``) the keystrokes,
    and meanwhile ``direct``'s h1 typed into through `docker exec -it` (bench_web's baseline: the
    machine and Docker without the server)."""
    students = [Student(i, sid, link) for i, (sid, link) in enumerate(links)]
    try:
        ready = await asyncio.gather(*(s.to_ready() for s in students))
        out = Run(list(ready))
        if typing:
            out.settled = await asyncio.to_thread(settle)
            step = 1 / KEYS_PER_SECOND / len(students)  # spread over a keystroke's period
            opened = asyncio.Barrier(2 * len(students))
            used, began = cpu_seconds(server), time.perf_counter()
            everyone = asyncio.gather(*(s.typing(seconds, i * step, opened) for i, s in enumerate(students)))
            if direct is None:
                typed = await everyone
            else:
                typed, out.direct = await asyncio.gather(everyone, asyncio.to_thread(baseline, direct, DIRECT_KEYS))
            out.cores = (cpu_seconds(server) - used) / (time.perf_counter() - began)  # the server's share
            out.load = os.getloadavg()[0]
            out.times = [t for times, _ in typed for t in times]
            out.wrong = sum(w for _, w in typed)
        return out
    finally:
        for s in students:
            await s.client.close()


def read_links(folder: Path) -> list[tuple[str, str]]:
    """(student, link) from DIR/links.csv, as the instructor hands them out (the server's port in each)."""
    with (folder / "links.csv").open() as f:
        return [(row["student"], row["link"]) for row in csv.DictReader(f)]


def remove_labs(engine: Engine) -> int:
    """Remove every lab of this benchmark (``bserve-*``), four at a time; one that Docker does not
    let go whole (a network it keeps) is said, and the others are removed all the same."""
    mine = [lab for lab in all_labs(engine) if lab.name.startswith(PREFIX)]

    def down(lab: Lab) -> None:
        try:
            lab.down()
        except LabError as exc:
            print(f"WARNING: lab {lab.name} not removed whole: {exc}", file=sys.stderr)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(down, mine))
    return len(mine)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--seconds", type=float, default=20, help="typing time per run (5 keys/s per terminal)")
    p.add_argument("--queue", type=int, default=10, help="--labs-at-once for the run with a queue (0: no such run)")
    p.add_argument("--rounds", type=int, default=1, help="(one round: a class of labs is much already)")
    args = p.parse_args()
    if not 1 <= args.students <= 200 or args.queue < 0:
        p.error("--students from 1 to 200, --queue at least 0")
    engine = Engine.connect()
    if remove_labs(engine):
        print(f"removed labs {PREFIX}* left from an earlier run")
    with tempfile.TemporaryDirectory(prefix="bserve-") as tmp:
        folder, roster = Path(tmp) / "class", Path(tmp) / "roster.csv"
        roster.write_text("student,name\n" + "".join(f"s{i:02d},Student {i}\n" for i in range(1, args.students + 1)))
        try:
            with serving(folder, roster, args.students, 30) as (pid, memory):
                links = read_links(folder)
                first = Lab(engine, PREFIX + links[0][0])
                alone = asyncio.run(class_run(links[:1], args.seconds, typing=True, server=pid, direct=first))
                alone_mib = (memory.server, memory.tree)
                memory.reset()
                many = asyncio.run(class_run(links, args.seconds, typing=True, server=pid, direct=first))
                many_mib = (memory.server, memory.tree)
            report_typing(args, alone, many, alone_mib, many_mib)  # now: a failure below keeps them
            remove_labs(engine)
            queued = None
            if args.queue:
                with serving(folder, roster, min(args.queue, args.students), 0.1) as (pid, _):
                    queued = asyncio.run(class_run(read_links(folder), args.seconds, typing=False, server=pid))
        finally:
            remove_labs(engine)
    report_ready(args, alone, many, queued)
    return 0


def report_typing(args: argparse.Namespace, alone: Run, many: Run,
                  alone_mib: tuple[float, float], many_mib: tuple[float, float]) -> None:
    a50, a99 = percentiles(alone.times)
    m50, m99 = percentiles(many.times)
    print(f"keystroke to echo, 2 terminals a student, {KEYS_PER_SECOND} keys/s each, {args.seconds:g} s:")
    print(f"  1 student alone: {len(alone.times)} keys, p50 {a50:.2f} ms, p99 {a99:.2f} ms, "  # type: ignore[arg-type]
          f"wrong echoes {alone.wrong}")
    print(f"  {args.students} students at once: {len(many.times)} keys, p50 {m50:.2f} ms ({m50 / a50:.2f}x), "  # type: ignore[arg-type]
          f"p99 {m99:.2f} ms ({m99 / a99:.2f}x), wrong echoes {many.wrong}")
    (d50, d99), (e50, e99) = percentiles(alone.direct), percentiles(many.direct)
    print(f"  meanwhile `docker exec -it` on s01's h1 (no server): alone p50 {d50:.2f} ms p99 {d99:.2f} ms; "
          f"with {args.students} p50 {e50:.2f} ms ({e50 / d50:.2f}x) p99 {e99:.2f} ms ({e99 / d99:.2f}x)")
    print(f"  the server's CPU while typing: {alone.cores:.2f} cores alone, {many.cores:.2f} cores with "
          f"{args.students}; the machine's load average then: {alone.load:.1f}, {many.load:.1f} (2 cores)")
    print(f"  typing began once the CPUs were quiet: {alone.settled[0]:.0f} s after the last lab was ready "
          f"alone ({alone.settled[1]:.0%} busy), {many.settled[0]:.0f} s with {args.students} "
          f"({many.settled[1]:.0%} busy)")
    print(f"server memory (RSS, most seen): 1 student {alone_mib[0]:.0f} MiB ({alone_mib[1]:.0f} with children); "
          f"{args.students} students {many_mib[0]:.0f} MiB ({many_mib[1]:.0f} with children)")
    print(f"targets: p99 under 50 ms at {args.students} students and at most 2x one alone; server memory at most "
          "300 MiB", flush=True)


def report_ready(args: argparse.Namespace, alone: Run, many: Run, queued: Run | None) -> None:
    print("time from opening the page to a ready lab:")
    # (s01's lab, the one alone's, runs already when the class comes: not counted)
    for name, run in (("1 student alone", alone), (f"{args.students} at once, no queue", many),
                      (f"{args.students} at once, {min(args.queue, args.students)} labs at once (queue, "
                       f"idle 6 s)", queued)):
        if run is None:
            continue
        ready = sorted(run.ready[1:] if run is many and len(run.ready) > 1 else run.ready)
        print(f"  {name}: p50 {statistics.median(ready):.1f} s, max {ready[-1]:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
