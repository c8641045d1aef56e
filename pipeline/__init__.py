"""news-signals: which scenario case the news supports, day by day, and why.

The library does the work; `signals` (pipeline.cli) and the Prefect flows
(`flows/`) are thin shells over it. The stages, one module each:

    feeds     RSS/Atom feeds -> Article (through `http`, `xmlsafety`, `text`, `identity`)
    files     JSONL backfills, feed files and folders -> Article
    nlp       spaCy: actors, entities, actor sentences (and events via `events`)
    classify  scikit-learn: Article + NLP -> Prediction with evidence
    store     DuckDB: articles, NLP rows, predictions, daily signals, feed state
    signals   trend queries over the daily signals
    jobs      the jobs built from those stages (ingest, retrain, predict)
"""

from .errors import SignalsError
from .records import CASES, LABELS, Article, Event, NlpResult, Prediction
from .scenario import load_scenario
from .settings import Settings, load_settings
from .signals import trend
from .store import Store

__all__ = [
    "CASES", "LABELS", "Article", "Event", "NlpResult", "Prediction", "Settings", "SignalsError", "Store",
    "load_scenario", "load_settings", "trend",
]
__version__ = "0.1.0"
