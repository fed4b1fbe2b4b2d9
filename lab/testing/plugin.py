"""pytest fixtures for lab tests (registered by tests/conftest.py).

- ``lab``: the session's running lab. Brought up once (or a running one reused) and torn
  down at the end if this session started it, unless --keep-lab.
- ``topo``: its topology model; ``hosts``: a pytest-testinfra host per lab host.
- ``run_program``: start programs on hosts; each is stopped when the test ends and its
  transcript is printed if the test failed.
- ``capture``: record packets on hosts around a block and decode them.
- ``impair``: packet loss or rate limits for one test, removed afterwards even on failure.

When a lab test fails, ``artifacts/<test>/`` keeps what explains it: the transcript of every
program it started, its pcaps, every host's container log and ``status.json``.
Unit tests use none of these and need no Docker.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import testinfra

from lab.control import impair as impairments
from lab.control import topologies
from lab.control.capture import CaptureSet
from lab.control.engine import Engine
from lab.control.lab import DEFAULT_NAME, Lab
from lab.control.programs import HostProgram, stop_all
from lab.control.topology import Topology
from lab.errors import NetworkKeptError
from lab.testing import artifacts

PROGRAMS = pytest.StashKey[list[HostProgram]]()
CAPTURES = pytest.StashKey[list[CaptureSet]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("socklab")
    group.addoption("--lab-name", default=DEFAULT_NAME, help="the lab (compose project) to test on")
    group.addoption("--keep-lab", action="store_true", help="leave the lab running after the tests")
    group.addoption("--topology", default="", help="start the lab with this topology (a shipped one's "
                    "name or a Compose file; default: the running lab's, else compose.yaml)")
    group.addoption("--artifacts", type=Path, default=artifacts.FOLDER, metavar="DIR",
                    help="where a failed lab test leaves its evidence (default: artifacts/)")
    group.addoption("--lab", action="store_true", help="also run the tests marked `lab` (they start a lab; "
                    "`invoke test` passes this): without it, pytest is the fast unit run")


# The lab test files that take longest, longest first (benchmarks/README.md, the test suite):
# test workers take files in collection order, so these start at once instead of last. The
# other lab files follow, and the unit tests (short, one by one) come last: they fill the
# workers' ends evenly, where a whole lab file taken last ran by itself.
LONGEST_FIRST = ["test_grading.py", "test_exercises.py", "test_tftp.py", "test_scenarios.py", "test_ipv6.py",
                 "test_lifecycle.py", "test_nat.py", "test_grading_runs.py", "test_programs.py", "test_wire.py"]


# Lab test files whose tests each stand alone (no state carried from one test to the next
# beyond what a fixture sets up again): under `--dist loadgroup` their tests go to workers one
# by one; every other file goes whole to one worker, as under `--dist loadfile`.
ONE_BY_ONE = ["test_grading.py", "test_exercises.py", "test_tftp.py", "test_scenarios.py", "test_programs.py"]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--lab"):
        rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: (rank.get(item.path.name, len(rank)),  # stable: the rest keep their order
                                     item.get_closest_marker("lab") is None))
        for item in items:
            alone = item.path.name in ONE_BY_ONE
            item.add_marker(pytest.mark.xdist_group(item.nodeid if alone else item.path.name))
        return
    lab = [item for item in items if item.get_closest_marker("lab")]
    if lab:
        config.hook.pytest_deselected(items=lab)
        items[:] = [item for item in items if not item.get_closest_marker("lab")]


def pytest_report_header(config: pytest.Config) -> str:
    return "socklab: lab tests " + ("on (--lab)" if config.getoption("--lab") else
                                    "left out: `pytest --lab` or `invoke test` runs them on real containers")


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.connect()


def lab_name(config: pytest.Config) -> str:
    """--lab-name; under pytest-xdist (`-n 2`) each worker tests on a lab of its own."""
    worker = getattr(config, "workerinput", {}).get("workerid")
    name: str = config.getoption("--lab-name")
    return f"{name}-{worker}" if worker else name


@pytest.fixture(scope="session")
def lab(engine: Engine, request: pytest.FixtureRequest) -> Iterator[Lab]:
    topology = request.config.getoption("--topology")
    the_lab = Lab(engine, lab_name(request.config), topologies.compose_file(topology) if topology else None)
    was_up = the_lab.is_up()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")

    def say(message: str) -> None:  # past pytest's capture: building can take a minute
        if reporter is not None:
            reporter.write_line(f"socklab: {message}")

    say(f"reusing running lab {the_lab.name}" if was_up else f"starting lab {the_lab.name}")
    the_lab.up(say=say)
    yield the_lab
    if not was_up and not request.config.getoption("--keep-lab"):
        remove(the_lab, say)


def remove(lab: Lab, say: Callable[[str], None] = print) -> None:
    """A lab a test made, removed; a network Docker keeps is a warning (Docker's fault, not the
    test's): the next lab chooses other subnets, and a lab of a name of its own is not hurt."""
    try:
        lab.down()
    except NetworkKeptError as exc:
        say(f"WARNING: lab {lab.name} not removed whole: {exc}")
        warnings.warn(f"lab {lab.name} not removed whole: {exc}", stacklevel=1)


@pytest.fixture(scope="session")
def topo(lab: Lab) -> Topology:
    return lab.topology()


@pytest.fixture(scope="session")
def hosts(lab: Lab, topo: Topology) -> dict[str, testinfra.host.Host]:
    """pytest-testinfra hosts: ``hosts["h1"].socket("udp://0.0.0.0:69").is_listening``."""
    containers = lab.containers()
    # testinfra's docker backend runs the docker CLI with the container's name (from the Engine's record)
    return {name: testinfra.get_host(f"docker://{containers[name].name}") for name in topo.hosts}


@pytest.fixture
def run_program(lab: Lab, request: pytest.FixtureRequest) -> Iterator[Callable[..., HostProgram]]:
    started = request.node.stash.setdefault(PROGRAMS, [])

    def start(host: str, argv: Sequence[str], user: str = "") -> HostProgram:
        program = HostProgram(lab, host, argv, user=user).start()
        started.append(program)
        return program

    yield start
    stop_all(started)
    if failed(request.node):
        for program in started:
            print(f"--- {program!r} exit={program.exit_code}\n{program.transcript()}")


@pytest.fixture
def capture(lab: Lab, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., CaptureSet]:
    """``with capture(["h1", "b1"], bpf="udp port 9000") as cap: ...`` then ``cap.packets["b1"]``."""
    sets = request.node.stash.setdefault(CAPTURES, [])

    def make(hosts: Sequence[str], bpf: str = "") -> CaptureSet:
        cap = CaptureSet(lab, hosts, bpf, folder=tmp_path / f"capture-{len(sets)}")
        sets.append(cap)
        return cap

    return make


@pytest.fixture
def impair(lab: Lab) -> Iterator[Callable[..., None]]:
    """``impair("b1", loss=20, direction="ingress")``: undone when the test ends, pass or fail."""
    touched: set[str] = set()

    def apply(host: str, **settings: Any) -> None:
        touched.add(host)
        impairments.apply(lab, host, impairments.Impairment(**settings))

    yield apply
    for host in touched:
        impairments.clear(lab, host)


def failed(node: pytest.Item) -> bool:
    report = getattr(node, "rep_call", None) or getattr(node, "rep_setup", None)
    return report is not None and report.failed


@pytest.fixture(autouse=True)
def _artifacts(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "lab" not in request.fixturenames or not failed(request.node):
        return
    lab: Lab = request.getfixturevalue("lab")
    folder = artifacts.save(lab, artifacts.folder_for(request.node.nodeid, request.config.getoption("--artifacts")),
                            request.node.nodeid, request.node.stash.get(PROGRAMS, []),
                            request.node.stash.get(CAPTURES, []))
    print(f"socklab: artifacts of this failure are in {folder}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
