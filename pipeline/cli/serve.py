"""`signals serve`: the ingest and retrain flows on schedules (flows/serve.py builds and serves them)."""

from __future__ import annotations

import click

from .app import SignalsCommand, global_option, installed_flow, settings

DESCRIPTION = (
    "Serve the ingest flow (every 30 minutes by default) and the retrain flow (daily) "
    "as Prefect deployments, running their scheduled runs here until stopped. "
    "Start a server first: 'prefect server start', then PREFECT_API_URL=http://127.0.0.1:4200/api. "
    "A server on another machine must require auth: PREFECT_SERVER_API_AUTH_STRING on the server, "
    "PREFECT_API_AUTH_STRING here and on every worker; without it, serve refuses a non-local PREFECT_API_URL."
)


@click.command("serve", cls=SignalsCommand, short_help="run ingest and retrain on schedules (needs a Prefect server in PREFECT_API_URL)",
               help=DESCRIPTION)
@click.option("--ingest-cron", help="cron for ingest (default: settings ingest_cron, '*/30 * * * *')")
@click.option("--retrain-cron", help="cron for retrain (default: settings retrain_cron, '0 3 * * *')")
@click.option("--interval", type=float, metavar="SECONDS", help="run ingest every SECONDS instead of on its cron")
@click.option("--source", multiple=True, help="ingest this URL, file or folder instead of the configured feeds "
              "(repeatable; files and folders must be inside the settings' source_dirs)")
@click.option("--dask", is_flag=True, help="run the NLP stage on a local Dask cluster")
@click.option("--dask-address", help="run the NLP stage on the Dask scheduler at this address (tcp://host:8786)")
@click.option("--dask-workers", type=int, default=2, help="local Dask worker processes (default 2)")
@click.option("--work-pool", help="register the deployments on this work pool for workers, instead of serving them here")
def serve_command(ingest_cron, retrain_cron, interval, source, dask, dask_address, dask_workers, work_pool) -> int:
    # the flows are loaded here, not at the top: nothing else in the CLI needs Prefect loaded
    from ..settings import settings_file

    serve_or_deploy = installed_flow("serve")
    # the file these settings came from (--config, SIGNALS_CONFIG or ./signals.toml), as the deployments' `config`:
    # a run on a worker elsewhere, without this shell's variables or working folder, reads the same settings
    config = settings_file(global_option("config"))
    ids = serve_or_deploy(
        settings(), config if config.exists() else None, ingest_cron=ingest_cron, retrain_cron=retrain_cron, interval=interval,
        sources=list(source) or None, dask=dask, dask_address=dask_address, dask_workers=dask_workers,
        work_pool=work_pool,
    )
    if work_pool:
        print(f"{len(ids)} deployments registered on work pool '{work_pool}'; start a worker: "
              f"prefect worker start --pool {work_pool} --limit 1")
    return 0
