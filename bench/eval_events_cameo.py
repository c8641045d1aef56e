"""Quad-class accuracy of the event layer on the ConfliBERT CAMEO sentences.

In: /work/shared/data/conflibert_cameo_satp/labeled.jsonl, task `cameo_class`
(label 0 neutral, 1 verbal cooperation, 2 material cooperation, 3 verbal
conflict, 4 material conflict; see that folder's PROVENANCE.md).
Out: per-split figures on stdout, the last line one JSON object.

The prediction for a sentence is the quad class of its main event (the first
event `EventExtractor` returns); no event predicts "neutral", and a negated
main event counts as REJECT (verbal conflict). Patterns are
tuned on the `train` split only; the figures that count are the `test` split's.

    .venv/bin/python bench/eval_events_cameo.py            # test split
    .venv/bin/python bench/eval_events_cameo.py --split train --errors 40
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.events import EventExtractor, load_event_rules, load_gazetteer, merge_actors, quad_class  # noqa: E402
from pipeline.nlp import ActorIndex, build_nlp  # noqa: E402
from pipeline.records import Event  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data") if p.exists()),
              ROOT.parent / "shared" / "data")
DATA = SHARED / "conflibert_cameo_satp" / "labeled.jsonl"
PACK = ROOT / "labels" / "iran-pakistan-2026"
CLASSES = ("neutral", "verbal_cooperation", "material_cooperation", "verbal_conflict", "material_conflict")


def read_split(path: Path, split: str) -> list[tuple[str, str]]:
    """(sentence, gold class name) for the cameo_class rows of one split."""
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["task"] == "cameo_class" and row["split"] == split:
                rows.append((row["text"], CLASSES[int(row["label"])]))
    return rows


def main_class(events: list[Event]) -> tuple[str, str]:
    """(class, type) of the main event: 'neutral' without one; a negated event ('will not lift the ban',
    'failed to reach agreement') counts as a refusal, REJECT, as CAMEO and PLOVER code it."""
    if not events:
        return "neutral", ""
    main = events[0]
    event_type = "REJECT" if main.negated else main.type
    return quad_class(event_type), main.type + ("(neg)" if main.negated else "")


def predict(nlp, extractor: EventExtractor, texts: list[str]) -> list[tuple[str, str]]:
    """(predicted class, main event type or '') per text."""
    return [main_class(extractor(doc)) for doc in nlp.pipe(texts, batch_size=64)]


def score(gold: list[str], pred: list[str]) -> dict:
    """Accuracy over all five classes, over the four quad classes (gold neutral dropped), and a confusion matrix."""
    pairs = list(zip(gold, pred))
    quad = [(g, p) for g, p in pairs if g != "neutral"]
    confusion = Counter(pairs)
    return {
        "n": len(pairs),
        "accuracy_5class": round(sum(g == p for g, p in pairs) / len(pairs), 4),
        "n_quad": len(quad),
        "accuracy_4quad": round(sum(g == p for g, p in quad) / len(quad), 4),
        "no_event_share": round(sum(p == "neutral" for p in pred) / len(pred), 4),
        "confusion": {g: {p: confusion[(g, p)] for p in CLASSES} for g in CLASSES},
    }


def print_confusion(confusion: dict) -> None:
    print("gold \\ predicted".ljust(22) + "".join(c[:12].rjust(13) for c in CLASSES))
    for g in CLASSES:
        print(g.ljust(22) + "".join(str(confusion[g][p]).rjust(13) for p in CLASSES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=("train", "test"))
    parser.add_argument("--errors", type=int, default=0, help="print this many misclassified sentences")
    args = parser.parse_args()

    actors = merge_actors(load_gazetteer(), load_scenario(PACK).actors)
    nlp = build_nlp(actors)
    rules = load_event_rules()
    extractor = EventExtractor(nlp, rules, ActorIndex(actors))
    rows = read_split(DATA, args.split)
    predictions = predict(nlp, extractor, [text for text, _ in rows])
    figures = score([g for _, g in rows], [p for p, _ in predictions])

    for (text, gold), (pred, event_type) in list(zip(rows, predictions)):
        if args.errors and gold != pred:
            print(f"{gold:>21} | {pred:<21} {event_type:<11} | {text}")
            args.errors -= 1
    print_confusion(figures["confusion"])
    print(json.dumps({"bench": "eval_events_cameo", "split": args.split, "rules": rules.version, **figures}))


if __name__ == "__main__":
    main()
