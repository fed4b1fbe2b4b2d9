"""The ``needs`` marker (tests/conftest.py): a test that needs a missing optional program is
skipped with the program named, and the run ends saying how to get it; in CI it runs (and fails)."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = (Path(__file__).parents[1] / "conftest.py").read_text()
TESTS = """
    import pytest

    @pytest.mark.needs("dot")
    def test_draws():
        from lab.report import draw
        from lab.control import topologies, topology
        draw.render_graph(draw.topology_graph(topology.load(topologies.compose_file("default"))), "svg")

    @pytest.mark.needs("chromium")
    def test_opens():
        pass

    def test_plain():
        pass
"""


def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_it=TESTS)
    monkeypatch.setenv("PATH", "/nonexistent")  # a fresh machine: neither Graphviz nor Chromium
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rs", *args)


def test_a_missing_tool_skips_its_tests_and_says_how_to_get_it(pytester: pytest.Pytester,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    result = run(pytester, monkeypatch)
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*SKIPPED*needs Graphviz's `dot`: apt-get install graphviz*",
                                 "*SKIPPED*needs Chromium: apt-get install chromium*"], consecutive=False)
    result.stdout.fnmatch_lines(["socklab: 1 skipped without Graphviz's `dot` (it draws the lab's topology): "
                                 "`apt-get install graphviz`, then run them again"])


def test_in_ci_a_missing_tool_fails_its_tests(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "1")  # CI installs them: a missing one is a failure there, not a skip
    result = run(pytester, monkeypatch)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*ToolMissingError: Graphviz's `dot` is not installed*"])
    result.stdout.no_fnmatch_line("socklab: * skipped without*")


def test_an_unknown_tool_is_a_usage_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_it="import pytest\n@pytest.mark.needs('graphviz')\ndef test_x():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*needs('graphviz'): known tools are dot, chromium*"])
