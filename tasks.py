"""socklab tasks: `invoke --list` shows them, `invoke --help TASK` explains one.

The tasks live in lab/cli by what they are about (a lab's life, the lessons, packets, and
socklab's own development); this file gathers them into one namespace, under the names
users type (`invoke up`, `invoke check`, ...).

Each task is a thin layer over lab.control: it parses options, calls the lab, and turns a
LabError into one clear line and exit status 1.

A task imports what it uses in its body: `invoke --list` and `--help` import only this file,
and the Docker SDK, rich and the harness cost more than invoke itself.
"""

from __future__ import annotations

from invoke import Collection

from lab.cli.browser import serve, web
from lab.cli.develop import bench, missing_tools, test
from lab.cli.lessons import check, exercise, exercises, grade, scenario, scenarios
from lab.cli.lifecycle import build, clean, doctor, down, exec_, graph, logs, shell, status, topologies_, up
from lab.cli.packets import capture, flows, impair, pictures
from lab.control.defaults import ROOT

__all__ = ["ROOT", "missing_tools"]

ns = Collection()
for each in (build, up, doctor, down, status, shell, exec_, logs, clean, topologies_, graph,  # a lab's life
             scenarios, scenario, exercises, exercise, check, grade,  # the lessons
             capture, flows, pictures, impair,  # packets
             web, serve,  # the lab in a browser, a class in browsers
             test, bench):  # socklab's own development
    ns.add_task(each)  # type: ignore[arg-type]
