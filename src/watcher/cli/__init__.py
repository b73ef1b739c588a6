"""The `watcher` command: parse arguments, call the library, print.

`base` holds the group, the shared options and the exit codes; each other
module adds the commands of one area.
"""

from watcher.cli import archive, db, digest, feeds, service, setup, terms, triage, web
from watcher.cli.base import cli

__all__ = ["cli", "main"]
# Importing them registers their commands.
_COMMANDS = (archive, db, digest, feeds, service, setup, terms, triage, web)


def main() -> None:
    """Entry point of the `watcher` console script."""
    cli(prog_name="watcher")
