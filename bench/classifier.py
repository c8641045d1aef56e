"""The classifier on a split that mimics production: train on the past, test on a later period.

    .venv/bin/python bench/classifier.py [--until 2026-03-01 --test-until 2026-04-15] [--no-baseline]
                                         [--examples bench/data/guide_examples_v1.jsonl] [--reader-seeds 0,1,2]

Trains the shipped recipe (`pipeline.classify`, RECIPE) on the labeled items published before
2026-03-01 and tests it on those published 2026-03-01 .. 2026-04-14 (labels from labels/<scenario>/labels,
texts from ../shared/data). Macro-F1 is over base, contraction and none (the pool holds 6
`accelerated` items, none in the test period). Also:
  - the probe suite (labels/<scenario>/probes/probes.jsonl, never trained on) against this time-split
    model and against the shipped active model: accuracy overall and per case; the same for the blind
    probes (bench/data/blind_probes_v1.jsonl, `jobs.BLIND_PROBES`);
  - the baseline (the v1 recipe's words-only part: TF-IDF + calibrated LinearSVC) and the previous
    recipes on the same split (v4: the same regression with the fine-tuned MiniLM reader instead of the
    case head; v3: the regression alone, its `none` halved), each with a paired bootstrap 95% interval of
    the macro-F1 difference;
  - expected calibration error (ECE) on the test period, train seconds (the time-split model; the case
    head's vectors of texts already in the vector cache are not encoded again: `train_head_texts_encoded`
    says how many were), the static encoder's docs/s, and the case head's encoder (all-mpnet-base-v2) docs/s
    on the headline and lead of 300 test articles, uncached.
With `--examples` or `--extra-labels`, `plain_recipe` scores the recipe as it ships on the same split (its macro-F1,
the paired bootstrap interval of the experiment's difference to it, and its probes).
`--examples FILE` also trains on written examples (the experiment of issue 11's fourth round: 295 short
articles written from the guide; they cost macro-F1 on real news, so the recipe leaves them out).
`--extra-labels labels/iran-pakistan-2026/held-out-round6` also trains on label round 6 (the January 2026 RSS archive's
remaining 682 Iran items, read; they cost macro-F1 on real news, so they are held out of labels/).
`--reader-seeds 0,1,2` gives the v4 comparison three fine-tuned readers, averaged (issue 11's fifth round).
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

from pipeline import classify, mpnet, reader  # noqa: E402
from pipeline.jobs import BLIND_PROBES, Runtime, load_probes, probe_check, shared_articles_for, training_set, written_articles  # noqa: E402
from pipeline.labels import KnownIds, load_labels  # noqa: E402
from pipeline.reader import reader_text  # noqa: E402
from pipeline.records import LABELS  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402


V4_READER_WEIGHT = 0.7  # recipe v4's share of the fine-tuned reader


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
    ap.add_argument("--extra-labels", type=Path,
                    help="a folder of label files read but not trained on (labels/<scenario>/held-out-round6), added to "
                         "the labels for this run (an experiment)")
    ap.add_argument("--reader-seeds", default=",".join(map(str, reader.SEEDS)),
                    help="seeds of the fine-tuned readers the v4 comparison averages (default: v4's one)")
    args = ap.parse_args()
    rt = Runtime(load_settings())
    until, test_until = datetime.fromisoformat(args.until), datetime.fromisoformat(args.test_until)
    records, articles = training_set(rt)
    if args.extra_labels:
        extra = load_labels(args.extra_labels, KnownIds(rt.settings.shared_data, []))
        found = shared_articles_for(rt.settings.shared_data, extra)
        known = {r.id for r in records}
        extra = [r for r in extra if r.id in found and r.id not in known]
        records, articles = records + extra, articles + [found[r.id] for r in extra]
    extra_ids = {r.id for r in extra} if args.extra_labels else set()
    y = np.array([r.label for r in records])
    published = [a.published for a in articles]
    train = np.array([p is not None and p < until for p in published])
    # extra labels train only: the test items are the same with or without them, so the comparison is paired on
    # the usual split (round 6's January items would otherwise join an inner split's test period)
    test = np.array([p is not None and until <= p < test_until and r.id not in extra_ids for p, r in zip(published, records)])
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
    cache = mpnet.shared_cache()
    encoded_before = cache.encoded
    model = classify.fit(train_articles, y[train], relevant[train], featurizer, rt.scenario.prototypes(), examples=examples)
    train_seconds = time.perf_counter() - started
    train_encoded = cache.encoded - encoded_before
    test_articles = [a for a, m in zip(articles, test) if m]
    split, probs = classify.evaluate(model, test_articles, relevant[test], y[test], rt.encoder)
    predicted = [LABELS[i] for i in probs.argmax(axis=1)]
    leads = [reader_text(a.title, a.body()) for a in test_articles[:300]]
    started = time.perf_counter()
    cache.encoder.encode(leads)  # the case head's encoder on its own, past the cache
    head_docs_per_s = round(len(leads) / (time.perf_counter() - started), 1)

    out = {
        "recipe": classify.RECIPE + (f" + written examples {args.examples}" if args.examples else "")
                  + (f" + labels {args.extra_labels}" if args.extra_labels else ""),
        "encoder": rt.encoder.name, "head_encoder": f"{mpnet.NAME} (zip sha256 {mpnet.ZIP_SHA256[:12]}…)",
        "train_until": args.until, "test_until": args.test_until,
        "n_train": int(train.sum()), "n_test": int(test.sum()),
        "test_counts": {c: int((y[test] == c).sum()) for c in LABELS},
        "time_split_macro_f1": split["macro_f1"],
        "per_class": {c: {k: v for k, v in s.items() if k in ("precision", "recall", "support")} for c, s in split["per_class"].items()},
        "ece": split["ece"],
        "train_seconds": round(train_seconds, 1),
        "train_head_texts_encoded": train_encoded,
        "encoder_docs_per_s": round(docs_per_s),
        "head_encoder_docs_per_s": head_docs_per_s,
    }
    if examples[0] or args.extra_labels:  # an experiment: the recipe as it ships, on the same split, for the paired interval
        keep = np.array([m and r.id not in extra_ids for m, r in zip(train, records)])
        plain = classify.fit([a for a, m in zip(articles, keep) if m], y[keep], relevant[keep], featurizer, rt.scenario.prototypes())
        plain_split, plain_probs = classify.evaluate(plain, test_articles, relevant[test], y[test], rt.encoder)
        out["plain_recipe"] = {"recipe": classify.RECIPE, "time_split_macro_f1": plain_split["macro_f1"],
                               "difference": classify.bootstrap_macro_f1_difference(
                                   y[test], predicted, [LABELS[i] for i in plain_probs.argmax(axis=1)]),
                               "probe_accuracy": probe_check(rt, plain), "blind_probe_accuracy": probe_check(rt, plain, BLIND_PROBES)}
    if load_probes(rt.scenario)[0]:
        out["probe_accuracy"] = probe_check(rt, model)
        out["blind_probe_accuracy"] = probe_check(rt, model, BLIND_PROBES)
        try:
            active, _ = rt.active_model
            out["probe_accuracy_shipped_model"] = probe_check(rt, active)
            out["blind_probe_accuracy_shipped_model"] = probe_check(rt, active, BLIND_PROBES)
        except Exception as exc:  # noqa: BLE001 - an old or missing shipped model is reported, not fatal
            out["probe_accuracy_shipped_model"] = f"not measured: {exc}"
    if not args.no_baseline:
        base = baseline_predictions(train_articles, y[train], test_articles)
        out["baseline"] = {"recipe": "tfidf-words-linearsvc-sigmoid (v1 without NLP tokens)",
                           "time_split_macro_f1": classify.scores(list(y[test]), base, classify.SCORED_LABELS)["macro_f1"],
                           "difference_vs_baseline": classify.bootstrap_macro_f1_difference(y[test], predicted, base)}
        # the previous recipes on the same split: v4 (the regression with the fine-tuned reader instead of the
        # case head) and v3 (the regression alone, its none probability halved)
        started = time.perf_counter()
        v4 = classify.fit(train_articles, y[train], relevant[train], featurizer, rt.scenario.prototypes(), examples=examples,
                          reader_weight=V4_READER_WEIGHT, reader_seeds=seeds, head_weight=0.0,
                          temperature=1.0)
        v4_seconds = time.perf_counter() - started
        v3 = dataclasses.replace(model, head=None, head_weight=0.0, none_shift=2.0, temperature=1.0)
        for key, name, previous in (("v4", "gate-tfidf-m2v-protos-lr+reader.v4" + (f", readers of seeds {seeds}" if tuple(seeds) != reader.SEEDS else ""), v4),
                                    ("v3", "gate-tfidf-m2v-protos-lr-shift.v3", v3)):
            previous_split, previous_probs = classify.evaluate(previous, test_articles, relevant[test], y[test], rt.encoder)
            previous_pred = [LABELS[i] for i in previous_probs.argmax(axis=1)]
            out[f"previous_recipe_{key}"] = {"recipe": name, "time_split_macro_f1": previous_split["macro_f1"], "ece": previous_split["ece"],
                                             "difference": classify.bootstrap_macro_f1_difference(y[test], predicted, previous_pred)}
        out["previous_recipe_v4"]["train_seconds"] = round(v4_seconds, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
