"""What encoding the cascade's sentences across articles, not one article at a time, would save.

    .venv/bin/python bench/event_encode_batching.py [--n 60] [--model-version plover-model-v11]

The cascade (`event_model.CascadeModel`) encodes, for each article the coder is called on, the candidate
sentences its words-only member is unsure of: one small mpnet batch per article. This takes the first `n`
`spnn_dawn_geo` articles (by id) naming both Iran and Pakistan, parses them, collects each article's unsure
sentences as the coder would, and times mpnet on them twice: one call per article, as the coder does now, and one
call over all of them (length-sorted batches across articles). Nothing is cached. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_events_scenario import IRAN, ITEMS, PACK, PAKISTAN, read_articles  # noqa: E402

from pipeline import mpnet  # noqa: E402
from pipeline.event_model import CascadeModel, sentence_features  # noqa: E402
from pipeline.events import candidate_sentences, load_event_coder, load_gazetteer, merge_actors  # noqa: E402
from pipeline.nlp import build_nlp  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="articles")
    parser.add_argument("--model-version", default="plover-model-v11", help="a cascade (models/events/<version>)")
    args = parser.parse_args()

    actors = merge_actors(load_gazetteer(), load_scenario(PACK).actors)
    nlp = build_nlp(actors)
    coder = load_event_coder(nlp, actors, model_version=args.model_version)
    if not isinstance(coder.model, CascadeModel):
        parser.error(f"--model-version {args.model_version} is not a cascade")
    articles = read_articles(ITEMS)
    ids = sorted(a.id for a in articles.values() if IRAN.search(a.body()) and PAKISTAN.search(a.body()))[:args.n]
    unsure = []
    for doc in nlp.pipe((articles[i].body()[:10_000] for i in ids), batch_size=16):
        sentences, by_sentence, candidates = candidate_sentences(coder.extractor, doc)
        _, positions = coder.model.unsure([sentence_features(sentences[i], by_sentence.get(i, [])) for i in candidates])
        unsure.append([sentences[candidates[k]].text for k in positions])
    encoder = mpnet.shared_cache().encoder
    encoder.encode(["a first call loads the model"])
    start = time.perf_counter()
    for texts in unsure:
        if texts:
            encoder.encode(texts)
    per_article = time.perf_counter() - start
    start = time.perf_counter()
    encoder.encode([t for texts in unsure for t in texts])
    pooled = time.perf_counter() - start
    print(json.dumps({"bench": "event_encode_batching", "cascade": coder.version, "articles": len(ids),
                      "unsure_sentences": sum(map(len, unsure)), "per_article_s": round(per_article, 1),
                      "pooled_s": round(pooled, 1), "saved": round(1 - pooled / per_article, 3)}))


if __name__ == "__main__":
    main()
