"""The sample config `watcher init` writes: the shipped config/watcher.toml, packaged.

`sample.toml` beside this module is a link to config/watcher.toml in a
checkout; a wheel holds a copy of it. Only its `[storage] path` is changed,
to the database the new file should use.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import tomlkit

from watcher.errors import ArgumentError, ConfigError

DEFAULT_DB = "state/watcher.db"


def sample_text(db: str = DEFAULT_DB) -> str:
    """The shipped config, its database set to `db` (a relative path starts at the file)."""
    text = resources.files("watcher.config").joinpath("sample.toml").read_text(encoding="utf-8")
    document = tomlkit.parse(text)
    storage = document["storage"]
    assert isinstance(storage, tomlkit.items.Table)
    path = tomlkit.string(db)
    path.comment("relative paths start at this file's folder")
    storage["path"] = path
    return tomlkit.dumps(document)


def write_sample(target: Path, db: str = DEFAULT_DB) -> None:
    """Write the sample config to `target`; an existing file is never overwritten."""
    text = sample_text(db)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise ArgumentError(f"{target}: already exists; not overwritten") from None
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write the sample config: {exc.strerror}") from None
    os.chmod(target, 0o644)
