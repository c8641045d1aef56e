"""The ingest flow: `jobs.ingest` (fetch -> parse -> store -> full text -> NLP -> classify -> aggregate) with Prefect tasks.

The job is the library's; this module only passes its task versions of the seams: feeds fetched
concurrently as tasks with retries (the only place the network is), files read as tasks, NLP and
classification as a task. Everything that writes to the store runs in the flow itself, so the store
has one writer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prefect import allow_failure, flow, get_run_logger, task
from prefect.cache_policies import NONE

from pipeline.errors import FeedError
from pipeline.feeds import fetch_feed
from pipeline.files import read_local
from pipeline.http import http_client
from pipeline.jobs import Runtime, ingest, process_pending
from pipeline.opml import run_feed_sources
from pipeline.records import FeedOutcome, FeedState, RunSummary
from pipeline.run_parameters import check_pinned_parameters, check_sources
from pipeline.settings import Settings, load_settings
from pipeline.store import Store

RETRY_DELAYS = (1, 5)  # seconds before the second and third tries of a transient failure


@task(cache_policy=NONE, task_run_name="fetch {url}")
def fetch_task(url: str, settings: Settings, etag: str, last_modified: str) -> FeedOutcome:
    """One feed over HTTP. A transient failure (timeout, 5xx, connection error) is tried again after 1 s
    and 5 s. The last outcome is returned, failed or not: a feed that cannot be reached is an expected
    failure, one log line from the flow, never a task failure with a traceback."""
    for delay in (*RETRY_DELAYS, None):
        with http_client(settings) as client:
            outcome = fetch_feed(url, settings, client, etag, last_modified)
        if outcome.ok or delay is None or not outcome.transient:
            return outcome
        get_run_logger().debug("fetch %s: %s; trying again in %d s", url, outcome.error, delay)
        time.sleep(delay)
    return outcome


@task(cache_policy=NONE)
def read_file_task(path: Path) -> FeedOutcome:
    return read_local(path)


progress_hook: Callable[[int, int], None] | None = None  # set by `ingest_with_progress` (`signals run`'s NLP progress)


@task(cache_policy=NONE)
def classify_task(rt: Runtime, store: Store, progress: Callable[[int, int], None] | None = None) -> int:
    """`jobs.process_pending` as a task: NLP, classification and the daily-signal refresh for every article
    not yet scored. Progress goes to the flow's log after each chunk, and to `progress_hook` when one is set."""
    logger = get_run_logger()

    def report(done: int, total: int) -> None:
        logger.info("NLP + classify: %d/%d", done, total)
        for hook in (progress, progress_hook):
            if hook:
                hook(done, total)

    return process_pending(rt, store, progress=report)


def fetch_concurrently(settings: Settings, due: list[tuple[str, FeedState]]) -> Iterator[FeedOutcome]:
    """The flow's fetcher for `jobs.ingest`: one `fetch_task` per feed, hosts in parallel, the feeds of one
    host one after another (one request per host at a time); outcomes in the order the feeds were due."""
    futures, last_on_host = [], {}
    for url, state in due:
        host = re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0].lower()  # not urlsplit: a malformed URL fails in its task
        before = [allow_failure(last_on_host[host])] if host in last_on_host else []
        future = fetch_task.submit(url, settings, state.etag, state.last_modified, wait_for=before)
        futures.append((url, future))
        last_on_host[host] = future
    for url, future in futures:
        try:
            yield future.result()
        except FeedError as exc:
            yield FeedOutcome(url, False, error=exc.reason)


def registered_parameters() -> dict | None:
    """The parameters the running flow's deployment was registered with, read from the Prefect API;
    None when this flow run belongs to no deployment (a direct call: `signals run`, tests)."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    deployment_id = getattr(getattr(context, "flow_run", None), "deployment_id", None)
    if deployment_id is None:
        return None
    with get_client(sync_client=True) as client:
        return dict(client.read_deployment(deployment_id).parameters or {})


def check_served_run(parameters: dict) -> None:
    """In a run of a deployment, refuse (ParameterError naming the parameter) a config, db, Dask cluster or
    source other than the deployment's, before anything is read or written; see `pipeline.run_parameters`.
    Call it first thing in every flow with the flow's own parameters."""
    registered = registered_parameters()
    if registered is None:
        return
    check_pinned_parameters(parameters, registered)
    if parameters.get("sources") is not None:
        config = parameters.get("config")  # the registered one, checked above
        settings = load_settings(Path(config) if config else None)
        check_sources(parameters["sources"], registered.get("sources"), settings)


def run_ingest(config: str | None, db: str | None, sources: list[str] | None, force: bool,
               kind: str, process: Callable[..., int]) -> RunSummary:
    """The body every ingest flow shares: `jobs.ingest` with this flow's fetcher and file reader and the
    given `process` (NLP in process, or on Dask), then the summary log. Call it from inside a flow."""
    logger = get_run_logger()
    settings = load_settings(Path(config) if config else None, db=Path(db) if db else None)
    # default: what `signals run` polls, the configured feeds and those registered by `feeds import-opml`
    sources = list(sources if sources is not None else run_feed_sources(settings))
    summary = ingest(Runtime(settings), sources, force, fetch=fetch_concurrently, read=read_file_task, process=process,
                     kind=kind)
    for failure in summary.failures:
        logger.warning("feed failed: %s: %s", failure.feed, failure.error)
    for note in summary.gate_notes():
        logger.warning("relevance gate: %s", note)
    for feed in summary.skipped:
        logger.info("feed skipped (%s): %s: next poll %s UTC", feed.why, feed.feed,
                    f"{feed.next_poll:%Y-%m-%d %H:%M}")
    for page in summary.page_reads:
        if not page.ok:
            logger.info("page not read: %s: %s", page.url, page.error)
    relevant = "".join(f", {count.passed}/{count.scored} relevant to {pack}" for pack, count in summary.gates.items() if count.scored)
    logger.info(
        "%s: %d feeds ok, %d failed, %d skipped, %d articles new of %d seen, %d pages read (%d not), %d predictions%s",
        kind, summary.feeds_ok, summary.feeds_failed, len(summary.skipped), summary.articles_new, summary.articles_seen,
        summary.pages_read, summary.pages_failed, summary.predictions, relevant,
    )
    return summary


@flow(name="ingest", log_prints=False)
def ingest_flow(config: str | None = None, db: str | None = None, sources: list[str] | None = None, force: bool = False) -> RunSummary:
    """Ingest `sources` (URLs, files or folders; default: the configured feeds) into the store at `db`.
    Run from a deployment, the parameters must be the registered ones (`check_served_run`)."""
    check_served_run({"config": config, "db": db, "sources": sources})
    return run_ingest(config, db, sources, force, "ingest-flow", classify_task)


def ingest_with_progress(progress: Callable[[int, int], None] | None = None, **parameters) -> RunSummary:
    """`ingest_flow(**parameters)` called directly, with `progress(done, total)` told after each NLP chunk.
    What `signals run` calls: the CLI finds it through the `signals.flows` entry point `ingest`."""
    global progress_hook
    progress_hook = progress
    try:
        return ingest_flow(**parameters)
    finally:
        progress_hook = None
