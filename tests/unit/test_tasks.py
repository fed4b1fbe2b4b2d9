"""The invoke tasks that only run commands, checked with MockContext on the exact command."""

from __future__ import annotations

import sys

import pytest
from invoke import Exit, MockContext, Result

import tasks
from lab.cli import common
from lab.control import compose, engine, lab, topologies
from lab.errors import DockerError


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No Docker: the image each `invoke test` would build once, before the test processes start."""
    names: list[str] = []

    class Lab:
        here = True  # the host image of this tree is built already

        def __init__(self, engine: object, name: str, compose_file: object = None) -> None:
            self.name = name

        def built(self) -> bool:
            return self.here

        def build(self, say: object) -> None:
            names.append(self.name)

    monkeypatch.setattr(lab, "Lab", Lab)
    monkeypatch.setattr(engine.Engine, "connect", staticmethod(lambda: None))
    # one Compose and one topology: nothing to run beside (tests/unit/test_suite_plan.py tests that)
    monkeypatch.setattr(compose, "installed", lambda: [["docker", "compose"]])
    monkeypatch.setattr(topologies, "names", lambda: ["default"])
    return names


def commands(**options: object) -> list[str]:
    """What `invoke test` runs, each run a command."""
    c = MockContext(run=Result(exited=0), repeat=True)
    tasks.test(c, **options)
    return [call.args[0] for call in c.run.call_args_list]  # type: ignore[attr-defined]


def test_test_task_runs_pytest_with_lab_options(built: list[str]) -> None:
    assert commands(keep=True, name="alice", k="broadcast") == [
        f"{sys.executable} -m pytest tests/unit tests/lab --junitxml=reports/junit.xml --durations=15 -k broadcast "
        "--lab --lab-name=alice -n 3 --dist loadgroup --no-loadscope-reorder --keep-lab"]
    assert built == ["alice"]


def test_quick_runs_the_unit_tests_and_one_play_per_exercise_once(built: list[str]) -> None:
    runs = commands(quick=True)
    assert len(runs) == 1, "no second Compose, no other topologies"
    assert runs[0].endswith("-m 'not lab or quick' --lab --lab-name=socklab -n 3 --dist loadgroup "
                            "--no-loadscope-reorder")


def test_the_tests_marked_alone_run_after_the_others_by_themselves(built: list[str]) -> None:
    first, second = commands()[:2]
    assert first.endswith("--durations=15 -m 'not alone' --lab --lab-name=socklab -n 3 --dist loadgroup "
                          "--no-loadscope-reorder")
    assert second.endswith("pytest tests/lab --junitxml=reports/junit-alone.xml --durations=15 -m alone --lab "
                           "--lab-name=socklab-alone -n 3 --dist loadgroup --no-loadscope-reorder")


def test_the_unit_tests_run_beside_a_build_then_the_lab_tests(built: list[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab.Lab, "here", False)
    unit, main = commands(k="broadcast")
    assert unit == f"{sys.executable} -m pytest tests/unit --junitxml=reports/junit-unit.xml --durations=15 " \
                   "-k broadcast -n 2"
    assert main.startswith(f"{sys.executable} -m pytest tests/lab --junitxml=reports/junit.xml")
    assert built == ["socklab"], "built once, beside the unit tests"


def test_unit_only_needs_no_lab() -> None:
    c = MockContext(run=Result(exited=0))
    tasks.test(c, unit=True)
    command = c.run.call_args.args[0]  # type: ignore[attr-defined]
    assert command == f"{sys.executable} -m pytest tests/unit --junitxml=reports/junit.xml --durations=15"


def test_failing_tests_fail_the_task() -> None:
    c = MockContext(run=Result(exited=3))
    with pytest.raises(Exit) as failed:
        tasks.test(c, unit=True)
    assert failed.value.code == 3, "pytest's own exit status is the task's"


def test_every_task_has_help() -> None:
    checked = []
    for name in dir(tasks):
        obj = getattr(tasks, name)
        if hasattr(obj, "body") and hasattr(obj, "help"):
            assert (obj.__doc__ or "").strip(), f"task {name} has no docstring"
            checked.append(obj.name)
    assert {"build", "up", "down", "status", "shell", "exec", "logs", "test", "clean"} <= set(checked)


def test_a_docker_error_no_check_foresaw_is_one_line_not_a_traceback() -> None:
    @common.reports_errors
    def body() -> None:
        raise DockerError("network socklab_lan_a has active endpoints", 403)

    with pytest.raises(Exit, match="^socklab: Docker refused: network socklab_lan_a has active endpoints$"):
        body()


HEAVY = ("docker", "rich", "matplotlib", "graphviz", "dpkt")  # PyYAML not: invoke itself imports it


def test_listing_the_tasks_imports_nothing_heavy() -> None:
    """`invoke --list` imports tasks.py only: the Docker SDK, rich, the pictures' libraries and
    the harness are imported by the tasks that use them (benchmarks/README.md has the times)."""
    import subprocess

    heavy = repr(HEAVY)
    probe = (f"import sys, tasks; print(sorted({{m for m in sys.modules if m.split('.')[0] in {heavy} "
             "or m.startswith(('lab.control.engine', 'lab.harness'))}))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tasks.ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"importing tasks.py imports {out.stdout.strip()[:300]}"


def test_the_test_task_ends_naming_each_missing_tool(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # a fresh machine: no Graphviz, Chromium, Playwright or OpenSSL
    monkeypatch.delenv("CI", raising=False)
    tasks.test(MockContext(run=Result(exited=0)), unit=True)
    said = capsys.readouterr().out.split("socklab:")[1:]
    assert [" ".join(line.split()) for line in said] == [
        "tests that need Graphviz's `dot` are skipped on this machine (it draws the lab's topology): "
        "`apt-get install graphviz`",
        "tests that need Chromium are skipped on this machine (it opens a report as a person would): "
        "`apt-get install chromium`",
        "tests that need Playwright are skipped on this machine (it drives Chromium through the web page): "
        "`pip install playwright (never `playwright install`: it downloads a browser; Debian's Chromium is used)`",
        "tests that need OpenSSL's `openssl` are skipped on this machine (it makes a throwaway certificate to test "
        "`invoke serve` over HTTPS): `apt-get install openssl`"]
    monkeypatch.setenv("CI", "1")
    assert tasks.missing_tools() == [], "in CI they are not optional: their tests fail instead"


def test_a_number_option_still_shows_it_takes_a_value() -> None:
    import subprocess

    shown = subprocess.run([sys.executable, "-m", "invoke", "--help", "capture"], cwd=tasks.ROOT, capture_output=True,
                           text=True, check=True).stdout
    assert "--seconds=INT" in shown, shown
    assert common.Number("1.5") == 1.5 and common.Whole("3") == 3
    with pytest.raises(Exit, match=r"^socklab: 'soon' is not a number$"):
        common.Number("soon")
