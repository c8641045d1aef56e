"""Main-event accuracy of the event layer on hand-labelled Iran–Pakistan news sentences.

In: bench/data/event_gold_v1.jsonl, one row per sentence:
    {"article_id", "sentence_index", "gold_type", "note"}
`gold_type` is a PLOVER type or "NONE", decided by a person reading the
sentence; `note` says why in the labeller's own words. The file holds no
article text: the sentence is re-derived at run time from
/work/shared/data/spnn_dawn_geo/items.jsonl, as sentence `sentence_index` of
`Article.body()` under the project's spaCy pipeline (sentence boundaries come
from the parser, which runs before the actor ruler, so the actor lists do not
move them).
Out: per-type precision/recall and the share of sentences whose predicted main
type equals the gold, the last line one JSON object.

    .venv/bin/python bench/eval_events_scenario.py
    .venv/bin/python bench/eval_events_scenario.py --show       # every sentence, gold vs predicted
    .venv/bin/python bench/eval_events_scenario.py --draw 80    # how the sample was drawn (prints text)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.events import EventExtractor, load_event_rules, load_gazetteer, merge_actors  # noqa: E402
from pipeline.nlp import ActorIndex, build_nlp  # noqa: E402
from pipeline.records import Article, Event  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout; a git worktree under /work/wt/<name> finds it one level further up.
SHARED = next((p for p in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data") if p.exists()),
              ROOT.parent / "shared" / "data")
ITEMS = SHARED / "spnn_dawn_geo" / "items.jsonl"
GOLD = ROOT / "bench" / "data" / "event_gold_v1.jsonl"
PACK = ROOT / "labels" / "iran-pakistan-2026"
SEED = 2026
IRAN = re.compile(r"\b(Iran|Iranian|Tehran)\b")
PAKISTAN = re.compile(r"\b(Pakistan|Pakistani|Islamabad)\b")


def read_articles(path: Path) -> dict[str, Article]:
    """Articles of the shared items file, by id."""
    articles = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            published = row.get("published")
            articles[row["id"]] = Article(
                id=row["id"], source=row.get("source", ""), outlet=row.get("outlet", ""),
                title=row.get("title", ""), summary=row.get("summary", ""), text=row.get("text", ""),
                published=datetime.fromisoformat(published.replace("Z", "+00:00")) if published else None,
                link=row.get("link", ""),
            )
    return articles


def main_type(events: list[Event]) -> str:
    """Type of the sentence's main event, 'NONE' without one; a negated main event counts as REJECT."""
    if not events:
        return "NONE"
    return "REJECT" if events[0].negated else events[0].type


def sentence_events(extractor: EventExtractor, doc, index: int) -> tuple[str, list[Event]]:
    """(text of sentence `index`, its events) in a parsed article."""
    sentence = list(doc.sents)[index]
    return sentence.text.strip(), [e for e in extractor(doc) if e.sentence_index == index]


def draw(nlp, index: ActorIndex, articles: dict[str, Article], n: int) -> None:
    """Print a deterministic sample: n articles naming Iran and Pakistan, one actor sentence of each."""
    pool = sorted(a.id for a in articles.values() if IRAN.search(a.body()) and PAKISTAN.search(a.body()))
    rng = random.Random(SEED)
    for article_id in rng.sample(pool, n):
        doc = nlp(articles[article_id].body())
        candidates = [
            i for i, s in enumerate(doc.sents)
            if 8 <= len(s) <= 60 and any(index.resolve(e) for e in s.ents)
        ]
        if candidates:
            i = rng.choice(candidates)
            print(json.dumps({"article_id": article_id, "sentence_index": i, "text": list(doc.sents)[i].text.strip()}))


def per_type(gold: list[str], pred: list[str]) -> dict[str, dict]:
    """Precision, recall and support for every type seen in gold or predictions."""
    out = {}
    for t in sorted(set(gold) | set(pred)):
        tp = sum(g == p == t for g, p in zip(gold, pred))
        n_pred, n_gold = pred.count(t), gold.count(t)
        out[t] = {
            "precision": round(tp / n_pred, 3) if n_pred else None,
            "recall": round(tp / n_gold, 3) if n_gold else None,
            "gold": n_gold,
            "predicted": n_pred,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draw", type=int, default=0, help="print a fresh sample of this many sentences")
    parser.add_argument("--show", action="store_true", help="print each sentence with gold and predicted type")
    args = parser.parse_args()

    actors = merge_actors(load_gazetteer(), load_scenario(PACK).actors)
    nlp = build_nlp(actors)
    index = ActorIndex(actors)
    articles = read_articles(ITEMS)
    if args.draw:
        draw(nlp, index, articles, args.draw)
        return
    rules = load_event_rules()
    extractor = EventExtractor(nlp, rules, index)
    gold_rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    gold, pred = [], []
    for row in gold_rows:
        text, events = sentence_events(extractor, nlp(articles[row["article_id"]].body()), row["sentence_index"])
        gold.append(row["gold_type"])
        pred.append(main_type(events))
        if args.show:
            mark = "ok " if gold[-1] == pred[-1] else "XX "
            print(f"{mark}{gold[-1]:<11} {pred[-1]:<11} {[(e.type, e.trigger, e.source, e.target) for e in events][:3]}\n    {text}")
    types = per_type(gold, pred)
    for t, row in types.items():
        print(f"{t:<12} precision {row['precision']!s:<6} recall {row['recall']!s:<6} gold {row['gold']:>3} predicted {row['predicted']:>3}")
    confusion = Counter((g, p) for g, p in zip(gold, pred) if g != p)
    summary = {
        "bench": "eval_events_scenario",
        "rules": rules.version,
        "gold_file": GOLD.name,
        "n": len(gold),
        "main_type_accuracy": round(sum(g == p for g, p in zip(gold, pred)) / len(gold), 4),
        "event_detection_accuracy": round(sum((g == "NONE") == (p == "NONE") for g, p in zip(gold, pred)) / len(gold), 4),
        "per_type": types,
        "top_confusions": [f"{g}->{p}: {c}" for (g, p), c in confusion.most_common(8)],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
