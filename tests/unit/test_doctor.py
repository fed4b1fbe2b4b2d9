"""`invoke doctor`'s judgements, from any machine's facts; and its exit status."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys

from lab.control import doctor, subnets
from lab.control.lab import ROOT

net = ipaddress.IPv4Network


def test_br_netfilter_matters_from_docker_28() -> None:
    assert doctor.judge_br_netfilter(True, 28).verdict == doctor.WARN
    assert "bridge-nf-call-iptables=0" in doctor.judge_br_netfilter(True, 29).advice
    assert doctor.judge_br_netfilter(True, 27).verdict == doctor.OK
    assert doctor.judge_br_netfilter(False, 28).verdict == doctor.OK
    assert "another machine" in doctor.judge_br_netfilter(None, 28).detail


def test_no_compose_is_a_failure_and_v2_is_preferred() -> None:
    assert doctor.judge_compose({}).verdict == doctor.FAIL
    found = doctor.judge_compose({"docker compose": "2.40.3", "docker-compose": "1.29.2"})
    assert found.verdict == doctor.OK and found.detail.endswith("socklab uses docker compose")


def test_a_vpn_over_all_of_10_leaves_no_lab_a_subnet() -> None:
    vpn = doctor.judge_subnets({"the machine's route via tun0": [net("10.0.0.0/8")]}, True)
    assert vpn.verdict == doctor.FAIL and vpn.detail.startswith("0 of 50")
    assert "via tun0" in vpn.detail
    some = doctor.judge_subnets({f"lab{n}_lan": [net(f"10.{n}.1.0/24")] for n in range(201, 231)}, True)
    assert some.verdict == doctor.WARN and some.detail.startswith("20 of 50") and "and 26 more" in some.detail
    assert doctor.judge_subnets({}, False).detail.endswith("not the engine's machine's routes (not known here)")


def test_disk_netem_image_and_capacity() -> None:
    assert doctor.judge_disk(1 * doctor.GIB).verdict == doctor.FAIL
    assert doctor.judge_disk(5 * doctor.GIB).verdict == doctor.WARN
    assert doctor.judge_disk(50 * doctor.GIB).verdict == doctor.OK
    assert doctor.judge_netem(False).verdict == doctor.WARN and "not delay" in doctor.judge_netem(False).detail
    assert doctor.judge_image(False, False, None, False).verdict == doctor.WARN
    assert doctor.judge_image(False, False, "debootstrap", False).verdict == doctor.OK
    assert "room for 50 idle labs" in doctor.judge_capacity(2, 24 * doctor.GIB).detail, "subnets bound it"
    assert "room for 12 idle labs" in doctor.judge_capacity(1, 12 * doctor.IDLE_LAB_MIB * 2**20).detail
    assert doctor.failed([doctor.judge_disk(0), doctor.judge_disk(50 * doctor.GIB)]) == [doctor.judge_disk(0)]
    assert len(subnets.CANDIDATES) == 50


def test_doctor_without_docker_says_so_and_exits_1() -> None:
    """An engine that does not answer: one failed finding, exit status 1, no traceback."""
    env = {**os.environ, "DOCKER_HOST": "tcp://127.0.0.1:9", "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "invoke", "doctor"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "cannot reach the Docker engine" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    assert "a lab cannot work on this machine" in proc.stderr
