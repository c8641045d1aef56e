"""`signals serve`: deployments built right, and (slow) a real Prefect server running a scheduled ingest."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flows.serve import build_deployments, cmd_serve
from pipeline.errors import ConfigError
from pipeline.store import Store
from test_dask import train_tiny_model

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
BIN = Path(sys.executable).parent
SERVER_START_SECONDS = 90
RUN_COMPLETE_SECONDS = 120


# ---------------------------------------------------------------- deployments, no server


def test_ingest_on_its_cron_and_retrain_daily_with_absolute_paths(settings, tmp_path):
    config = tmp_path / "signals.toml"
    ingest, retrain = build_deployments(settings, config)
    assert (ingest.flow_name, retrain.flow_name) == ("ingest", "retrain")
    assert ingest.schedules[0].schedule.cron == settings.ingest_cron == "*/30 * * * *"
    assert retrain.schedules[0].schedule.cron == settings.retrain_cron
    assert ingest.parameters == retrain.parameters == {"config": str(config.resolve()), "db": str(settings.db.resolve())}
    assert ingest.entrypoint == "flows.ingest.ingest_flow"


def test_interval_replaces_the_ingest_cron_and_sources_go_to_ingest_only(settings):
    ingest, retrain = build_deployments(settings, interval=5, sources=[str(FEEDS), "https://example.org/rss"])
    assert ingest.schedules[0].schedule.interval.total_seconds() == 5
    assert ingest.parameters["sources"] == [str(FEEDS.resolve()), "https://example.org/rss"]
    assert "sources" not in retrain.parameters


def test_dask_serves_the_dask_ingest_flow(settings):
    ingest, _ = build_deployments(settings, dask_address="tcp://127.0.0.1:8786")
    assert ingest.flow_name == "ingest-dask"
    assert ingest.parameters["dask_address"] == "tcp://127.0.0.1:8786"


@pytest.mark.parametrize("option", ["ingest_cron", "retrain_cron"])
def test_a_bad_cron_is_a_config_error_naming_the_option(settings, option):
    with pytest.raises(ConfigError, match=option.replace("_", "-")):
        build_deployments(settings, **{option: "every five minutes"})


def test_serve_without_a_server_says_how_to_start_one(tmp_path):
    import argparse

    from prefect.settings import PREFECT_API_URL, temporary_settings

    args = argparse.Namespace(config=None, db=tmp_path / "s.duckdb", ingest_cron=None, retrain_cron=None, interval=5,
                              source=None, dask=False, dask_address=None, dask_workers=2, work_pool=None)
    with temporary_settings(restore_defaults={PREFECT_API_URL}), pytest.raises(ConfigError, match="prefect server start"):
        cmd_serve(args)


# ---------------------------------------------------------------- a real server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command() -> list[str]:
    """`signals serve` once the CLI has it, else the same parser via `python -m flows.serve`."""
    from pipeline.cli import build_parser

    if "serve" in build_parser().format_help():
        return [str(BIN / "signals")]
    return [sys.executable, "-m", "flows.serve"]


def start(command: list[str], log: Path, env: dict, cwd: Path) -> subprocess.Popen:
    """A process in its own session, so it and the runs it starts can be stopped together."""
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)


def stop(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM (serve pauses its schedules), then SIGKILL to the process group it leads."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its group: flow-run subprocesses it may have left
    except ProcessLookupError:
        pass
    process.wait(10)


def wait_healthy(api: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, f"prefect server exited:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"prefect server not healthy after {SERVER_START_SECONDS}s:\n{log.read_text()[-3000:]}")


def ingest_runs(api: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName, FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["ingest"])),
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["signals"])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=50,
        )


def wait_for_completed_ingest(api: str, serve: subprocess.Popen, log: Path) -> object:
    """The first scheduled ingest run that completes; fails on a crashed serve or a failed run."""
    deadline = time.monotonic() + RUN_COMPLETE_SECONDS
    while time.monotonic() < deadline:
        assert serve.poll() is None, f"serve exited with {serve.returncode}:\n{log.read_text()[-4000:]}"
        runs = [r for r in ingest_runs(api) if r.state is not None]
        done = [r for r in runs if r.state.is_completed()]
        if done:
            return done[0]
        failed = [r for r in runs if r.state.is_failed() or r.state.is_crashed()]
        assert not failed, f"ingest run {failed[0].name} {failed[0].state.type}: {failed[0].state.message}\n{log.read_text()[-4000:]}"
        time.sleep(2)
    pytest.fail(f"no ingest run completed in {RUN_COMPLETE_SECONDS}s:\n{log.read_text()[-4000:]}")


@pytest.mark.slow
def test_served_ingest_runs_on_its_schedule_against_a_real_server(settings, tmp_path):
    models, db = tmp_path / "models", tmp_path / "signals.duckdb"
    train_tiny_model(models, settings.scenario)
    config = tmp_path / "signals.toml"
    config.write_text(f'models_dir = "{models}"\nnlp_processes = 1\nfeeds = ["{FEEDS}"]\n', encoding="utf-8")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SIGNALS_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED="false", PREFECT_RUNNER_POLL_FREQUENCY="2")
    processes: list[subprocess.Popen] = []
    try:
        server_log = tmp_path / "server.log"
        server = start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], server_log, env, tmp_path)
        processes.append(server)
        wait_healthy(api, server, server_log)

        serve_log = tmp_path / "serve.log"
        command = serve_command() + ["--config", str(config), "--db", str(db), "serve", "--interval", "5"]
        serve = start(command, serve_log, {**env, "PREFECT_API_URL": api}, tmp_path)
        processes.append(serve)
        run = wait_for_completed_ingest(api, serve, serve_log)
        assert run.parameters["db"] == str(db)
    finally:
        for process in reversed(processes):  # serve first, while the server can still record the pause
            stop(process)

    with Store(db, read_only=True) as store:
        articles = store.con.execute("SELECT count(*) FROM articles").fetchone()[0]
        predictions = store.con.execute("SELECT count(*) FROM predictions").fetchone()[0]
        kinds = {r[0] for r in store.con.execute("SELECT kind FROM runs").fetchall()}
    assert articles > 0 and predictions == articles
    assert "ingest-flow" in kinds
