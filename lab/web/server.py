"""`invoke web`: one lab in a browser page, served on 127.0.0.1 (unless told) with a token.

    server = Server(lab, bind="127.0.0.1", port=0)
    link = server.start()      # on a thread of its own; the real port is in the link
    ...
    server.stop()              # and joined

``run`` serves until Ctrl-C instead (the task). Two middlewares wrap every route and
websocket: ``guard`` lets through only a request with the token (lab.web.auth), and a
websocket only from the server's own origin; ``answer`` turns what a handler refused into a
status with one JSON line, ``{"error": "..."}``, and anything unforeseen into a 500 that
names no more than its kind (the traceback goes to the log, not to the browser).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl as ssl_
import threading
from collections.abc import Awaitable, Callable

from aiohttp import web

from lab.control.lab import Lab
from lab.errors import LabError, RefusedError, UnknownExerciseError, UnknownHostError
from lab.web import auth, files, routes

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
NOT_FOUND = (UnknownExerciseError, UnknownHostError)


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=auth.HEADERS)


class Serving:
    """An aiohttp application served on a socket of its own: ``run`` until Ctrl-C, or
    ``start`` on a thread and ``stop``. A subclass gives ``app()`` (and ``finish()``, what to
    do once it stops serving)."""

    def __init__(self, bind: str = "127.0.0.1", port: int = 8800, ssl: ssl_.SSLContext | None = None) -> None:
        self.bind, self.port, self.ssl = bind, port, ssl
        self.origin = auth.Origin(bind, port, "https" if ssl else "http")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopped: asyncio.Event | None = None

    def app(self) -> web.Application:
        raise NotImplementedError

    async def begin(self) -> None:
        """Once it listens, on the server's loop (background tasks start here)."""

    async def finish(self) -> None:
        """Once it stops serving, on the server's loop."""

    async def _serve(self, started: Callable[[], None]) -> None:
        self._stopped = asyncio.Event()
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.bind else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.bind, self.port))
        except OSError as exc:
            sock.close()
            await self._runner.cleanup()
            raise LabError(f"cannot serve on {self.bind}:{self.port}: {exc.strerror}: choose another --port") from None
        self.port = sock.getsockname()[1]
        self.origin = auth.Origin(self.bind, self.port, self.origin.scheme)
        await web.SockSite(self._runner, sock, ssl_context=self.ssl).start()
        await self.begin()
        started()
        try:
            await self._stopped.wait()
        finally:
            await self.finish()
            await self._runner.cleanup()

    def run(self, started: Callable[[], None]) -> None:
        """Serve until Ctrl-C (KeyboardInterrupt reaches the caller)."""
        asyncio.run(self._serve(started))

    def start(self, timeout: float = 10) -> None:
        """Serve on a thread; return once it listens (LabError if it cannot)."""
        ready = threading.Event()
        failed: list[BaseException] = []

        def main() -> None:
            try:
                asyncio.run(self._main(ready))
            except BaseException as exc:  # noqa: BLE001  (handed to start's caller)
                failed.append(exc)
                ready.set()

        self._thread = threading.Thread(target=main, name="socklab web", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise LabError(f"the web server did not start within {timeout:g}s")
        if failed:
            raise failed[0]

    async def _main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        await self._serve(ready.set)

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(30)


@web.middleware
async def answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """What a handler refused: its status and one JSON line; anything unforeseen: a 500 that
    names no more than its kind (the traceback goes to the log)."""
    try:
        return await handler(request)
    except RefusedError as exc:
        return error(exc.status, str(exc))
    except NOT_FOUND as exc:
        return error(404, str(exc))
    except LabError as exc:
        return error(409, str(exc))
    except web.HTTPRedirection:
        raise
    except web.HTTPException as exc:
        return error(exc.status, exc.reason.lower())
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception as exc:  # noqa: BLE001  (one JSON line, never a traceback, to the browser)
        log.error("%s %s failed", request.method, request.path, exc_info=exc)
        return error(500, f"internal error ({type(exc).__name__}); the server's log has the details")


class Server(Serving):
    """`invoke web`: one lab, one token."""

    def __init__(self, lab: Lab, bind: str = "127.0.0.1", port: int = 8800, site: routes.Site | None = None,
                 token: str | None = None) -> None:
        super().__init__(bind, port)
        self.lab = lab
        self.token = token or auth.new_token()
        self.site = site or routes.Site(lab)

    @property
    def link(self) -> str:
        return self.origin.link(self.token)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[answer, self.guard], client_max_size=files.MAX_FILE + 4096)
        app[routes.SITE] = self.site
        routes.add(app)
        return app

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/" and "token" in request.query:  # the link: the token becomes a cookie
            if not auth.same(request.query.get("token"), self.token):
                return error(401, "unauthorised")
            raise web.HTTPFound("/", headers={"Set-Cookie": auth.cookie_header(self.token), **auth.HEADERS})
        if not auth.same(auth.presented(request.headers, request.cookies), self.token):
            return error(401, "unauthorised")
        if request.headers.get("Upgrade", "").lower() == "websocket" and \
                not self.origin.accepts(request.headers.get("Origin")):
            return error(403, "a terminal opens only from this server's own page")
        return await secured(request, handler)

    async def finish(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.site.captures.stop_all)

    def start(self, timeout: float = 10) -> str:  # type: ignore[override]
        """Serve on a thread; the link once it listens (LabError if it cannot)."""
        super().start(timeout)
        return self.link

    def run(self, started: Callable[[str], None]) -> None:  # type: ignore[override]
        super().run(lambda: started(self.link))


async def secured(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler's answer with the safety headers (CSP, nosniff, no-store)."""
    response = await handler(request)
    if not response.prepared:
        response.headers.update(auth.HEADERS)
    return response
