"""`invoke serve`: one server, a class of labs, each student signed in to their own.

Every lab's routes are the `invoke web` page's, under ``/lab/<student>/``; the instructor's
page is ``/class/``. One middleware (``guard``) decides for every route and websocket:

- who is asking: the token of a link's visit (``/?token=...``, then a cookie: HttpOnly,
  SameSite=Strict, Secure over TLS), of a cookie, or of a Bearer header, looked up by its
  hash (lab.web.roster). None: 401. A token that is no one's counts against its address's
  sign-in attempts (lab.web.auth.Limiter); past them: 429, whatever the token.
- whether they may: a student reaches ``/lab/<their id>/`` only; another student's, or an id
  that is no one's, is 404 with the same body (a student cannot tell the two apart). The
  instructor reaches every lab, their terminals read-only unless the page asks
  (``?write=1``), and ``/class/``, which is 404 to students.
- a websocket also needs this server's own Origin (403).

A student's request (and keystroke) keeps their lab awake; opening their page starts it.
"""

from __future__ import annotations

import asyncio
import ssl as ssl_
from typing import Any

from aiohttp import web

from lab.harness import exercise as exercises_
from lab.web import auth, files, routes
from lab.web.classroom import RUNNING, Classroom
from lab.web.grades import Gradings
from lab.web.roster import INSTRUCTOR, Class
from lab.web.server import Handler, Serving, answer, error, secured

WHO = routes.request_key("socklab.who", str)
NOT_FOUND = "not found"


class ClassServer(Serving):
    def __init__(self, roster: Class, room: Classroom, gradings: Gradings, bind: str = "127.0.0.1",
                 port: int = 8800, ssl: ssl_.SSLContext | None = None, limiter: auth.Limiter | None = None,
                 sweep_every: float = 30.0, exercises: list[str] | None = None) -> None:
        super().__init__(bind, port, ssl)
        self.exercises = exercises or exercises_.names()
        self.roster, self.room, self.gradings = roster, room, gradings
        self.limiter = limiter or auth.Limiter()
        self.sweep_every = sweep_every
        self._sweeper: asyncio.Task[None] | None = None

    # --- the application -------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[answer, self.guard], client_max_size=files.MAX_FILE + 4096)
        r = app.router
        r.add_get("/", self.home)
        r.add_get("/static/{name}", routes.static)
        r.add_get("/vendor/{name}", routes.vendored)
        r.add_get("/lab/{student}", self.lab_page)
        r.add_get("/lab/{student}/", self.lab_page)
        r.add_get("/lab/{student}/api/state", self.lab_state)
        r.add_post("/lab/{student}/api/start", self.lab_start)
        routes.add_lab(app, "/lab/{student}")
        r.add_get("/class/", self.class_page)
        r.add_get("/class/api/students", self.students)
        r.add_get("/class/api/grades/{exercise}", self.grade_status)
        r.add_post("/class/api/grades/{exercise}", self.grade)
        r.add_get("/class/api/grades/{exercise}/{file}", self.grade_file)
        return app

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        address = request.remote or "?"
        if request.path == "/" and "token" in request.query:  # a link's visit: the token becomes a cookie
            if not self.limiter.allow(address):
                return error(429, "too many sign-in attempts: wait a minute")
            visited = request.query.get("token", "")
            if self.roster.who(visited) is None:
                return error(401, "unauthorised")
            raise web.HTTPFound("/", headers={"Set-Cookie": auth.cookie_header(visited, self.ssl is not None),
                                              **auth.HEADERS})
        token = auth.presented(request.headers, request.cookies)
        who = self.roster.who(token)
        if who is None:
            if token and not self.limiter.allow(address):
                return error(429, "too many sign-in attempts: wait a minute")
            return error(401, "unauthorised")
        if request.headers.get("Upgrade", "").lower() == "websocket" and \
                not self.origin.accepts(request.headers.get("Origin")):
            return error(403, "a terminal opens only from this server's own page")
        request[WHO] = who
        if request.path.startswith("/class/") and who != INSTRUCTOR:
            return error(404, NOT_FOUND)
        student = request.match_info.get("student")
        if student is not None:
            if student not in self.room.places or who not in (student, INSTRUCTOR):
                return error(404, NOT_FOUND)  # another's lab and no one's look the same
            request[routes.CHOSEN] = self.room.places[student].site
            if who == INSTRUCTOR:
                request[routes.READ_ONLY] = request.query.get("write") != "1"
            else:
                self.room.touch(student)
        return await secured(request, handler)

    # --- serving: the idle sweep --------------------------------------------------------
    async def begin(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep())

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.sweep_every)  # a period, not a wait for a condition
            await loop.run_in_executor(None, self.room.sweep)

    async def finish(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for place in self.room.places.values():
            await asyncio.get_running_loop().run_in_executor(None, place.site.captures.stop_all)

    # --- the pages ---------------------------------------------------------------------
    async def home(self, request: web.Request) -> web.StreamResponse:
        who = request[WHO]
        raise web.HTTPFound("/class/" if who == INSTRUCTOR else f"/lab/{who}/")

    async def lab_page(self, request: web.Request) -> web.StreamResponse:
        """The student's `invoke web` page once their lab runs; until then, the page that waits
        for it (their visit starts it; the instructor's does not)."""
        student = request.match_info["student"]
        if not request.path.endswith("/"):
            raise web.HTTPFound(f"/lab/{student}/")
        if request[WHO] == student:
            await routes.blocking(lambda: self.room.visit(student))
        page = "index.html" if self.room.place(student).state == RUNNING else "wait.html"
        return web.FileResponse(routes.STATIC / page)

    async def lab_state(self, request: web.Request) -> web.Response:
        return routes.ok({**self.room.state_json(request.match_info["student"]),
                          "instructor": request[WHO] == INSTRUCTOR})

    async def lab_start(self, request: web.Request) -> web.Response:
        student = request.match_info["student"]
        await routes.blocking(lambda: self.room.visit(student))
        return routes.ok(self.room.state_json(student))

    async def class_page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(routes.STATIC / "class.html")

    async def students(self, request: web.Request) -> web.Response:
        names = {s.id: s.name for s in self.roster.students.values()}
        rows: list[dict[str, Any]] = [{**row, "name": names.get(row["student"], "")} for row in self.room.overview()]
        return routes.ok({"students": rows, "exercises": self.exercises, "capacity": self.room.capacity,
                          "idle": self.room.idle, "queue": list(self.room.queue)})

    async def grade(self, request: web.Request) -> web.Response:
        exercise = request.match_info["exercise"]
        return routes.ok(self.gradings.start(exercise, list(self.room.places), self.room.pool), status=202)

    async def grade_status(self, request: web.Request) -> web.Response:
        return routes.ok(self.gradings.status(request.match_info["exercise"]))

    async def grade_file(self, request: web.Request) -> web.StreamResponse:
        path = self.gradings.output(request.match_info["exercise"], request.match_info["file"])
        return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{path.name}"'})
