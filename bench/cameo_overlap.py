"""How alike the CAMEO train and test splits are: near-duplicates and the label mix, one JSON line.

The event coder's out-of-fold CAMEO accuracy (about 0.84-0.89) is far above its CAMEO test accuracy (0.71).
This checks two plain reasons that would not be the coder's: near-duplicate sentences inside train (folds
that share a story flatter the out-of-fold figure) and a different label mix in test.

    .venv/bin/python bench/cameo_overlap.py

In: /work/shared/data/conflibert_cameo_satp/labeled.jsonl, task `cameo_class` (read with
`eval_events_cameo.read_split`). Reading the test split's labels here chooses nothing: no coder is run.
Out: {train_n, test_n, train_with_train_neighbour, test_with_train_neighbour, label_share}: the share of
sentences whose nearest other train sentence reaches each TF-IDF cosine (0.5, 0.7, 0.9), and each
split's share of every class.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_events_cameo import CLASSES, DATA, read_split  # noqa: E402

THRESHOLDS = (0.5, 0.7, 0.9)


def main() -> None:
    train, test = read_split(DATA, "train"), read_split(DATA, "test")
    vectorizer = TfidfVectorizer(sublinear_tf=True).fit([text for text, _ in train + test])
    train_x = vectorizer.transform([text for text, _ in train])
    test_x = vectorizer.transform([text for text, _ in test])
    within = (train_x @ train_x.T).toarray()
    np.fill_diagonal(within, 0.0)
    nearest_within = within.max(axis=1)
    nearest_across = (test_x @ train_x.T).toarray().max(axis=1)

    def shares(nearest: np.ndarray) -> dict:
        return {str(t): round(float((nearest >= t).mean()), 4) for t in THRESHOLDS}

    def label_share(rows: list[tuple[str, str]]) -> dict:
        counts = Counter(label for _, label in rows)
        return {name: round(counts[name] / len(rows), 3) for name in CLASSES}

    print(json.dumps({"bench": "cameo_overlap", "train_n": len(train), "test_n": len(test),
                      "train_with_train_neighbour": shares(nearest_within),
                      "test_with_train_neighbour": shares(nearest_across),
                      "label_share": {"train": label_share(train), "test": label_share(test)}}))


if __name__ == "__main__":
    main()
