"""Exercises without Docker: starters, the files that take roles, and the evidence report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.control import workspace
from lab.errors import NothingToCheckError, UnknownExerciseError
from lab.harness import exercise as exercises
from lab.harness import scenario as scenarios
from lab.harness.scenario import Check, Stage, Transcript

EXERCISES = ["boundaries", "broadcast", "chatroom", "echo", "group-chat", "multicast", "nat", "tcp-chat",
             "tftp-download", "timestamp"]


def test_the_exercises_and_their_roles() -> None:
    assert exercises.names() == EXERCISES
    assert exercises.roles("echo") == ["client", "server"]
    assert exercises.roles("timestamp") == ["tcp_server", "udp_server"]


def test_every_starter_role_is_a_scenario_role_with_documented_args() -> None:
    for name in exercises.names():
        module = scenarios.load(name)
        readme = (scenarios.SCENARIOS / name / "README.md").read_text()
        assert "## Exercise" in readme, name
        for role in exercises.roles(name):
            assert role in module.ROLES, (name, role)
            assert f"{role}.py" in readme, (name, role)
            # a starter runs (it compiles) but is not the solution
            compile((scenarios.SCENARIOS / name / "starter" / f"{role}.py").read_text(), role, "exec")
            assert "TODO" in (scenarios.SCENARIOS / name / "starter" / f"{role}.py").read_text()


def test_an_unknown_exercise_is_named_with_the_valid_ones() -> None:
    with pytest.raises(UnknownExerciseError, match="no exercise `ping`; the exercises are: boundaries, broadcast"):
        exercises.starter("ping")
    with pytest.raises(UnknownExerciseError, match="no exercise `ports`"):
        exercises.starter("ports")  # a scenario, but no exercise


def test_starters_never_overwrite_the_students_files(tmp_path: Path) -> None:
    starter = exercises.starter("echo")
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "server.py").write_text("mine")
    copied, kept = workspace.copy_starters(starter, tmp_path, "echo")
    assert (copied, kept) == (["client.py"], ["server.py"])
    assert (tmp_path / "echo" / "server.py").read_text() == "mine"
    assert workspace.copy_starters(starter, tmp_path, "echo") == ([], ["client.py", "server.py"])


def test_role_files_map_to_the_hosts_and_others_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "echo"
    folder.mkdir()
    for name in ("server.py", "helpers.py", "notes.txt"):
        (folder / name).write_text("")
    assert exercises.student_files("echo", tmp_path) == ({"server": "/work/echo/server.py"}, ["helpers.py"])
    sub = tmp_path / ".grading" / "ann"
    sub.mkdir(parents=True)
    (sub / "client.py").write_text("")
    assert exercises.student_files("echo", tmp_path, sub) == ({"client": "/work/.grading/ann/client.py"}, [])


def test_the_last_result_is_remembered(tmp_path: Path) -> None:
    assert workspace.last_result(tmp_path, "echo") is None
    workspace.record(tmp_path, "echo", {"passed": False, "checks": 7, "failed": ["x"]})
    assert workspace.last_result(tmp_path, "echo") == {"passed": False, "checks": 7, "failed": ["x"]}
    (tmp_path / ".socklab" / "echo.json").write_text("{not json")
    assert workspace.last_result(tmp_path, "echo") is None


def failing_outcome() -> exercises.Outcome:
    stage = Stage(lab=None, roles={}, say=lambda _: None)  # type: ignore[arg-type]
    transcript = Transcript("server.py on srv", ["python3", "/work/echo/server.py", "9001"], "", "listening\n" * 40,
                            "Traceback...\nValueError: bad", 1,
                            ["output cut: 99 more bytes on stdout (a flood of output)"])
    stage.checks += [Check("server: replies byte-identical", False, "sent 'hello', got back 'HELLO'", "the same bytes",
                           "send back data itself", 0.0, (transcript,), "time  h1  srv\n0.0  |--hello-->|"),
                     Check("client: printed every reply", True)]
    return exercises.Outcome("echo", stage)


def test_the_report_shows_the_evidence_of_every_fail() -> None:
    report = exercises.render(failing_outcome())
    for part in ("FAIL server: replies byte-identical", "expected: the same bytes",
                 "observed: sent 'hello', got back 'HELLO'", "server.py on srv (exit status 1): $ python3 "
                 "/work/echo/server.py 9001", "stdin: (nothing)", f"(last {exercises.TAIL} of 40 lines)",
                 "ValueError: bad", "output cut: 99 more bytes", "|--hello-->|", "hint: send back data itself"):
        assert part in report, part
    assert "client: printed every reply" not in report  # passes show as one line in the narration only


def test_the_json_carries_the_same() -> None:
    data = json.loads(json.dumps(failing_outcome().as_json()))
    assert data["passed"] is False
    assert [c["ok"] for c in data["checks"]] == [False, True]
    assert data["checks"][0]["transcripts"][0]["stderr"].endswith("ValueError: bad")


def test_checking_a_folder_without_programs_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "echo").mkdir()
    with pytest.raises(NothingToCheckError, match=r"none of your programs is here: `invoke exercise echo` copies "
                                                  r"the starters there \(client.py, server.py\)"):
        exercises.check(None, "echo", tmp_path, say=lambda _: None)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", exercises.names())
def test_an_exercise_readme_lists_its_checks_with_their_points(name: str) -> None:
    """The fixed list a student is scored on, as the README shows it (the same order)."""
    readme = (scenarios.SCENARIOS / name / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    declared = scenarios.declared(scenarios.load(name))
    assert declared, f"{name} declares no CHECKS"
    assert rows == [f"| `{d.role}.py` | {d.name} | {d.points:g} |" for d in declared]
    assert {d.role for d in declared} <= set(exercises.roles(name)), "each check belongs to a role a student writes"


@pytest.mark.parametrize("name", exercises.names())
def test_check_names_carry_no_student_value(name: str) -> None:
    """Grading gives each student other ports and payloads: names stay the same, or columns differ."""
    one = [d.name for d in scenarios.declared(scenarios.load(name, {"port": 23456, "greeting": "hello-abc"}))]
    assert one == [d.name for d in scenarios.declared(scenarios.load(name))]
    assert not [n for n in one if "23456" in n or "hello-abc" in n]
