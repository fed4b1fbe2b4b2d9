"""Lab over a fake Engine: readiness, the overview, the retry in `up`, the other Compose. No Docker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab.control import lab as lab_module
from lab.control.engine import ExecResult
from lab.control.lab import Lab
from lab.control.labs import overview
from lab.control.records import CONFIG_FILES, VERSION, Attachment, LabNetwork
from lab.errors import ComposeError, HostNotRunningError, WaitTimeoutError
from tests.unit.fakes import FakeEngine

HOSTS = ("h1", "h2", "h3", "srv", "b1", "b2", "router")  # compose.yaml's


def running_lab(engine: FakeEngine, name: str = "t", prefix: str = "10.201", **fields: Any) -> None:
    for host in HOSTS:
        engine.add(name, host, **fields)
    engine.nets.append(LabNetwork(id=f"{name}-a", name=f"{name}_lan_a", project=name, lan="lan_a",
                                  subnets=(f"{prefix}.1.0/24",), isolated=True))


def test_ready_means_running_and_ready_said_in_this_run() -> None:
    engine = FakeEngine()
    running_lab(engine)
    engine.logged["t-h2-id"] = b"starting\n"  # h2 has not said it yet
    lab = Lab(engine, "t")  # type: ignore[arg-type]
    with pytest.raises(WaitTimeoutError, match=r"lab `t` hosts to be ready.*not ready: h2"):
        lab.wait_ready(lab.topology(), timeout=0.2)
    engine.logged["t-h2-id"] = b"socklab: ready\n"
    lab.wait_ready(lab.topology(), timeout=1)


def test_a_restarted_host_is_ready_only_by_what_it_said_since_its_last_run() -> None:
    engine = FakeEngine()
    running_lab(engine)
    engine.hosts["t"][0] = engine.add("t", "h1", finished_at="2024-05-01T10:00:05.123456789Z")
    engine.hosts["t"].pop()
    Lab(engine, "t").wait_ready(Lab(engine, "t").topology(), timeout=1)  # type: ignore[arg-type]
    assert 1714557605.123456 in engine.since, "its log is read from the end of its previous run"
    assert engine.since.count(None) == len(HOSTS) - 1


def test_a_stopped_host_is_named() -> None:
    engine = FakeEngine()
    running_lab(engine)
    engine.hosts["t"] = [c for c in engine.hosts["t"] if c.service != "b1"]
    engine.add("t", "b1", state="exited")
    with pytest.raises(HostNotRunningError, match="host `b1` of lab `t` is exited"):
        Lab(engine, "t").exec("b1", ["true"])  # type: ignore[arg-type]
    assert Lab(engine, "t").exec("b2", ["true"]).exit_code == 0  # type: ignore[arg-type]


def test_status_names_lans_and_addresses() -> None:
    engine = FakeEngine()
    running_lab(engine, networks={"t_lan_a": Attachment("10.201.1.11", "02:42:0a:c9:01:0b")})
    rows = {row.service: row for row in Lab(engine, "t").status()}  # type: ignore[arg-type]
    assert rows["h1"].networks == {"lan_a": "10.201.1.11"} and rows["h1"].state == "running"
    assert rows["router"].role == "router"


def test_the_overview_has_every_lab_and_a_lab_of_networks_only() -> None:
    engine = FakeEngine()
    running_lab(engine, "alice", "10.210", mounts={"/work": "/home/alice/work"},
                labels={CONFIG_FILES: "/x/compose.yaml,/x/override.yaml", VERSION: "2.40.3"})
    engine.hosts["alice"].pop()
    engine.add("alice", "router", state="exited")
    engine.nets.append(LabNetwork(id="n", name="bob_lan_a", project="bob", lan="lan_a",
                                  subnets=("fd00::/64", "10.220.1.0/24"), isolated=True))
    engine.nets.append(LabNetwork(id="o", name="other_default", project="other", lan="default"))  # not a lab's
    alice, bob = overview(engine)  # type: ignore[arg-type]
    assert (alice.name, alice.running, alice.hosts, alice.prefix, alice.topology, alice.compose, alice.workspace) == \
        ("alice", 6, 7, "10.210", "/x/compose.yaml", "2.40.3", "/home/alice/work")
    assert (bob.name, bob.running, bob.hosts, bob.prefix, bob.compose) == ("bob", 0, 0, "10.220", "?")


class FakeCompose:
    """Compose's `up`: fails with an overlap ``overlaps`` times, then starts the lab in the engine."""

    calls: list[str] = []
    overlaps = 0
    engine: FakeEngine

    def __init__(self, file: Path, project: str, env: dict[str, str]) -> None:
        self.project, self.prefix = project, env["LAB_PREFIX"]

    def up(self) -> None:
        FakeCompose.calls.append(self.prefix)
        if len(FakeCompose.calls) <= FakeCompose.overlaps:
            raise ComposeError(["docker", "compose", "up"], "Pool overlaps with other one on this address space")
        running_lab(FakeCompose.engine, self.project, self.prefix)


@pytest.fixture
def compose(monkeypatch: pytest.MonkeyPatch) -> type[FakeCompose]:
    FakeCompose.calls, FakeCompose.overlaps, FakeCompose.engine = [], 0, FakeEngine()
    monkeypatch.setattr(lab_module, "Compose", FakeCompose)
    monkeypatch.setattr(Lab, "build", lambda self, force=False, say=None: "socklab-host:abc")
    return FakeCompose


def test_up_chooses_another_prefix_when_another_lab_took_its_subnet(compose: type[FakeCompose],
                                                                     tmp_path: Path) -> None:
    compose.overlaps = 2
    topo = Lab(compose.engine, "t").up(workspace_dir=tmp_path, timeout=1)  # type: ignore[arg-type]
    first, second, third = compose.calls
    assert len({first, second, third}) == 3, "each attempt takes a prefix not yet lost"
    assert str(topo.host("h1").address).startswith(f"{third}.")
    assert len(compose.engine.hosts["t"]) == len(HOSTS)


def test_up_with_the_users_prefix_does_not_choose_another(compose: type[FakeCompose], tmp_path: Path) -> None:
    compose.overlaps = 1
    with pytest.raises(lab_module.SubnetTakenError, match="10.230.x.x"):
        Lab(compose.engine, "t").up(prefix="10.230", workspace_dir=tmp_path, timeout=1)  # type: ignore[arg-type]
    assert compose.calls == ["10.230"]


def test_a_lab_the_other_compose_made_is_left_alone(compose: type[FakeCompose], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab_module.compose, "major", lambda: 2)
    running_lab(compose.engine, prefix="10.240", image="socklab-host:abc", labels={VERSION: "1.29.2"},
                mounts={"/work": str(tmp_path)})
    topo = Lab(compose.engine, "t").up(timeout=1)  # type: ignore[arg-type]
    assert compose.calls == [], "Compose v2 would recreate every host v1 made"
    assert str(topo.host("h1").address).startswith("10.240.")
    monkeypatch.setattr(lab_module.compose, "major", lambda: 1)
    Lab(compose.engine, "t").up(timeout=1)  # type: ignore[arg-type]
    assert compose.calls == ["10.240"], "the same Compose is asked: it changes only what the file changed"


def test_a_reading_command_whose_output_docker_lost_is_asked_again() -> None:
    """Docker 20.10 now and then returns a quick exec's status without its output (moby#27289)."""
    engine = FakeEngine()
    running_lab(engine)
    lab = Lab(engine, "t")  # type: ignore[arg-type]
    engine.answers = [ExecResult(0, "", ""), ExecResult(0, "", ""), ExecResult(0, "1732900000\n", "")]
    assert lab.exec("srv", ["date", "+%s"], prints=True).stdout == "1732900000\n"
    assert len(engine.commands) == 3
    engine.answers = [ExecResult(0, "", "")] * 5
    assert lab.exec("srv", ["date", "+%s"], prints=True).stdout == "", "three tries, then what Docker said"
    assert len(engine.commands) == 6
    engine.answers = [ExecResult(1, "", "sha256sum: x: No such file or directory\n")]
    assert lab.exec("b1", ["sha256sum", "x"], prints=True).exit_code == 1 and len(engine.commands) == 7
    engine.answers = [ExecResult(0, "", "")]
    lab.exec("h1", ["touch", "x"])
    assert len(engine.commands) == 8, "a command that may print nothing is run once"
