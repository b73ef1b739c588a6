"""Imports point one way: cli -> app -> the stages -> models, errors and ops.

Each module of src/watcher is imported alone in a fresh interpreter (a fork of
one that has loaded nothing of watcher), and what it brought along is checked
against the packages its own package may use (docs/architecture.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "watcher"
BASE = {"errors", "models", "ops"}
MAY_USE = {
    "errors": set(),
    "models": set(),
    "ops": {"errors"},
    "match": BASE,
    "sources": BASE | {"match"},  # story fingerprints (match.cluster) for extracted pages
    "config": BASE | {"match", "sources"},  # terms compiled on load; sources.settings only
    "store": BASE,  # and the tokenizer of the search index: SHARED_WITH_STORE
    "delivery": BASE | {"match", "config", "sources", "store"},
    "app": BASE | {"match", "config", "sources", "store", "delivery"},
    "web": BASE | {"match", "config", "sources", "store", "delivery", "app"},
    "cli": BASE | {"match", "config", "sources", "store", "delivery", "app", "web"},
}
# The one part of `match` the store uses: the search index words an article's text as
# queries word theirs (`index_text`), or a search would miss what a term catches.
SHARED_WITH_STORE = {"watcher.match", "watcher.match.words"}
# Heavy or far-reaching libraries a lower layer must not drag in.
NOT_LOADED = {
    "match": {"apscheduler", "httpx", "sqlite_utils"},
    "sources": {"apscheduler", "sqlite_utils"},
    "ops": {"apscheduler", "httpx", "sqlite_utils"},
}

_PROBE = """
import importlib, json, os, sys
names = json.loads(sys.argv[1])
found = {}
for name in names:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        importlib.import_module(name)
        os.write(write, json.dumps(sorted(sys.modules)).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    found[name] = json.loads(b"".join(chunks))
print(json.dumps(found))
"""


def modules() -> list[str]:
    names = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) > 1 and parts[1] != "__main__":
            names.append(".".join(parts))
    return names


def loaded_by_each() -> dict[str, list[str]]:
    names = modules()
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(names)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    found: dict[str, list[str]] = json.loads(done.stdout)
    return found


pytestmark = pytest.mark.slow  # one process forked per module


@pytest.fixture(scope="module")
def loaded() -> dict[str, list[str]]:
    return loaded_by_each()


def package(module: str) -> str:
    return module.split(".")[1]


def test_every_module_imports_only_its_own_layer_and_those_below(
    loaded: dict[str, list[str]],
) -> None:
    assert len(loaded) > 50  # every module was probed
    wrong = {}
    for module, names in loaded.items():
        own = package(module)
        shared = SHARED_WITH_STORE if own == "store" else set()
        used = {
            package(name) for name in names if name.startswith("watcher.") and name not in shared
        }
        if extra := used - MAY_USE[own] - {own}:
            wrong[module] = sorted(extra)
    assert wrong == {}


def test_lower_layers_load_no_scheduler_http_client_or_database_library(
    loaded: dict[str, list[str]],
) -> None:
    wrong = {}
    for module, names in loaded.items():
        heavy = NOT_LOADED.get(package(module), set()) & {name.split(".")[0] for name in names}
        if heavy:
            wrong[module] = sorted(heavy)
    assert wrong == {}


def test_the_http_client_loads_neither_the_config_nor_the_query_engine(
    loaded: dict[str, list[str]],
) -> None:
    client = set(loaded["watcher.sources.http"])
    assert not {"watcher.config", "watcher.match", "apscheduler"} & client
    assert "watcher.sources.settings" in client


def test_loading_the_config_does_not_load_the_http_client(loaded: dict[str, list[str]]) -> None:
    for module in ("watcher.config.load", "watcher.config.edit"):
        assert "watcher.sources.http" not in loaded[module]
        assert "httpx" not in loaded[module]


def test_the_store_loads_neither_the_config_nor_the_matching_beyond_its_tokenizer(
    loaded: dict[str, list[str]],
) -> None:
    wrong = {}
    for module, names in loaded.items():
        if package(module) == "store":
            foreign = {
                name
                for name in names
                if name.startswith(("watcher.config", "watcher.match"))
                and name not in SHARED_WITH_STORE
            }
            if foreign:
                wrong[module] = sorted(foreign)
    assert wrong == {}
