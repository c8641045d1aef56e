"""Round 4 candidates: more US headlines (wklnd_gnews_headlines) that name Iran, one per distinct
title, not read in earlier rounds. Keywords only decide what is read.

    python scripts/select_round4.py --data ../shared/data --out DIR --n 800 --batches 2
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from select_round3 import labeled_ids, unread_iran_items, write_batch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--labels", type=Path, default=Path("labels/iran-pakistan-2026/labels"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=800)
    ap.add_argument("--batches", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2028)
    ap.add_argument("--first", type=int, default=17, help="number of the first batch file")
    args = ap.parse_args()
    pool = list(unread_iran_items(args.data / "wklnd_gnews_headlines" / "items.jsonl", labeled_ids(args.labels)))
    chosen = random.Random(args.seed).sample(pool, min(args.n, len(pool)))
    for b in range(args.batches):
        write_batch(args.out, f"batch_{b + args.first:02d}", chosen[b :: args.batches])
    print(f"{len(chosen)} of {len(pool)} unread headlines in {args.batches} batches")


if __name__ == "__main__":
    main()
