"""What retraining on the newest labels buys: the recipe, refit weekly, against one frozen at the time split.

    PYTHONPATH=$PWD .venv/bin/python bench/retrain_weekly.py

For each week of the bench's test period from 2026-03-08 (the last one ends 2026-04-14), two models are scored
on that week's labeled items: the recipe (v5: the regression and the case head) trained on every label
published before 2026-03-01 (the time split's model, frozen) and the same recipe trained on every label
published before that week (what a weekly `signals train` would know). The case head's vectors come from the
vector cache, so each refit takes about a minute. (Until round 7 this measured the regression alone: the v4
reader's six fine-tunings would have taken an hour.) One JSON line per week, then the pooled macro-F1 (base,
contraction, none) of both with the paired bootstrap interval of the difference.

This reads the test period's labels for training, week by week, so it is not the bench's time-split figure
and nothing is chosen on it: it measures the label-and-retrain loop (README "The classifier").
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import classify  # noqa: E402
from pipeline.jobs import Runtime, training_set  # noqa: E402
from pipeline.records import LABELS  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402

FROZEN_BEFORE = datetime(2026, 3, 1)
FIRST_WEEK = datetime(2026, 3, 8)
END = datetime(2026, 4, 15)


def main() -> None:
    rt = Runtime(load_settings())
    records, articles = training_set(rt)
    y = np.array([r.label for r in records])
    published = [a.published for a in articles]
    relevant = np.array([rt.relevance(a) for a in articles])
    frame = classify.article_frame(articles, rt.featurizer)

    def pick(mask):
        return [a for a, m in zip(articles, mask) if m]

    def fit_before(day: datetime):
        mask = np.array([p is not None and p < day for p in published])
        return classify.fit(pick(mask), y[mask], relevant[mask], rt.featurizer, rt.scenario.prototypes(),
                            frame=frame[mask].reset_index(drop=True))

    def predict(model, mask) -> list[str]:
        _, probs = classify.evaluate(model, pick(mask), relevant[mask], y[mask], rt.encoder, frame[mask].reset_index(drop=True))
        return [LABELS[i] for i in probs.argmax(axis=1)]

    frozen = fit_before(FROZEN_BEFORE)
    pooled: dict[str, list[str]] = {"truth": [], "frozen": [], "weekly": []}
    week = FIRST_WEEK
    while week < END:
        end = min(week + timedelta(days=7), END)
        mask = np.array([p is not None and week <= p < end for p in published])
        calls = {"frozen": predict(frozen, mask), "weekly": predict(fit_before(week), mask)}
        truth = list(y[mask])
        pooled["truth"] += truth
        for name, pred in calls.items():
            pooled[name] += pred
        print(json.dumps({"week": week.date().isoformat(), "n": int(mask.sum()),
                          **{name: classify.scores(truth, pred, classify.SCORED_LABELS)["macro_f1"] for name, pred in calls.items()}}),
              file=sys.stderr, flush=True)
        week = end
    truth = pooled["truth"]
    print(json.dumps({"bench": "retrain_weekly", "from": FIRST_WEEK.date().isoformat(), "to": (END - timedelta(days=1)).date().isoformat(),
                      "n": len(truth),
                      "frozen_macro_f1": classify.scores(truth, pooled["frozen"], classify.SCORED_LABELS)["macro_f1"],
                      "weekly_macro_f1": classify.scores(truth, pooled["weekly"], classify.SCORED_LABELS)["macro_f1"],
                      "difference": classify.bootstrap_macro_f1_difference(np.array(truth), pooled["weekly"], pooled["frozen"])}))


if __name__ == "__main__":
    main()
