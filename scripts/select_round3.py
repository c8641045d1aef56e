"""Round 3 candidates: every unlabeled Iran item the pool still holds, so the cases the
first rounds under-covered (border clashes, Sistan-Baluchestan attacks, recalled diplomats,
sanctions and IMF conditions tied to Iran, suspended talks, pipeline/barter/swap/pact news)
get read. Keywords only decide what is read; every label is a person's judgment.

    python scripts/select_round3.py --data ../shared/data --out DIR --batches 6

Writes DIR/batch_NN.txt (`source<TAB>id`, shuffled) and DIR/batch_NN.items.jsonl (the items,
for scripts/show_items.py). Near-identical headlines (hourly snapshots) are read once.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from select_label_candidates import IRAN, blob

SOURCES = {  # source -> at most this many items (None: all)
    "spnn_dawn_geo": None,
    "wklnd_gnews_headlines": 700,
    "rumca_rss_2026jan": 200,
    "huffpost_2018_2022_slice": None,
    "fwd_headlines_2021_22": None,
}
ENGLISH = re.compile(r"\b(the|and|of|to|in|with)\b", re.I)


def labeled_ids(labels_dir: Path) -> set[str]:
    return {json.loads(line)["id"] for f in labels_dir.glob("*.jsonl") for line in f.open(encoding="utf-8") if line.strip()}


def unread_iran_items(path: Path, done: set[str], keep=None):
    """The items of a shared `items.jsonl` that name Iran, are not in `done`, and pass `keep`,
    one per distinct headline (hourly snapshots repeat a headline with a ' - Outlet' tail)."""
    seen_titles = set()
    for line in path.open(encoding="utf-8"):
        item = json.loads(line)
        title_key = item["title"].lower().split(" - ")[0].strip()
        if item["id"] in done or title_key in seen_titles or not IRAN.search(blob(item)):
            continue
        if keep is not None and not keep(item):
            continue
        seen_titles.add(title_key)
        yield item


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--labels", type=Path, default=Path("labels/iran-pakistan-2026/labels"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--seed", type=int, default=2027)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    done = labeled_ids(args.labels)
    chosen: list[dict] = []
    for source, cap in SOURCES.items():
        keep = (lambda i: bool(ENGLISH.search(i["title"] + " " + i["summary"]))) if source == "rumca_rss_2026jan" else None
        pool = list(unread_iran_items(args.data / source / "items.jsonl", done, keep))
        if source == "wklnd_gnews_headlines":  # every pre-war headline, then a sample of the war months
            early = [i for i in pool if i["published"] < "2026-03"]
            late = [i for i in pool if i["published"] >= "2026-03"]
            pool = early + rng.sample(late, max(0, min(len(late), cap - len(early))))
        elif cap is not None:
            pool = rng.sample(pool, min(cap, len(pool)))
        chosen += pool
    rng.shuffle(chosen)
    for b in range(args.batches):
        write_batch(args.out, f"batch_{b + 11:02d}", chosen[b :: args.batches])
    print(f"{len(chosen)} candidates in {args.batches} batches")


def write_batch(out: Path, name: str, items: list[dict]) -> None:
    """`name.txt` (`source<TAB>id` a line) and `name.items.jsonl` (the items, for show_items.py)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.txt").write_text("".join(f"{i['source']}\t{i['id']}\n" for i in items))
    with (out / f"{name}.items.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(i, ensure_ascii=False) + "\n" for i in items)


if __name__ == "__main__":
    main()
