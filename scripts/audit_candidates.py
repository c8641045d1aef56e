"""Audit candidates: labeled items the classifier most confidently disputes, for a person to re-read.

    python scripts/audit_candidates.py --n 150 --out DIR

Out-of-fold predictions (5 folds, the shipped recipe, so no item is scored by a model that
saw its label); the items whose predicted label differs from the recorded one, ranked by the
predicted label's probability. Writes DIR/audit.txt (`source<TAB>id`), DIR/audit.items.jsonl
(for show_items.py) and DIR/audit.disputes.jsonl (id, recorded label, model label, probability).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import classify  # noqa: E402
from pipeline.jobs import Runtime, training_set  # noqa: E402
from pipeline.records import LABELS  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    rt = Runtime(load_settings())
    records, articles = training_set(rt)
    y = np.array([r.label for r in records])
    relevant = np.array([rt.relevance(a) for a in articles])
    frame = classify.article_frame(articles, rt.featurizer)
    probs = np.zeros((len(y), len(LABELS)))
    strata = np.where(y == "accelerated", "base", y)  # too few accelerated items to stratify on
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(frame, strata):
        model = classify.fit([articles[i] for i in train], y[train], relevant[train], rt.featurizer,
                             rt.scenario.prototypes(), frame=frame.iloc[train].reset_index(drop=True))
        probs[test] = model.predict_proba([articles[i] for i in test], relevant[test], rt.encoder)
    predicted = probs.argmax(axis=1)
    disputes = [i for i in range(len(y)) if LABELS[predicted[i]] != y[i]]
    disputes.sort(key=lambda i: -probs[i, predicted[i]])
    chosen = disputes[: args.n]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "audit.txt").write_text("".join(f"{records[i].source}\t{records[i].id}\n" for i in chosen))
    with (args.out / "audit.items.jsonl").open("w", encoding="utf-8") as fh:
        for i in chosen:
            a = articles[i]
            fh.write(json.dumps({"id": a.id, "source": records[i].source, "outlet": a.outlet, "title": a.title,
                                 "summary": a.summary, "text": a.text, "published": a.published.isoformat() if a.published else "",
                                 "link": a.link}, ensure_ascii=False) + "\n")
    with (args.out / "audit.disputes.jsonl").open("w", encoding="utf-8") as fh:
        for i in chosen:
            fh.write(json.dumps({"id": records[i].id, "recorded": y[i], "model": LABELS[predicted[i]],
                                 "probability": round(float(probs[i, predicted[i]]), 3)}) + "\n")
    print(json.dumps({"labeled": len(y), "disputed": len(disputes), "written": len(chosen)}))


if __name__ == "__main__":
    main()
