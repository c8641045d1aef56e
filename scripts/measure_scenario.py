"""How well a scenario pack classifies its own labels: zero-shot, and the trained recipe by cross-validation.

    PYTHONPATH=. .venv/bin/python scripts/measure_scenario.py --scenario india-pakistan-2025

The first prints the zero-shot macro-F1 (recipe `zero-shot-prototypes.v1`, no training) on
the pack's labels, then the macro-F1 of the trained recipe (classify.fit: the pack's
prototypes plus the labels) from 5-fold stratified cross-validation over the same labels;
each fold trains on four fifths and is scored on the fifth, and the pooled predictions
are scored once. Macro-F1 is over the four labels. With 100 labels the CV figure is a small
sample, not a time split: read it as "does training on a few labels beat zero-shot".

The zero-shot constants (`zeroshot.NONE_BAR`, `TEMPERATURE`) were chosen on a *different* pack's labels
(iran-pakistan-2026 before 2026-03-01, `scripts/zero_shot_constants.py`), so nothing is tuned on the pack measured.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from sklearn.model_selection import StratifiedKFold

from pipeline.classify import article_frame, fit, scores
from pipeline.jobs import Runtime, training_set
from pipeline.records import LABELS
from pipeline.settings import PROJECT_ROOT, load_settings
from pipeline.zeroshot import NONE_BAR, TEMPERATURE, zero_shot_proba

FOLDS = 5


def cross_validated(rt: Runtime, articles, y, seed: int = 0) -> list[str]:
    """Out-of-fold predictions of the trained recipe (prototypes as extra examples, as `signals train` does)."""
    featurizer, encoder, scenario = rt.featurizer, rt.encoder, rt.scenario
    relevant = np.array([rt.relevance(a) for a in articles])
    frame = article_frame(articles, featurizer)
    y = np.asarray(y)
    pred = np.empty(len(y), dtype=object)
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(frame, y):
        model = fit([articles[i] for i in train], y[train], relevant[train], featurizer, scenario.prototypes(),
                    frame=frame.iloc[train].reset_index(drop=True), seed=seed)
        probs = model.predict_proba([articles[i] for i in test], relevant[test], encoder,
                                    frame.iloc[test].reset_index(drop=True))
        pred[test] = [LABELS[i] for i in probs.argmax(axis=1)]
    return list(pred)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", required=True, help="a folder name under labels/")
    args = parser.parse_args()
    settings = load_settings(os.environ.get("SIGNALS_CONFIG"), labels_dir=PROJECT_ROOT / "labels", scenario=args.scenario)
    rt = Runtime(settings)
    scenario, encoder = rt.scenario, rt.encoder
    records, articles = training_set(rt)  # the labels whose article text is found, as `signals train` reads them
    y = [r.label for r in records]
    print(f"scenario {scenario.id}: {len(y)} labels " + ", ".join(f"{c} {y.count(c)}" for c in LABELS))
    probs = zero_shot_proba(scenario, articles, encoder)
    zero = scores(y, [LABELS[i] for i in probs.argmax(axis=1)], LABELS)
    print(f"zero-shot (zero-shot-prototypes.v1, none bar {NONE_BAR}, temperature {TEMPERATURE}): "
          f"macro-F1 {zero['macro_f1']:.3f}, accuracy {zero['accuracy']:.3f}")
    print("  per class F1: " + ", ".join(f"{c} {v['f1']:.2f} (n={v['support']})" for c, v in zero["per_class"].items()))
    trained = scores(y, cross_validated(rt, articles, y), LABELS)
    print(f"trained recipe, {FOLDS}-fold stratified cross-validation on the same {len(y)} labels (small sample): "
          f"macro-F1 {trained['macro_f1']:.3f}, accuracy {trained['accuracy']:.3f}")
    print("  per class F1: " + ", ".join(f"{c} {v['f1']:.2f} (n={v['support']})" for c, v in trained["per_class"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
