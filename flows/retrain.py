"""The retrain flow: labels -> train -> evaluate -> save (promoted only if not worse) -> re-score."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from pipeline.jobs import Runtime, process_pending, retrain
from pipeline.registry import ModelEntry
from pipeline.settings import load_settings
from pipeline.store import Store


@task(cache_policy=NONE)
def train_task(rt: Runtime) -> ModelEntry:
    return retrain(rt)


@task(cache_policy=NONE)
def rescore_task(rt: Runtime) -> int:
    """After a promotion, score the stored history with the new model so trends never mix versions."""
    with Store(rt.settings.db, memory_limit=rt.settings.duckdb_memory_limit) as store:
        return process_pending(rt, store)


@flow(name="retrain")
def retrain_flow(config: str | None = None, db: str | None = None) -> dict:
    logger = get_run_logger()
    settings = load_settings(Path(config) if config else None, db=Path(db) if db else None)
    rt = Runtime(settings)
    entry = train_task(rt)
    rescored = rescore_task(rt) if entry.status == "active" and Path(settings.db).exists() else 0
    logger.info("retrain: model %s %s (%s); %d stored articles re-scored", entry.version, entry.status, entry.reason, rescored)
    return {"version": entry.version, "status": entry.status, "reason": entry.reason, "rescored": rescored,
            "metrics": {k: entry.metrics[k]["macro_f1"] for k in ("holdout", "time_split", "cross_validation") if k in entry.metrics}}
