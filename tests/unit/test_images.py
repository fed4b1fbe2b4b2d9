from __future__ import annotations

import shutil
from pathlib import Path

from lab.control import images
from lab.control.lab import ROOT


def copy_context(dest: Path) -> Path:
    for entry in images.CONTEXT:
        src = ROOT / entry
        (dest / entry).parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest / entry, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / entry)
    return dest


def test_host_tag_is_stable_and_follows_content(tmp_path: Path) -> None:
    root = copy_context(tmp_path)
    first = images.host_tag(root)
    assert first == images.host_tag(root) == images.host_tag(ROOT)
    assert first.startswith("socklab/host:")
    (root / "lab/apps/udp_send.py").write_text("# changed\n", encoding="utf-8")
    assert images.host_tag(root) != first


def test_context_ignores_bytecode(tmp_path: Path) -> None:
    root = copy_context(tmp_path)
    first = images.host_tag(root)
    (root / "lab/apps/__pycache__").mkdir()
    (root / "lab/apps/__pycache__/x.pyc").write_bytes(b"\0")
    assert images.host_tag(root) == first


def test_dockerignore_admits_exactly_the_context() -> None:
    lines = (ROOT / ".dockerignore").read_text().split()
    admitted = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert admitted == set(images.CONTEXT)


def test_ci_bootstraps_the_base_image_build_looks_for() -> None:
    """.ci/run bootstraps the base image beside PyPI's install, by name: the name `invoke build` uses."""
    script = (ROOT / ".ci" / "run").read_text()
    assert f"docker image inspect {images.LOCAL_BASE} " in script
    assert f"images/base/bootstrap.sh {images.LOCAL_BASE}\n" in script
