"""`signals serve`: the ingest and retrain flows on schedules, run by this process.

    signals serve                          ingest on settings.ingest_cron (every 30 min), retrain on settings.retrain_cron (daily)
    signals serve --ingest-cron '*/10 * * * *' --retrain-cron '0 4 * * *'
    signals serve --interval 300           ingest every 300 s instead of the cron (tests, demos)
    signals serve --dask                   the NLP stage on a local Dask cluster (see flows/dask_runner.py)
    signals serve --dask-address tcp://scheduler:8786

`prefect.serve` registers two deployments, `ingest/signals` and `retrain/signals`,
with the Prefect API in PREFECT_API_URL and runs their scheduled runs as
subprocesses of this one. Their parameters are only paths: the config file and
the store (both made absolute here), and the sources when `--source` is given.
Served runs go one at a time (`limit=1`): ingest and retrain both write the
store, and DuckDB allows one writing process. Stopping the command (Ctrl-C or
SIGTERM) cancels the run in progress and pauses both schedules (`serve_deployments`).
So one serve per store: it holds `<db>.serve.lock` while it lives, and a second
serve of the store is refused before it registers anything (`serve_lock`).

Schedules need a running Prefect server; the temporary one a plain flow call
starts is gone when the call returns:

    prefect server start --host 127.0.0.1 --port 4200          # offline is fine; state in $PREFECT_HOME
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    signals --db var/signals.duckdb serve

A team runs the same flows with workers instead: the server keeps the
schedules, a work pool hands runs to any number of workers, and nothing has to
stay up in one terminal. A server others can reach must require the auth
string: without it, anyone who reaches port 4200 can start runs, register
deployments and read every run's parameters and logs.

    # on the server host; the string is a long random secret, kept in a file only the team can read
    export PREFECT_SERVER_API_AUTH_STRING="$(cat /etc/signals/prefect-auth)"
    prefect server start --host 10.0.0.5 --port 4200            # this host's team-network address (default 127.0.0.1)
    # on every machine below
    export PREFECT_API_URL=http://prefect-host:4200/api
    export PREFECT_API_AUTH_STRING="$(cat /etc/signals/prefect-auth)"
    prefect work-pool create signals --type process
    signals --config /srv/signals/signals.toml --db /srv/signals/signals.duckdb serve --work-pool signals
    prefect worker start --pool signals --limit 1               # on the machine that holds the store

`signals serve` refuses a PREFECT_API_URL that is not on this machine when no
auth (PREFECT_API_AUTH_STRING, or PREFECT_API_KEY for Prefect Cloud) is set.
The auth string goes as HTTP basic auth: across a network you do not trust,
put the server behind a TLS proxy and use an https PREFECT_API_URL. It is read
from the environment only; it is never a flow parameter, and runs never log it.

A deployment's paths are fixed when it is registered: a run created with
another `config`, `db`, Dask cluster or source fails before it reads or writes
anything ("parameter 'db': ..."; `pipeline/run_parameters.py`). Local sources
(`--source PATH`) must lie inside a folder the settings name in `source_dirs`
(or be one of the configured `feeds`).

`--work-pool` registers the same two deployments (same schedules, same
parameters) on the pool -- what `prefect deploy` does from a prefect.yaml --
and returns instead of serving. The deployments name module entrypoints
(`flows.ingest:ingest_flow`), so no image or code storage is built: the
worker's machine needs the project installed. Keep one worker with
`--limit 1` per store, since DuckDB has a single writer; spread the NLP over
machines with `--dask-address` rather than with more workers.

One Prefect server holds one store's schedules: every store registers the same
names (`ingest/signals`, `retrain/signals`), so registering a second store's
would replace the first's in place. Serving or `--work-pool` refuses that,
naming the store the server has them for (`check_no_other_store`); give each
store its own server (its own PREFECT_HOME and port).
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pipeline.errors import ConfigError, StoreError
from pipeline.run_parameters import check_local_sources
from pipeline.settings import Settings
from pipeline.store import serve_lock_path

DEPLOYMENT_NAME = "signals"


def check_cron(expression: str, option: str) -> str:
    """The expression if Prefect accepts it as a cron schedule, else a ConfigError naming the option."""
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=expression)
    except ValueError:
        raise ConfigError(
            f"{option}: '{expression}' is not a cron expression; give five fields, e.g. '*/30 * * * *' (every 30 minutes)"
        ) from None
    return expression


def deployment_parameters(settings: Settings, config: Path | None) -> dict:
    """Both flows' parameters: the config file and the store, as absolute paths (runs may start elsewhere)."""
    return {"config": str(Path(config).resolve()) if config else None, "db": str(Path(settings.db).resolve())}


def build_deployments(
    settings: Settings,
    config: Path | None = None,
    ingest_cron: str | None = None,
    retrain_cron: str | None = None,
    interval: float | None = None,
    sources: list[str] | None = None,
    dask: bool = False,
    dask_address: str | None = None,
    dask_workers: int = 2,
) -> list:
    """The ingest and retrain `RunnerDeployment`s: ingest on `interval` seconds if given, else on its cron."""
    from prefect.deployments.runner import EntrypointType

    from .ingest import ingest_flow
    from .retrain import retrain_flow

    ingest_cron = check_cron(ingest_cron or settings.ingest_cron, "--ingest-cron")
    retrain_cron = check_cron(retrain_cron or settings.retrain_cron, "--retrain-cron")
    if interval is not None and interval <= 0:
        raise ConfigError(f"--interval: {interval} is not a positive number of seconds")
    params = deployment_parameters(settings, config)
    ingest_params = dict(params)
    if sources:
        check_local_sources(sources, settings, name="--source")
        ingest_params["sources"] = [s if "://" in s else str(Path(s).resolve()) for s in sources]
    if dask or dask_address:
        from .dask_runner import ingest_dask_flow

        ingest_params.update(dask_address=dask_address, dask_workers=dask_workers)
        ingest_to_serve = ingest_dask_flow
    else:
        ingest_to_serve = ingest_flow
    when = {"interval": timedelta(seconds=interval)} if interval is not None else {"cron": ingest_cron}
    # Module entrypoints: runs import `flows.ingest` from the installed project, whatever the working directory.
    ingest = ingest_to_serve.to_deployment(
        DEPLOYMENT_NAME, parameters=ingest_params, entrypoint_type=EntrypointType.MODULE_PATH,
        description="Fetch the feeds, store new articles, NLP + classify them, refresh the daily signals.",
        **when,
    )
    retrain = retrain_flow.to_deployment(
        DEPLOYMENT_NAME, cron=retrain_cron, parameters=params, entrypoint_type=EntrypointType.MODULE_PATH,
        description="Retrain on the labels; promote only if better beyond the noise; re-score the store with a promoted model.",
    )
    return [ingest, retrain]


def serve_or_deploy(
    settings: Settings,
    config: Path | None = None,
    *,
    ingest_cron: str | None = None,
    retrain_cron: str | None = None,
    interval: float | None = None,
    sources: list[str] | None = None,
    dask: bool = False,
    dask_address: str | None = None,
    dask_workers: int = 2,
    work_pool: str | None = None,
) -> list:
    """What `signals serve` does (the CLI finds it through the `signals.flows` entry point `serve`): refuse to go
    on without a Prefect server, or with a remote one and no auth; build both deployments; refuse if the server
    has them for another store; then register them on `work_pool` and return their ids, or, without a pool, serve
    them here until stopped and return []. Serving here holds the store's serve lock throughout; a pool
    registration only checks that no serve holds it."""
    if not prefect_api_url():
        raise ConfigError(
            "schedules need a Prefect server: start one with 'prefect server start' and "
            "set PREFECT_API_URL=http://127.0.0.1:4200/api (see 'signals serve --help')"
        )
    check_api_auth(prefect_api_url(), prefect_api_auth_configured())
    if work_pool:
        if serve_lock_path(settings.db).exists():  # a registration may come from a machine without the store
            with serve_lock(settings.db):
                pass
        serving = nullcontext()
    else:
        serving = serve_lock(settings.db)
    with serving:
        check_reachable(prefect_api_url())
        deployments = build_deployments(settings, config, ingest_cron, retrain_cron, interval, sources, dask,
                                        dask_address, dask_workers)
        check_no_other_store(deployments, deployment_parameters(settings, config)["db"])
        if work_pool:
            return deploy_to_pool(deployments, work_pool)
        serve_deployments(deployments)
    return []


@contextmanager
def serve_lock(db: Path) -> Iterator[None]:
    """Hold the store's serve lock (`<db>.serve.lock`, flock, this pid written in it), or a StoreError naming the
    pid that serves the store. Two serves of one store had registered the same deployments, and the first to stop
    paused both, leaving the other running but serving nothing. The kernel frees the lock when the process dies."""
    path = serve_lock_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise StoreError(f"{db}: the store is already served by another 'signals serve'{who}; one serve per "
                             "store: stop that one first (Ctrl-C or SIGTERM), or leave it serving") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def check_no_other_store(deployments: list, db: str) -> None:
    """A ConfigError when the Prefect server already has these deployments (same flow and deployment names) for
    another store: registering would replace them in place (same ids, `db` now this store), and the other
    store's serve or worker would then run this store's runs. The same store registering again (a restart) passes."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    others = {}
    with get_client(sync_client=True) as client:
        for name in (f"{d.flow_name}/{d.name}" for d in deployments):
            try:
                theirs = (client.read_deployment_by_name(name).parameters or {}).get("db")
            except ObjectNotFound:
                continue
            if not theirs or Path(theirs).resolve() != Path(db).resolve():
                others[name] = theirs
    if not others:
        return
    store = next(iter(others.values())) or "a store it does not name (no 'db' parameter)"
    deletes = "; ".join(f"prefect deployment delete {name}" for name in others)
    raise ConfigError(
        f"the Prefect server at {without_credentials(prefect_api_url())} already has {', '.join(others)} for "
        f"another store, {store}; registering {db} would take them over. One Prefect server holds one store's "
        "schedules: give this store its own server (prefect server start with its own PREFECT_HOME and --port, "
        f"and PREFECT_API_URL pointing at it), or, if that store is no longer served, delete its deployments: {deletes}"
    )


def check_reachable(api_url: str, timeout: float = 5.0) -> None:
    """A one-line ConfigError when nothing answers at the Prefect API: a server stopped while PREFECT_API_URL is
    still set ended in Prefect's hundred-line traceback. Any HTTP answer (401 without auth included) will do."""
    import httpx

    try:
        httpx.get(api_url.rstrip("/") + "/health", timeout=timeout)
    except httpx.HTTPError as exc:  # refused, unknown host, timed out
        raise ConfigError(f"no Prefect server answers at PREFECT_API_URL {without_credentials(api_url)} "
                          f"({type(exc).__name__}); start it with 'prefect server start', or point PREFECT_API_URL "
                          "at the running one") from None


def serve_deployments(deployments: list) -> None:
    """Register the deployments and run their scheduled runs here, one at a time, until SIGINT or SIGTERM.

    A stop is `Runner.astop`: the run in progress is cancelled (its process stopped, its state Cancelled), then
    both schedules are paused and this returns. `prefect.serve` is not used because of its SIGTERM handler
    (Prefect 3.8): it never awaits the stop and calls `sys.exit` inside the event loop, so `kill` or
    `systemctl stop` printed asyncio tracebacks and left the run in progress Running or Pending for good. A
    second signal during the stop is not caught: SIGTERM ends the process, Ctrl-C raises KeyboardInterrupt."""
    import asyncio

    asyncio.run(_serve_until_stopped(deployments))


async def _serve_until_stopped(deployments: list) -> None:
    import asyncio
    import signal

    from prefect.logging import get_logger
    from prefect.runner import Runner

    logger = get_logger("signals.serve")
    runner = Runner(limit=1, pause_on_shutdown=True)
    for deployment in deployments:
        await runner.aadd_deployment(deployment)
    loop = asyncio.get_running_loop()
    stops: list[asyncio.Task] = []

    async def stop_once_started() -> None:
        while not runner.started:  # a signal while the runner starts: `astop` refuses a runner not yet started
            await asyncio.sleep(0.1)
        await runner.astop()

    def stop(signum: int) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)  # a second signal is not caught: it ends the process
        logger.info("%s: cancelling the run in progress, if any, and pausing the schedules",
                    signal.Signals(signum).name)
        stops.append(loop.create_task(stop_once_started()))

    async def take_the_signals() -> None:
        # runs once `Runner.start` has put in its own SIGTERM handler, and replaces it
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop, sig)

    names = ", ".join(f"{d.flow_name}/{d.name}" for d in deployments)
    logger.info("serving %s from %s; Ctrl-C or SIGTERM stops", names, without_credentials(prefect_api_url()))
    loop.create_task(take_the_signals())
    try:
        await runner.start()
    except BaseException:
        for task in stops:  # the runner failed before a stop could take hold: nothing left to wait for
            task.cancel()
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if stops:
        await stops[0]


def deploy_to_pool(deployments: list, work_pool: str) -> list:
    """Register the deployments on a work pool for workers to run; no image is built. Returns their ids.

    `RunnerDeployment.apply` rather than `prefect.deploy`: with the FastAPI pinned here (0.154),
    `prefect.deploy`'s check for online workers sends `limit: null`, which the server rejects (422).
    """
    return [deployment.apply(work_pool_name=work_pool) for deployment in deployments]


def prefect_api_url() -> str:
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or ""


def prefect_api_auth_configured() -> bool:
    """True when this process sends credentials to the Prefect API: an auth string
    (PREFECT_API_AUTH_STRING, for a server started with PREFECT_SERVER_API_AUTH_STRING) or an API key."""
    from prefect.settings import get_current_settings

    api = get_current_settings().api
    return bool((api.auth_string and api.auth_string.get_secret_value()) or (api.key and api.key.get_secret_value()))


def is_loopback_url(url: str) -> bool:
    """True when `url`'s host is this machine's loopback (localhost, 127.0.0.0/8, ::1)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def without_credentials(url: str) -> str:
    """`url` with any user:password@ left out, fit for a message or a log."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def check_api_auth(api_url: str, auth_configured: bool) -> None:
    """ConfigError, saying how to set it, when `api_url` is not on this machine and no auth is configured:
    deployments registered there could be run, with their parameters, by anyone who reaches the server."""
    if is_loopback_url(api_url) or auth_configured:
        return
    raise ConfigError(
        f"PREFECT_API_URL {without_credentials(api_url)} is not on this machine and no API auth is configured: "
        "start the server with PREFECT_SERVER_API_AUTH_STRING set and set PREFECT_API_AUTH_STRING to the same "
        "value here and on every worker (or PREFECT_API_KEY for Prefect Cloud); see 'signals serve --help'"
    )
