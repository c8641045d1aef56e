"""Backtest of the scenario odds at two real turning points, the odds model before and after issue 14.

    .venv/bin/python bench/odds_backtest.py --db STORE.duckdb [--before-commit 3172cd6]

STORE is a store built with `signals import` from ../shared/data/spnn_dawn_geo/items.jsonl
(the figures in the README used the items published 2026-02-15..2026-04-14). For each event
(the war that began on 2026-02-28; the ceasefire of 2026-04-08) and each model it reports the
odds of the event's case the day before, 7 days after and the move in points, the first day
from 3 days before to 14 after on which that case takes the lead over its rival ("cross"; none
when it already led or never does), and accelerated 7 days
after. "before" is pipeline/odds.py as of --before-commit (read with `git show`): articles as
the unit, no daily cap, every case measurable, `none`-labelled articles' leftover mass
counted. "after" is the working tree's model with the active registry entry's recall.
Both read the store's predictions, made by the shipped model, which was trained on the labels of most of these
articles (in-sample; `time_split.past_the_gate_in_the_shipped_models_training` counts them). "after,
time-split" is the working tree's odds model over the predictions of the shipped recipe trained only on the
labels published before --train-until (default 2026-02-15, the window's first day): what an analyst would have
seen live, with no article of the window in training.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import classify, odds  # noqa: E402
from pipeline.jobs import Runtime, training_set  # noqa: E402
from pipeline.labels import load_shared_articles  # noqa: E402
from pipeline.records import LABELS  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402
from pipeline.signals import article_predictions  # noqa: E402
from pipeline.store import Store  # noqa: E402

EVENTS = [("war", date(2026, 2, 28), "contraction"), ("ceasefire", date(2026, 4, 8), "base")]
CASES = ("base", "accelerated", "contraction")


def old_odds_module(commit: str):
    """pipeline/odds.py as of `commit`, loaded as pipeline._odds_before (its relative imports still resolve)."""
    source = subprocess.run(["git", "show", f"{commit}:pipeline/odds.py"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader("pipeline._odds_before", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "pipeline"
    sys.modules[spec.name] = module
    exec(compile(source, f"{commit}:pipeline/odds.py", "exec"), module.__dict__)
    return module


def event_row(path, event: str, day: date, case: str, rival: str) -> dict:
    path = path.set_index(path["day"].dt.date)
    before, after = path.loc[day - timedelta(days=1)], path.loc[min(day + timedelta(days=7), path.index.max())]
    cross = None  # the first day, from 3 days before the event to 14 after, on which the case takes the lead
    leads = {d: path.at[d, case] > path.at[d, rival] for d in path.index}
    for d in path.index:
        if day - timedelta(days=3) <= d <= day + timedelta(days=14) and leads[d] and not leads.get(d - timedelta(days=1), False):
            cross = d
            break
    return {
        "event": event, "day": day.isoformat(), "case": case,
        "before": round(float(before[case]), 3), "after_7d": round(float(after[case]), 3),
        "move_pts": round(float(after[case] - before[case]) * 100, 1),
        "cross": cross.isoformat() if cross else None,
        "cross_days_after": (cross - day).days if cross else None,
        "accelerated_after_7d": round(float(after["accelerated"]), 3),
    }


def time_split_predictions(settings, predictions, until: date):
    """The store's articles (those of ../shared/data/spnn_dawn_geo) scored by the shipped recipe trained on the
    labels published before `until`: the same rows as `predictions`, with its probabilities."""
    rt = Runtime(settings)
    records, labeled = training_set(rt)
    keep = [i for i, a in enumerate(labeled) if a.published is not None and a.published.date() < until]
    train = [labeled[i] for i in keep]
    model = classify.fit(train, [records[i].label for i in keep], [rt.relevance(a) for a in train], rt.featurizer,
                         rt.scenario.prototypes())
    found = load_shared_articles(settings.shared_data, {"spnn_dawn_geo": set(predictions["id"])})
    frame = predictions[predictions["id"].isin(found)].reset_index(drop=True)
    articles = [found[i] for i in frame["id"]]
    relevant = [rt.relevance(a) for a in articles]
    frame[[f"p_{label}" for label in LABELS]] = model.predict_proba(articles, relevant, rt.encoder)
    shipped = rt.registry.trained_labels(rt.registry.active(rt.scenario.id)) or {}
    gated = [a.id for a, r in zip(articles, relevant) if r]
    counts = {"trained_on": len(keep), "articles": len(frame), "past_the_gate": len(gated),
              "past_the_gate_in_the_shipped_models_training": sum(i in shipped for i in gated)}
    return frame, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--before-commit", default="3172cd6")
    parser.add_argument("--train-until", default="2026-02-15",
                        help="the time-split model trains on the labels published before this day")
    args = parser.parse_args()
    settings = load_settings(db=args.db)
    pack = load_scenario(settings.scenario_dir)
    old = old_odds_module(args.before_commit)
    with Store(args.db, read_only=True) as store:
        seen = odds.visibility(store, pack, settings.models_dir)
        predictions = article_predictions(store, pack)
    first, last = predictions["day"].min().date(), predictions["day"].max().date()
    after_model = odds.OddsModel.for_scenario(pack, measurable=seen.measurable)
    unseen, counts = time_split_predictions(settings, predictions, date.fromisoformat(args.train_until))
    models = {
        "before": old.compute_path(predictions, old.OddsModel.for_scenario(pack), first, last),
        "after": odds.compute_path(predictions, after_model, first, last),
        "after, time-split": odds.compute_path(unseen, after_model, first, last),
    }
    rows = []
    for name, path in models.items():
        for event, day, case in EVENTS:
            rival = "base" if case == "contraction" else "contraction"
            rows.append({"model": name, **event_row(path, event, day, case, rival)})
    print(json.dumps({"bench": "odds_backtest", "db": str(args.db), "range": [first.isoformat(), last.isoformat()],
                      "measurable": sorted(seen.measurable), "recall": seen.recall,
                      "time_split": {"train_until": args.train_until, **counts},
                      "rows": rows}))


if __name__ == "__main__":
    main()
