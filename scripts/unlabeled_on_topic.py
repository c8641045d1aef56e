"""What is left to label: the shared items past the relevance gate that no label file (nor the held-out round 6) names.

    PYTHONPATH=$PWD .venv/bin/python scripts/unlabeled_on_topic.py [--split 2026-03-01] [--titles 15]

Prints one JSON line: per source, the unlabeled items past the gate, how many were published before `--split`
(the bench's training period), and how many repeat the title of an item already labeled (an hourly
snapshot of a headline already read). With `--titles N`, also prints N unlabeled `spnn_dawn_geo` titles drawn
at random (seed 1) to stderr, to judge what kind of items they are. Issue 11 asks for 800 `base` labels; this
says whether the pool still holds candidates.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.files import read_jsonl  # noqa: E402
from pipeline.nlp import Relevance  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402


def title_key(title: str) -> str:
    return " ".join(title.lower().split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="2026-03-01", help="count the items published before this day apart")
    parser.add_argument("--titles", type=int, default=0, help="print this many unlabeled spnn_dawn_geo titles (stderr)")
    args = parser.parse_args()
    settings = load_settings()
    pack = load_scenario(settings.labels_dir / settings.scenario)
    named = {json.loads(line)["id"] for folder in ("labels", "held-out-round6")
             for path in sorted((pack.folder / folder).glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    relevant = Relevance(pack)
    split = datetime.fromisoformat(args.split)  # published times are naive UTC
    out: dict[str, dict] = {}
    for items in sorted(settings.shared_data.glob("*/items.jsonl")):
        articles = read_jsonl(items).articles
        read_titles = {title_key(a.title) for a in articles if a.id in named}
        left = [a for a in articles if a.id not in named and relevant(a)]
        if not left:
            continue
        counts = Counter()
        for a in left:
            counts["unlabeled"] += 1
            counts["before_split"] += bool(a.published and a.published < split)
            counts["title_already_read"] += title_key(a.title) in read_titles
        out[items.parent.name] = dict(counts)
        if args.titles and items.parent.name == "spnn_dawn_geo":
            for a in random.Random(1).sample(left, min(args.titles, len(left))):
                print(a.published.date() if a.published else "-", a.title, file=sys.stderr)
    print(json.dumps({"split": args.split, "by_source": out}))


if __name__ == "__main__":
    main()
