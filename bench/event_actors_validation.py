"""Source and target accuracy of the event coder on the validation sentences (not the fresh sample).

    .venv/bin/python bench/event_actors_validation.py           # one JSON line
    .venv/bin/python bench/event_actors_validation.py --show    # every miss, gold against coded

In: bench/data/event_actors_v1.jsonl, the 131 event sentences of the training pool
(bench/data/event_gold_v1.jsonl and event_train_v1.jsonl, gold type not NONE), each with
the source and target read by a person (same conventions as the fresh sample: the canonical
actor name, or the entity text for an actor the gazetteer lacks, empty where the sentence
does not name one) and a note in the labeller's words. Actor fixes are chosen on this file;
the fresh sample (`bench/events.py`) only reports.
Out: one JSON line, {actor_n, source_accuracy, target_accuracy}: the share of sentences
whose main coded event's source (target) equals the gold one, an empty slot matching an
empty gold slot.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_events_scenario import ITEMS, PACK, read_articles  # noqa: E402
from events import same_actor  # noqa: E402

from pipeline.events import load_event_coder, load_gazetteer, merge_actors  # noqa: E402
from pipeline.nlp import build_nlp  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402

GOLD = Path(__file__).resolve().parent / "data" / "event_actors_v1.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every sentence whose source or target is missed")
    args = parser.parse_args()

    actors = merge_actors(load_gazetteer(), load_scenario(PACK).actors)
    nlp = build_nlp(actors)
    coder = load_event_coder(nlp, actors)
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = read_articles(ITEMS)
    sources = targets = 0
    for row, doc in zip(rows, nlp.pipe((articles[r["article_id"]].body() for r in rows), batch_size=16)):
        events = [e for e in coder(doc) if e.sentence_index == row["sentence_index"]]
        main = events[0] if events else None
        source_ok = same_actor(main.source if main else "", row["source"])
        target_ok = same_actor(main.target if main else "", row["target"])
        sources, targets = sources + source_ok, targets + target_ok
        if args.show and not (source_ok and target_ok):
            coded = (main.type, main.trigger, main.source, main.target) if main else None
            print(f"{'S' if not source_ok else ' '}{'T' if not target_ok else ' '} {row['gold_type']:<11} gold "
                  f"{row['source']!r}->{row['target']!r} coded {coded} | {row['note']}", file=sys.stderr)
    print(json.dumps({"bench": "event_actors_validation", "coder": coder.version, "actor_n": len(rows),
                      "source_accuracy": round(sources / len(rows), 4), "target_accuracy": round(targets / len(rows), 4)}))


if __name__ == "__main__":
    main()
