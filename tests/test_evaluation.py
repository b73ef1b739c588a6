"""`watcher terms eval`: precision and recall per term on a folder of labelled texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from watcher.cli import cli
from watcher.errors import ArgumentError
from watcher.match.evaluation import evaluate, read_labelled
from watcher.match.terms import compile_term

TERMS = [compile_term("Rail", '"bullet train"'), compile_term("Mast", "=UNICORN")]


def labelled(directory: Path, number: int, expect: str, body: str, title: str = "") -> None:
    text = f"title: {title}\nlang: en\nexpect: {expect}\nnote: a case\n---\n{body}\n"
    (directory / f"{number:03d}.txt").write_text(text, encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    directory = tmp_path / "labelled"
    directory.mkdir()
    labelled(directory, 1, "Rail", "The bullet train runs.")  # tuning: found
    labelled(directory, 2, "Rail", "The high-speed line opens.")  # tuning: missed
    labelled(directory, 3, "Rail", "A bullet train test.")  # held out: found
    labelled(directory, 4, "", "A bullet train in Texas.")  # tuning: false alarm
    labelled(directory, 5, "Mast", "Navy fits UNICORN.", title="Mast news")  # tuning: found
    labelled(directory, 6, "Rail, Mast", "The UNICORN mast.")  # held out: Rail missed
    labelled(directory, 9, "", "A startup unicorn.")  # held out: nothing, as expected
    return directory


def test_scores_count_misses_and_false_alarms_by_file(folder: Path) -> None:
    rail, mast = evaluate(TERMS, folder).scores

    assert (rail.found, rail.misses, rail.false_alarms) == (2, ["002.txt", "006.txt"], ["004.txt"])
    assert (rail.recall, rail.precision) == (0.5, 2 / 3)
    assert (mast.found, mast.misses, mast.false_alarms) == (2, [], [])
    assert (mast.recall, mast.precision) == (1.0, 1.0)


def test_held_out_part_is_the_files_numbered_by_multiples_of_three(folder: Path) -> None:
    held_out = evaluate(TERMS, folder, "held-out")
    tuning = evaluate(TERMS, folder, "tuning")

    assert (held_out.texts, tuning.texts) == (3, 4)
    assert held_out.scores[0].misses == ["006.txt"]
    assert tuning.scores[0].misses == ["002.txt"]
    assert tuning.scores[0].false_alarms == ["004.txt"]


def test_a_term_with_nothing_expected_and_no_hits_has_no_ratios(folder: Path) -> None:
    *_, other = evaluate([*TERMS, compile_term("Other", "JWG")], folder).scores

    assert (other.recall, other.precision) == (None, None)


def test_shortfalls_name_the_term_and_the_minimum(folder: Path) -> None:
    evaluation = evaluate(TERMS, folder)

    assert evaluation.shortfalls(0.9, 0.9) == [
        "Rail: recall 0.50 < 0.9",
        "Rail: precision 0.67 < 0.9",
    ]
    assert evaluation.shortfalls(0.5, 0.6) == []


def test_an_expected_term_that_is_not_configured_is_named_with_its_line(folder: Path) -> None:
    labelled(folder, 10, "Rails", "x")

    with pytest.raises(ArgumentError) as caught:
        read_labelled(folder, ["Rail", "Mast"])

    assert str(caught.value) == (
        f"{folder / '010.txt'}:3: expect: no term named 'Rails' in the config"
        " (terms: 'Mast', 'Rail')"
    )


def test_a_file_without_the_separator_is_an_error_naming_it(folder: Path) -> None:
    (folder / "011.txt").write_text("title: x\nexpect: Rail\nThe bullet train.\n", encoding="utf-8")

    with pytest.raises(ArgumentError, match=r"011\.txt:3: expected a header line"):
        read_labelled(folder, ["Rail", "Mast"])


def eval_cli(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "terms", "eval", *args])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(
        '[[terms]]\nname = "Rail"\nquery = \'"bullet train"\'\n'
        '[[terms]]\nname = "Mast"\nquery = "=UNICORN"\n',
        encoding="utf-8",
    )
    return path


def test_eval_prints_the_table_and_the_files(config: Path, folder: Path) -> None:
    result = eval_cli(config, str(folder), "--part", "held-out")

    assert result.exit_code == 0
    assert result.output == (
        f"{folder}: 3 texts (held-out)\n"
        "term  expected  hits  found  recall  precision\n"
        "Rail         2     1      1    0.50       1.00\n"
        "Mast         1     1      1    1.00       1.00\n"
        "Rail: missed 006.txt\n"
    )


def test_eval_exits_1_below_the_minimums_and_says_why(config: Path, folder: Path) -> None:
    result = eval_cli(config, str(folder), "--min-recall", "0.95", "--format", "json")

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["shortfalls"] == ["Rail: recall 0.50 < 0.95"]
    assert report["terms"][0]["misses"] == ["002.txt", "006.txt"]


def test_eval_of_a_missing_folder_is_a_one_line_error(config: Path, tmp_path: Path) -> None:
    result = eval_cli(config, str(tmp_path / "nowhere"))

    assert (result.exit_code, result.output) == (
        2,
        f"error: {tmp_path / 'nowhere'}: not a folder\n",
    )
