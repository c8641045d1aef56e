"""The retrain flow: labels -> train -> evaluate -> save (promoted only if not worse) -> re-score."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from pipeline.jobs import Runtime, fit_and_register, nlp_fingerprint, process_pending, training_set
from pipeline.registry import ModelEntry
from pipeline.settings import load_settings
from pipeline.store import Store

from .ingest import check_served_run


@task(cache_policy=NONE)
def training_set_task(rt: Runtime) -> tuple[list, list]:
    """Validated labels and the articles they name."""
    return training_set(rt)


def _nlp_cache_key(context, parameters) -> str:
    return "training-nlp-" + parameters["fingerprint"]


@task(cache_key_fn=_nlp_cache_key, cache_expiration=timedelta(days=30), persist_result=True)
def analyse_task(rt: Runtime, articles: list, fingerprint: str) -> list:
    """spaCy over the labeled articles; cached on the fingerprint, so a daily retrain with
    unchanged labels, model and patterns skips the parse (most of a retrain's time)."""
    return rt.analyse(articles)


@task(cache_policy=NONE)
def train_task(rt: Runtime, records: list, articles: list, results: list) -> ModelEntry:
    return fit_and_register(rt, records, articles, results)


@task(cache_policy=NONE)
def rescore_task(rt: Runtime) -> int:
    """After a promotion, score the stored history with the new model so trends never mix versions."""
    with Store(rt.settings.db, memory_limit=rt.settings.duckdb_memory_limit) as store:
        return process_pending(rt, store)


@flow(name="retrain")
def retrain_flow(config: str | None = None, db: str | None = None) -> dict:
    check_served_run({"config": config, "db": db})  # a served run keeps its deployment's paths
    logger = get_run_logger()
    settings = load_settings(Path(config) if config else None, db=Path(db) if db else None)
    rt = Runtime(settings)
    records, articles = training_set_task(rt)
    results = analyse_task(rt, articles, nlp_fingerprint(rt, records))
    entry = train_task(rt, records, articles, results)
    rescored = rescore_task(rt) if entry.status == "active" and Path(settings.db).exists() else 0
    logger.info("retrain: model %s %s (%s); %d stored articles re-scored", entry.version, entry.status, entry.reason, rescored)
    return {"version": entry.version, "status": entry.status, "reason": entry.reason, "rescored": rescored,
            "metrics": {k: entry.metrics[k]["macro_f1"] for k in ("holdout", "time_split", "cross_validation") if k in entry.metrics}}
