"""How far the scenario odds a classifier drives are from the odds its readers' labels drive, v5 against v2.

    .venv/bin/python bench/odds_vs_readers.py --db STORE.duckdb [--since 2026-03-01 --until 2026-04-14]

STORE is a store built with `signals import` from ../shared/data/spnn_dawn_geo/items.jsonl, as for
bench/odds_backtest.py (the README used the items published 2026-02-15..2026-04-14); it gives the articles, their
days and their stories. Three odds paths are computed over them with the same odds model (`pipeline.odds`, the
active model's measurable cases):
  - readers: each labeled article counts as its label (labels/<scenario>/labels, one-hot); an article nobody
    labeled keeps the v5 model's probabilities (in the README's store, only articles the relevance gate keeps out
    are unlabeled, and they are `none` for every model);
  - v5 and v2: the recipes (v5: `pipeline.classify` as it ships; v2: the same regression without the case head and
    its temperature) trained on the labels published before --train-until (default 2026-03-01, the bench's time
    split), so on the test period neither model has seen the articles it scores.
For each model it prints the mean and largest gap to the readers' path in points per case, the days on which the
leading case differs from the readers', and the war and ceasefire rows of bench/odds_backtest.py; also the days
on which v5's base odds are closer to the readers' than v2's. The test period's
labels are read here, so nothing is chosen on this: it measures what an analyst would see. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from odds_backtest import EVENTS, event_row  # noqa: E402

from pipeline import classify, odds  # noqa: E402
from pipeline.jobs import Runtime, training_set  # noqa: E402
from pipeline.labels import load_shared_articles  # noqa: E402
from pipeline.records import CASES, LABELS  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402
from pipeline.signals import article_predictions  # noqa: E402
from pipeline.store import Store  # noqa: E402

PROBABILITY_COLUMNS = [f"p_{label}" for label in LABELS]


def time_split_models(rt: Runtime, records, articles, until: datetime) -> dict:
    """v5 and v2 trained on the labeled items (`training_set`) published before `until`."""
    keep = [i for i, a in enumerate(articles) if a.published is not None and a.published < until]
    train = [articles[i] for i in keep]
    y = [records[i].label for i in keep]
    relevant = [rt.relevance(a) for a in train]
    frame = classify.article_frame(train, rt.featurizer)
    protos = rt.scenario.prototypes()
    return {
        "v5": classify.fit(train, y, relevant, rt.featurizer, protos, frame=frame),
        "v2": classify.fit(train, y, relevant, rt.featurizer, protos, frame=frame, none_shift=1.0, reader_weight=0.0,
                           head_weight=0.0, temperature=1.0),
    }


def gaps(path, readers, since: date, until: date) -> dict:
    """Mean and largest absolute gap in points per case, and the days whose leading case differs, since..until."""
    days = (path["day"].dt.date >= since) & (path["day"].dt.date <= until)
    a, b = path[days].reset_index(drop=True), readers[days].reset_index(drop=True)
    out = {}
    for case in CASES:
        diff = (a[case] - b[case]).abs() * 100
        out[case] = {"mean_pts": round(float(diff.mean()), 1), "max_pts": round(float(diff.max()), 1)}
    leader, readers_leader = a[list(CASES)].idxmax(axis=1), b[list(CASES)].idxmax(axis=1)
    out["days"] = int(len(a))
    out["leader_differs_days"] = int((leader != readers_leader).sum())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--train-until", default="2026-03-01")
    ap.add_argument("--since", default="2026-03-01")
    ap.add_argument("--until", default="2026-04-14")
    args = ap.parse_args()
    rt = Runtime(load_settings(db=args.db))
    with Store(args.db, read_only=True) as store:
        seen = odds.visibility(store, rt.scenario, rt.settings.models_dir)
        predictions = article_predictions(store, rt.scenario)
    found = load_shared_articles(rt.settings.shared_data, {"spnn_dawn_geo": set(predictions["id"])})
    predictions = predictions[predictions["id"].isin(found)].reset_index(drop=True)
    articles = [found[i] for i in predictions["id"]]
    relevant = [rt.relevance(a) for a in articles]
    records, labeled_articles = training_set(rt)
    labels = {r.id: r.label for r in records}

    models = time_split_models(rt, records, labeled_articles, datetime.fromisoformat(args.train_until))
    frames = {}
    for name, model in models.items():
        frame = predictions.copy()
        frame[PROBABILITY_COLUMNS] = model.predict_proba(articles, relevant, rt.encoder)
        frames[name] = frame
    readers = frames["v5"].copy()
    labeled = readers["id"].isin(labels).to_numpy()
    readers.loc[labeled, PROBABILITY_COLUMNS] = np.array(
        [[1.0 if labels[i] == label else 0.0 for label in LABELS] for i in readers.loc[labeled, "id"]])

    odds_model = odds.OddsModel.for_scenario(rt.scenario, measurable=seen.measurable)
    first, last = predictions["day"].min().date(), predictions["day"].max().date()
    paths = {name: odds.compute_path(frame, odds_model, first, last) for name, frame in {"readers": readers, **frames}.items()}
    since, until = date.fromisoformat(args.since), date.fromisoformat(args.until)
    in_period = ((predictions["day"].dt.date >= since) & (predictions["day"].dt.date <= until)).to_numpy()
    result = {
        "bench": "odds_vs_readers", "db": str(args.db), "train_until": args.train_until, "period": [args.since, args.until],
        "measurable": sorted(seen.measurable), "articles": int(in_period.sum()),
        "labeled": int((labeled & in_period).sum()),
        "unlabeled_past_the_gate": int((~labeled & in_period & np.array(relevant)).sum()),
    }
    for name in ("v5", "v2"):
        result[name] = {"vs_readers": gaps(paths[name], paths["readers"], since, until)}
    window = (paths["readers"]["day"].dt.date >= since) & (paths["readers"]["day"].dt.date <= until)
    gap = {name: (paths[name].loc[window, "base"] - paths["readers"].loc[window, "base"]).abs() for name in ("v5", "v2")}
    result["days_v5_closer"] = int((gap["v5"] < gap["v2"]).sum())  # on base; with two cases measurable, contraction mirrors it
    for name, path in paths.items():
        rows = []
        for event, day, case in EVENTS:
            rows.append(event_row(path, event, day, case, "base" if case == "contraction" else "contraction"))
        result.setdefault(name, {})["events"] = rows
    print(json.dumps(result))


if __name__ == "__main__":
    main()
