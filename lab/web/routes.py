"""The server's routes: each handler is thin, a call into lab.web's modules (and through them
the same core as the CLI), run on a worker thread when it blocks. Authorisation is not here:
the server's middleware checks every request before any handler runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from lab.control.defaults import DEFAULT_WORKSPACE, ROOT
from lab.control.lab import Lab
from lab.errors import LabError, RefusedError
from lab.web import files, recordings, terminals, vendor, work

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
T = TypeVar("T")


@dataclass
class Site:
    """What the handlers share: the lab, where things are kept, the running checks and captures."""

    lab: Lab
    recordings: Path = ROOT / "recordings"
    captures: work.Captures = field(default_factory=lambda: work.Captures(ROOT / "captures"))
    checks: work.Checks = field(default_factory=work.Checks)
    _work: Path | None = None
    touch: Callable[[], None] = lambda: None  # a keystroke in one of its terminals (`invoke serve`'s idle clock)

    def workspace(self) -> Path:
        """The folder the lab mounts at /work (else work/): what the file API serves."""
        if self._work is None:
            self._work = (self.lab.workspace() or DEFAULT_WORKSPACE).resolve()
        return self._work


def site(request: web.Request) -> Site:
    """The lab a request is about: the one the server's middleware chose for it (`invoke
    serve`: the student's), else the application's one (`invoke web`)."""
    chosen = request.get(CHOSEN)
    return chosen if isinstance(chosen, Site) else request.app[SITE]


def request_key(name: str, kind: type) -> Any:
    """A typed request key (aiohttp 3.14+, which warns of plain strings); the name before."""
    make = getattr(web, "RequestKey", None)
    return make(name, kind) if make else name


SITE = web.AppKey("site", Site)
CHOSEN = request_key("socklab.site", Site)  # set by a middleware that serves many labs
READ_ONLY = request_key("socklab.read_only", bool)  # its terminals show, and take no keystrokes


async def blocking(call: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, call)


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def svg(data: bytes) -> web.Response:
    return web.Response(body=data, content_type="image/svg+xml")


# --- the page ----------------------------------------------------------------------------
async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html")


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise RefusedError(404, "not found")
    return web.FileResponse(path)


async def vendored(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name == "xterm.js":
        return web.Response(body=await blocking(vendor.xterm_bundle), content_type="text/javascript")
    if name not in vendor.FILES or not vendor.FILES[name].is_file():
        raise RefusedError(404, f"{name}: not installed ({vendor.INSTALL})")
    return web.FileResponse(vendor.FILES[name])


# --- the lab -----------------------------------------------------------------------------
async def lab_info(request: web.Request) -> web.Response:
    return ok(await blocking(lambda: work.lab_json(site(request).lab)))


async def topology(request: web.Request) -> web.Response:
    return svg(await blocking(lambda: work.topology_svg(site(request).lab)))


# --- the workspace -----------------------------------------------------------------------
async def file_tree(request: web.Request) -> web.Response:
    root = site(request).workspace()
    return ok({"workspace": str(root), "files": await blocking(lambda: files.tree(root))})


async def file_read(request: web.Request) -> web.Response:
    root, path = site(request).workspace(), request.match_info["path"]
    data = await blocking(lambda: files.read(root, path))
    return web.Response(body=data, content_type="text/plain", charset="utf-8")


async def file_write(request: web.Request) -> web.Response:
    root, path = site(request).workspace(), request.match_info["path"]
    files.resolve(root, path)  # judged before the body is read
    if (request.content_length or 0) > files.MAX_FILE:
        raise RefusedError(413, f"a file is at most {files.MAX_FILE} bytes")
    data = await request.content.read(files.MAX_FILE + 1)
    written = await blocking(lambda: files.write(root, path, data))
    return ok({"path": path, "size": written.stat().st_size})


# --- exercises ---------------------------------------------------------------------------
async def exercise_list(request: web.Request) -> web.Response:
    root = site(request).workspace()
    return ok(await blocking(lambda: work.exercise_list(root)))


async def exercise_start(request: web.Request) -> web.Response:
    root, name = site(request).workspace(), request.match_info["exercise"]
    return ok(await blocking(lambda: work.start_exercise(root, name)))


async def check(request: web.Request) -> web.StreamResponse:
    """The JSON of `invoke check --json`; with ``?live=1``, first what the play says, a JSON
    line each ({"say": ...}), then {"result": ...} (or {"error": ...})."""
    here, name = site(request), request.match_info["exercise"]
    if request.query.get("live") != "1":
        return ok(await blocking(lambda: here.checks.run(here.lab, name, lambda _: None)))
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def said(line: str) -> None:
        loop.call_soon_threadsafe(lines.put_nowait, {"say": line})

    running = loop.run_in_executor(None, lambda: here.checks.run(here.lab, name, said))
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    while not (running.done() and lines.empty()):
        getter = asyncio.ensure_future(lines.get())
        await asyncio.wait([getter, running], return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            await response.write((json.dumps(getter.result(), ensure_ascii=False) + "\n").encode())
        else:
            getter.cancel()
    try:
        last: dict[str, Any] = {"result": running.result()}
    except Exception as exc:  # noqa: BLE001  (said as the stream's last line: the status is sent already)
        last = {"error": str(exc) if isinstance(exc, LabError) else f"internal error ({type(exc).__name__})"}
        if not isinstance(exc, LabError):
            log.error("check %s failed", name, exc_info=exc)
    await response.write((json.dumps(last, ensure_ascii=False) + "\n").encode())
    await response.write_eof()
    return response


async def check_sequence(request: web.Request) -> web.Response:
    here, name = site(request), request.match_info["exercise"]
    return svg(await blocking(lambda: here.checks.sequence_svg(name)))


# --- captures ----------------------------------------------------------------------------
async def capture_list(request: web.Request) -> web.Response:
    return ok(site(request).captures.listing())


async def capture_start(request: web.Request) -> web.Response:
    here = site(request)
    body = await json_body(request)
    host, bpf = str(body.get("host", "")), str(body.get("filter", ""))
    rec = await blocking(lambda: here.captures.start(here.lab, host, bpf))
    return ok(rec.as_json(), status=201)


async def capture_stop(request: web.Request) -> web.Response:
    here, cap_id = site(request), request.match_info["id"]
    return ok(await blocking(lambda: here.captures.stop(here.lab, cap_id)))


async def capture_pcap(request: web.Request) -> web.StreamResponse:
    path = site(request).captures.pcap_file(request.match_info["id"])
    return web.FileResponse(path, headers={"Content-Type": "application/vnd.tcpdump.pcap",
                                           "Content-Disposition": f'attachment; filename="{path.name}"'})


async def capture_sequence(request: web.Request) -> web.Response:
    rec = site(request).captures.get(request.match_info["id"])
    if rec.packets is None:
        raise RefusedError(409, "the capture is still running: stop it first")
    if not rec.packets:
        raise RefusedError(404, "the capture holds no packets")
    packets = rec.packets
    return svg(await blocking(lambda: work.sequence_svg(packets)))


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.content.read(64 * 1024) or b"{}")
    except ValueError:
        raise RefusedError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise RefusedError(400, "the body is not a JSON object")
    return body


# --- terminals and recordings --------------------------------------------------------------
async def terminal(request: web.Request) -> web.StreamResponse:
    here, host = site(request), request.match_info["host"]
    user = request.query.get("user", "student")
    if user not in terminals.USERS:
        raise RefusedError(400, f"user {user!r}: choose {' or '.join(terminals.USERS)}")
    cols, rows = terminals.size(request.query.get("cols", 80), request.query.get("rows", 24)) or (80, 24)
    await blocking(lambda: here.lab.topology().host(host))  # an unknown host: 404 before the upgrade
    session, hang_up = await blocking(lambda: terminals.open_shell(here.lab, host, user, cols, rows))
    ws = web.WebSocketResponse(max_msg_size=64 * 1024, heartbeat=30)
    await ws.prepare(request)
    recorder = recordings.Recorder(here.recordings, host, cols, rows, title=f"{host} ({user}) on lab {here.lab.name}")
    await ws.send_str(json.dumps({"type": "recording", "id": recorder.id}))
    await terminals.bridge(ws, session, recorder, hang_up, read_only=bool(request.get(READ_ONLY)),
                           touch=here.touch)
    return ws


async def recording_list(request: web.Request) -> web.Response:
    folder = site(request).recordings
    return ok(await blocking(lambda: recordings.listing(folder)))


async def recording(request: web.Request) -> web.StreamResponse:
    path = recordings.path_of(site(request).recordings, request.match_info["id"])
    return web.FileResponse(path, headers={"Content-Type": "application/x-asciicast"})


def add(app: web.Application, lab_at: str = "") -> None:
    """The page's routes; a lab's own under ``lab_at`` (`invoke serve`: ``/lab/{student}``)."""
    r = app.router
    r.add_get(lab_at + "/", index)
    r.add_get("/static/{name}", static)
    r.add_get("/vendor/{name}", vendored)
    add_lab(app, lab_at)


def add_lab(app: web.Application, lab_at: str = "") -> None:
    r = app.router
    r.add_get(lab_at + "/api/lab", lab_info)
    r.add_get(lab_at + "/api/topology.svg", topology)
    r.add_get(lab_at + "/api/files", file_tree)
    r.add_get(lab_at + "/api/files/{path:.+}", file_read)
    r.add_put(lab_at + "/api/files/{path:.+}", file_write)
    r.add_get(lab_at + "/api/exercises", exercise_list)
    r.add_post(lab_at + "/api/exercises/{exercise}", exercise_start)
    r.add_post(lab_at + "/api/check/{exercise}", check)
    r.add_get(lab_at + "/api/check/{exercise}/sequence.svg", check_sequence)
    r.add_get(lab_at + "/api/captures", capture_list)
    r.add_post(lab_at + "/api/captures", capture_start)
    r.add_post(lab_at + "/api/captures/{id}/stop", capture_stop)
    r.add_get(lab_at + "/api/captures/{id}/pcap", capture_pcap)
    r.add_get(lab_at + "/api/captures/{id}/sequence.svg", capture_sequence)
    r.add_get(lab_at + "/api/terminal/{host}", terminal)
    r.add_get(lab_at + "/api/recordings", recording_list)
    r.add_get(lab_at + "/api/recordings/{id}", recording)
