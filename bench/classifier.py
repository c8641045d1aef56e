"""The classifier on a split that mimics production: train on the past, test on a later period.

    .venv/bin/python bench/classifier.py [--until 2026-03-01 --test-until 2026-04-15] [--no-baseline]
                                         [--examples bench/data/guide_examples_v1.jsonl] [--reader-seeds 0,1,2]

Trains the shipped recipe (`pipeline.classify`, RECIPE) on the labeled items published before
2026-03-01 and tests it on those published 2026-03-01 .. 2026-04-14 (labels from labels/<scenario>/labels,
texts from ../shared/data). Macro-F1 is over base, contraction and none (the pool holds 6
`accelerated` items, none in the test period). Also:
  - the probe suite (labels/<scenario>/probes/probes.jsonl, never trained on) against this time-split
    model and against the shipped active model: accuracy overall and per case;
  - the baseline (the v1 recipe's words-only part: TF-IDF + calibrated LinearSVC) and the previous
    recipe (v3: the same regression without the reader, its `none` halved) on the same split, each with a
    paired bootstrap 95% interval of the macro-F1 difference;
  - expected calibration error (ECE) on the test period, train seconds, encoder docs/s and the fine-tuned
    reader's docs/s (headline and lead).
`--examples FILE` also trains on written examples (the experiment of issue 11's fourth round: 295 short
articles written from the guide; they cost macro-F1 on real news, so the recipe leaves them out).
`--reader-seeds 0,1,2` averages three fine-tuned readers (issue 11's fifth round: steadier across seeds and better
on the time split, but too slow for `signals train` on 2 cores, so the recipe keeps one).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import classify, reader  # noqa: E402
from pipeline.jobs import Runtime, load_probes, probe_check, training_set, written_articles  # noqa: E402
from pipeline.reader import reader_text  # noqa: E402
from pipeline.records import LABELS  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402


def baseline_predictions(train_articles, y_train, test_articles) -> list[str]:
    """The previous recipe without its NLP tokens: TF-IDF words + LinearSVC, sigmoid-calibrated."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    text = lambda arts: [f"{a.title}\n{a.body()[:classify.TEXT_CHARS]}" for a in arts]  # noqa: E731
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.8, sublinear_tf=True, max_features=60_000, strip_accents="unicode"),
        CalibratedClassifierCV(LinearSVC(C=0.5, class_weight="balanced", random_state=0), method="sigmoid", cv=3),
    )
    return list(model.fit(text(train_articles), y_train).predict(text(test_articles)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--until", default="2026-03-01", help="train on items published before this day")
    ap.add_argument("--test-until", default="2026-04-15", help="test on items from --until up to this day")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--examples", help="a JSONL of written examples to train on as well (an experiment)")
    ap.add_argument("--reader-seeds", default=",".join(map(str, reader.SEEDS)),
                    help="seeds of the fine-tuned readers to average (an experiment; default: the recipe's)")
    args = ap.parse_args()
    rt = Runtime(load_settings())
    until, test_until = datetime.fromisoformat(args.until), datetime.fromisoformat(args.test_until)
    records, articles = training_set(rt)
    y = np.array([r.label for r in records])
    published = [a.published for a in articles]
    train = np.array([p is not None and p < until for p in published])
    test = np.array([p is not None and until <= p < test_until for p in published])
    relevant = np.array([rt.relevance(a) for a in articles])
    featurizer = rt.featurizer

    started = time.perf_counter()
    sample = [a.body()[: classify.LEAD_CHARS] for a in articles[:2000]]
    rt.encoder.encode(sample)
    docs_per_s = len(sample) / (time.perf_counter() - started)

    started = time.perf_counter()
    train_articles = [a for a, m in zip(articles, train) if m]
    examples = written_articles(Path(args.examples)) if args.examples else ([], [])
    seeds = [int(s) for s in args.reader_seeds.split(",")]
    model = classify.fit(train_articles, y[train], relevant[train], featurizer, rt.scenario.prototypes(), examples=examples,
                         reader_seeds=seeds)
    train_seconds = time.perf_counter() - started
    test_articles = [a for a, m in zip(articles, test) if m]
    split, probs = classify.evaluate(model, test_articles, relevant[test], y[test], rt.encoder)
    predicted = [LABELS[i] for i in probs.argmax(axis=1)]
    reader_docs_per_s = None
    if model.reader is not None:  # the fine-tuned reader, on the headline and lead of 300 test articles
        leads = [reader_text(a.title, a.body()) for a in test_articles[:300]]
        started = time.perf_counter()
        model.reader.predict_proba(leads)
        reader_docs_per_s = round(len(leads) / (time.perf_counter() - started), 1)

    out = {
        "recipe": classify.RECIPE + (f" + written examples {args.examples}" if args.examples else "")
        + (f" with readers of seeds {seeds}" if tuple(seeds) != reader.SEEDS else ""),
        "encoder": rt.encoder.name,
        "train_until": args.until, "test_until": args.test_until,
        "n_train": int(train.sum()), "n_test": int(test.sum()),
        "test_counts": {c: int((y[test] == c).sum()) for c in LABELS},
        "time_split_macro_f1": split["macro_f1"],
        "per_class": {c: {k: v for k, v in s.items() if k in ("precision", "recall", "support")} for c, s in split["per_class"].items()},
        "ece": split["ece"],
        "train_seconds": round(train_seconds, 1),
        "encoder_docs_per_s": round(docs_per_s),
        "reader_docs_per_s": reader_docs_per_s,
    }
    if load_probes(rt.scenario)[0]:
        out["probe_accuracy"] = probe_check(rt, model)
        try:
            active, _ = rt.active_model
            out["probe_accuracy_shipped_model"] = probe_check(rt, active)
        except Exception as exc:  # noqa: BLE001 - an old or missing shipped model is reported, not fatal
            out["probe_accuracy_shipped_model"] = f"not measured: {exc}"
    if not args.no_baseline:
        base = baseline_predictions(train_articles, y[train], test_articles)
        out["baseline"] = {"recipe": "tfidf-words-linearsvc-sigmoid (v1 without NLP tokens)",
                           "time_split_macro_f1": classify.scores(list(y[test]), base, classify.SCORED_LABELS)["macro_f1"],
                           "difference_vs_baseline": classify.bootstrap_macro_f1_difference(y[test], predicted, base)}
        # the previous recipe (v3: the regression alone, its none probability halved) on the same split
        previous = dataclasses.replace(model, reader=None, reader_weight=0.0, none_shift=2.0)
        _, previous_probs = classify.evaluate(previous, test_articles, relevant[test], y[test], rt.encoder)
        previous_pred = [LABELS[i] for i in previous_probs.argmax(axis=1)]
        out["previous_recipe"] = {"recipe": "gate-tfidf-m2v-protos-lr-shift.v3",
                                  "time_split_macro_f1": classify.scores(list(y[test]), previous_pred, classify.SCORED_LABELS)["macro_f1"],
                                  "difference": classify.bootstrap_macro_f1_difference(y[test], predicted, previous_pred)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
