"""Print items of a candidate batch for a person to read and label.

    python scripts/show_items.py BATCH.txt --start 0 --count 20 [--data ../shared/data] [--chars 1800]

BATCH.txt has one `source<TAB>id` per line (see select_label_candidates.py).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def load_index(data: Path, wanted: dict[str, set[str]]) -> dict[str, dict]:
    found = {}
    for source, ids in wanted.items():
        for line in (data / source / "items.jsonl").open(encoding="utf-8"):
            item = json.loads(line)
            if item["id"] in ids:
                found[item["id"]] = item
    return found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("batch", type=Path)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--chars", type=int, default=1800)
    args = ap.parse_args()
    rows = [line.split("\t") for line in args.batch.read_text().splitlines() if line.strip()]
    rows = rows[args.start : args.start + args.count]
    wanted: dict[str, set[str]] = {}
    for source, item_id in rows:
        wanted.setdefault(source, set()).add(item_id)
    sidecar = args.batch.with_suffix(".items.jsonl")  # written by select_round3.py
    if sidecar.exists():
        items = {i["id"]: i for i in map(json.loads, sidecar.open(encoding="utf-8"))}
    else:
        items = load_index(args.data, wanted)
    for n, (source, item_id) in enumerate(rows, start=args.start):
        it = items[item_id]
        print(f"=== #{n} id={item_id} source={source} outlet={it['outlet']} published={it['published']}")
        print(f"TITLE: {it['title']}")
        summary, text = it["summary"].strip(), it["text"].strip()
        if summary and not text.startswith(summary[:80]):
            print(f"SUMMARY: {summary[:600]}")
        if text:
            print(f"TEXT: {text[: args.chars]}{' [...]' if len(text) > args.chars else ''}")
        print()


if __name__ == "__main__":
    main()
