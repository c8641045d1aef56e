"""Coverage of a scenario's label set: per class, per source, per month, headline-only vs full text.

    python scripts/label_stats.py [--scenario iran-pakistan-2026] [--data ../shared/data]

Prints Markdown tables (pasted into labels/<scenario>/README.md).
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

from pipeline.labels import KnownIds, load_labels, load_shared_articles
from pipeline.records import LABELS

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="iran-pakistan-2026")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    records = load_labels(ROOT / "labels" / args.scenario / "labels", KnownIds(args.data))
    wanted: dict[str, set[str]] = defaultdict(set)
    for r in records:
        wanted[r.source].add(r.id)
    articles = load_shared_articles(args.data, wanted)

    def table(title: str, rows: dict[str, Counter]) -> None:
        print(f"\n| {title} | " + " | ".join(LABELS) + " | total |\n|---|" + "---:|" * (len(LABELS) + 1))
        for key in sorted(rows):
            c = rows[key]
            print(f"| {key} | " + " | ".join(str(c[l]) for l in LABELS) + f" | {sum(c.values())} |")

    by_class = Counter(r.label for r in records)
    print(f"{len(records)} labels: " + ", ".join(f"{l} {by_class[l]}" for l in LABELS))
    by_source: dict[str, Counter] = defaultdict(Counter)
    by_month: dict[str, Counter] = defaultdict(Counter)
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        a = articles.get(r.id)
        by_source[r.source][r.label] += 1
        if a is not None and a.published and a.published.year >= 2025:
            by_month[a.published.strftime("%Y-%m")][r.label] += 1
        kind = "headline only" if a is not None and not (a.summary or a.text) else "headline + summary/text"
        by_kind[kind][r.label] += 1
    table("source", by_source)
    table("month (2025-26 items)", by_month)
    table("kind", by_kind)


if __name__ == "__main__":
    main()
