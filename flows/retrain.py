"""The retrain flow: labels -> features -> train -> evaluate -> save (promoted only if better beyond noise) -> re-score."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from pipeline.errors import InputError
from pipeline.jobs import (Runtime, check_enough_labels, fingerprint, fit_and_register, nothing_new, process_pending,
                           training_features, training_set)
from pipeline.registry import ModelEntry
from pipeline.settings import load_settings
from pipeline.store import Store

from .ingest import check_served_run


@task(cache_policy=NONE)
def training_set_task(rt: Runtime) -> tuple[list, list]:
    """Validated labels and the articles they name."""
    return training_set(rt)


def _features_cache_key(context, parameters) -> str:
    return "training-features-" + parameters["fingerprint"]


@task(cache_key_fn=_features_cache_key, cache_expiration=timedelta(days=30), persist_result=True)
def features_task(rt: Runtime, articles: list, fingerprint: str):
    """The encoded labeled articles; cached on the fingerprint (the articles in order with their text, the
    encoder, prototypes, actors), so a retrain on the same labels as a rejected candidate (the labels the active
    model never saw are still unread by it) re-encodes nothing."""
    return training_features(rt, articles)


@task(cache_policy=NONE)
def train_task(rt: Runtime, records: list, articles: list, frame) -> ModelEntry:
    return fit_and_register(rt, records, articles, frame)


@task(cache_policy=NONE)
def rescore_task(rt: Runtime) -> int:
    """After a promotion, score the stored history with the new model so trends never mix versions."""
    with Store(rt.settings.db, memory_limit=rt.settings.duckdb_memory_limit) as store:
        return process_pending(rt, store)


@flow(name="retrain")
def retrain_flow(config: str | None = None, db: str | None = None) -> dict[str, dict]:
    """Every watched pack (`scenarios`), each from its own labels, in turn: {pack: what became of its model}. The
    served daily retrain had trained the first pack alone, and said nothing of the others. A pack with too few
    labels to train stays zero-shot, with a log line; it no longer fails the run that retrains the others."""
    check_served_run({"config": config, "db": db})  # a served run keeps its deployment's paths
    settings = load_settings(Path(config) if config else None, db=Path(db) if db else None)
    return {pack: retrain_pack(settings.replace(scenario=pack)) for pack in settings.scenario_ids}


def retrain_pack(settings) -> dict:
    """One pack's retrain: labels, features, fit, register, re-score the store after a promotion."""
    logger = get_run_logger()
    rt = Runtime(settings)
    if not any(rt.scenario.labels_dir.glob("*.jsonl")):  # a new pack: scored zero-shot until it has labels
        reason = f"no label files yet in {rt.scenario.labels_dir}"
        logger.info("retrain: pack %s not trained: %s", rt.scenario.id, reason)
        return {"version": None, "status": "zero-shot", "reason": reason, "rescored": 0, "metrics": {}}
    records, articles = training_set_task(rt)
    try:
        check_enough_labels(rt.scenario, records)
    except InputError as exc:
        logger.info("retrain: pack %s not trained: %s", rt.scenario.id, exc.reason)
        return {"version": None, "status": "zero-shot", "reason": exc.reason, "rescored": 0, "metrics": {}}
    unchanged = nothing_new(rt, records, articles)
    if unchanged is not None:  # a retrain could only repeat a decision: nothing to encode, fit or save
        logger.info("retrain: model %s unchanged (%s)", unchanged.active.version, unchanged.reason)
        return {"version": unchanged.active.version, "status": "unchanged", "reason": unchanged.reason, "rescored": 0,
                "metrics": {}}
    frame = features_task(rt, articles, fingerprint(rt, articles))
    entry = train_task(rt, records, articles, frame)
    rescored = rescore_task(rt) if entry.status == "active" and Path(settings.db).exists() else 0
    logger.info("retrain: model %s %s (%s); %d stored articles re-scored", entry.version, entry.status, entry.reason, rescored)
    return {"version": entry.version, "status": entry.status, "reason": entry.reason, "rescored": rescored,
            "metrics": {k: entry.metrics[k]["macro_f1"] for k in ("holdout", "time_split") if k in entry.metrics}}
