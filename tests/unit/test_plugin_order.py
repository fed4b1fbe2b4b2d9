"""The order the plugin gives a lab run (`--lab`): the longest lab files first, the other lab
files next, the unit tests last (short ones that fill the test workers' ends evenly)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
LAB = "import pytest\npytestmark = pytest.mark.lab\ndef test_it():\n    pass\n"


def test_longest_lab_files_first_then_the_other_lab_files_then_the_unit_tests(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("[pytest]\nmarkers =\n    lab: a lab test\n")
    pytester.makepyfile(test_a_unit="def test_it():\n    pass\n", test_b_other=LAB, test_wire=LAB, test_grading=LAB)
    # a process of its own: in this one, test_grading and test_wire are the real ones, imported
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = pytester.runpytest_subprocess("-p", "lab.testing.plugin", "-p", "no:cacheprovider", "--lab",
                                           "--collect-only", "-q")
    listed = [line.split("::")[0] for line in result.stdout.lines if "::" in line]
    assert listed == ["test_grading.py", "test_wire.py", "test_b_other.py", "test_a_unit.py"], result.stdout.lines
