"""docs/queries.md: its `watcher terms test` examples give the result they are marked with,
and its TOML examples load."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from watcher.cli import cli
from watcher.config.load import load_config

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "queries.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"^(watcher terms test .*?)\s+# (match|no match)", DOC, re.MULTILINE)
TOML_BLOCKS = re.findall(r"```toml\n(.*?)```", DOC, re.DOTALL)


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_each_marked_example_matches_or_not_as_the_doc_says(command: str, expected: str) -> None:
    args = ["--config", str(ROOT / "config" / "watcher.toml"), *shlex.split(command)[1:]]

    result = CliRunner().invoke(cli, args, catch_exceptions=False)

    assert result.exit_code == (0 if expected == "match" else 1), result.output


@pytest.mark.parametrize("block", TOML_BLOCKS)
def test_each_toml_example_loads(block: str, tmp_path: Path) -> None:
    path = tmp_path / "watcher.toml"
    path.write_text(block, encoding="utf-8")

    assert load_config(path).terms


def test_the_doc_has_examples_of_each_new_operator() -> None:
    joined = "\n".join(command for command, _ in EXAMPLES)

    for operator in ("/s", "/p", "~2", "ONEAR/3"):
        assert operator in joined
