"""Small real stores for the signal, odds, alert and report tests: hand-written articles and predictions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.records import LABELS, Article, Prediction
from pipeline.scenario import load_scenario
from pipeline.settings import PROJECT_ROOT
from pipeline.store import Store

PACK = load_scenario(PROJECT_ROOT / "labels" / "iran-pakistan-2026")
MODEL = "v1"


def probs(label: str, p: float = 0.8) -> dict[str, float]:
    """p on the label, the rest spread evenly over the other three."""
    return {c: (p if c == label else (1 - p) / 3) for c in LABELS}


def classified_store(path: Path, articles: Sequence[Article], predictions: Sequence[Prediction]) -> Path:
    """A DuckDB store at `path` holding the articles, their predictions and the daily signals."""
    with Store(path) as store:
        store.add_articles(articles)
        store.save_analysis([], predictions)
        store.refresh_daily_signals(PACK.id, MODEL)
    return path
