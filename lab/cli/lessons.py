"""Tasks of the lessons: scenarios, exercises, `invoke check` and grading a class.

A task imports what it uses in its body: `invoke --list` imports only the task modules.
"""

from __future__ import annotations

from pathlib import Path

from invoke import Context, Exit, task

from lab.cli.common import (
    NAME_HELP,
    REPORT_HELP,
    Whole,
    console,
    narrate,
    open_lab,
    recorded,
    reports_errors,
    running_lab,
    say,
    write_report,
)
from lab.control.arguments import within
from lab.control.defaults import DEFAULT_NAME
from lab.errors import ArgumentError


@task
@reports_errors
def scenarios(c: Context) -> None:
    """List the scenarios (lessons), each with its one-line title."""
    from lab.harness import scenario as scenarios_

    for each in scenarios_.names():
        console().print(f"{each:<16} {scenarios_.load(each).TITLE}", markup=False)


@task(iterable=["role"],
      help={"scenario": "scenario name (`invoke scenarios` lists them)", "name": NAME_HELP,
            "role": "ROLE=COMMAND: run COMMAND in ROLE's place (repeatable)",
            "flows": "show the exchange as a ladder diagram afterwards (default on)", "report": REPORT_HELP})
@reports_errors
def scenario(c: Context, scenario: str, name: str = DEFAULT_NAME, role: list[str] | None = None,
             flows: bool = True, report: str = "") -> None:
    """Play a scenario live on the lab and narrate what happened."""
    from lab.harness import scenario as scenarios_

    overrides = scenarios_.checked_overrides(scenario, role or [])  # before a lab starts
    lab = running_lab(name)
    said, tee = recorded(narrate)
    options = scenarios_.PlayOptions(flows=flows, capture=True if report else None,
                                     pcap_folder=Path(report) if report else None)
    stage = scenarios_.play(lab, scenario, overrides, say=tee, options=options)
    write_report(lab, stage, said, report)
    failed = [c for c in stage.checks if not c.ok]
    if failed:
        raise Exit(f"socklab: {len(failed)} of {len(stage.checks)} checks failed", code=1)
    say(f"all {len(stage.checks)} checks hold")


@task(help={"name": NAME_HELP, "workspace": "your workspace (default: the one the lab mounts, else work/)"})
@reports_errors
def exercises(c: Context, name: str = DEFAULT_NAME, workspace: str = "") -> None:
    """List the exercises: whether you started each (work/NAME/) and how its last check went."""
    from lab.harness import exercise as exercises_

    work = _workspace(name, workspace)
    for each in exercises_.names():
        files = ", ".join(f"{r}.py" for r in exercises_.roles(each))
        console().print(f"{each:<14} {exercises_.state(each, work):<26} you write: {files}", markup=False)
    say(f"`invoke exercise NAME` starts one in {work}/NAME; `invoke check NAME` checks it")


@task(help={"exercise": "exercise name (`invoke exercises` lists them)", "name": NAME_HELP,
            "workspace": "your workspace (default: the one the lab mounts, else work/)"})
@reports_errors
def exercise(c: Context, exercise: str, name: str = DEFAULT_NAME, workspace: str = "") -> None:
    """Start an exercise: copy its starter files into work/EXERCISE/ (never overwriting yours)."""
    from lab.control import workspace as ws
    from lab.harness import exercise as exercises_

    work = _workspace(name, workspace)
    copied, kept = ws.copy_starters(exercises_.starter(exercise), work, exercise)
    for file in copied:
        say(f"wrote {work / exercise / file}")
    for file in kept:
        say(f"kept your {work / exercise / file} (not overwritten)")
    say(f"the task is in scenarios/{exercise}/README.md; edit the files, then `invoke check {exercise}`")


def _workspace(name: str, chosen: str) -> Path:
    from lab.control import workspace as ws
    from lab.control.defaults import DEFAULT_WORKSPACE

    return ws.prepare(Path(chosen) if chosen else open_lab(name).workspace() or DEFAULT_WORKSPACE)


@task(iterable=["role"],
      help={"exercise": "exercise name (see `invoke exercises`)", "name": NAME_HELP,
            "role": "ROLE=COMMAND: run COMMAND in ROLE's place, given the role's arguments (repeatable)",
            "json": "print the checks and their evidence as JSON", "report": REPORT_HELP})
@reports_errors
def check(c: Context, exercise: str, name: str = DEFAULT_NAME, role: list[str] | None = None,
          json_: bool = False, report: str = "") -> None:
    """Check your programs (work/EXERCISE/<role>.py) on the lab: each check, and the evidence of a FAIL."""
    import json

    from lab.harness import exercise as exercises_
    from lab.harness import scenario as scenarios_

    exercises_.roles(exercise)  # an unknown name says so before a lab starts
    overrides = scenarios_.parse_overrides(role or [])
    lab = running_lab(name)
    said, tee = recorded((lambda _: None) if json_ else narrate)
    options = scenarios_.PlayOptions(pcap_folder=Path(report) if report else None)
    outcome = exercises_.check(lab, exercise, exercises_.mounted(lab), overrides, say=tee, options=options)
    write_report(lab, outcome.stage, said, report)
    if json_:
        print(json.dumps(outcome.as_json(), indent=1, ensure_ascii=False))
    else:
        console().print(exercises_.render(outcome), markup=False, soft_wrap=True, highlight=False)
    if not outcome.passed:
        raise Exit("" if json_ else f"socklab: {outcome.summary}", code=1)
    if not json_:
        say(outcome.summary)


@task(help={"submissions": "a folder with one subfolder or zip per student, each with its <role>.py files",
            "exercise": "the exercise graded (`invoke exercises` lists them)",
            "checks": "a folder with <exercise>.py: hidden checks (play, CHECKS), WEIGHTS, VISIBILITY (default: none)",
            "seed": "derives each student's ports and payloads (the same seed grades the same)",
            "parallel": "labs at once (default: from cores and memory)",
            "out": "where results go (default grades/<exercise>)",
            "force": "grade again what was graded with this seed before"})
@reports_errors
def grade(c: Context, submissions: str, exercise: str, checks: str = "", seed: str = "socklab",
          parallel: int | None = None, out: str = "", force: bool = False) -> None:
    """Grade a class: each submission in a lab of its own, against the exercise's and hidden checks."""
    from rich.table import Table

    from lab.harness import exercise as exercises_
    from lab.harness import grading
    from lab.harness.submissions import collect
    from lab.report import grades

    labs = grading.default_parallel() if parallel is None else Whole(parallel)
    within("--parallel", labs, 1, 64, "a number of labs")
    if not Path(submissions).is_dir():
        raise ArgumentError("SUBMISSIONS", submissions, "give a folder with a subfolder or zip per student")
    rules = grading.load_rules(Path(checks) if checks else None, exercise)
    subs = collect(Path(submissions), exercises_.roles(exercise))
    for sub in subs:
        for problem in sub.problems:
            say(f"{sub.student}: {problem}")
    folder = Path(out or f"grades/{exercise}")
    lab = open_lab(DEFAULT_NAME)
    engine = lab.engine
    lab.build(say=say)
    say(f"grading {len(subs)} submissions of {exercise}, {labs} labs at once, seed {seed!r}")
    run = grading.Grading(engine, exercise, seed, rules, folder)
    graded = grading.grade(run, subs, labs, force, say)
    grades.write(folder, exercise, graded)
    table = Table(title=f"{exercise}: {len(graded)} submissions", title_justify="left")
    for column in ("student", "score", *[f"{i + 1}" for i in range(len(run.checks))]):
        table.add_column(column)
    marks = {"passed": "[green]✔[/]", "failed": "[red]✘[/]", "not reached": "[red]·[/]", "not handed in": "-"}
    for g in graded:
        table.add_row(g.student, f"{g.score:g}/{g.max_score:g}", *[marks[ch.status] for ch in g.checks])
    console().print(table)
    for i, d in enumerate(run.checks):
        console().print(f"  {i + 1}. {d.name} ({d.points:g})", markup=False)
    console().print("  ✔ passed, ✘ failed, · not reached, - not handed in", markup=False)
    say(f"results in {folder}/: grades.csv, junit.xml, index.html, <student>/results.json and index.html")
