# Both targets build .venv from nothing, from the pinned lock files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test check lint poll clean lock

$(BIN)/watcher: pyproject.toml requirements.lock requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

run: $(BIN)/watcher  ## start the service on config/watcher.toml
	$(BIN)/watcher run

poll: $(BIN)/watcher  ## one poll of every feed, then exit
	$(BIN)/watcher poll --once

test: $(BIN)/watcher  ## lint, type-check and run every test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/watcher terms eval tests/corpus --part held-out --min-recall 0.95 --min-precision 0.90
	$(BIN)/pytest

check: $(BIN)/watcher  ## the quick loop: lint and the unit tests (no servers, processes or scheduler)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/pytest -m "not slow" -q

lock:  ## re-pin the lock files from pyproject.toml (needs the registry)
	rm -rf /tmp/watcher-lock && $(PYTHON) -m venv /tmp/watcher-lock
	/tmp/watcher-lock/bin/pip install --quiet -e '.[dev]'
	/tmp/watcher-lock/bin/pip freeze --exclude-editable --exclude watcher > requirements-dev.lock
	rm -rf /tmp/watcher-lock && $(PYTHON) -m venv /tmp/watcher-lock
	/tmp/watcher-lock/bin/pip install --quiet -e .
	/tmp/watcher-lock/bin/pip freeze --exclude-editable --exclude watcher > requirements.lock
	rm -rf /tmp/watcher-lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
