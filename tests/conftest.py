"""Shared fixtures: settings on a temporary store, the shared data (or a skip), one Prefect harness."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from pipeline.settings import PROJECT_ROOT, load_settings

FIXTURES = Path(__file__).parent / "fixtures"
# ../shared/data beside the project; SIGNALS_SHARED_DATA points elsewhere (a worktree whose parent has no shared/)
SHARED_DATA = Path(os.environ.get("SIGNALS_SHARED_DATA") or PROJECT_ROOT.parent / "shared" / "data")


def pytest_configure(config):
    # Prefect must never talk to a real server from tests, and its home must be throwaway.
    # a fresh home per session: no cached task results or flow history leak between runs
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="news-signals-prefect-")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "60"
    os.environ.pop("PREFECT_API_URL", None)


def pytest_unconfigure(config):
    # the throwaway home goes with the session (every run had left one behind in the temp folder)
    home = os.environ.get("PREFECT_HOME", "")
    if Path(home).name.startswith("news-signals-prefect-"):
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "spnn_dawn_geo" / "items.jsonl").exists():
        pytest.skip(f"needs the shared news data at {SHARED_DATA} (../shared/data beside the project)")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path):
    """Settings with a fresh store and the project's labels and committed models, no config file."""
    return load_settings(environ={}, config=None, db=tmp_path / "signals.duckdb", nlp_processes=1)


@pytest.fixture(scope="session")
def runtime_session():
    """One Runtime (spaCy pipeline and the committed model, loaded once) for tests that only read."""
    from pipeline.jobs import Runtime

    return Runtime(load_settings(environ={}, config=None, nlp_processes=1))


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield
