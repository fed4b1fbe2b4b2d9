"""The lab's lifecycle on scratch labs of their own (the session's lab is left alone)."""

from __future__ import annotations

import ipaddress
import json
import os
import pty
import select
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lab.control import topologies
from lab.control.engine import Engine
from lab.control.lab import ROOT, Lab
from lab.control.labs import overview
from lab.errors import HostNotRunningError, LabConflictError, SubnetTakenError
from lab.testing.plugin import remove

pytestmark = pytest.mark.lab


# What a lifecycle claim needs of a lab: two LANs, a host on each and the router between
# (compose.yaml trimmed to them): three containers to start and remove, not seven.
SMALL = ["h1", "b1"]


@pytest.fixture
def small_topology(tmp_path: Path) -> Path:
    return topologies.trimmed(ROOT / "compose.yaml", SMALL, tmp_path / "small.compose.yaml")


@pytest.fixture
def scratch(engine: Engine, small_topology: Path) -> Iterator[Callable[..., Lab]]:
    made: list[Lab] = []

    def make(name: str, compose_file: Path | None = None) -> Lab:
        # A name of its own each time: Docker 20.10 now and then keeps a removed lab's network
        # with an endpoint it no longer lists, and a lab of the same name could not start.
        lab = Lab(engine, f"sltest-{name}-{uuid.uuid4().hex[:4]}", compose_file or small_topology)
        made.append(lab)
        return lab

    yield make
    for lab in made:
        remove(lab)


def ids(lab: Lab) -> dict[str, str]:
    return {service: c.id for service, c in lab.containers().items()}


def test_up_twice_reuses_everything(scratch: Callable[[str], Lab]) -> None:
    lab = scratch("twice")
    lab.up()
    before = ids(lab)
    said: list[str] = []
    lab.up(say=said.append)
    assert ids(lab) == before, "the second up recreated containers"
    assert not [s for s in said if "build" in s or "bootstrap" in s], said
    assert set(before) == set(lab.topology().hosts)


def test_down_leaves_nothing_and_is_idempotent(scratch: Callable[[str], Lab], engine: Engine) -> None:
    lab = scratch("down")
    lab.up()
    assert lab.down() == (len(lab.topology().hosts), len(lab.topology().lans))
    assert engine.containers(lab.name) == []
    assert engine.networks(lab.name) == []
    assert lab.down() == (0, 0)


def test_a_lab_of_networks_only_is_still_a_lab(scratch: Callable[[str], Lab], engine: Engine) -> None:
    """Its containers gone (a `down` interrupted between containers and networks): status --all
    still lists it, with its subnets, and `down --all` would find it."""
    lab = scratch("netonly")
    lab.up()
    prefix = lab.running_prefix()
    engine.remove_containers(engine.containers(lab.name))
    assert lab.name in engine.projects()
    (row,) = [r for r in overview(engine) if r.name == lab.name]
    assert (row.running, row.hosts, row.prefix) == (0, 0, prefix)
    lab.down()
    assert lab.name not in engine.projects()


def test_a_lab_left_by_a_killed_run_is_recovered(scratch: Callable[[str], Lab], engine: Engine) -> None:
    lab = scratch("killed")
    lab.up()
    found = lab.containers()
    engine.kill(found["h1"])                      # a host died
    engine.kill(found["router"])
    engine.remove_containers([found["b1"]])  # and one never made it (a run killed mid-up)
    assert not lab.is_up()
    lab.up()
    assert lab.is_up()
    assert "ttl=63" in lab.exec("h1", ["ping", "-c", "1", "-W", "2", "b1"], check=True).stdout


def test_a_lab_follows_hosts_recreated_behind_its_back(scratch: Callable[[str], Lab], engine: Engine) -> None:
    """A Lab keeps its topology and its containers between commands; another process that
    stops or recreates a host does not leave it talking to a container that is gone."""
    lab = scratch("stale")
    lab.up()
    assert lab.exec("b1", ["hostname"]).stdout.strip() == "b1"
    other = Lab(engine, lab.name)  # as another `invoke` would
    assert str(other.topology().host("b1").address).startswith(f"{lab.running_prefix()}."), "the running prefix"
    engine.kill(other.containers()["b1"])
    with pytest.raises(HostNotRunningError, match="host `b1` of lab `.*` is exited"):
        lab.exec("b1", ["true"])
    engine.remove_containers([other.containers()["b1"]])
    other.up()
    assert lab.exec("b1", ["hostname"]).stdout.strip() == "b1", "the new container, found again"


def test_two_labs_side_by_side(scratch: Callable[[str], Lab]) -> None:
    alice, bob = scratch("alice"), scratch("bob")
    alice.up()
    bob.up()
    a_topo, b_topo = alice.topology(), bob.topology()
    a_nets = [lan.subnet for lan in a_topo.lans.values()]
    b_nets = [lan.subnet for lan in b_topo.lans.values()]
    assert not any(a.overlaps(b) for a in a_nets for b in b_nets)
    a_names = {c.name for c in alice.containers().values()}
    b_names = {c.name for c in bob.containers().values()}
    assert a_names and b_names and not a_names & b_names
    # Each lab works, and neither reaches into the other.
    assert "ttl=63" in alice.exec("h1", ["ping", "-c", "1", "-W", "2", "b1"], check=True).stdout
    assert "ttl=63" in bob.exec("h1", ["ping", "-c", "1", "-W", "2", "b1"], check=True).stdout
    other = str(b_topo.host("b1").address)
    assert alice.exec("h1", ["ping", "-c", "1", "-W", "1", other]).exit_code != 0


def test_a_taken_subnet_is_named(scratch: Callable[[str], Lab], engine: Engine) -> None:
    lab = scratch("taken")
    taken = next(p for p in (f"10.{n}" for n in range(250, 200, -1))
                 if not engine.subnets_in_use() or all(
                     not ipaddress.ip_network(f"{p}.1.0/24").overlaps(s)
                     for subnets in engine.subnets_in_use().values() for s in subnets))
    squatter = engine.client.networks.create("sltest-squatter", driver="bridge", ipam={
        "Config": [{"Subnet": f"{taken}.1.0/24"}]})
    try:
        with pytest.raises(SubnetTakenError, match=rf"{taken}\.1\.0/24 overlaps Docker network `sltest-squatter`"):
            lab.up(prefix=taken)
        assert engine.containers(lab.name) == []
    finally:
        squatter.remove()


def invoke(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, input=stdin, check=False)


def test_tasks_on_a_named_lab(scratch: Callable[[str], Lab]) -> None:
    lab = scratch("cli")
    up = invoke("up", "--name", lab.name, "--topology", str(lab.compose_file))
    assert up.returncode == 0, up.stdout + up.stderr
    status = json.loads(invoke("status", "--json", "--name", lab.name).stdout)
    assert status["lab"] == lab.name
    by_service = {h["service"]: h for h in status["hosts"]}
    assert set(by_service) == set(lab.topology().hosts)
    assert by_service["router"]["state"] == "running"
    assert set(by_service["router"]["networks"]) == {"lan_a", "lan_b"}
    assert by_service["h1"]["container"] == lab.containers()["h1"].name
    done = invoke("exec", "h1", "hostname; exit 7", "--name", lab.name)
    assert (done.returncode, done.stdout.strip()) == (7, "h1")
    piped = invoke("exec", "h1", "cat > /tmp/copied; sha256sum < /tmp/copied", "--name", lab.name, stdin="abc\n")
    assert piped.stdout.startswith("edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb")
    wrong = invoke("shell", "h9", "--name", lab.name)
    assert wrong.returncode == 1
    assert "`h9` is not a host of this lab; the hosts are: b1, h1, router" in wrong.stderr
    down = invoke("down", "--name", lab.name)
    assert down.returncode == 0 and "removed 3 containers and 2 networks" in down.stdout
    gone = invoke("exec", "h1", "true", "--name", lab.name)
    assert gone.returncode == 1 and f"lab `{lab.name}` is not running: run `invoke up --name {lab.name}`" in gone.stderr


def test_shell_gets_a_real_tty(lab: Lab) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: a person at a terminal typing `invoke shell h1`
        os.chdir(ROOT)
        os.execvp(sys.executable, [sys.executable, "-m", "invoke", "shell", "h1", "--name", lab.name])
    os.write(fd, b"tty; echo host=$(hostname); exit\n")
    seen = b""
    while b"host=h1" not in seen:
        ready, _, _ = select.select([fd], [], [], 30)
        assert ready, f"no answer from the shell; saw {seen!r}"
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.waitpid(pid, 0)
    assert b"/dev/pts/" in seen and b"host=h1" in seen, seen


def test_a_lab_is_found_again_with_its_topology(scratch: Callable[..., Lab], engine: Engine, tmp_path: Path) -> None:
    """Only `up` is told the topology; every later command finds it from the running lab."""
    chain = topologies.trimmed(topologies.compose_file("chain"), ["h1", "m1", "b1"], tmp_path / "chain.compose.yaml")
    lab = scratch("chain", chain)
    lab.up()
    later = Lab(engine, lab.name)  # as `invoke exec m1 ... --name` would
    assert later.compose_file == chain
    assert {"m1", "r1", "r2"} <= set(later.topology().hosts)
    assert "ttl=62" in later.exec("h1", ["ping", "-c", "1", "-W", "2", "b1"], check=True).stdout
    with pytest.raises(LabConflictError, match=r"runs the topology .*chain.compose.yaml"):
        Lab(engine, lab.name, ROOT / "compose.yaml").up()
