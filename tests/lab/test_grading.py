"""`invoke grade` end to end: a class of submissions graded on real labs of their own.

Two labs at a time here, as `invoke grade` grades on two cores: the other test workers' labs run
beside them, and a 2-core machine crowded with more labs than that grades unfairly
(benchmarks/README.md, grading)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from lab.control.engine import Engine
from lab.control.lab import ROOT
from lab.errors import GradingError
from lab.harness import grading
from lab.harness.submissions import collect, zipped
from lab.report import grades

pytestmark = pytest.mark.lab

CASES = ROOT / "tests" / "lab" / "exercises" / "echo"
HOSTILE = ROOT / "tests" / "lab" / "grading"
GOOD = {"server.py": CASES / "solution" / "server.py", "client.py": CASES / "solution" / "client.py"}


def hand_in(folder: Path, student: str, **files: Path) -> None:
    """A subfolder of ``student``'s files: the good solution for any role not given."""
    (folder / student).mkdir(parents=True)
    for name, source in {**GOOD, **{f"{k}.py": v for k, v in files.items()}}.items():
        shutil.copy(source, folder / student / name)


def a_class(folder: Path) -> Path:
    hand_in(folder, "ref")
    hand_in(folder, "Hard Coded", server=HOSTILE / "hard-coded-port" / "server.py")
    hand_in(folder, "memorised", client=HOSTILE / "memorised" / "client.py")
    hand_in(folder, "forkbomb", server=HOSTILE / "fork-bomb" / "server.py")
    hand_in(folder, "hog", server=HOSTILE / "memory-hog" / "server.py")
    hand_in(folder, "loop", server=HOSTILE / "endless-loop" / "server.py")
    hand_in(folder, "flood", server=HOSTILE / "broadcast-flood" / "server.py")
    hand_in(folder, "filler", server=HOSTILE / "disk-filler" / "server.py")
    hand_in(folder, "killer", server=HOSTILE / "process-killer" / "server.py")
    hand_in(folder, "escaper", server=HOSTILE / "escaper" / "server.py")
    hand_in(folder, "exits", server=CASES / "exits-at-once" / "server.py")
    (folder / "solo").mkdir()
    shutil.copy(GOOD["server.py"], folder / "solo" / "server.py")
    (folder / "lazy").mkdir()  # the case: a server that prints 1, and no client
    shutil.copy(CASES / "exits-at-once" / "server.py", folder / "lazy" / "server.py")
    (folder / "localhost.zip").write_bytes(zipped({
        "hw1/server.py": (CASES / "localhost" / "server.py").read_bytes(),
        "hw1/client.py": GOOD["client.py"].read_bytes(), "hw1/notes.py": b"# not a role\n"}))
    (folder / "broken.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    return folder


# Wrong programs that fail the exercise's own checks (an upper-casing server, a small buffer,
# a client that never exits) are played in test_exercises.py; a class here is what grading
# adds: submissions collected, scored on one list, hostile ones contained, and the reports.
EXPECTED = {  # student -> (score out of 10: nine checks of the exercise and one against floods, reason)
    "ref": (10, ""),
    "twin": (10, ""),
    "Hard Coded": (5, "but it bound"),
    "localhost": (5, "127.0.0.1"),
    "exits": (5, "not reached: server: binds the udp port it is given, on every address failed (server.py on srv "
                 "ended with exit status 0"),
    "solo": (6, "not handed in: client.py"),
    "lazy": (0, "earns nothing by itself: no other check passed"),
    "memorised": (7, "not printed: ‘hello-"),
    "forkbomb": (5, "Resource temporarily unavailable"),
    "hog": (5, "killed: SIGKILL"),
    "loop": (5, "should have bound udp port"),
    "flood": (9, "srv sent 20,0"),
    "filler": (5, "No space left on device; /var/tmp: No space left on device; /home/student: No space left "
                  "on device; /work: Read-only file system"),
    "killer": (5, "PermissionError: [Errno 1] Operation not permitted"),
    "escaper": (5, "No route to host"),
    "broken": (0, "not handed in: no program of any role"),
}


@pytest.mark.timeout(900)  # fifteen labs, two at a time: 114 s in a main run beside two other workers
def test_a_class_is_graded_each_in_a_lab_of_its_own(engine: Engine, tmp_path: Path) -> None:
    folder = a_class(tmp_path / "class")
    twin = (folder / "ref" / "server.py").read_text().replace("\n", "\n\n# my own work!\n", 2)
    hand_in(folder, "twin")
    (folder / "twin" / "server.py").write_text("  # handed in by twin\n" + twin)
    out = tmp_path / "grades"
    subs = collect(folder, ["client", "server"])
    by_id = {s.student: s for s in subs}
    assert by_id["Hard Coded"].id.startswith("hard-coded-"), "a name with odd characters, made safe"
    assert by_id["localhost"].problems == ["not graded (no such role): notes.py"]
    assert by_id["broken"].problems[0].startswith("not graded: broken.zip is not a zip that opens")
    said: list[str] = []
    graded = grading.grade(grading.Grading(engine, "echo", "s1", grading.Rules(), out), subs, 2, say=said.append)
    grades.write(out, "echo", graded)

    scores = {g.student: (g.score, g.max_score) for g in graded}
    assert scores == {s: (float(n), 10.0) for s, (n, _) in EXPECTED.items()}
    names = [c.name for c in graded[0].checks]
    for g in graded:
        assert [c.name for c in g.checks] == names, "every student is scored on the same list"
        reason = EXPECTED[g.student][1]
        failed = [f"{c.observed} {g.error}" for c in g.checks if not c.ok]
        assert not reason or any(reason in f for f in failed), (g.student, failed)
    server_checks = [c for c in by_name(graded, "exits").checks if c.role == "server"]
    assert len(server_checks) == 5 and all(c.score == 0 for c in server_checks)
    assert {c.status for c in by_name(graded, "solo").checks if c.role == "client"} == {"not handed in"}
    assert len({g.lab.rsplit("-", 1)[1] for g in graded if g.lab}) == 1, "one mark a run, in every lab's name"
    for g in graded:
        if g.student == "broken":
            assert g.lab == "", "nothing to grade, no lab"
            continue
        assert g.lab.startswith(f"grade-{g.id}-")
        assert engine.containers(g.lab) == [] and engine.networks(g.lab) == [], \
            f"{g.lab} removed: containers, networks and the processes in them"

    for g in graded:  # Gradescope's autograder format; the grader machine's problems are not the student's
        text = (out / g.id / "results.json").read_text()
        assert "Graphviz" not in text and "not removed whole" not in text
        results = json.loads(text)
        assert isinstance(results["score"], float) and results["score"] == g.score
        for test in results["tests"]:
            assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
            assert isinstance(test["name"], str) and isinstance(test["max_score"], float)
            assert test["status"] in ("passed", "failed") and test["visibility"] == "visible"
    rows = list(csv.reader((out / "grades.csv").open()))
    assert rows[0][:4] == ["student", "id", "score", "max_score"] and len(rows) == 1 + len(EXPECTED)
    assert all(len(row) == 5 + len(names) and all(row[2:-1]) for row in rows), "every column filled"
    junit = (out / "junit.xml").read_text()
    assert junit.count("<testcase ") == len(EXPECTED) * len(names)
    assert junit.count("<failure ") == sum(not c.ok for g in graded for c in g.checks)
    summary = (out / "index.html").read_text()
    assert "<b>same source as</b> twin" in summary and "<b>same source as</b> ref" in summary
    assert summary.count("same source as") == 2
    page = (out / by_id["hog"].id / "index.html").read_text()
    machine = [line for line in said if line.startswith("note (this machine, not the students): ")]
    if shutil.which("dot") is None:  # said once to the instructor, for the whole class
        assert [line for line in machine if "Graphviz" in line] == [
            "note (this machine, not the students): The lab is not drawn: Graphviz's `dot` is not installed "
            "(it draws the lab's topology): `apt-get install graphviz`"], machine
    assert "killed: SIGKILL" in page and ("srv.pcap" in page or "h1.pcap" in page)

    said.clear()  # a second run with the same seed grades nothing again: no lab, the same scores
    again = grading.grade(grading.Grading(engine, "echo", "s1", grading.Rules(), out), subs, 1, say=said.append)
    assert [(g.student, g.score) for g in again] == [(g.student, g.score) for g in graded]
    assert all("graded before with this seed" in line or "this machine" in line for line in said), said


def by_name(graded: list[grading.Graded], student: str) -> grading.Graded:
    return next(g for g in graded if g.student == student)


HIDDEN = '''
"""Hidden checks for echo: played after the exercise's own, on the same stage."""

from lab.harness.scenario import Needs

NEEDS = Needs()  # no host of their own: they read the stage (the lab is the exercise's hosts only)
CHECKS = ["hidden: the server held up on both LANs"]

WEIGHTS = {"hidden: the server held up on both LANs": 3, "server: a reply for every line from h1": 2}
VISIBILITY = {"hidden: the server held up on both LANs": "hidden"}


def play(stage):
    held = [c for c in stage.checks if c.name.startswith("server:")]
    stage.check("hidden: the server held up on both LANs", len(held) == 5 and all(c.ok for c in held),
                f"{sum(c.ok for c in held)} of {len(held)}")
'''


def test_hidden_checks_with_weights_and_visibility(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "echo.py").write_text(HIDDEN)
    rules = grading.load_rules(tmp_path / "checks", "echo")
    folder = tmp_path / "class"
    hand_in(folder, "ref")
    hand_in(folder, "hardcoded", server=HOSTILE / "hard-coded-port" / "server.py")
    run = grading.Grading(engine, "echo", "s5", rules, tmp_path / "out")
    graded = grading.grade(run, collect(folder, ["client", "server"]), 2, say=print)
    grades.write(tmp_path / "out", "echo", graded)
    hard, ref = graded
    assert run.topology.name == "lab.compose.yaml", "NEEDS in the hidden checks: only the exercise's hosts started"
    assert (ref.score, ref.max_score) == (10 - 1 + 2 + 3, 10 - 1 + 2 + 3), "weights 2 and 3 instead of 1"
    assert (hard.score, hard.max_score) == (5 + 0, ref.max_score), "its server never bound the port asked"
    results = json.loads((tmp_path / "out" / ref.id / "results.json").read_text())
    hidden = [t for t in results["tests"] if t["name"].startswith("hidden:")]
    assert hidden == [{"name": "hidden: the server held up on both LANs", "score": 3.0, "max_score": 3.0,
                       "status": "passed", "output": "", "visibility": "hidden"}]
    with pytest.raises(GradingError, match=r"VISIBILITY must be one of visible, hidden"):
        (tmp_path / "checks" / "echo.py").write_text(HIDDEN.replace('"hidden"}', '"secret"}'))
        grading.load_rules(tmp_path / "checks", "echo")
    with pytest.raises(GradingError, match=r"CHECKS must name the checks its play\(\) decides"):
        (tmp_path / "checks" / "echo.py").write_text(HIDDEN.replace("CHECKS = ", "NAMES = "))
        grading.load_rules(tmp_path / "checks", "echo")


TFTP = ROOT / "tests" / "lab" / "exercises" / "tftp-download"


def test_a_tutorial_style_tftp_client_passes_the_basics_and_fails_exactly_the_tutorials_mistakes(
        engine: Engine, tmp_path: Path) -> None:
    """Graded, a TFTP exercise scores what test_exercises.py plays (where the reference client
    passes all twelve checks): the tutorial's client loses exactly its three mistakes."""
    (tmp_path / "class" / "tutorial").mkdir(parents=True)
    shutil.copy(TFTP / "tutorial" / "client.py", tmp_path / "class" / "tutorial" / "client.py")
    run = grading.Grading(engine, "tftp-download", "s6", grading.Rules(), tmp_path / "out")
    (tutorial,) = grading.grade(run, collect(tmp_path / "class", ["client"]), 1, say=print)
    failed = {c.name for c in tutorial.checks if not c.ok}
    assert failed == {"client: a file the server does not have: prints its ERROR and exits with status 1",
                      "client: one DATA lost on its host: it asks again, the file arrives byte-identical",
                      "client: a DATA from a second sender (another port) is not taken, the file arrives "
                      "byte-identical"}, [(c.name, c.observed) for c in tutorial.checks if not c.ok]
    assert (tutorial.score, tutorial.max_score) == (9, 12)
