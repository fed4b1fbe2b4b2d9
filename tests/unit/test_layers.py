"""The programs that run inside the lab use only the standard library and never control code."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

LAB = Path(__file__).resolve().parents[2] / "lab"
IN_LAB = [LAB / "__init__.py", LAB / "__main__.py", LAB / "errors.py",
          *sorted((LAB / "apps").rglob("*.py")), *sorted((LAB / "proto").rglob("*.py")),
          *sorted((LAB / "probes" / "programs").glob("*.py"))]  # run on the hosts, as `python3 -c`
ALLOWED_LAB = ("lab.apps", "lab.proto", "lab.errors")


def imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


@pytest.mark.parametrize("path", IN_LAB, ids=lambda p: str(p.relative_to(LAB)))
def test_in_lab_modules_use_only_the_standard_library(path: Path) -> None:
    for name in imports(path):
        top = name.split(".")[0]
        if top == "lab":
            if name not in ("lab", "lab.apps") and not name.startswith(ALLOWED_LAB):
                pytest.fail(f"{path.name} imports {name}: in-lab code may not import host-side control")
        else:
            assert top in sys.stdlib_module_names or top == "__future__", f"{path.name} imports {name}"


def test_the_check_catches_a_third_party_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import docker\nfrom lab.control import lab\n")
    assert imports(bad) == ["docker", "lab.control", "lab.control.lab"]
    assert "docker" not in sys.stdlib_module_names


# Each host-side layer imports only the layers below it:
# wire (pure) < control (Docker) < probes < report (pictures, pages) < harness.
BELOW = {"wire": ("lab.proto", "lab.errors", "lab.wire"),
         "control": ("lab.proto", "lab.errors", "lab.wire", "lab.control"),
         "probes": ("lab.proto", "lab.errors", "lab.wire", "lab.control", "lab.probes"),
         "report": ("lab.proto", "lab.errors", "lab.wire", "lab.control", "lab.report")}


@pytest.mark.parametrize("layer", list(BELOW))
def test_host_side_layers_import_only_what_is_below(layer: str) -> None:
    for path in sorted((LAB / layer).rglob("*.py")):
        for name in imports(path):
            if name.split(".")[0] == "lab" and name != "lab":
                assert name.startswith(BELOW[layer]), f"lab/{layer}/{path.name} imports {name}"
            if layer == "wire":
                assert name.split(".")[0] != "docker", f"lab/wire/{path.name} reaches Docker"


# The Engine is the one door to Docker: only it (and its helper) import the docker SDK, and no
# code reaches into an object's private attributes (as `conn._sock._sock.sendall` once did).
ROOT = LAB.parent
DOORS = {LAB / "control" / "engine.py", LAB / "control" / "dockerio.py"}
HOST_SIDE = [p for p in sorted(LAB.rglob("*.py")) if p not in DOORS] + \
    [ROOT / "tasks.py", *sorted((ROOT / "tests" / "lab").rglob("*.py"))]


def private_reaches(path: Path) -> list[str]:
    """``x._name`` where x is not self or cls: another object's private attribute."""
    return [f"{path.name}:{node.lineno}: .{node.attr}" for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))]


def test_only_the_engine_imports_docker() -> None:
    reached = [f"{p.relative_to(ROOT)} imports {name}" for p in HOST_SIDE for name in imports(p)
               if name.split(".")[0] == "docker"]
    assert reached == []


def test_no_code_reaches_into_private_attributes() -> None:
    found = [hit for p in [*sorted(LAB.rglob("*.py")), ROOT / "tasks.py"] for hit in private_reaches(p)]
    assert found == []


def test_the_door_checks_catch_what_they_forbid(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from docker.utils.socket import frames_iter\nconn._sock._sock.sendall(b'')\nself._ok = 1\n")
    assert "docker.utils.socket" in imports(bad)
    assert private_reaches(bad) == ["bad.py:2: ._sock", "bad.py:2: ._sock"]


def test_no_two_test_files_share_a_name() -> None:
    """pytest imports tests/unit and tests/lab files by their base name: two of one name are an
    "import file mismatch", and the whole run errors before any test."""
    names = [p.name for p in sorted((ROOT / "tests").rglob("test_*.py"))]
    assert sorted({n for n in names if names.count(n) > 1}) == []
