"""Choosing Compose v2 or v1, and the command lines given to either."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.control import compose
from lab.errors import ComposeNotFoundError


def fake(bin_dir: Path, name: str, exit_code: int) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\nexit {exit_code}\n")
    path.chmod(0o755)


@pytest.fixture
def path_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SOCKLAB_COMPOSE", raising=False)
    monkeypatch.setattr(compose, "PLUGIN_DIRS", ("{config}/cli-plugins",))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "config"))
    compose.installed.cache_clear()
    yield tmp_path
    compose.installed.cache_clear()


def test_v2_plugin_wins_when_docker_compose_answers(path_only: Path) -> None:
    fake(path_only, "docker", 0)
    fake(path_only, "docker-compose", 0)
    assert compose.detect() == ("docker", "compose")


def test_both_installed_are_listed_v2_first(path_only: Path) -> None:
    fake(path_only, "docker", 0)
    fake(path_only, "docker-compose", 0)
    assert compose.installed() == [("docker", "compose"), ("docker-compose",)]


def test_the_plugin_found_where_the_cli_looks_needs_no_probe(path_only: Path) -> None:
    fake(path_only, "docker", 1)  # a probe would fail: the plugin's file is what counts
    (path_only / "config" / "cli-plugins").mkdir(parents=True)
    fake(path_only / "config" / "cli-plugins", "docker-compose", 0)
    assert compose.detect() == ("docker", "compose")


def test_v1_when_docker_has_no_compose_plugin(path_only: Path) -> None:
    fake(path_only, "docker", 1)  # `docker compose version` fails: no v2 plugin
    fake(path_only, "docker-compose", 0)
    assert compose.detect() == ("docker-compose",)


def test_neither_is_a_clear_error(path_only: Path) -> None:
    fake(path_only, "docker", 1)
    with pytest.raises(ComposeNotFoundError, match="neither `docker compose` \\(v2\\) nor `docker-compose`"):
        compose.detect()


def test_forced_by_environment(path_only: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCKLAB_COMPOSE", "docker compose")
    assert compose.detect() == ("docker", "compose")


def test_command_names_project_and_file_never_a_top_level_name(path_only: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCKLAB_COMPOSE", "docker-compose")
    c = compose.Compose(Path("/x/compose.yaml"), "alice", {"LAB_PREFIX": "10.9"})
    assert c.command("up", "--detach") == ["docker-compose", "--project-name", "alice", "--file",
                                           "/x/compose.yaml", "up", "--detach"]
    assert os.environ.get("LAB_PREFIX") != "10.9", "the lab's variables go to Compose, not this process"


def test_the_plugin_found_is_run_itself_not_through_the_docker_cli(path_only: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fake(path_only, "docker", 0)
    (path_only / "config" / "cli-plugins").mkdir(parents=True)
    fake(path_only / "config" / "cli-plugins", "docker-compose", 0)
    plugin = str(path_only / "config" / "cli-plugins" / "docker-compose")
    command = compose.Compose(Path("/x/compose.yaml"), "alice", {}).command("up")
    assert command[:3] == [plugin, "--project-name", "alice"]
    monkeypatch.setenv("SOCKLAB_COMPOSE", "docker-compose")  # v1 forced: the plugin is not used
    assert compose.argv() == ["docker-compose"]


def test_docker_compose_without_a_plugin_file_goes_through_the_cli(path_only: Path) -> None:
    fake(path_only, "docker", 0)  # answers `docker compose version`, plugin elsewhere
    assert compose.argv() == ["docker", "compose"]
