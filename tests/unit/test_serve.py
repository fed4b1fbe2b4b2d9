"""`invoke serve` without Docker: the roster and its tokens (hashed, kept, rotated), the
sign-in limit, the classroom's queue and idle stop with a fake lab factory, and who may do what
on every route and websocket of the class server, over real HTTP on a free port."""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.cli.browser import tls
from lab.control.wait import wait_until
from lab.errors import RosterError
from lab.web import auth
from lab.web.classroom import QUEUED, RUNNING, STOPPED, Classroom
from lab.web.classserver import ClassServer
from lab.web.grades import Gradings
from lab.web.roster import INSTRUCTOR, Class, Student, digest, read_roster
from tests.unit.answers import answer


class FakeLab:
    def __init__(self, name: str) -> None:
        self.name = name


class FakeLabs:
    """Labs that start and stop at once (or when ``gate`` opens): the calls are recorded."""

    def __init__(self, up: set[str] | None = None) -> None:
        self.up = set(up or ())
        self.calls: list[tuple[str, str]] = []
        self.gate = threading.Event()
        self.gate.set()

    def lab(self, student: str) -> Any:
        return FakeLab(f"sv-{student}")

    def running(self) -> set[str]:
        return set(self.up)

    def start(self, student: str, work: Path) -> None:
        assert work.is_dir()
        self.gate.wait(10)
        self.calls.append(("start", student))
        self.up.add(student)

    def stop(self, student: str) -> None:
        self.calls.append(("stop", student))
        self.up.discard(student)


# --- the roster and its tokens ---------------------------------------------------------------
BAD_ROSTERS = [("name\nAlice\n", "line 1: its first line must name the columns"),
               ("student\nAlice\n", "line 2: student 'Alice'"), ("student\nbob\nbob\n", "line 3: student 'bob' is "
                                                                                           "listed twice"),
               ("student\n../x\n", "line 2"), ("student\n", "no students listed"), ("student\n" + "a" * 41, "line 2")]


@pytest.mark.parametrize(("text", "said"), BAD_ROSTERS)
def test_a_bad_roster_is_one_line_naming_file_and_line(tmp_path: Path, text: str, said: str) -> None:
    (tmp_path / "roster.csv").write_text(text)
    with pytest.raises(RosterError, match=said):
        read_roster(tmp_path / "roster.csv")


def test_a_roster_reads_ids_and_names(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text("Student,Name\nalice,Alice Liddell\n\nbob,\n")
    assert read_roster(tmp_path / "roster.csv") == [Student("alice", "Alice Liddell"), Student("bob", "")]


def links(folder: Path) -> dict[str, str]:
    rows = (folder / "links.csv").read_text().splitlines()[1:]
    return {r.split(",")[0]: r.rsplit("token=", 1)[1] for r in rows}


def test_tokens_are_stored_hashed_kept_across_restarts_and_rotated(tmp_path: Path) -> None:
    state = tmp_path / "class"
    first = Class(state, [Student("alice"), Student("bob")])
    assert set(first.issue()) == {INSTRUCTOR, "alice", "bob"}
    first.write_links("http://127.0.0.1:8800")
    tokens = links(state)
    assert first.who(tokens["alice"]) == "alice" and first.who(tokens["bob"]) == "bob"
    stored = (state / "state.json").read_text()
    assert tokens["alice"] not in stored and digest(tokens["alice"]) in stored
    assert (state / "links.csv").stat().st_mode & 0o077 == 0 and (state / "state.json").stat().st_mode & 0o077 == 0
    # a student added, the server started again: one new link, the others still valid
    again = Class(state, [Student("alice"), Student("bob"), Student("carol")])
    assert again.issue() == ["carol"]
    again.write_links("http://127.0.0.1:9000")
    now = links(state)
    assert now["alice"] == tokens["alice"] and again.who(tokens["bob"]) == "bob" and again.who(now["carol"]) == "carol"
    # rotated: the old token is no one's
    assert again.issue(("alice",)) == ["alice"]
    assert again.who(tokens["alice"]) is None and again.who(links(state)["alice"]) is None  # links not yet rewritten
    with pytest.raises(RosterError, match="not in the roster: zed"):
        again.issue(("zed",))
    # a student dropped from the roster: their token opens nothing
    assert Class(state, [Student("alice")]).who(tokens["bob"]) is None
    for wrong in (None, "", "x" * 500, tokens["bob"][:-1]):
        assert again.who(wrong) is None


def test_sign_in_attempts_are_limited_per_address() -> None:
    now = [0.0]
    limit = auth.Limiter(attempts=3, per=60, clock=lambda: now[0])
    assert [limit.allow("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("10.0.0.2")  # another address has its own
    now[0] = 61
    assert limit.allow("10.0.0.1")


# --- the classroom ----------------------------------------------------------------------------
def test_labs_queue_at_capacity_with_an_estimate_and_stop_when_idle(tmp_path: Path) -> None:
    now = [1000.0]
    labs = FakeLabs()
    room = Classroom(tmp_path, ["alice", "bob", "carol"], labs, capacity=1, idle=600, clock=lambda: now[0])
    room.visit("alice")
    wait_until(lambda: room.place("alice").state == RUNNING, 5, "alice's lab to run")
    now[0] += 100
    room.visit("bob")
    room.visit("carol")
    bob, carol = room.state_json("bob"), room.state_json("carol")
    assert (bob["state"], bob["position"], carol["position"]) == (QUEUED, 1, 2)
    start = room.start_estimate()
    assert bob["estimate"] == round(500 + start, 1)  # alice's lab stops after 600 s idle, 100 s gone
    assert carol["estimate"] is None  # nothing running that could free a second place in sight
    now[0] += 499
    assert room.sweep() == []  # 599 s quiet: still alice's
    room.touch("alice")
    now[0] += 601
    assert room.sweep() == ["alice"]
    wait_until(lambda: room.place("bob").state == RUNNING, 5, "bob's lab to start once alice's stopped")
    assert room.place("alice").state == STOPPED and labs.calls[:3] == [("start", "alice"), ("stop", "alice"),
                                                                          ("start", "bob")]
    assert (tmp_path / "work" / "alice").is_dir()  # the workspace stays


def test_a_new_server_adopts_running_labs_and_check_results_persist(tmp_path: Path) -> None:
    labs = FakeLabs(up={"alice", "stranger"})
    room = Classroom(tmp_path, ["alice", "bob"], labs, capacity=2, idle=60)
    assert room.adopt() == ["alice"]
    room.place("alice").site.checks.keep("echo", {"passed": True, "summary": "5 of 5 checks passed"})
    room.visit("alice")  # running already: not started twice
    again = Classroom(tmp_path, ["alice", "bob"], labs, capacity=2, idle=60)
    assert again.place("alice").checks["echo"]["passed"] is True and labs.calls == []


# --- who may do what, over HTTP -------------------------------------------------------------
@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ClassServer, dict[str, str]]]:
    the_class = Class(tmp_path / "class", [Student("alice"), Student("bob")])
    the_class.issue()
    the_class.write_links("http://x")
    tokens = links(tmp_path / "class")
    tokens["instructor"] = (tmp_path / "class" / "instructor.txt").read_text().strip().rsplit("token=", 1)[1]
    room = Classroom(tmp_path / "class", ["alice", "bob"], FakeLabs(up={"alice"}), capacity=2, idle=600)
    room.adopt()
    for student in ("alice", "bob"):
        (tmp_path / "class" / "work" / student / "echo").mkdir(parents=True)
        (tmp_path / "class" / "work" / student / "echo" / "server.py").write_text(f"# {student}'s\n")
        rec = tmp_path / "class" / "recordings" / student
        rec.mkdir(parents=True)
        (rec / f"{CAST}.cast").write_text(f'{{"version": 2, "title": "{student}"}}\n[0.1, "o", "x"]\n')

    def grader(exercise: str, handed_in: Path, out: Path, say: Any) -> list[Path]:
        rows = "".join(f"{p.name},1\n" for p in sorted(handed_in.iterdir()))
        (out / "grades.csv").write_text("student,score\n" + rows)
        return [out / "grades.csv"]

    server = ClassServer(the_class, room, Gradings(tmp_path / "class", grader), "127.0.0.1", 0,
                         limiter=auth.Limiter(attempts=1000))
    server.start()
    yield server, tokens
    server.stop()
    room.close()


def call(server: ClassServer, path: str, token: str | None = None, method: str = "GET", body: bytes | None = None,
         headers: dict[str, str] | None = None, trust: ssl.SSLContext | None = None) -> tuple[int, dict[str, str], Any]:
    """A request; over HTTPS when given the client's ``trust``."""
    request = urllib.request.Request(f"{'https' if trust else 'http'}://127.0.0.1:{server.port}{path}", data=body,
                                     method=method, headers=headers or {})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")

    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    return answer(request, urllib.request.build_opener(Keep, urllib.request.HTTPSHandler(context=trust)))


UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
CAST = "h1-20260101-000000-abcdef"
LAB_ROUTES = [("GET", "/"), ("GET", ""), ("GET", "/api/state"), ("POST", "/api/start"), ("GET", "/api/lab"),
              ("GET", "/api/topology.svg"), ("GET", "/api/files"), ("GET", "/api/files/echo/server.py"),
              ("PUT", "/api/files/echo/server.py"), ("GET", "/api/exercises"), ("POST", "/api/exercises/echo"),
              ("POST", "/api/check/echo"), ("GET", "/api/check/echo/sequence.svg"), ("GET", "/api/captures"),
              ("POST", "/api/captures"), ("POST", "/api/captures/abc/stop"), ("GET", "/api/captures/abc/pcap"),
              ("GET", "/api/captures/abc/sequence.svg"), ("GET", "/api/recordings"), ("GET", f"/api/recordings/{CAST}"),
              ("WS", "/api/terminal/h1")]
CLASS_ROUTES = [("GET", "/class/"), ("GET", "/class/api/students"), ("GET", "/class/api/grades/echo"),
                ("POST", "/class/api/grades/echo"), ("GET", "/class/api/grades/echo/grades.csv")]
ALTERED = ["alice2", "ALICE", "alic", "alice%2F..%2Fbob", "..", "%2E%2E", "bob%00", "*"]


def ask(server: ClassServer, method: str, path: str, token: str | None,
        origin: str | None = None) -> tuple[int, dict[str, str], Any]:
    if method == "WS":
        origin = origin or f"http://127.0.0.1:{server.port}"
        return call(server, path, token, headers={**UPGRADE, "Origin": origin})
    return call(server, path, token, method, b"# overwritten\n" if method == "PUT" else None)


def test_every_route_refuses_who_may_not_and_says_nothing_more(served: tuple[ClassServer, dict[str, str]]) -> None:
    server, tokens = served
    work = server.room.folder / "work"
    for method, route in LAB_ROUTES:
        for student, token, expected in [("alice", None, (401, {"error": "unauthorised"})),
                                         ("alice", "not-a-token", (401, {"error": "unauthorised"})),
                                         ("alice", tokens["bob"], (404, {"error": "not found"})),
                                         ("bob", tokens["alice"], (404, {"error": "not found"})),
                                         *[(bad, tokens["alice"], (404, {"error": "not found"})) for bad in ALTERED]]:
            status, headers, body = ask(server, method, f"/lab/{student}{route}", token)
            assert (status, body) == expected, (method, student, route, token and token[:4])
            assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    for method, route in CLASS_ROUTES:
        for token, expected in [(None, 401), (tokens["alice"], 404), (tokens["bob"], 404)]:
            assert ask(server, method, route, token)[0] == expected, (route, expected)
    assert (work / "alice" / "echo" / "server.py").read_text() == "# alice's\n"  # nothing written
    assert not (work / "bob" / "echo" / "server.py").read_text().startswith("# overwritten")
    assert server.room.place("bob").state == STOPPED  # nothing started by anyone else's request
    assert not (server.room.folder / "grades").exists()


def test_a_student_reaches_their_own_lab_and_the_instructor_every_lab(
        served: tuple[ClassServer, dict[str, str]]) -> None:
    server, tokens = served
    assert call(server, "/lab/alice/api/files/echo/server.py", tokens["alice"])[2] == b"# alice's\n"
    assert call(server, f"/lab/alice/api/recordings/{CAST}", tokens["alice"])[0] == 200
    assert call(server, "/", tokens["alice"])[1]["Location"] == "/lab/alice/"
    assert call(server, "/", tokens["instructor"])[1]["Location"] == "/class/"
    for student in ("alice", "bob"):
        assert call(server, f"/lab/{student}/api/files/echo/server.py", tokens["instructor"])[2] == \
            f"# {student}'s\n".encode()
        status, _, cast = call(server, f"/lab/{student}/api/recordings/{CAST}", tokens["instructor"])
        assert status == 200 and student.encode() in cast
    for outside in ("..%2Fbob%2Fecho%2Fserver.py", "%2E%2E/%2E%2E/state.json", "%2Fetc%2Fpasswd", "a%00b"):
        status, _, body = call(server, f"/lab/alice/api/files/{outside}", tokens["alice"])
        assert 400 <= status < 500 and set(body) == {"error"}, outside
    status, _, overview = call(server, "/class/api/students", tokens["instructor"])
    assert status == 200 and [s["student"] for s in overview["students"]] == ["alice", "bob"]
    assert overview["students"][0]["state"] == RUNNING and "token" not in json.dumps(overview)
    assert call(server, "/class/api/grades/echo", tokens["instructor"], "POST")[0] == 202
    wait_until(lambda: call(server, "/class/api/grades/echo", tokens["instructor"])[2]["state"] == "done", 5,
               "the grading to end")
    status, headers, csv = call(server, "/class/api/grades/echo/grades.csv", tokens["instructor"])
    assert status == 200 and csv == b"student,score\nalice,1\nbob,1\n"
    assert "attachment" in headers["Content-Disposition"]
    assert call(server, "/class/api/grades/echo/state.json", tokens["instructor"])[0] == 404


def test_a_websocket_from_another_origin_is_refused_even_with_the_token(
        served: tuple[ClassServer, dict[str, str]]) -> None:
    server, tokens = served
    for origin in ("http://evil.example", f"http://127.0.0.1:{server.port + 1}", "null"):
        status, _, body = ask(server, "WS", "/lab/alice/api/terminal/h1", tokens["alice"], origin)
        assert (status, body) == (403, {"error": "a terminal opens only from this server's own page"})


def test_the_link_sets_a_strict_cookie_and_a_rotated_token_s_cookie_fails(
        served: tuple[ClassServer, dict[str, str]]) -> None:
    server, tokens = served
    status, headers, _ = call(server, f"/?token={tokens['alice']}")
    cookie = headers["Set-Cookie"]
    assert status == 302 and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    jar = {"Cookie": cookie.split(";")[0]}
    assert call(server, "/lab/alice/api/state", headers=jar)[0] == 200
    server.roster.issue(("alice",))
    assert call(server, "/lab/alice/api/state", headers=jar)[:3:2] == (401, {"error": "unauthorised"})
    assert call(server, f"/?token={tokens['alice']}")[0] == 401


def test_sign_in_attempts_are_rate_limited_per_address(served: tuple[ClassServer, dict[str, str]]) -> None:
    server, tokens = served
    server.limiter = auth.Limiter(attempts=3)
    assert [call(server, "/lab/alice/api/state", f"guess-{i}")[0] for i in range(4)] == [401, 401, 401, 429]
    assert call(server, f"/?token={tokens['alice']}")[0] == 429  # even the right link, from that address, now
    assert call(server, "/lab/alice/api/state", tokens["alice"])[0] == 200  # a signed-in student is not held up


@pytest.mark.needs("openssl")
def test_over_tls_the_cookie_is_secure_and_plain_http_is_refused(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    the_class = Class(tmp_path / "class", [Student("alice")])
    the_class.issue()
    the_class.write_links("https://x")
    token = links(tmp_path / "class")["alice"]
    room = Classroom(tmp_path / "class", ["alice"], FakeLabs(up={"alice"}), capacity=1, idle=600)
    room.adopt()
    server = ClassServer(the_class, room, Gradings(tmp_path / "class", lambda *a: []), "127.0.0.1", 0,
                         ssl=tls(str(cert), str(key)), limiter=auth.Limiter(attempts=1000))
    server.start()
    try:
        assert server.origin.base == f"https://127.0.0.1:{server.port}"
        trust = ssl.create_default_context(cafile=str(cert))
        status, headers, _ = call(server, f"/?token={token}", trust=trust)
        assert status == 302 and "Secure" in headers["Set-Cookie"].split("; ")
        status, _, state = call(server, "/lab/alice/api/state", headers={"Cookie": headers["Set-Cookie"].split(";")[0]},
                                trust=trust)
        assert (status, state["state"]) == (200, RUNNING)
        with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
            call(server, f"/?token={token}")  # plain HTTP: no answer, not even a refusal in clear
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            call(server, "/lab/alice/api/state", token, trust=ssl.create_default_context())  # a client not told
    finally:
        server.stop()
        room.close()
