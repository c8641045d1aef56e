"""Round 6 candidates: the January 2026 RSS archive's English Iran items that no round has read yet.

    python scripts/select_round6.py --data ../shared/data --out DIR

Round 3 read a sample of 200 of `rumca_rss_2026jan`'s English Iran items; this round reads the rest, so every
source in ../shared/data has had every Iran item read (issue 11: "search every source"). One item per distinct
headline, as in round 3 (`select_round3.unread_iran_items`), and only items past the pack's relevance gate
(the others get `none` from the gate and teach the model nothing); keywords only decide what is read, every label
is a person's judgment. Writes DIR/batch_NN.txt (`source<TAB>id`, shuffled) and DIR/batch_NN.items.jsonl.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from select_round3 import ENGLISH, labeled_ids, unread_iran_items, write_batch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline.nlp import Relevance  # noqa: E402
from pipeline.records import Article  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402

SOURCE = "rumca_rss_2026jan"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--labels", type=Path, default=Path("labels/iran-pakistan-2026/labels"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--seed", type=int, default=2031)
    args = ap.parse_args()
    gate = Relevance(load_scenario(args.labels.parent))
    english = lambda item: bool(ENGLISH.search(item["title"] + " " + item["summary"]))  # noqa: E731
    keep = lambda item: english(item) and gate(Article(item["id"], SOURCE, item.get("outlet", ""), item["title"], item.get("summary") or "", item.get("text") or "", None, ""))  # noqa: E731
    chosen = list(unread_iran_items(args.data / SOURCE / "items.jsonl", labeled_ids(args.labels), keep))
    random.Random(args.seed).shuffle(chosen)
    for b in range(args.batches):
        write_batch(args.out, f"batch_{b + 22:02d}", chosen[b :: args.batches])
    print(f"{len(chosen)} candidates in {args.batches} batches")


if __name__ == "__main__":
    main()
