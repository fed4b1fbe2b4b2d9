"""The web layer without Docker: which paths the file API takes, who gets in (token, cookie,
Origin), the asciicast recorder, and the server's answers over real HTTP on a free port."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.errors import RefusedError
from lab.web import auth, files, recordings, routes
from lab.web.server import Server
from tests.unit.answers import answer


@pytest.fixture
def work(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    (root / "echo").mkdir(parents=True)
    (root / "echo" / "server.py").write_text("print('hi')\n")
    (tmp_path / "secret.txt").write_text("not yours")
    os.symlink(tmp_path / "secret.txt", root / "out-file")
    os.symlink(tmp_path, root / "out-folder")
    os.symlink(root / "echo", root / "in-folder")
    return root


REFUSED = [("", 400), ("a\x00b", 400), ("/etc/passwd", 403), ("..", 403), ("../secret.txt", 403),
           ("echo/../../secret.txt", 403), ("echo/./server.py", 403), ("echo//server.py", 403),
           ("echo\\server.py", 403), ("x" * 256, 414), ("a/" * 600, 414), ("out-file", 403),
           ("out-folder/secret.txt", 403), ("out-folder", 403)]


@pytest.mark.parametrize(("path", "status"), REFUSED, ids=lambda v: repr(v)[:30])
def test_a_path_out_of_the_workspace_is_refused_and_nothing_is_touched(work: Path, path: str, status: int) -> None:
    before = sorted(p.name for p in work.parent.rglob("*"))
    for action in (lambda: files.read(work, path), lambda: files.write(work, path, b"x")):
        with pytest.raises(RefusedError) as refused:
            action()
        assert refused.value.status == status
    assert sorted(p.name for p in work.parent.rglob("*")) == before
    assert (work.parent / "secret.txt").read_text() == "not yours"


def test_files_inside_are_read_written_and_listed(work: Path) -> None:
    assert files.read(work, "echo/server.py") == b"print('hi')\n"
    assert files.read(work, "in-folder/server.py") == b"print('hi')\n"  # a symlink that stays inside
    files.write(work, "chat/new/server.py", b"import socket\n")
    assert (work / "chat" / "new" / "server.py").read_bytes() == b"import socket\n"
    listed = {e["path"]: e["kind"] for e in files.tree(work)}
    assert listed["echo/server.py"] == "file" and listed["chat/new"] == "folder"
    assert "out-file" not in listed and "out-folder" not in listed
    assert not [p for p in work.rglob("*.saving")]


def test_uploads_are_bounded(work: Path) -> None:
    with pytest.raises(RefusedError) as refused:
        files.write(work, "big.py", b"x" * (files.MAX_FILE + 1))
    assert refused.value.status == 413 and not (work / "big.py").exists()
    with pytest.raises(RefusedError, match="is a folder"):
        files.write(work, "echo", b"x")


def test_the_token_is_long_and_compared_whole() -> None:
    token = auth.new_token()
    assert len(token) >= 43 and token != auth.new_token()  # 32 random bytes
    assert auth.same(token, token)
    for wrong in (None, "", token[:-1], token + "x", token.upper() if token != token.upper() else "x"):
        assert not auth.same(wrong, token)


def test_the_token_comes_from_a_bearer_header_or_the_cookie() -> None:
    assert auth.presented({"Authorization": "Bearer abc"}, {}) == "abc"
    assert auth.presented({"Authorization": "bearer abc"}, {auth.COOKIE: "def"}) == "abc"
    assert auth.presented({}, {auth.COOKIE: "def"}) == "def"
    assert auth.presented({"Authorization": "Basic abc"}, {}) is None
    cookie = auth.cookie_header("t0k")
    assert cookie.startswith(f"{auth.COOKIE}=t0k;") and "HttpOnly" in cookie and "SameSite=Strict" in cookie


@pytest.mark.parametrize(("origin", "ok"), [
    ("http://127.0.0.1:8800", True), ("http://localhost:8800", True), ("HTTP://LOCALHOST:8800", True),
    ("http://127.0.0.1:8801", False), ("http://127.0.0.1", False), ("https://127.0.0.1:8800", False),
    ("http://evil.example:8800", False), ("http://127.0.0.1:8800.evil.example", False), ("null", False),
    ("", False), (None, False), ("http://127.0.0.1:8800/path", False), ("http://u@127.0.0.1:8800", False),
    ("http://127.0.0.1:99999", False)])
def test_a_websocket_opens_only_from_the_servers_own_origin(origin: str | None, ok: bool) -> None:
    assert auth.Origin("127.0.0.1", 8800).accepts(origin) is ok


def test_a_recording_is_asciicast_v2(tmp_path: Path) -> None:
    ticks = iter([10.0, 10.5, 11.25, 12.0, 12.5])
    rec = recordings.Recorder(tmp_path, "h1", 80, 24, title="h1 (student)", clock=lambda: next(ticks), now=1.7e9)
    rec.output(b"student@h1:/work$ ")
    rec.output("ttl=63 \u4f60".encode()[:-1])  # a character cut between two reads...
    rec.resize(100, 30)
    rec.output("\u4f60".encode()[-1:] + b"\r\n")  # ...is whole in the next event
    rec.close()
    header, events = recordings.parse(rec.path.read_text())
    assert header["version"] == 2 and (header["width"], header["height"]) == (80, 24)
    assert header["timestamp"] == 1700000000 and header["title"] == "h1 (student)"
    assert events == [[0.5, "o", "student@h1:/work$ "], [1.25, "o", "ttl=63 "], [2.0, "r", "100x30"],
                      [2.5, "o", "\u4f60\r\n"]]
    assert recordings.listing(tmp_path)[0]["id"] == rec.id and recordings.path_of(tmp_path, rec.id) == rec.path
    for bad in ("../x", rec.id + "/..", "h1-20260101-000000-zzzzzz", ""):
        with pytest.raises(RefusedError):
            recordings.path_of(tmp_path, bad)


class NoLab:
    """The lab a file request never reaches (the workspace is given)."""

    name = "unit"


@pytest.fixture
def server(work: Path, tmp_path: Path) -> Iterator[Server]:
    site = routes.Site(NoLab(), recordings=tmp_path / "recordings", _work=work)  # type: ignore[arg-type]
    web = Server(site.lab, "127.0.0.1", 0, site=site)
    web.start()
    yield web
    web.stop()


def call(server: Server, path: str, token: str | None = "", method: str = "GET", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=body, method=method,
                                     headers=headers or {})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token or server.token}")
    return answer(request)


def test_without_the_token_every_route_is_401_and_says_nothing_else(server: Server) -> None:
    for path in ("/", "/api/lab", "/api/files", "/api/files/echo/server.py", "/api/recordings", "/api/nothing",
                 "/static/app.js", "/vendor/xterm.js", "/api/terminal/h1"):
        for token in (None, "wrong"):
            status, headers, body = call(server, path, token)
            assert (status, body) == (401, {"error": "unauthorised"}), path
            assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert call(server, "/api/files/echo/server.py", None, "PUT", b"x")[0] == 401
    assert (server.site.workspace() / "echo" / "server.py").read_text() == "print('hi')\n"


def test_the_link_sets_the_cookie_and_the_cookie_lets_in(server: Server) -> None:
    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    opener = urllib.request.build_opener(Keep)
    with pytest.raises(urllib.error.HTTPError) as found:
        opener.open(server.link, timeout=10)
    assert found.value.code == 302 and found.value.headers["Location"] == "/"
    cookie = found.value.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, headers, body = call(server, "/api/files", None, headers={"Cookie": cookie.split(";")[0]})
    assert status == 200 and "echo/server.py" in [f["path"] for f in body["files"]]
    assert call(server, "/?token=wrong", None)[0] == 401


def test_the_file_api_over_http(server: Server) -> None:
    assert call(server, "/api/files/echo/server.py")[2] == b"print('hi')\n"
    assert call(server, "/api/files/echo/client.py", method="PUT", body=b"import sys\n")[0] == 200
    assert (server.site.workspace() / "echo" / "client.py").read_text() == "import sys\n"
    for path in ("..%2Fsecret.txt", "%2E%2E/secret.txt", "%2Fetc%2Fpasswd", "a%00b", "out-file", "x" * 300):
        status, _, body = call(server, f"/api/files/{path}")
        assert 400 <= status < 500 and set(body) == {"error"}, path
        assert 400 <= call(server, f"/api/files/{path}", method="PUT", body=b"x")[0] < 500
    assert call(server, "/api/files/big.py", method="PUT", body=b"x" * (files.MAX_FILE + 1))[0] == 413
    assert not (server.site.workspace() / "big.py").exists()


def test_a_websocket_from_another_origin_is_refused(server: Server) -> None:
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    for origin in ("http://evil.example", f"http://127.0.0.1:{server.port + 1}", None):
        headers = {**upgrade, **({"Origin": origin} if origin else {})}
        assert call(server, "/api/terminal/h1", headers=headers)[:3:2] == (
            403, {"error": "a terminal opens only from this server's own page"})
