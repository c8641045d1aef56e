"""The event coder's figures in one JSON line: CAMEO test accuracy, fresh-sample accuracy, actors, speed.

    .venv/bin/python bench/events.py                 # the coder the pipeline uses (rules + model)
    .venv/bin/python bench/events.py --rules-only    # the rule coder alone, for comparison
    .venv/bin/python bench/events.py --show          # every scenario sentence: gold against coded
    .venv/bin/python bench/events.py --model-version plover-model-v10   # another saved event model
    .venv/bin/python bench/events.py --model-version plover-model-v10 --compare plover-model-v7
                                                     # + both models on the same parsed sentences, paired

In:
  /work/shared/data/conflibert_cameo_satp/labeled.jsonl, task `cameo_class`, split `test` (451
      sentences, never trained on): gold is a CAMEO PentaClass label; the coder's main event is
      mapped to it through its PLOVER quad class (no event = neutral, a negated event = REJECT).
  bench/data/event_gold_v2.jsonl and event_gold_v3.jsonl: the fresh scenario sample (129 + 170
      sentences of spnn_dawn_geo articles naming Iran and Pakistan, each part drawn by
      bench/draw_event_sample.py before the coder changed, read by a person; not tuned on).
      The sentence is re-derived at run time. Figures are on the union, then per part.
Out: per-type precision/recall on the sample (stderr), then one JSON line:
  cameo_test_accuracy     share of CAMEO test sentences whose main event's quad class (or neutral) is right
  scenario_accuracy       share of sample sentences whose main PLOVER type (or NONE) is right
  source_accuracy,        over the sample sentences with a gold event: the main event's source
  target_accuracy         (target) equals the gold actor, an empty slot matching an empty gold slot
  sentences_per_s         CAMEO test sentences parsed and coded per second (parse + events), and
  coder_sentences_per_s   the same for the coding step alone on the already parsed docs
With `--compare VERSION`, also `compared_with`: that model's CAMEO test and sample accuracy on the same parsed
sentences, and the paired bootstrap 95% interval of each difference (this model minus that one, 2,000 rounds).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_events_cameo import DATA as CAMEO, read_split  # noqa: E402
from eval_events_scenario import ITEMS, PACK, per_type, read_articles  # noqa: E402

from pipeline.events import (  # noqa: E402
    EventExtractor, load_event_rules, load_gazetteer, main_type, merge_actors, quad_class,
)
from pipeline.nlp import ActorIndex, build_nlp  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOLD_PARTS = {"v2": ROOT / "bench" / "data" / "event_gold_v2.jsonl",
              "v3": ROOT / "bench" / "data" / "event_gold_v3.jsonl"}


def same_actor(coded: str, gold: str) -> bool:
    """Actor names compared without case, a leading 'the' or curly quotes."""
    def norm(name: str) -> str:
        return name.lower().replace("’", "'").removeprefix("the ").strip()
    return norm(coded) == norm(gold)


def cameo_quad(events) -> str:
    """The quad class of a sentence's main event, 'neutral' without one."""
    return "neutral" if main_type(events) == "NONE" else quad_class(main_type(events))


def cameo_figures(nlp, coder, rows: list[tuple[str, str]]) -> tuple[float, float, float, list, list[bool]]:
    """(accuracy, sentences/s with parsing, sentences/s of the coder alone, the parsed docs, each row's hit) on CAMEO rows."""
    texts = [text for text, _ in rows]
    start = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=64))
    coded = [coder(doc) for doc in docs]
    total = time.perf_counter() - start
    start = time.perf_counter()
    for doc in docs:
        coder(doc)
    coder_only = time.perf_counter() - start
    hits = [cameo_quad(events) == gold for events, (_, gold) in zip(coded, rows)]
    return sum(hits) / len(rows), len(rows) / total, len(rows) / coder_only, docs, hits


def paired_difference(hits_a: list[bool], hits_b: list[bool], rounds: int = 2000, seed: int = 0) -> dict:
    """Accuracy difference a - b over the same sentences, with a paired bootstrap 95% interval."""
    a, b = np.array(hits_a, dtype=float), np.array(hits_b, dtype=float)
    draws = np.random.default_rng(seed).integers(0, len(a), size=(rounds, len(a)))
    diffs = (a[draws] - b[draws]).mean(axis=1)
    return {"difference": round(float(a.mean() - b.mean()), 4),
            "ci95": [round(float(np.percentile(diffs, 2.5)), 4), round(float(np.percentile(diffs, 97.5)), 4)]}


def compare(other, cameo: tuple[list, list[tuple[str, str]], list[bool]], sample: tuple[dict, list[dict]]) -> dict:
    """`other` on the docs the main coder was scored on (parsed once): its CAMEO test and sample accuracy and the
    paired differences (see the module docstring). `cameo` is (docs, rows, the main coder's hits), `sample`
    (`coded_articles`' docs, the sample rows with the main coder's `pred`)."""
    docs, rows, hits = cameo
    other_hits = [cameo_quad(other(doc)) == gold for doc, (_, gold) in zip(docs, rows)]
    coded, sample_rows = sample
    other_events = {article_id: other(doc) for article_id, (doc, _) in coded.items()}
    main_sample = [row["pred"] == row["gold_type"] for row in sample_rows]
    other_sample = [main_type([e for e in other_events[row["article_id"]] if e.sentence_index == row["sentence_index"]])
                    == row["gold_type"] for row in sample_rows]
    return {"coder": other.version, "cameo_test_accuracy": round(float(np.mean(other_hits)), 4),
            "scenario_accuracy": round(float(np.mean(other_sample)), 4),
            "cameo_difference": paired_difference(hits, other_hits),
            "scenario_difference": paired_difference(main_sample, other_sample)}


def coded_articles(nlp, coder, rows: list[dict]) -> dict:
    """Each sample article parsed once and coded once: {article id: (doc, its events)} (several sample sentences
    share an article; a coder that encodes sentences should not encode them twice)."""
    articles, out = read_articles(ITEMS), {}
    for row in rows:
        if row["article_id"] not in out:
            doc = nlp(articles[row["article_id"]].body())
            out[row["article_id"]] = (doc, coder(doc))
    return out


def read_gold() -> list[dict]:
    """Every sample row, each tagged with the part (`v2`, `v3`) it was drawn in."""
    return [{**json.loads(line), "part": part} for part, path in GOLD_PARTS.items()
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sample_figures(rows: list[dict]) -> dict:
    """Main-type, detection, source and target accuracy over rows carrying `pred`, `source_ok`, `target_ok`."""
    events = [r for r in rows if r["gold_type"] != "NONE"]
    return {
        "scenario_n": len(rows),
        "scenario_accuracy": round(sum(r["gold_type"] == r["pred"] for r in rows) / len(rows), 4),
        "scenario_event_detection": round(sum((r["gold_type"] == "NONE") == (r["pred"] == "NONE") for r in rows) / len(rows), 4),
        "actor_n": len(events),
        "source_accuracy": round(sum(r["source_ok"] for r in events) / len(events), 4),
        "target_accuracy": round(sum(r["target_ok"] for r in events) / len(events), 4),
    }


def scenario_figures(nlp, coder, show: bool) -> tuple[dict, dict, list[dict]]:
    """Main-type, source and target accuracy on the fresh sample: the union, then each part; also the coded
    articles and the rows (with the coder's `pred`), for `compare`."""
    rows = read_gold()
    coded = coded_articles(nlp, coder, rows)
    for row in rows:
        doc, all_events = coded[row["article_id"]]
        events = [e for e in all_events if e.sentence_index == row["sentence_index"]]
        main = events[0] if events else None
        row["pred"] = main_type(events)
        row["source_ok"] = same_actor(main.source if main else "", row["source"])
        row["target_ok"] = same_actor(main.target if main else "", row["target"])
        if show:
            sentence = list(doc.sents)[row["sentence_index"]].text.strip()
            mark = "ok " if row["gold_type"] == row["pred"] else "XX "
            print(f"{mark}{row['gold_type']:<11} {row['pred']:<11} gold {row['source']!r}->{row['target']!r} coded "
                  f"{[(e.type, e.trigger, e.source, e.target) for e in events][:2]}\n    {sentence}", file=sys.stderr)
    for t, figures in per_type([r["gold_type"] for r in rows], [r["pred"] for r in rows]).items():
        print(f"{t:<12} precision {figures['precision']!s:<6} recall {figures['recall']!s:<6} "
              f"gold {figures['gold']:>3} predicted {figures['predicted']:>3}", file=sys.stderr)
    parts = {part: sample_figures([r for r in rows if r["part"] == part]) for part in GOLD_PARTS}
    return {**sample_figures(rows), "by_part": parts}, coded, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules-only", action="store_true", help="the rule coder without the learned model")
    parser.add_argument("--show", action="store_true", help="print every sample sentence, gold against coded")
    parser.add_argument("--model-version", help="a saved event model other than the default (models/events/<version>)")
    parser.add_argument("--compare", metavar="VERSION", help="another saved event model, scored on the same sentences, paired")
    args = parser.parse_args()

    actors = merge_actors(load_gazetteer(), load_scenario(PACK).actors)
    nlp = build_nlp(actors)
    from pipeline.events import load_event_coder

    if args.rules_only:
        coder = EventExtractor(nlp, load_event_rules(), ActorIndex(actors))
    else:
        coder = load_event_coder(nlp, actors, model_version=args.model_version)
    rows = read_split(CAMEO, "test")
    accuracy, per_s, coder_per_s, docs, hits = cameo_figures(nlp, coder, rows)
    scenario, coded, sample_rows = scenario_figures(nlp, coder, args.show)
    print(json.dumps({
        "bench": "events",
        "coder": coder.version,
        "cameo_test_n": len(rows),
        "cameo_test_accuracy": round(accuracy, 4),
        **scenario,
        "sentences_per_s": round(per_s, 1),
        "coder_sentences_per_s": round(coder_per_s, 1),
        **({"compared_with": compare(load_event_coder(nlp, actors, model_version=args.compare), (docs, rows, hits),
                                     (coded, sample_rows))}
           if args.compare else {}),
    }))


if __name__ == "__main__":
    main()
