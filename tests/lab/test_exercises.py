"""Exercises on the real lab: each reference solution passes every check, and each known-wrong
solution (tests/lab/exercises/<exercise>/<case>/) fails exactly the checks it should, with
the evidence in the report."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.control.lab import Lab
from lab.harness import exercise as exercises

pytestmark = pytest.mark.lab
#: nat's exercise needs a NAT router: tests/lab/test_nat.py plays it on a lab of its own
CASES = Path(__file__).parent / "exercises"

# What the tutorials' programs get wrong (tests/lab/exercises/*/tutorial/ copies them)
GONE = "client: with the server gone, it gives up on a reply within 2 s, says `no reply` and ends with exit status 3"
TFTP_MISSING = "client: a file the server does not have: prints its ERROR and exits with status 1"
TFTP_LOST = "client: one DATA lost on its host: it asks again, the file arrives byte-identical"
TFTP_STRAY = "client: a DATA from a second sender (another port) is not taken, the file arrives byte-identical"
MCAST_S6 = "sender, IPv6 group: h2 and b1 (across the router) received it once, with a hop limit of 2 to 8"
MCAST_R6 = "receiver, IPv6 group: b1 joined ff05::1:2:3 and printed the message sent to it from h1"

# (exercise, case): (the checks that must FAIL, a text the report must show)
WRONG = {
    ("echo", "upper"): ({"server: replies from h1 byte-identical to what was sent",
                         "server: replies from b1 byte-identical to what was sent"}, "‘HELLO’"),
    ("echo", "localhost"): ({"server: binds the udp port it is given, on every address"},
                            "bound to 127.0.0.1:9001 only"),
    ("echo", "small-buffer"): ({"server: replies from h1 byte-identical to what was sent",
                                "server: replies from b1 byte-identical to what was sent"}, "(1024 chars)"),
    ("echo", "no-exit"): ({"client: sends each line and ends at `exit`", GONE}, "socklab stopped it"),
    ("echo", "tutorial"): ({GONE}, "was still running 5 s later, waiting for the reply"),
    ("timestamp", "no-brackets"): ({"udp: every reply is [time]data", "udp: the data comes back after the time",
                                    "udp: the time is the server's (now, to the minute)"}, "hello"),
    ("timestamp", "one-recv"): ({"tcp: every reply is [time]data", "tcp: the data comes back after the time",
                                 "tcp: the time is the server's (now, to the minute)"}, "a recv() may hold several"),
    ("chatroom", "echo-to-sender"): ({"alice got the others' messages and not its own",
                                      "bob got the others' messages and not its own",
                                      "carol got the others' messages and not its own"}, "‘alice: hi from alice’"),
    ("tcp-chat", "bye-newline"): ({"server (client ends): `bye` from the client ends both programs"},
                                  "still running after 5s"),
    ("tcp-chat", "gbk"): ({"server (client ends): the client gets the server's line, in UTF-8",
                          "server (server ends): the client gets the server's line, in UTF-8"}, "hello client, \ufffd"),
    ("tcp-chat", "ignores-bye"): ({"client (server ends): `bye` from the server ends both programs"},
                                  "client.py on h1 was still running"),
    ("group-chat", "drops-second"): ({"server: a client's second line reaches the others too"}, "again from bob"),
    # her own `again` may still be on its way back when the check reads (once in CI, under load);
    # her `hello` came back a whole round earlier
    ("group-chat", "echo-to-sender"): ({"server: each client got every other line once, as sent, and never its own"},
                                       "‘alice说:hello from alice’"),
    ("group-chat", "keeps-vanished"): ({"server: closes the connection of a client that vanished"}, "CLOSE-WAIT"),
    ("group-chat", "no-name"): ({"client: sends each typed line as `alice说:<line>`"}, "* hello from alice joined"),
    ("group-chat", "endless-recv"): ({"client: ends when the server closes the connection"},
                                     "client.py on h1 was still running"),
    ("tftp-download", "stops-early"): ({"lesson.bin (1500 bytes): arrived byte-identical",
                                        "lesson.bin (1500 bytes): every block ACKed once, the last one too",
                                        "the transfer was RRQ, then DATA 1-3 (512, 512, 476 bytes), each ACKed",
                                        "exact.bin (1024 bytes): every block ACKed once, the last one too",
                                        "empty.bin (0 bytes): every block ACKed once, the last one too",
                                        TFTP_LOST, TFTP_STRAY},
                                       "lesson.bin differs"),
    ("tftp-download", "tutorial"): ({TFTP_MISSING, TFTP_LOST, TFTP_STRAY},
                                    "the client ACKed the second sender's DATA"),
    ("broadcast", "no-so-broadcast"): ({"limited broadcast from h1 reached exactly its LAN",
                                        "limited broadcast from b1 reached exactly its LAN"}, "PermissionError"),
    ("broadcast", "unicast"): ({"limited broadcast from h1 reached exactly its LAN",
                                "limited broadcast from b1 reached exactly its LAN"}, "reached ‘srv’"),
    ("multicast", "never-joins"): ({"receiver: b1 joined the group (ip maddr lists it) once the receiver started",
                                    "receiver: printed the message sent to the group from h1, across the router",
                                    "receiver: printed the message sent to the group from b2, on its own LAN",
                                    MCAST_R6}, "does not list 239.1.2.3"),
    ("multicast", "ttl-one"): ({"sender: a joined host across the router (b1) received it: a TTL of 2 to 8", MCAST_S6},
                               "it left h1 with TTL 1"),
    ("multicast", "ipv4-only"): ({MCAST_S6, MCAST_R6}, "illegal IP address string passed to inet_aton"),
    ("boundaries", "one-recv"): ({"two messages in one send() get two replies",
                                  "a message split over two send()s gets one reply",
                                  "a 100000-byte message (many recv()s) gets one whole reply",
                                  "the receiver closed after the sender's end (no more, no fewer replies)"},
                                 "‘1 one’, ‘two’"),
}


@pytest.fixture
def submit(lab: Lab) -> Iterator[object]:
    """Copy a case's files into a fresh folder of the lab's workspace, as a student would have them."""
    work = lab.workspace()
    assert work is not None
    made: list[Path] = []

    def place(exercise: str, case: str) -> Path:
        folder = work / ".socklab-tests" / f"{exercise}-{case}-{uuid.uuid4().hex[:6]}"
        shutil.copytree(CASES / exercise / case, folder)
        made.append(folder)
        return folder

    yield place
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


def play(lab: Lab, exercise: str, folder: Path) -> exercises.Outcome:
    work = lab.workspace()
    assert work is not None
    return exercises.check(lab, exercise, work, say=lambda _: None, folder=folder)


@pytest.mark.quick
@pytest.mark.parametrize("exercise", [n for n in exercises.names() if not getattr(
    exercises.scenarios.load(n), "NEEDS", exercises.scenarios.Needs()).nat])
def test_the_reference_solution_passes(lab: Lab, submit, exercise: str) -> None:  # type: ignore[no-untyped-def]
    outcome = play(lab, exercise, submit(exercise, "solution"))
    assert outcome.stage.own, "the solution's files took no role"
    assert outcome.passed, exercises.render(outcome)


def test_a_role_without_the_students_file_is_the_references_and_not_counted(lab: Lab, submit) -> None:  # type: ignore[no-untyped-def]
    folder = submit("echo", "solution")
    (folder / "client.py").unlink()
    outcome = play(lab, "echo", folder)
    reference = {c.name for c in outcome.stage.checks if c.name in outcome.stage.reference}
    assert reference == {d.name for d in exercises.scenarios.declared(exercises.scenarios.load("echo"))
                         if d.role == "client"}, "the client's checks, played by the reference client"
    assert [c.name for c in outcome.stage.counted] == [d.name for d in exercises.scenarios.declared(
        exercises.scenarios.load("echo")) if d.role == "server"]
    assert outcome.passed and outcome.summary == ("all 5 checks pass; 4 more checks of client.py (played by the "
                                                  "reference program: no file of yours) are not counted")
    assert {c["by"] for c in outcome.as_json()["checks"] if c["name"] in reference} == {"reference"}


@pytest.mark.parametrize(("exercise", "case"), sorted(WRONG))
def test_a_known_wrong_solution_fails_exactly_its_checks(lab: Lab, submit, exercise: str,  # type: ignore[no-untyped-def]
                                                         case: str) -> None:
    should_fail, evidence = WRONG[exercise, case]
    outcome = play(lab, exercise, submit(exercise, case))
    report = exercises.render(outcome)
    failed = {c.name for c in outcome.stage.checks if not c.ok}
    assert failed == should_fail, report
    assert evidence in report
    for check in outcome.stage.checks:
        if not check.ok:
            assert check.transcripts and check.observed, check


def test_a_flood_of_output_is_cut_and_said_so(lab: Lab) -> None:
    """A bounded flood (8 MiB in 8,000 lines) keeps at most the budget, and the transcript says so;
    a long line below the budget is kept whole (harness programs print such lines)."""
    from lab.control import output, programs

    flood = "import sys\nfor _ in range(8000): sys.stdout.write('x' * 1023 + '\\n')\nprint('y' * 200000)"
    program = programs.HostProgram(lab, "h1", ["python3", "-c", flood]).start()
    try:
        program.wait_exit(30)
    finally:
        program.stop()
    kept = sum(len(line) + 1 for line in program.lines())
    assert kept <= output.MAX_BYTES + 65536
    assert program.cut[output.STDOUT] >= 8000 * 1024 + 200001 - output.MAX_BYTES - 65536
    assert "output cut:" in program.transcript()
    whole = programs.HostProgram(lab, "h1", ["python3", "-c", "print('y' * 200000)"]).start()
    whole.wait_exit(10)
    assert whole.lines() == ["y" * 200000]
