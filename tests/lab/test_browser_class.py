"""`invoke serve`'s instructor page in a real browser (Debian's Chromium, driven by Playwright).

Two students: ana, whose lab is the session's lab (running; the server adopts it), and ben,
who has not come (no lab). The instructor follows their link: the class page lists both with
their lab's state; "open" shows ana's page, where a terminal on h1 shows her lab's shell and
takes none of the instructor's keystrokes; her own recorded session replays there (what she
typed and saw); back on the class page, Grade grades the class from the workspaces and its
grades.csv downloads. The grader is a stand-in (the real one starts a lab per submission,
minutes: tests/lab/test_grading_runs.py plays it): it lists what each student handed in.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_class_server import type_in  # a student's terminal, typed into

from lab.control.engine import Engine
from lab.control.lab import Lab
from lab.errors import LabError
from lab.web import auth, vendor
from lab.web.classroom import Classroom
from lab.web.classserver import ClassServer
from lab.web.grades import Gradings
from lab.web.roster import Class, Student

# alone: Chromium drops requests in flight when another lab's networks come or go (net::ERR_NETWORK_CHANGED)
pytestmark = [pytest.mark.lab, pytest.mark.alone, pytest.mark.needs("chromium", "playwright")]
SCREEN = "socklab.screenText(Object.values(socklab.terminals)[0].term)"


class SessionLab:
    """ana's lab is the test session's (running already); ben's is never started."""

    def __init__(self, engine: Engine, lab: Lab) -> None:
        self.engine, self.the_lab = engine, lab

    def lab(self, student: str) -> Lab:
        return self.the_lab if student == "ana" else Lab(self.engine, f"{self.the_lab.name}-cp-{student}")

    def running(self) -> set[str]:
        return {"ana"}

    def start(self, student: str, work: Path) -> None:
        raise LabError(f"{student}'s lab is not started in this test")

    def stop(self, student: str) -> None:
        pass


def handed_in(exercise: str, folder: Path, out: Path, say: Callable[[str], None]) -> list[Path]:
    """A stand-in grader: grades.csv says how many files each student handed in."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [f"{s.name},{len(list(s.iterdir()))} files" for s in sorted(folder.iterdir())]
    for row in rows:
        say(f"graded {row}")
    (out / "grades.csv").write_text("student,handed in\n" + "\n".join(rows) + "\n")
    return [out / "grades.csv"]


@pytest.fixture
def server(engine: Engine, lab: Lab, tmp_path: Path) -> Iterator[tuple[ClassServer, str, str]]:
    if vendor.missing() and not os.environ.get("CI"):
        pytest.skip(f"needs xterm.js and CodeMirror: {vendor.INSTALL}")
    folder = tmp_path / "class"
    the_class = Class(folder, [Student("ana", "Ana A."), Student("ben", "Ben B.")])
    the_class.issue()
    room = Classroom(folder, ["ana", "ben"], SessionLab(engine, lab), capacity=2, idle=3600)
    room.adopt()
    web = ClassServer(the_class, room, Gradings(folder, handed_in), "127.0.0.1", 0,
                      limiter=auth.Limiter(attempts=100), sweep_every=3600, exercises=["echo"])
    web.start()
    base = f"http://127.0.0.1:{web.port}"
    the_class.write_links(base)
    ana = (folder / "links.csv").read_text().split("ana,Ana A.,")[1].split("token=")[1].split()[0]
    yield web, the_class.instructor_link(base), ana
    web.stop()
    room.close()


def test_the_instructor_follows_the_class_in_the_browser(lab: Lab, server: tuple[ClassServer, str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    web, link, ana = server
    folder = web.room.folder
    # ana's afternoon: a session on h1 (recorded) and an echo server in her workspace
    seen = asyncio.run(type_in(web, "ana", ana, "echo $((6*7))-from-ana", "42-from-ana"))[1]
    assert "42-from-ana" in seen, seen
    (folder / "work" / "ana" / "echo").mkdir(parents=True)
    (folder / "work" / "ana" / "echo" / "server.py").write_text("print('hello')\n")
    mark = f"instructor-typed-{uuid.uuid4().hex[:8]}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        try:
            page.goto(link)
            assert page.url.endswith("/class/") and "token=" not in page.url
            rows = page.locator("#students tbody tr")
            expect(rows).to_have_count(2)
            expect(rows.nth(0)).to_contain_text("ana")
            expect(rows.nth(0).locator("td.state")).to_have_text("running")
            expect(rows.nth(1)).to_contain_text("Ben B.")
            expect(rows.nth(1).locator("td.state")).to_have_text("stopped")

            # her page, read-only: her lab's shell shows; the instructor's keystrokes reach nothing
            rows.nth(0).locator("a", has_text="open").click()
            expect(page.locator("body")).to_have_attribute("data-ready", "yes", timeout=20_000)
            assert page.url.endswith("/lab/ana/")
            page.click('[data-host="h1"]')
            page.wait_for_function(f"() => {SCREEN}.includes('student@h1:/work$')", timeout=15_000)
            page.keyboard.type(f"touch /work/{mark}; echo $((6*7))-typed\n")
            # from her lab itself, after those keys were sent: no such file; her screen shows no echo of them
            assert lab.exec("h1", ["ls", "/work"], prints=True).stdout.split().count(mark) == 0
            assert "typed" not in page.evaluate(SCREEN)

            page.click("#recordings-refresh")
            expect(page.locator("#recordings [data-recording]")).to_have_count(2)  # hers, and the instructor's now
            mine = page.evaluate("Object.values(socklab.terminals)[0].recording")
            page.locator(f'#recordings [data-recording]:not([data-recording="{mine}"])').click()
            page.wait_for_function("() => !document.querySelector('#replay-state').textContent.startsWith('playing')",
                                   timeout=20_000)
            assert (page.locator("#replay-state").text_content() or "").startswith("done")
            assert "42-from-ana" in page.evaluate("socklab.screenText(socklab.replay.term)")

            # grading from the workspaces, and its output downloaded
            page.goto(link.split("/?")[0] + "/class/")
            expect(page.locator("#exercise")).to_have_value("echo")
            page.click("#grade")
            download_link = page.locator("#graded a", has_text="grades.csv")
            expect(download_link).to_be_visible(timeout=20_000)
            expect(page.locator("#said")).to_contain_text("graded ana,1 files")
            with page.expect_download() as got:
                download_link.click()
            assert Path(got.value.path()).read_text() == "student,handed in\nana,1 files\nben,0 files\n"
        finally:
            page.screenshot(path=str(Path("artifacts") / "test_class_page.png"))
            browser.close()
