"""`signals serve`: deployments built right, and (slow) a real Prefect server running a scheduled ingest."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flows.serve import build_deployments, check_api_auth, prefect_api_auth_configured
from pipeline.errors import ConfigError
from pipeline.store import Store
from signals_app import invoke
from test_dask import train_tiny_model

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
BIN = Path(sys.executable).parent
SERVER_START_SECONDS = 90
RUN_COMPLETE_SECONDS = 180


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
    settings = settings.replace(source_dirs=(str(FEEDS.parent),))
    ingest, retrain = build_deployments(settings, interval=5, sources=[str(FEEDS), "https://example.org/rss"])
    assert ingest.schedules[0].schedule.interval.total_seconds() == 5
    assert ingest.parameters["sources"] == [str(FEEDS.resolve()), "https://example.org/rss"]
    assert "sources" not in retrain.parameters


def test_a_local_source_outside_the_settings_source_dirs_is_not_registered(settings, tmp_path):
    with pytest.raises(ConfigError, match=r"^parameter '--source': '/etc' is not inside a folder the settings name \(source_dirs: none\)"):
        build_deployments(settings, sources=["/etc"])
    with pytest.raises(ConfigError, match="--source"):
        build_deployments(settings.replace(source_dirs=(str(tmp_path),)), sources=[str(FEEDS)])


def test_dask_serves_the_dask_ingest_flow(settings):
    ingest, _ = build_deployments(settings, dask_address="tcp://127.0.0.1:8786")
    assert ingest.flow_name == "ingest-dask"
    assert ingest.parameters["dask_address"] == "tcp://127.0.0.1:8786"


@pytest.mark.parametrize("option", ["ingest_cron", "retrain_cron"])
def test_a_bad_cron_is_a_config_error_naming_the_option(settings, option):
    with pytest.raises(ConfigError, match=option.replace("_", "-")):
        build_deployments(settings, **{option: "every five minutes"})


def test_serve_without_a_server_says_how_to_start_one(tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}), pytest.raises(ConfigError, match="prefect server start"):
        invoke("--db", tmp_path / "s.duckdb", "serve", "--interval", "5")


def test_serve_with_a_server_that_is_not_running_says_so_in_one_line(tmp_path):
    """PREFECT_API_URL still set after the local server stopped: Prefect's own traceback ran to a hundred lines."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}), \
            pytest.raises(ConfigError, match=f"no Prefect server answers at PREFECT_API_URL http://127.0.0.1:{port}/api "
                                             r"\(ConnectError\); start it with 'prefect server start'"):
        invoke("--db", tmp_path / "s.duckdb", "serve", "--interval", "5")


@pytest.mark.parametrize("url", ["http://prefect-host:4200/api", "http://10.0.0.5:4200/api", "https://ops:pw@prefect.example/api"])
def test_a_remote_api_without_auth_is_refused_and_says_how_to_set_it(url):
    with pytest.raises(ConfigError, match="no API auth is configured: start the server with PREFECT_SERVER_API_AUTH_STRING") as caught:
        check_api_auth(url, auth_configured=False)
    assert "PREFECT_API_AUTH_STRING" in str(caught.value) and "pw" not in str(caught.value)
    check_api_auth(url, auth_configured=True)


@pytest.mark.parametrize("url", ["http://127.0.0.1:4200/api", "http://localhost:4200/api", "http://[::1]:4200/api", "http://127.0.0.2/api"])
def test_a_local_api_needs_no_auth(url):
    check_api_auth(url, auth_configured=False)


def test_serve_reads_the_auth_string_from_prefect_settings(tmp_path):
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_KEY, PREFECT_API_URL, temporary_settings

    no_auth = {PREFECT_API_AUTH_STRING, PREFECT_API_KEY}
    with temporary_settings(updates={PREFECT_API_URL: "http://192.0.2.7:4200/api"}, restore_defaults=no_auth), \
            pytest.raises(ConfigError, match="no API auth is configured"):
        invoke("--db", tmp_path / "s.duckdb", "serve", "--interval", "5")
    with temporary_settings(updates={PREFECT_API_AUTH_STRING: "s3cret"}, restore_defaults={PREFECT_API_KEY}):
        assert prefect_api_auth_configured()
    with temporary_settings(restore_defaults=no_auth):
        assert not prefect_api_auth_configured()


# ---------------------------------------------------------------- a real server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command() -> list[str]:
    """The `signals` command, as its console script runs it."""
    return [sys.executable, "-m", "pipeline.cli"]


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


AUTH_STRING = "team-secret-5bd1f0c2e7a94d36"  # what the team's server requires; must never show up in a run


def api_client(api: str, auth_string: str | None = AUTH_STRING):
    """A sync Prefect client for `api`, sending `auth_string` (None: no credentials)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: auth_string}):
        return get_client(sync_client=True)


def ingest_runs(api: str) -> list:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName, FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with api_client(api) as client:
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


def run_ingest_deployment(api: str, parameter_sets: list[dict], serve: subprocess.Popen, log: Path) -> list:
    """Create runs of the served ingest deployment with these parameters (as anyone with the API could)
    and wait for their final states; returns the runs."""
    with api_client(api) as client:
        deployment = client.read_deployment_by_name("ingest/signals")
        runs = [client.create_flow_run_from_deployment(deployment.id, parameters=p) for p in parameter_sets]
        deadline = time.monotonic() + RUN_COMPLETE_SECONDS
        while time.monotonic() < deadline:
            assert serve.poll() is None, f"serve exited with {serve.returncode}:\n{log.read_text()[-4000:]}"
            runs = [client.read_flow_run(run.id) for run in runs]
            if all(run.state is not None and run.state.is_final() for run in runs):
                return runs
            time.sleep(2)
    pytest.fail(f"runs not finished in {RUN_COMPLETE_SECONDS}s:\n{log.read_text()[-4000:]}")


def start_run_and_wait_until_running(api: str, deployment_name: str, serve: subprocess.Popen, log: Path) -> object:
    """A run of the served deployment, once serve has started it."""
    with api_client(api) as client:
        run = client.create_flow_run_from_deployment(client.read_deployment_by_name(deployment_name).id)
        deadline = time.monotonic() + RUN_COMPLETE_SECONDS
        while time.monotonic() < deadline:
            assert serve.poll() is None, f"serve exited with {serve.returncode}:\n{log.read_text()[-4000:]}"
            run = client.read_flow_run(run.id)
            if run.state is not None and run.state.is_running():
                return run
            assert run.state is None or not run.state.is_final(), f"{run.name} {run.state.type}: {run.state.message}"
            time.sleep(1)
    pytest.fail(f"{deployment_name} not running after {RUN_COMPLETE_SECONDS}s:\n{log.read_text()[-4000:]}")


def run_logs(api: str, run_ids: list) -> str:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with api_client(api) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=run_ids)), limit=200, offset=0)
    return "\n".join(log.message for log in logs)


@pytest.mark.slow
def test_an_authenticated_server_serves_the_ingest_and_refuses_runs_pointed_elsewhere(settings, tmp_path):
    """A real `prefect server start` requiring an auth string on 127.0.0.1: a client without the string is
    refused; `signals serve` with it registers and runs the scheduled ingest; runs created with another db or
    source fail before touching any file; the string appears in no parameter, log or store."""
    models, db = tmp_path / "models", tmp_path / "signals.duckdb"
    train_tiny_model(models, settings.scenario)
    config = tmp_path / "signals.toml"
    config.write_text(f'models_dir = "{models}"\nnlp_processes = 1\nfeeds = ["{FEEDS}"]\n', encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other_store = elsewhere / "other.duckdb"
    other_store.write_bytes(b"someone else's file")
    before = (other_store.read_bytes(), other_store.stat().st_mtime_ns)
    outside_feed = elsewhere / "outside.jsonl"
    outside_feed.write_text('{"id": "outside-1", "title": "Outside item", "text": "Iran and Pakistan."}\n', encoding="utf-8")

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SIGNALS_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED="false", PREFECT_RUNNER_POLL_FREQUENCY="2")
    processes: list[subprocess.Popen] = []
    try:
        server_log = tmp_path / "server.log"
        server = start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], server_log,
                       {**env, "PREFECT_SERVER_API_AUTH_STRING": AUTH_STRING}, tmp_path)
        processes.append(server)
        wait_healthy(api, server, server_log)

        # a client without the string (or with another) is refused; with it, served
        assert httpx.post(f"{api}/flows/filter", json={}, timeout=10).status_code == 401
        assert httpx.post(f"{api}/flows/filter", json={}, auth=("", "wrong"), timeout=10).status_code == 401
        with api_client(api, auth_string=None) as anonymous, pytest.raises(httpx.HTTPStatusError, match="401"):
            anonymous.read_flows()
        basic = {"Authorization": "Basic " + base64.b64encode(AUTH_STRING.encode()).decode()}
        assert httpx.post(f"{api}/flows/count", json={}, headers=basic, timeout=10).json() == 0

        serve_log = tmp_path / "serve.log"
        # the settings file named by SIGNALS_CONFIG, not --config: the deployments recorded "config": None for it, so
        # a worker without this shell's variables would have read other settings
        command = serve_command() + ["--db", str(db), "serve", "--interval", "30"]
        serve = start(command, serve_log, {**env, "PREFECT_API_URL": api, "PREFECT_API_AUTH_STRING": AUTH_STRING,
                                           "SIGNALS_CONFIG": str(config)}, tmp_path)
        processes.append(serve)
        run = wait_for_completed_ingest(api, serve, serve_log)
        assert run.parameters == {"config": str(config), "db": str(db)}

        other_db, new_db, other_source = run_ingest_deployment(
            api, [{"db": str(other_store)}, {"db": str(elsewhere / "new.duckdb")}, {"sources": [str(outside_feed)]}],
            serve, serve_log)
        for refused, name in ((other_db, "db"), (new_db, "db"), (other_source, "sources")):
            assert refused.state.is_failed(), f"{refused.name}: {refused.state.type}\n{serve_log.read_text()[-4000:]}"
            assert f"parameter '{name}'" in refused.state.message
        parameters = [r.parameters for r in ingest_runs(api)]
        logs = run_logs(api, [run.id, other_db.id, new_db.id, other_source.id])
        assert "parameter 'sources'" in logs  # the refusal is in the run's log, on one line

        # SIGTERM (`kill`, `systemctl stop`) while a run is in progress: the retrain below (the project's whole
        # label set: minutes of work) is cancelled, both schedules are paused, and serve exits 0 without a
        # traceback. Prefect's own SIGTERM handler printed asyncio tracebacks and left the run Running for good.
        in_progress = start_run_and_wait_until_running(api, "retrain/signals", serve, serve_log)
        logged_before = len(serve_log.read_text())
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(90) == 0, serve_log.read_text()[-4000:]
        with api_client(api) as client:
            stopped = client.read_flow_run(in_progress.id)
            paused = [client.read_deployment_by_name(f"{flow}/signals").paused for flow in ("ingest", "retrain")]
        assert stopped.state.is_cancelled(), f"{stopped.state.type}: {stopped.state.message}"
        assert paused == [True, True]
        after = serve_log.read_text()[logged_before:]
        assert "Traceback" not in after and "SIGTERM: cancelling the run in progress" in after
    finally:
        for process in reversed(processes):  # serve first, while the server can still record the pause
            stop(process)

    assert (other_store.read_bytes(), other_store.stat().st_mtime_ns) == before
    assert not (elsewhere / "new.duckdb").exists()
    with Store(db, read_only=True) as store:
        articles = store.con.execute("SELECT count(*) FROM articles").fetchone()[0]
        predictions = store.con.execute("SELECT count(*) FROM predictions").fetchone()[0]
        kinds = {r[0] for r in store.con.execute("SELECT kind FROM runs").fetchall()}
        outside = store.con.execute("SELECT count(*) FROM articles WHERE id = 'outside-1'").fetchone()[0]
        feeds = [r[0] for r in store.con.execute("SELECT name FROM feeds").fetchall()]
    assert articles > 0 and predictions == articles and outside == 0
    assert "ingest-flow" in kinds
    assert not any(str(elsewhere) in str(f) for f in feeds)  # not even a failed-feed record
    for where, text in (("parameters", repr(parameters)), ("run logs", logs), ("serve output", serve_log.read_text()),
                        ("server output", server_log.read_text())):
        assert AUTH_STRING not in text, f"the auth string is in the {where}"
    assert AUTH_STRING.encode() not in db.read_bytes()


# ---------------------------------------------------------------- one server, stores and serves that would collide


NEVER = ["--ingest-cron", "0 0 1 1 *", "--retrain-cron", "0 0 1 1 *"]  # no run starts while the tests look


@pytest.fixture(scope="module")
def local_server(tmp_path_factory):
    """One `prefect server start` on 127.0.0.1 (no auth) for the tests below; yields (api, env for `signals`)."""
    home = tmp_path_factory.mktemp("local-server")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SIGNALS_"))}
    env.update(PREFECT_HOME=str(home / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED="false")
    log = home / "server.log"
    server = start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], log, env, home)
    try:
        wait_healthy(api, server, log)
        yield api, {**env, "PREFECT_API_URL": api}
    finally:
        stop(server)


@pytest.fixture
def empty_server(local_server):
    """The shared server, left with no deployments by each test."""
    yield local_server
    with api_client(local_server[0], auth_string=None) as client:
        for deployment_id, _, _ in deployments_of(local_server[0]).values():
            client.delete_deployment(deployment_id)


def deployments_of(api: str) -> dict:
    """Name -> (id, db, paused) of the `signals` deployments on the server."""
    from prefect.exceptions import ObjectNotFound

    found = {}
    with api_client(api, auth_string=None) as client:
        for name in ("ingest/signals", "retrain/signals"):
            try:
                deployment = client.read_deployment_by_name(name)
            except ObjectNotFound:
                continue
            found[name] = (deployment.id, deployment.parameters.get("db"), deployment.paused)
    return found


def signals_run(args: list[str], env: dict, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(serve_command() + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_a_second_serve_of_a_store_is_refused_and_the_first_keeps_its_schedules(empty_server, tmp_path):
    """Trial C §1: a second serve of one store was accepted; whichever stopped first paused both deployments,
    and the other went on running with nothing to run. Now it stops at once, naming the serving pid, before it
    registers anything; the store is named here through a symbolic link, and the lock is beside the real file."""
    api, env = empty_server
    db, link = tmp_path / "data" / "signals.duckdb", tmp_path / "link.duckdb"
    db.parent.mkdir()
    link.symlink_to(db)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start(serve_command() + ["--db", str(db), "serve", *NEVER], first_log, env, tmp_path)
    second = None
    try:
        deadline = time.monotonic() + RUN_COMPLETE_SECONDS
        while len(registered := deployments_of(api)) < 2:
            assert first.poll() is None and time.monotonic() < deadline, first_log.read_text()[-4000:]
            time.sleep(1)
        second = start(serve_command() + ["--db", str(link), "serve", *NEVER], second_log, env, tmp_path)
        try:
            code = second.wait(90)
        except subprocess.TimeoutExpired:
            pytest.fail(f"a second serve of the store is still running:\n{second_log.read_text()[-4000:]}")
        assert code == 1
        assert second_log.read_text().strip().splitlines() == [
            f"signals: error: {link}: the store is already served by another 'signals serve' (pid {first.pid}); "
            "one serve per store: stop that one first (Ctrl-C or SIGTERM), or leave it serving"]
        # nor may the served deployments move to a pool: the serve here would compete with the pool's workers
        to_pool = signals_run(["--db", str(db), "serve", "--work-pool", "signals", *NEVER], env, tmp_path)
        assert to_pool.returncode == 1 and f"the store is already served by another 'signals serve' (pid {first.pid})" \
            in to_pool.stderr, to_pool.stdout + to_pool.stderr
        assert deployments_of(api) == registered and all(not paused for _, _, paused in registered.values())
        assert first.poll() is None
        assert sorted(p.name for p in db.parent.iterdir()) == ["signals.duckdb.serve.lock"]
    finally:
        for process in filter(None, (second, first)):
            stop(process)


@pytest.mark.slow
def test_a_second_store_is_refused_the_deployments_another_store_has_on_the_server(empty_server, tmp_path):
    """Trial C §2: every store registers `ingest/signals` and `retrain/signals`, so registering store B replaced
    store A's deployments in place (same ids, `db` now B) and A's worker ran B's runs. Now B is refused in one
    line naming A and the commands that free the names; A registering again (a restart) still works."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    api, env = empty_server
    with api_client(api, auth_string=None) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name="signals", type="process"))
        except ObjectAlreadyExists:
            pass
    store_a, store_b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    register = ["serve", "--work-pool", "signals", *NEVER]
    first = signals_run(["--db", str(store_a), *register], env, tmp_path)
    assert first.returncode == 0, first.stderr[-4000:]
    registered = deployments_of(api)
    assert {db for _, db, _ in registered.values()} == {str(store_a)}

    refused = signals_run(["--db", str(store_b), *register], env, tmp_path)
    assert refused.returncode == 1, refused.stdout + refused.stderr[-4000:]
    message = refused.stderr.strip()
    assert "\n" not in message and message.startswith(
        f"signals: error: the Prefect server at {api} already has ingest/signals, retrain/signals for another store, "
        f"{store_a}; registering {store_b} would take them over. One Prefect server holds one store's schedules")
    assert deployments_of(api) == registered

    again = signals_run(["--db", str(store_a), *register], env, tmp_path)  # a restart: the same two deployments
    assert again.returncode == 0, again.stderr[-4000:]
    assert {name: deployment_id for name, (deployment_id, _, _) in deployments_of(api).items()} == \
           {name: deployment_id for name, (deployment_id, _, _) in registered.items()}

    # the message's own commands free the names (Prefect's listing commands fail with 422 under the pinned FastAPI)
    deletes = message.split("delete its deployments: ", 1)[1].split("; ")
    assert deletes == ["prefect deployment delete ingest/signals", "prefect deployment delete retrain/signals"]
    for command in deletes:
        done = subprocess.run([str(BIN / "prefect"), *command.split()[1:]], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    assert deployments_of(api) == {}
    second = signals_run(["--db", str(store_b), *register], env, tmp_path)
    assert second.returncode == 0, second.stderr[-4000:]
    assert {db for _, db, _ in deployments_of(api).values()} == {str(store_b)}
