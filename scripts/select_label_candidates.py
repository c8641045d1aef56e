"""Select the candidate pool for labeling the iran-pakistan-2026 scenario.

This only decides which items a person reads; it never assigns a label.
Selection: every Iran+Pakistan item that mentions a watchlist term of the
`accelerated` case (so each possible `accelerated` item is read), a
month-stratified sample of the other Iran items, Iran headlines, and
off-topic items from every source for a realistic share of `none`.

    python scripts/select_label_candidates.py --data ../shared/data --out DIR --batches 7
writes DIR/batch_01.txt ... (one `source<TAB>id` per line).

A second round draws more Iran items from spnn_dawn_geo that the first round
did not pick, in proportion to each month's volume:

    python scripts/select_label_candidates.py --data ../shared/data --out DIR2 --batches 3 \
        --extra-spnn 600 --exclude DIR
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import defaultdict
from pathlib import Path

IRAN = re.compile(r"Iran|Tehran|Hormuz|Araghchi|Khamenei|Pezeshkian|Sistan|Baluchestan|Zahedan|Jaish al-Adl|Chabahar|IRGC", re.I)
PAKISTAN = re.compile(r"Pakistan|Islamabad|Sharif|Dar\b|Munir|Balochistan|Taftan|Gwadar", re.I)
ACCELERATED_TERMS = re.compile(
    r"gas pipeline|IP pipeline|barter|swap|pact|joint security|security (framework|cooperation|agreement)"
    r"|intelligence[- ]sharing|border market|CPEC|Gwadar|electricity|free trade|preferential trade"
    r"|trade target|\$10 ?b|10 ?billion|trilateral|bloc|railway|memorand|MoU",
    re.I,
)
OFF_TOPIC_QUOTA = {
    "spnn_dawn_geo": 90,
    "wklnd_gnews_headlines": 60,
    "rumca_rss_2026jan": 50,
    "huffpost_2018_2022_slice": 50,
    "fwd_headlines_2021_22": 50,
}


def blob(item: dict) -> str:
    return " ".join([item["title"], item["summary"], item["text"][:3000]])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--batches", type=int, default=7)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--batches-from", type=int, default=1, help="number of the first batch file")
    ap.add_argument("--extra-spnn", type=int, default=0, help="second round: this many more spnn Iran items")
    ap.add_argument("--exclude", type=Path, help="second round: folder of earlier batch files to leave out")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    if args.extra_spnn:
        taken = {line.split("\t")[1] for f in sorted(args.exclude.glob("batch_*.txt")) for line in f.read_text().splitlines()}
        pool = [
            (item["published"], "spnn_dawn_geo", item["id"])
            for item in map(json.loads, (args.data / "spnn_dawn_geo" / "items.jsonl").open(encoding="utf-8"))
            if item["id"] not in taken and IRAN.search(blob(item))
        ]
        write_batches(rng.sample(pool, min(args.extra_spnn, len(pool))), args.out, args.batches, args.batches_from)
        return

    chosen: list[tuple[str, str, str]] = []  # (published, source, id)
    for source, quota in OFF_TOPIC_QUOTA.items():
        iran_other: dict[str, list] = defaultdict(list)
        off_topic = []
        for line in (args.data / source / "items.jsonl").open(encoding="utf-8"):
            item = json.loads(line)
            key = (item["published"], source, item["id"])
            text = blob(item)
            if IRAN.search(text):
                if source == "spnn_dawn_geo" and PAKISTAN.search(text) and ACCELERATED_TERMS.search(text):
                    chosen.append(key)
                else:
                    iran_other[item["published"][:7]].append(key)
            else:
                off_topic.append(key)
        chosen += rng.sample(off_topic, quota)
        per_month = {"spnn_dawn_geo": 40, "wklnd_gnews_headlines": 20, "rumca_rss_2026jan": 60}.get(source, 2)
        for month, keys in sorted(iran_other.items()):
            chosen += rng.sample(keys, min(per_month, len(keys)))

    rng.shuffle(chosen)
    write_batches(chosen, args.out, args.batches, args.batches_from)


def write_batches(chosen: list[tuple[str, str, str]], out: Path, batches: int, first: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for b in range(batches):
        part = sorted(chosen[b::batches])
        (out / f"batch_{b + first:02d}.txt").write_text("".join(f"{s}\t{i}\n" for _, s, i in part))
    print(f"{len(chosen)} candidates in {batches} batches")


if __name__ == "__main__":
    main()
