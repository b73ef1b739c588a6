"""`python -m watcher` is the `watcher` command."""

from watcher.cli import main

# The guard matters: extraction workers start by importing the main module.
if __name__ == "__main__":
    main()
