"""Precision of the watchlist indicators on real news, before and after issue 14, from hand judgments.

    .venv/bin/python bench/indicator_precision.py --db STORE.duckdb --draw 30 > sample.jsonl   # draw a sample
    .venv/bin/python bench/indicator_precision.py --db STORE.duckdb                          # score bench/data/indicator_firings.jsonl

STORE: `signals import` of ../shared/data/spnn_dawn_geo/items.jsonl (the README's figures: the items
published 2026-02-15..2026-04-14). A "firing" here is one (indicator, article) match whose article's
label is one of the indicator's cases: the evidence behind a firing day.

    before  each pattern anywhere in the title, summary or text (the matcher and the pack's
            indicator definitions as of commit 3172cd6, read with `git show`)
    after   pattern and required actors in one sentence (pipeline/alerts.py `find_match`)

--draw N draws N firings of each version at random (seed 14) and prints them as JSONL with
`correct` left null, to be judged by reading each article (ids and judgments only: no text is
copied). Scoring reads the judged file, checks that every judged firing still fires in the
version(s) it was drawn for (a judged firing that a later, tighter definition no longer fires is
counted under `no_longer_fire` and left out: the rest stay a uniform sample of the narrower set),
and prints one JSON line: precision per version over its judged firings, and per indicator.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import alerts  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402
from pipeline.signals import article_predictions  # noqa: E402
from pipeline.store import Store  # noqa: E402

SAMPLE = ROOT / "bench" / "data" / "indicator_firings.jsonl"
BEFORE = "3172cd6"


def before_match(indicator, fields: dict) -> bool:
    """The matcher before issue 14: any pattern anywhere in any field."""
    return any(p.search(fields.get(name) or "") for name in alerts.FIELDS for p in indicator.patterns)


def pack_at(commit: str):
    """The scenario pack as of `commit`."""
    text = subprocess.run(["git", "show", f"{commit}:labels/iran-pakistan-2026/scenario.toml"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "iran-pakistan-2026"  # a pack's folder is named for its id
        folder.mkdir()
        (folder / "scenario.toml").write_text(text, encoding="utf-8")
        return load_scenario(folder)


def all_firings(store_path: Path, before_commit: str = BEFORE) -> dict[str, set[tuple[str, str]]]:
    """{'before': {(indicator, article id)}, 'after': {...}} over the whole store."""
    pack = load_scenario(ROOT / "labels" / "iran-pakistan-2026")
    old = {i.id: i for i in pack_at(before_commit).indicators}
    with Store(store_path, read_only=True) as store:
        articles = article_predictions(store, pack, text=True)
    out = {"before": set(), "after": set()}
    for row in articles.itertuples(index=False):
        fields = {"title": row.title, "summary": row.summary, "text": row.text}
        for indicator in pack.indicators:
            if row.label not in indicator.cases:
                continue
            if before_match(old[indicator.id], fields):
                out["before"].add((indicator.id, row.id))
            if alerts.find_match(indicator, fields):
                out["after"].add((indicator.id, row.id))
    return out


def draw(firings: dict, n: int, seed: int = 14) -> list[dict]:
    rng = random.Random(seed)
    drawn: dict[tuple[str, str], set[str]] = defaultdict(set)
    for version in ("before", "after"):
        for key in rng.sample(sorted(firings[version]), min(n, len(firings[version]))):
            drawn[key].add(version)
    return [{"indicator": k[0], "article_id": k[1], "drawn_for": sorted(v), "correct": None, "why": ""}
            for k, v in sorted(drawn.items())]


def score(firings: dict, judged: list[dict]) -> dict:
    result = {"bench": "indicator_precision", "sample": str(SAMPLE.relative_to(ROOT)), "judged": len(judged)}
    for version in ("before", "after"):
        drawn = [j for j in judged if version in j["drawn_for"]]
        # A definition tightened after the draw fires on a subset: the judged firings still in it are a
        # uniform sample of it (a uniform sample of a set, restricted to a subset, is uniform on the subset).
        rows = [j for j in drawn if (j["indicator"], j["article_id"]) in firings[version]]
        dropped = len(drawn) - len(rows)
        per = defaultdict(lambda: [0, 0])
        for j in rows:
            per[j["indicator"]][0] += bool(j["correct"])
            per[j["indicator"]][1] += 1
        right = sum(bool(j["correct"]) for j in rows)
        result[version] = {
            "firings_in_store": len(firings[version]), "judged": len(rows), "no_longer_fire": dropped, "correct": right,
            "precision": round(right / len(rows), 3) if rows else None,
            "per_indicator": {k: f"{a}/{b}" for k, (a, b) in sorted(per.items())},
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--draw", type=int, help="print a fresh sample of N firings per version to judge")
    args = parser.parse_args()
    firings = all_firings(args.db)
    if args.draw:
        for line in draw(firings, args.draw):
            print(json.dumps(line))
        return
    judged = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    unjudged = [j for j in judged if j["correct"] is None]
    if unjudged:
        raise SystemExit(f"{SAMPLE}: {len(unjudged)} firings not judged yet, e.g. {unjudged[0]['article_id']}")
    print(json.dumps(score(firings, judged)))


if __name__ == "__main__":
    main()
