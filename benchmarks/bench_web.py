"""Keystroke-to-echo latency through `invoke web`'s terminal against `docker exec -it` in a
local pty, on the same host in the same run; and the server's memory with seven terminals open.

Both sides type the same into a login shell on h1 (`stty raw -echo; exec cat`), then 1,000
single keystrokes, one at a time, each timed from its send until cat's echo comes back: the
web side over the websocket (as the page does), the baseline through a pty that `docker exec
-it` holds. The server is `invoke web` as a person starts it (its own process, whose RSS is
read from /proc).

    python benchmarks/bench_web.py [--name LAB] [--keys 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import re
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.control.engine import Engine  # noqa: E402
from lab.control.lab import Lab  # noqa: E402

SETUP = b"stty raw -echo; exec cat\r"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


def baseline(lab: Lab, keys: int) -> list[float]:
    # the baseline is the docker CLI a person would type, not socklab's door to Docker
    argv = ["docker", "exec", "-it", "--user", "student", "--workdir", "/work", lab.container("h1").id, "bash", "-l"]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    try:
        def until(wanted: bytes, timeout: float = 10) -> None:
            seen = b""
            end = time.monotonic() + timeout
            while wanted not in seen:
                ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
                if not ready:
                    raise TimeoutError(f"docker exec: no {wanted!r} (saw {seen[-200:]!r})")
                try:
                    seen += os.read(fd, 4096)
                except OSError:  # the command ended: what it said is the reason
                    raise RuntimeError(f"docker exec ended before {wanted!r}: {seen[-300:]!r}") from None

        until(b"$ ")
        os.write(fd, SETUP)
        until(b"exec cat")
        time.sleep(0.5)  # the setup line's own output to pass: a pause, not a synchronisation of what is measured
        select.select([fd], [], [], 0)
        while select.select([fd], [], [], 0.1)[0]:
            os.read(fd, 4096)
        times = []
        for _ in range(keys):
            start = time.perf_counter()
            os.write(fd, b"x")
            until(b"x")
            times.append(time.perf_counter() - start)
        return times
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


async def web_terminal(base: str, token: str, keys: int, extra: int) -> tuple[list[float], int]:
    headers = {"Authorization": f"Bearer {token}", "Origin": base}
    async with aiohttp.ClientSession(headers=headers) as client:
        others = [await client.ws_connect(f"{base}/api/terminal/h{1 + i % 3}") for i in range(extra)]
        ws = await client.ws_connect(f"{base}/api/terminal/h1")

        async def until(wanted: bytes, timeout: float = 10) -> None:
            seen = b""
            while wanted not in seen:
                msg = await asyncio.wait_for(ws.receive(), timeout)
                if msg.type == aiohttp.WSMsgType.BINARY:
                    seen += msg.data
                elif msg.type != aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"the terminal closed: {msg}")

        await until(b"$ ")
        await ws.send_bytes(SETUP)
        await until(b"exec cat")
        await asyncio.sleep(0.5)  # as above
        times = []
        for _ in range(keys):
            start = time.perf_counter()
            await ws.send_bytes(b"x")
            await until(b"x")
            times.append(time.perf_counter() - start)
        rss = 0
        for w in [ws, *others]:
            await w.close()
        return times, rss


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="wb")
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)  # `invoke bench` passes it
    args = parser.parse_args()
    lab = Lab(Engine.connect(), args.name)
    server = subprocess.Popen([sys.executable, "-m", "invoke", "web", "--name", args.name, "--port", "0"], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        found = re.search(r"(http://[^/]+)/\?token=(\S+)", line)
        if not found:
            raise SystemExit(f"invoke web said: {line!r}")
        base, token = found.groups()
        idle = rss_mib(server.pid)
        local = baseline(lab, args.keys)

        async def measured() -> tuple[list[float], float]:
            task = asyncio.create_task(web_terminal(base, token, args.keys, extra=6))
            peak = 0.0
            while not task.done():
                peak = max(peak, rss_mib(server.pid))
                await asyncio.sleep(0.2)
            return (await task)[0], peak

        web, peak = asyncio.run(measured())
    finally:
        server.terminate()
        server.wait(10)
    (lp50, lp99), (wp50, wp99) = percentiles(local), percentiles(web)
    print(f"keystroke to echo, {args.keys} keys: docker exec -it p50 {lp50:.2f} ms p99 {lp99:.2f} ms; "
          f"web terminal p50 {wp50:.2f} ms p99 {wp99:.2f} ms ({wp50 / lp50:.2f}x, {wp99 / lp99:.2f}x)")
    print(f"server memory: {idle:.0f} MiB idle, {peak:.0f} MiB at most with 7 terminals open (target <= 100 MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
