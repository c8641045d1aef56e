"""What share of the real pool the cheap relevance step sends through the spaCy parser.

    python bench/relevance_share.py [--data ../shared/data]

Prints a line per source and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.files import read_jsonl
from pipeline.nlp import Relevance
from pipeline.scenario import load_scenario
from pipeline.settings import PROJECT_ROOT

SOURCES = ("spnn_dawn_geo", "wklnd_gnews_headlines", "rumca_rss_2026jan", "huffpost_2018_2022_slice", "fwd_headlines_2021_22")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=PROJECT_ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    relevance = Relevance(load_scenario(PROJECT_ROOT / "labels" / "iran-pakistan-2026"))
    result, total, parsed = {}, 0, 0
    for source in SOURCES:
        articles = read_jsonl(args.data / source / "items.jsonl").articles
        kept = sum(relevance(a) for a in articles)
        words_all = sum(len(a.body().split()) for a in articles)
        words_kept = sum(len(a.body().split()) for a in articles if relevance(a))
        result[source] = {"items": len(articles), "parsed": kept, "share": round(kept / len(articles), 4),
                          "word_share": round(words_kept / max(words_all, 1), 4)}
        total, parsed = total + len(articles), parsed + kept
        print(f"{source:28} {kept:6} of {len(articles):6} items parsed ({kept / len(articles):.1%}), "
              f"{result[source]['word_share']:.1%} of the words")
    result["all"] = {"items": total, "parsed": parsed, "share": round(parsed / total, 4)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
