"""Near-duplicate headlines with different labels: the selection of label audit round 3.

    PYTHONPATH=$PWD .venv/bin/python scripts/near_duplicate_labels.py [--batches DIR]

Pairs of on-topic labeled items (past the relevance gate) whose all-mpnet-base-v2 headline vectors
(`pipeline.mpnet`, from the vector cache) reach a cosine threshold. Prints, per threshold, how many pairs
there are and how many carry different labels, one JSON line each. With `--batches DIR`, writes the items
of the differing pairs at 0.85 as four `source<TAB>id` reading batches (`scripts/show_items.py` reads them;
no label is written), shuffled with a fixed seed. The selection uses no classifier.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from pipeline import mpnet
from pipeline.jobs import Runtime, training_set
from pipeline.settings import load_settings

THRESHOLDS = (0.95, 0.90, 0.85)
SEED = 33


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=Path, help="write the differing pairs' items at 0.85 as reading batches here")
    args = ap.parse_args()
    rt = Runtime(load_settings())
    records, articles = training_set(rt)
    on_topic = [i for i, a in enumerate(articles) if rt.relevance(a)]
    vectors = np.array(mpnet.shared_cache().vectors([articles[i].title or "" for i in on_topic]))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 0)
    differing = {}
    for threshold in THRESHOLDS:
        first, second = np.where(np.triu(similarity > threshold))
        pairs = [(on_topic[i], on_topic[j]) for i, j in zip(first, second)]
        differing[threshold] = [(i, j) for i, j in pairs if records[i].label != records[j].label]
        print(json.dumps({"cosine_above": threshold, "pairs": len(pairs), "labels_differ": len(differing[threshold])}))
    if args.batches:
        items = sorted({k for pair in differing[0.85] for k in pair})
        random.Random(SEED).shuffle(items)
        args.batches.mkdir(parents=True, exist_ok=True)
        for part in range(4):
            lines = [f"{articles[k].source}\t{articles[k].id}\n" for k in items[part::4]]
            (args.batches / f"batch_{part}.txt").write_text("".join(lines), encoding="utf-8")
        print(json.dumps({"items": len(items), "batches": str(args.batches)}))


if __name__ == "__main__":
    main()
