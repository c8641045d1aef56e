"""The NLP stage on a Dask cluster, through prefect-dask's `DaskTaskRunner`.

    ingest_dask_flow(config, db, sources, force, dask_address=None, dask_workers=2)

is `jobs.ingest` with the `ingest` flow's fetcher and reader; its `process` sends the pending
articles to Dask in chunks. Each Dask worker loads the spaCy pipeline
once (`worker_runtime`) and returns `NlpResult`s; classification and every
store write stay in the flow process, so the DuckDB store keeps one writer.

Without `dask_address` a `LocalCluster` of `dask_workers` single-threaded
processes is started for the run and closed after it. With an address
(`tcp://scheduler:8786`) the run uses that cluster; its workers must have this
project installed with the same spaCy and model versions, and be able to reach
the Prefect API the flow reports to. Start one with

    dask scheduler --port 8786                       # on the scheduler host
    dask worker tcp://scheduler:8786 --nthreads 1    # on each worker host, one per core

Parameters are paths, ids and addresses only; articles travel between the flow
and the workers as task arguments, never as flow parameters.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache

from prefect import flow, task
from prefect.cache_policies import NONE
from prefect_dask import DaskTaskRunner

from pipeline.jobs import Progress, Runtime, classify_and_save, pending_ids, published_days, refresh_signals, stored_parses
from pipeline.records import Article, NlpResult, RunSummary
from pipeline.settings import Settings
from pipeline.store import Store

from .ingest import check_served_run, run_ingest

CHUNK_SIZE = 200
IN_FLIGHT_PER_WORKER = 2


def dask_task_runner(address: str | None = None, workers: int = 2) -> DaskTaskRunner:
    """A runner on the cluster at `address`, or on a fresh local cluster of `workers` processes."""
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={
        "n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None,
    })


@lru_cache(maxsize=2)
def worker_runtime(settings: Settings) -> Runtime:
    """One Runtime per worker process and settings, so spaCy loads once per worker, not per chunk."""
    return Runtime(settings)


@task(cache_policy=NONE, task_run_name="nlp {articles[0].id}..")
def analyse_task(settings: Settings, articles: list[Article]) -> list[NlpResult]:
    """NLP for one chunk, on a Dask worker: `Runtime.analyse` in a single process (the worker is the unit)."""
    return worker_runtime(settings.replace(nlp_processes=1)).analyse(articles)


def process_pending_on_dask(
    rt: Runtime, store: Store, runner: DaskTaskRunner, workers: int = 2,
    chunk_size: int = CHUNK_SIZE, progress: Progress | None = None,
) -> int:
    """`jobs.process_pending` with the NLP on `runner` (an entered DaskTaskRunner).

    At most `IN_FLIGHT_PER_WORKER * workers` chunks are out at once, so memory stays bounded;
    chunks are classified and saved in order, one transaction each, by this process only. As in
    `process_pending`, an article the store has parsed with this runtime's parser is classified from its
    stored parse (`stored_parses`), so a re-score after a promotion sends nothing to the workers.
    Returns the predictions made.
    """
    pending = pending_ids(rt, store)
    in_flight: deque[tuple[list[Article], dict[str, NlpResult], object]] = deque()
    done = 0
    touched: set = set()

    def save_oldest() -> None:
        nonlocal done
        articles, reused, future = in_flight.popleft()
        parsed = future.result() if future is not None else []
        results = {**reused, **{r.article_id: r for r in parsed}}
        classify_and_save(rt, store, articles, [results[a.id] for a in articles], parsed)
        touched.update(published_days(articles))
        done += len(articles)
        if progress:
            progress(done, len(pending))

    for start in range(0, len(pending), chunk_size):
        articles = store.articles(pending[start : start + chunk_size])
        reused = stored_parses(rt, store, articles)
        store.release()  # readers may open the store while the chunks are parsed
        to_parse = [a for a in articles if a.id not in reused]
        future = runner.submit(analyse_task, {"settings": rt.settings, "articles": to_parse}) if to_parse else None
        in_flight.append((articles, reused, future))
        if len(in_flight) >= IN_FLIGHT_PER_WORKER * max(workers, 1):
            save_oldest()
    while in_flight:
        save_oldest()
    refresh_signals(rt, store, touched)
    return done


@flow(name="ingest-dask", log_prints=False)
def ingest_dask_flow(
    config: str | None = None, db: str | None = None, sources: list[str] | None = None, force: bool = False,
    dask_address: str | None = None, dask_workers: int = 2,
) -> RunSummary:
    """The ingest flow with its NLP stage on Dask: a local cluster of `dask_workers`, or the one at `dask_address`."""
    check_served_run({"config": config, "db": db, "sources": sources, "dask_address": dask_address, "dask_workers": dask_workers})

    def classify_on_dask(rt: Runtime, store: Store, progress: Progress | None = None) -> int:
        with dask_task_runner(dask_address, dask_workers) as runner:
            return process_pending_on_dask(rt, store, runner, dask_workers, progress=progress)

    return run_ingest(config, db, sources, force, f"ingest-dask-flow ({dask_address or f'local x{dask_workers}'})", classify_on_dask)
