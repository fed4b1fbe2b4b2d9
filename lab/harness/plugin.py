"""pytest fixtures for lab tests (registered by tests/conftest.py).

- ``lab``: the session's running lab. Brought up once (or a running one reused) and torn
  down at the end if this session started it, unless --keep-lab.
- ``topo``: its topology model; ``hosts``: a pytest-testinfra host per lab host.
- ``run_program``: start programs on hosts; each is stopped when the test ends and its
  transcript is printed if the test failed.
Unit tests use none of these and need no Docker.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence

import pytest
import testinfra

from lab.control.engine import Engine
from lab.control.lab import DEFAULT_NAME, Lab
from lab.control.topology import Topology
from lab.harness.programs import HostProgram


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("socklab")
    group.addoption("--lab-name", default=DEFAULT_NAME, help="the lab (compose project) to test on")
    group.addoption("--keep-lab", action="store_true", help="leave the lab running after the tests")


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.connect()


@pytest.fixture(scope="session")
def lab(engine: Engine, request: pytest.FixtureRequest) -> Iterator[Lab]:
    the_lab = Lab(engine, request.config.getoption("--lab-name"))
    was_up = the_lab.is_up()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")

    def say(message: str) -> None:  # past pytest's capture: building can take a minute
        if reporter is not None:
            reporter.write_line(f"socklab: {message}")

    say(f"reusing running lab {the_lab.name}" if was_up else f"starting lab {the_lab.name}")
    the_lab.up(say=say)
    yield the_lab
    if not was_up and not request.config.getoption("--keep-lab"):
        the_lab.down()


@pytest.fixture(scope="session")
def topo(lab: Lab) -> Topology:
    return lab.topology()


@pytest.fixture(scope="session")
def hosts(lab: Lab, topo: Topology) -> dict[str, testinfra.host.Host]:
    """pytest-testinfra hosts: ``hosts["h1"].socket("udp://0.0.0.0:69").is_listening``."""
    containers = lab.containers()
    return {name: testinfra.get_host(f"docker://{containers[name].id}") for name in topo.hosts}


@pytest.fixture
def run_program(lab: Lab, request: pytest.FixtureRequest) -> Iterator[Callable[..., HostProgram]]:
    started: list[HostProgram] = []

    def start(host: str, argv: Sequence[str], user: str = "") -> HostProgram:
        program = HostProgram(lab, host, argv, user=user).start()
        started.append(program)
        return program

    yield start
    for program in started:
        program.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for program in started:
            print(f"--- {program!r} exit={program.exit_code}\n{program.transcript()}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
