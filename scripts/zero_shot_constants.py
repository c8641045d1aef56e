"""How `pipeline.zeroshot`'s two constants were chosen, and what the zero-shot recipe scores.

On the iran-pakistan-2026 labels published before 2026-03-01 it tries a grid of `NONE_BAR` and
`TEMPERATURE` values and prints the macro-F1 (base, contraction, none) and the expected calibration error of
each; the pair with the best macro-F1 (then the lowest ECE) is the one written into `pipeline/zeroshot.py`.
It then prints, once, the figures of the shipped constants on 2026-03-01..2026-04-14 (the classifier's time
split), for comparison with the trained model. Nothing here trains on the later period.

    python scripts/zero_shot_constants.py
"""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np

from pipeline import classify, zeroshot
from pipeline.jobs import Runtime, training_set
from pipeline.records import LABELS
from pipeline.settings import load_settings

CUT, END = datetime(2026, 3, 1), datetime(2026, 4, 15)
BARS = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)
TEMPERATURES = (0.02, 0.05)


def figures(model, scores, relevant, labels) -> dict:
    probs = np.tile([zeroshot.IRRELEVANT_PROBS[c] for c in LABELS], (len(labels), 1))
    idx = np.flatnonzero(relevant)
    probs[idx] = model._probs(scores[idx])
    predicted = [LABELS[j] for j in probs.argmax(axis=1)]
    return {"macro_f1": round(classify.scores(labels, predicted, classify.SCORED_LABELS)["macro_f1"], 4),
            "ece": round(classify.expected_calibration_error(probs, labels), 4)}


def main() -> None:
    rt = Runtime(load_settings())
    records, articles = training_set(rt)
    model = zeroshot.ZeroShotModel.for_scenario(rt.scenario, rt.encoder)
    relevant = np.array([rt.relevance(a) for a in articles])
    scores = np.zeros((len(articles), 3))
    idx = np.flatnonzero(relevant)
    scores[idx] = model.case_scores([articles[i].title for i in idx], [articles[i].body() for i in idx], rt.encoder)
    labels = np.array([r.label for r in records])
    dated = np.array([a.published is not None for a in articles])
    before = dated & np.array([a.published is not None and a.published.replace(tzinfo=None) < CUT for a in articles])
    after = dated & np.array([a.published is not None and CUT <= a.published.replace(tzinfo=None) < END for a in articles])
    grid = []
    for bar in BARS:
        for temperature in TEMPERATURES:
            m = zeroshot.ZeroShotModel(model.prototypes, bar, temperature)
            grid.append({"none_bar": bar, "temperature": temperature,
                         **figures(m, scores[before], relevant[before], list(labels[before]))})
    for row in grid:
        print(json.dumps(row))
    best = max(grid, key=lambda r: (r["macro_f1"], -r["ece"]))
    print(json.dumps({"chosen_on_before_2026_03_01": best, "items": int(before.sum())}))
    shipped = zeroshot.ZeroShotModel(model.prototypes)
    print(json.dumps({"shipped": {"none_bar": shipped.none_bar, "temperature": shipped.temperature},
                      "time_split_2026_03_01_to_04_14": figures(shipped, scores[after], relevant[after], list(labels[after])),
                      "items": int(after.sum())}))


if __name__ == "__main__":
    main()
