"""`invoke web` in a real browser (Debian's Chromium, driven by Playwright): a student's
afternoon in one test, on the lab and its workspace.

Open the link; h1's terminal pings b1 across the router (TTL 63); the echo exercise started,
a wrong server written in the editor, saved, checked (FAIL, with its evidence), fixed,
checked again (every check of the server passes); the terminal session replayed from its
recording; no token: 401; a path out of the workspace: 4xx; and nothing the page asked for
came from anywhere but the server.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.control.lab import Lab
from lab.web import vendor
from lab.web.server import Server

# alone: Chromium drops requests in flight when another lab's networks come or go (net::ERR_NETWORK_CHANGED)
pytestmark = [pytest.mark.lab, pytest.mark.alone, pytest.mark.needs("chromium", "playwright")]
SOLUTION = Path(__file__).parent / "exercises" / "echo" / "solution" / "server.py"
UPPER = Path(__file__).parent / "exercises" / "echo" / "upper" / "server.py"
SCREEN = "socklab.screenText(Object.values(socklab.terminals)[0].term)"


@pytest.fixture
def server(lab: Lab) -> Iterator[Server]:
    if vendor.missing() and not os.environ.get("CI"):
        pytest.skip(f"needs xterm.js and CodeMirror: {vendor.INSTALL}")
    work = lab.workspace()
    assert work is not None
    kept = work / "echo.kept-by-test-web"
    if (work / "echo").exists():  # a person's own echo/ is put back afterwards
        (work / "echo").rename(kept)
    web = Server(lab, "127.0.0.1", 0)
    web.start()
    yield web
    web.stop()
    shutil.rmtree(work / "echo", ignore_errors=True)
    if kept.exists():
        kept.rename(work / "echo")


def status(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_student_works_in_the_browser(lab: Lab, server: Server) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = server.link.split("/?")[0]
    assert status(f"{base}/api/lab") == 401
    assert status(f"{base}/api/files", token="not-the-token") == 401
    for outside in ("..%2Fcompose.yaml", "%2E%2E/%2E%2E/etc/passwd", "%2Fetc%2Fpasswd", "a%00b", "x" * 300):
        assert 400 <= status(f"{base}/api/files/{outside}", server.token) < 500, outside
    work = lab.workspace()
    assert work is not None
    asked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("request", lambda r: asked.append(r.url))
        refused: list[str] = []  # what the page asked for and did not get, as evidence
        page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("requestfailed", lambda r: refused.append(f"failed {r.url}: {r.failure}"))
        page.on("console", lambda m: refused.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        try:
            page.goto(server.link)
            expect(page.locator("body")).to_have_attribute("data-ready", "yes", timeout=20_000)
            assert "token=" not in page.url  # the link's token became a cookie

            page.click('[data-host="h1"]')
            page.wait_for_function(f"() => {SCREEN}.includes('student@h1:/work$')", timeout=15_000)
            page.keyboard.type("ping -c1 b1\n")
            page.wait_for_function(f"() => {SCREEN}.includes('ttl=63')", timeout=15_000)

            # a capture on h1 around a second ping: the ladder, the sequence diagram, the pcap
            page.select_option("#capture-host", "h1")
            page.fill("#capture-filter", "icmp")
            page.click("#capture-start")
            stop = page.locator("#captures li button", has_text="Stop")
            expect(stop).to_be_visible()
            page.click('#tabs button[data-pane^="pane-term-h1"]')  # the keyboard back to h1's terminal
            page.keyboard.type("ping -c1 -W2 b1 && echo pinged-$((6*7))\n")
            page.wait_for_function(f"() => {SCREEN}.includes('pinged-42')", timeout=15_000)
            stop.click()
            view = page.locator("#capture-view")
            expect(view.locator("h3")).to_contain_text("Capture on h1: 2 packets", timeout=30_000)
            expect(view.locator("pre")).to_contain_text("ICMP")
            view.locator("img").wait_for()
            page.wait_for_function("() => document.querySelector('#capture-view img').naturalWidth > 0")
            pcap = page.evaluate("""async () => {
                const a = document.querySelector('#captures li a');
                const bytes = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
                return Array.from(bytes.slice(0, 4));
            }""")
            assert bytes(pcap) in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"), pcap  # a pcap file's magic

            page.select_option("#exercise", "echo")
            page.click("#start-exercise")
            expect(page.locator("#exercise-state")).to_contain_text("wrote echo/client.py, echo/server.py")
            (work / "echo" / "client.py").unlink()  # the student writes only the server: the reference plays the client
            page.click('#tree li[data-path="echo/server.py"]')
            expect(page.locator("#file-name")).to_have_text("echo/server.py")
            for program, verdict in ((UPPER, "failed"), (SOLUTION, "passed")):
                page.click('#tabs [data-pane="pane-files"]')
                page.evaluate("text => socklab.editor.setValue(text)", program.read_text())
                page.click("#save")
                expect(page.locator("#save-state")).to_contain_text("saved (")
                assert (work / "echo" / "server.py").read_text() == program.read_text()
                page.click("#check")
                result = page.locator("#check-result")
                # live: the play's narration shows while it runs, before any verdict
                page.wait_for_function("""() => {
                    const r = document.querySelector('#check-result');
                    return r.dataset.state === 'running' && r.textContent.includes('== echo:');
                }""", timeout=30_000)
                expect(result).to_have_attribute("data-state", verdict, timeout=120_000)
                page.wait_for_function("() => document.querySelector('#check-result img')?.naturalWidth > 0",
                                       timeout=30_000)  # the exchange as a sequence diagram
                if verdict == "failed":
                    failed = result.locator('.check.fail[data-check="server: replies from h1 byte-identical to '
                                            'what was sent"]')
                    expect(failed).to_contain_text("HELLO")  # the evidence: what came back
                    expect(failed).to_contain_text("expected")
            assert result.locator(".check.fail").count() == 0
            assert result.locator(".check.pass").count() >= 5
            expect(result.locator(".summary")).to_contain_text("all 5 checks pass")

            recording = page.evaluate("Object.values(socklab.terminals)[0].recording")
            page.click("#recordings-refresh")
            page.click(f'[data-recording="{recording}"]')
            page.wait_for_function("() => !document.querySelector('#replay-state').textContent.startsWith('playing')",
                                   timeout=60_000)
            assert page.locator("#replay-state").text_content().startswith("done"), (
                page.locator("#replay-state").text_content(), refused)
            assert "ttl=63" in page.evaluate("socklab.screenText(socklab.replay.term)")
        finally:
            page.screenshot(path=str(Path("artifacts") / "test_web.png"))
            browser.close()
    elsewhere = [url for url in asked if not url.startswith(base + "/") and not url.startswith("data:")]
    assert asked and not elsewhere, elsewhere
