"""Each pack's zero-shot calls over one shared folder, month by month: does each trend follow its own question?

    PYTHONPATH=. .venv/bin/python scripts/zero_shot_trend.py --scenario iran-pakistan-2026 \
        --scenario india-pakistan-2025 --source spnn_dawn_geo

For every pack, every article of ../shared/data/<source>/items.jsonl is classified with the
zero-shot recipe (`pipeline.zeroshot`, no trained model), and the table counts, per month,
the articles called each case (articles called `none` are left out). A stand-in for the
per-pack `signals trend` until the store runs several packs at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from pipeline.encoder import load_encoder
from pipeline.files import article_from_record
from pipeline.records import CASES, LABELS
from pipeline.scenario import load_scenario
from pipeline.settings import PROJECT_ROOT, load_settings
from pipeline.zeroshot import zero_shot_proba

BATCH = 2000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", required=True, help="a folder under labels/ (repeatable)")
    parser.add_argument("--source", default="spnn_dawn_geo", help="a folder of the shared data")
    args = parser.parse_args()
    settings = load_settings(None)
    encoder = load_encoder(settings.encoders_dir, settings.encoder)
    with (settings.shared_data / args.source / "items.jsonl").open(encoding="utf-8") as handle:
        articles = [article_from_record(json.loads(line)) for line in handle if line.strip()]
    articles = [a for a in articles if a.published is not None]
    months = sorted({a.published.strftime("%Y-%m") for a in articles})
    for name in args.scenario:
        pack = load_scenario(PROJECT_ROOT / "labels" / name)
        counts: Counter = Counter()
        for start in range(0, len(articles), BATCH):
            chunk = articles[start:start + BATCH]
            for article, row in zip(chunk, zero_shot_proba(pack, chunk, encoder)):
                counts[article.published.strftime("%Y-%m"), LABELS[int(row.argmax())]] += 1
        print(f"\n{pack.id} (zero-shot): articles called each case per month")
        print("month    " + "".join(f"{c:>13}" for c in CASES))
        for month in months:
            print(f"{month}  " + "".join(f"{counts[month, c]:>13}" for c in CASES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
