"""The `slow` marker means what it says: conftest fails an unmarked test that starts a
server or a process, so `pytest -m "not slow"` (`make check`) stays a loop of unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow  # each test runs pytest in a subprocess

CONFTEST = Path(__file__).with_name("conftest.py")


def session(pytester: pytest.Pytester, tests: str) -> pytest.RunResult:
    """Runs `tests` under this project's conftest and its registered markers."""
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    slow: starts servers, processes or the scheduler\n")
    pytester.makepyfile(tests)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")


def test_an_unmarked_test_that_starts_a_server_or_a_subprocess_fails(
    pytester: pytest.Pytester,
) -> None:
    result = session(
        pytester,
        """
import subprocess
import sys

import pytest

from conftest import Site


def test_unmarked_server():
    Site().close()


def test_unmarked_subprocess():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


@pytest.mark.slow
def test_marked_server():
    Site().close()


def test_pure():
    assert sorted([3, 1, 2]) == [1, 2, 3]
""",
    )

    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unmarked_server*",
            "E*Failed: this test starts a server: mark it @pytest.mark.slow",
            "*ERROR at teardown of test_unmarked_subprocess*",
            "E*Failed: this test starts a subprocess: mark it @pytest.mark.slow",
        ]
    )


def test_an_unmarked_test_asking_for_a_server_fixture_is_refused_at_collection(
    pytester: pytest.Pytester,
) -> None:
    result = session(pytester, "def test_unmarked(site):\n    assert site.base\n")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*tests that start servers must be marked @pytest.mark.slow:*",
            "*test_unmarked (uses site)*",
        ]
    )
