"""Scoring: the same list of checks and the same maximum for every student, whatever the play reached."""

from __future__ import annotations

import json
from pathlib import Path

from lab.harness.grading import Graded
from lab.harness.scenario import Check
from lab.harness.scoring import ANY_ROLE, NOT_HANDED_IN, NOT_REACHED, Declared, declare, score, total
from lab.report import grades

CHECKS = declare({"server": ["server: binds the udp port it is given", "server: answers h1"],
                  "client": ["client: sends each line", "client: ends at exit"]}, points={"server: answers h1": 2})
FLOOD = Declared("no flood", ANY_ROLE, alone=False)
ALL = [*CHECKS, FLOOD]


Seen = Check  # what a play decided about a check


def test_declared_checks_keep_their_order_roles_and_points() -> None:
    assert [(d.role, d.points) for d in CHECKS] == [("server", 1), ("server", 2), ("client", 1), ("client", 1)]
    assert declare(["hidden: a"]) == [Declared("hidden: a", ANY_ROLE, 1.0)]


def test_everything_passed_scores_the_maximum() -> None:
    seen = [Seen(d.name, True) for d in ALL]
    assert total(score(ALL, seen, ["server", "client"])) == (6, 6)


def test_a_server_that_exits_at_once_keeps_the_maximum_and_says_why_the_rest_was_not_reached() -> None:
    seen = [Seen("server: binds the udp port it is given", False, "server.py on srv ended with exit status 0 before "
                 "it bound udp port 9107", step=True),
            Seen("client: sends each line", True), Seen("client: ends at exit", True), Seen("no flood", True)]
    scored = score(ALL, seen, ["server", "client"])
    assert total(scored) == (3, 6), "a failed first step removes no points from the maximum"
    answers = scored[1]
    assert answers.status == NOT_REACHED and answers.score == 0 and answers.max_score == 2
    assert answers.observed.startswith("not reached: server: binds the udp port it is given failed (server.py on srv")


def test_a_role_not_handed_in_earns_nothing_though_the_reference_passed_it() -> None:
    seen = [Seen(d.name, True) for d in ALL]  # the reference client played, and passed
    scored = score(ALL, seen, ["server"])
    assert total(scored) == (4, 6)
    client = [s for s in scored if s.role == "client"]
    assert {s.status for s in client} == {NOT_HANDED_IN} and all(s.score == 0 for s in client)
    assert client[0].observed.startswith("not handed in: client.py")


def test_nothing_handed_in_scores_zero_of_the_same_maximum() -> None:
    scored = score(ALL, [], [])
    assert total(scored) == (0, 6) and {s.status for s in scored} == {NOT_HANDED_IN}


def test_a_play_that_never_started_says_why() -> None:
    scored = score(ALL, [], ["server", "client"], stopped="the lab did not start: no space left on device")
    assert total(scored) == (0, 6)
    assert all(s.observed == "not reached: the lab did not start: no space left on device" for s in scored)


def test_the_not_reached_reason_is_the_failure_of_the_same_role() -> None:
    seen = [Seen("server: answers h1", False, "the reference client on h1 got no reply", step=True),
            Seen("client.py is valid Python", False, "SyntaxError: invalid syntax", step=True)]
    scored = {s.name: s for s in score(ALL, seen, ["server", "client"])}
    assert scored["server: answers h1"].status == "failed"
    assert "client.py is valid Python failed (SyntaxError" in scored["client: sends each line"].observed
    assert "server: answers h1 failed" in scored["server: binds the udp port it is given"].observed


def test_checks_the_list_does_not_name_score_nothing() -> None:
    seen = [Seen(d.name, True) for d in ALL] + [Seen("a check nobody declared", True)]
    assert [s.name for s in score(ALL, seen, ["server", "client"])] == [d.name for d in ALL]


def test_every_column_and_every_test_is_filled_for_every_student(tmp_path: Path) -> None:
    full = Graded("ref", "ref", "s", "d1", score(ALL, [Seen(d.name, True) for d in ALL], ["server", "client"]), [])
    half = Graded("solo", "solo", "s", "d2", score(ALL, [Seen(d.name, True) for d in ALL], ["server"]),
                  ["not handed in: client.py"])
    none = Graded("broken", "broken", "s", "d3", score(ALL, [], []), ["not graded: broken.zip is not a zip that opens"])
    grades.write(tmp_path, "echo", [full, half, none])
    rows = (tmp_path / "grades.csv").read_text().splitlines()
    assert rows[0] == "student,id,score,max_score," + ",".join(d.name for d in ALL) + ",problems"
    assert rows[2].startswith("solo,solo,4,6,1,2,0,0,1,") and rows[3].startswith("broken,broken,0,6,0,0,0,0,0,")
    for g in (full, half, none):
        tests = json.loads((tmp_path / g.id / "results.json").read_text())["tests"]
        assert [(t["name"], t["max_score"]) for t in tests] == [(d.name, d.points) for d in ALL]
    solo = json.loads((tmp_path / "solo" / "results.json").read_text())
    assert solo["tests"][2]["output"].startswith("not handed in\nobserved: not handed in: client.py")
    junit = (tmp_path / "junit.xml").read_text()
    assert junit.count("<testcase ") == 3 * len(ALL) and junit.count("<failure ") == 2 + 5


def test_not_flooding_earns_nothing_by_itself() -> None:
    """print(1) as the server and no client: it floods nothing, and that alone is worth nothing."""
    seen = [Seen("server: binds the udp port it is given", False, "it ended", step=True), Seen("no flood", True)]
    scored = score(ALL, seen, ["server"])
    assert total(scored) == (0, 6)
    assert scored[-1].status == NOT_REACHED and scored[-1].observed.startswith("earns nothing by itself")
    with_one = score(ALL, [*seen, Seen("server: answers h1", True)], ["server"])
    assert total(with_one) == (3, 6), "with another check passed, not flooding counts"


def test_a_students_ports_and_payloads_follow_the_seed() -> None:
    from lab.harness.grading import values_for

    assert values_for("s2", "ref") == values_for("s2", "ref") != values_for("s3", "ref")
    assert values_for("s2", "ref") != values_for("s2", "twin")
