"""Draw the fresh scenario sample for the event bench (gold v2), before the coder changes.

In: /work/shared/data/spnn_dawn_geo/items.jsonl and bench/data/event_gold_v1.jsonl
(whose articles are left out: the v1 patterns were tuned on them).
Out: one JSON line per drawn sentence on stdout, `{"article_id", "sentence_index"}`,
and with `--show` the sentence text on stderr for the person labelling it (the
text is never written to the repository).

The draw is deterministic (seed 16): articles naming both Iran and Pakistan,
sorted by id, `n` of them sampled, then one sentence of 8-60 tokens naming a
known actor from each, as sentence `sentence_index` of `Article.body()` parsed by
`nlp.build_nlp` over the gazetteer merged with the scenario pack's actors.

    .venv/bin/python bench/draw_event_sample.py --n 130 > bench/data/event_sample_v2.jsonl
    .venv/bin/python bench/draw_event_sample.py --n 130 --seed 1601 --exclude bench/data/event_gold_v1.jsonl \
        bench/data/event_gold_v2.jsonl > /tmp/pool.jsonl   # training sentences, typed by reading
                                                             # into bench/data/event_train_v1.jsonl
    (then --seed 1602, also excluding bench/data/event_train_v1.jsonl, for its second 130)
    .venv/bin/python bench/draw_event_sample.py --n 170 --seed 1604 --exclude bench/data/event_gold_v1.jsonl \
        bench/data/event_gold_v2.jsonl bench/data/event_train_v1.jsonl bench/data/event_train_v2.jsonl \
        bench/data/event_actors_v1.jsonl > /tmp/draw.jsonl   # second fresh sample, read into event_gold_v3.jsonl
    .venv/bin/python bench/draw_event_sample.py --n 270 --seed 1606 --exclude bench/data/event_actors_v1.jsonl \
        bench/data/event_gold_v[123].jsonl bench/data/event_sample_v2.jsonl bench/data/event_train_v[123].jsonl \
        > bench/data/event_draw_v4.jsonl   # fourth round's training draw, read into event_train_v4.jsonl
    (then --n 110 --seed 1607, also excluding event_train_v4.jsonl and event_draw_v4.jsonl, read into
    event_train_v5.jsonl; that left 87 unread pool articles for a future fresh sample)

The Iran-Pakistan pool being nearly used up, two options widen the draw for training sentences while
leaving those 87 articles alone (neither ever draws from an unread article naming both states):
`--reuse FILES` draws further sentences from the articles of already-read files (every sentence any
listed file holds is skipped), and `--wider` draws from the articles naming Iran or Pakistan, not both,
together with another state of the gazetteer (Afghanistan, India, the United States, China...).

    .venv/bin/python bench/draw_event_sample.py --n 230 --seed 1608 --exclude bench/data/event_actors_v1.jsonl \
        bench/data/event_gold_v[123].jsonl bench/data/event_sample_v2.jsonl \
        --reuse bench/data/event_train_v[12345].jsonl bench/data/event_draw_v4.jsonl \
        > /tmp/draw_v6.jsonl   # fifth round: further sentences of read articles, into event_train_v6.jsonl
    .venv/bin/python bench/draw_event_sample.py --n 230 --seed 1609 --wider --exclude bench/data/event_actors_v1.jsonl \
        bench/data/event_gold_v[123].jsonl bench/data/event_sample_v2.jsonl bench/data/event_train_v[123456].jsonl \
        bench/data/event_draw_v4.jsonl > /tmp/draw_v7.jsonl   # and Iran or Pakistan with another state, into v7

The coder's remaining misses lie between NONE and the verbal types (CONSULT, SUPPORT, DISAPPROVE), so
`--confusable` prefers, within each drawn article, a sentence with one of `CONFUSABLE_LEMMAS` (meetings,
visits, appeals, criticism, aid, statements of position; a fixed word list, never the read files), falling
back to any sentence when the article has none:

    .venv/bin/python bench/draw_event_sample.py --n 230 --seed 1610 --wider --confusable --exclude \
        bench/data/event_actors_v1.jsonl bench/data/event_gold_v[123].jsonl bench/data/event_sample_v2.jsonl \
        bench/data/event_train_v[1234567].jsonl bench/data/event_draw_v4.jsonl > /tmp/draw_v8.jsonl   # sixth round, v8
    (then --seed 1611, also excluding event_train_v8.jsonl, read into event_train_v9.jsonl)

The eighth round went back to the Iran-Pakistan articles already read, the population the fresh samples come from
(the actor validation file's sentences skipped, its articles reused):

    .venv/bin/python bench/draw_event_sample.py --n 240 --seed 1612 --exclude bench/data/event_actors_v1.jsonl \
        bench/data/event_gold_v[123].jsonl bench/data/event_sample_v2.jsonl --reuse bench/data/event_train_v[123456].jsonl \
        bench/data/event_draw_v4.jsonl bench/data/event_actors_v2.jsonl > bench/data/event_draw_v10.jsonl   # read into v10
    (then --seed 1613, also reusing event_train_v10.jsonl and event_draw_v10.jsonl, into event_draw_v11.jsonl and
    event_train_v11.jsonl; then --seed 1614, also reusing those, into event_draw_v12.jsonl and event_train_v12.jsonl)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_events_scenario import IRAN, ITEMS, PACK, PAKISTAN, read_articles  # noqa: E402

from pipeline.events import load_gazetteer, merge_actors  # noqa: E402
from pipeline.nlp import ActorIndex, build_nlp  # noqa: E402
from pipeline.records import Article  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOLD_V1 = ROOT / "bench" / "data" / "event_gold_v1.jsonl"
SEED = 16
CONFUSABLE_LEMMAS = frozenset({
    "meet", "visit", "talk", "discuss", "host", "receive", "call", "hold", "urge", "appeal", "ask", "welcome",
    "condemn", "criticise", "criticize", "denounce", "slam", "blame", "accuse", "support", "back", "endorse",
    "praise", "aid", "help", "assist", "donate", "pledge", "offer", "express", "reiterate", "stress", "vow",
})


def read_rows(paths: list[Path]) -> list[dict]:
    """Every row of the given JSON-lines files."""
    return [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def other_state_pattern() -> re.Pattern:
    """Any name of a gazetteer state other than Iran and Pakistan, longest names first."""
    forms = sorted({form for actor in load_gazetteer() if actor.kind == "state" and actor.name not in ("Iran", "Pakistan")
                    for form in actor.surface_forms()}, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, forms)) + r")\b")


def article_pool(articles: dict[str, Article], excluded: set[str], reused: set[str], wider: bool) -> list[str]:
    """Sorted ids to draw from: by default the articles naming both Iran and Pakistan; with `reused` those
    articles only (for further sentences), plus with `wider` the articles naming one of the two and another
    state. Articles in `excluded` never."""
    if not reused and not wider:
        return sorted(a.id for a in articles.values() if a.id not in excluded and IRAN.search(a.body()) and PAKISTAN.search(a.body()))
    other = other_state_pattern()
    pool = set(reused)
    if wider:
        for a in articles.values():
            body = a.body()
            if bool(IRAN.search(body)) != bool(PAKISTAN.search(body)) and other.search(body):
                pool.add(a.id)
    return sorted(pool - excluded)


def pick_sentence(rng: random.Random, sentences: list, candidates: list[int], confusable: bool) -> int:
    """One candidate index, at random; with `confusable`, among the candidates using a lemma of
    `CONFUSABLE_LEMMAS` when there are any (the zone where NONE and the verbal types are mixed up)."""
    if confusable:
        preferred = [i for i in candidates if any(t.lemma_.lower() in CONFUSABLE_LEMMAS for t in sentences[i])]
        candidates = preferred or candidates
    return rng.choice(candidates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=120, help="articles to sample (one sentence each)")
    parser.add_argument("--show", action="store_true", help="print each drawn sentence to stderr")
    parser.add_argument("--seed", type=int, default=SEED, help="16 drew the gold v2 sample, 1604 gold v3; 1601-1603, 1605-1614 training sentences")
    parser.add_argument("--exclude", type=Path, nargs="*", default=[GOLD_V1],
                        help="gold files whose articles are left out of the pool")
    parser.add_argument("--reuse", type=Path, nargs="*", default=[],
                        help="read files whose articles give further sentences (their listed sentences skipped)")
    parser.add_argument("--wider", action="store_true",
                        help="also draw from articles naming Iran or Pakistan (not both) with another state")
    parser.add_argument("--confusable", action="store_true",
                        help="prefer sentences with a meeting, visit, appeal, criticism or aid word (CONFUSABLE_LEMMAS)")
    args = parser.parse_args()

    actors = merge_actors(load_gazetteer(), load_scenario(PACK).actors)
    nlp = build_nlp(actors)
    index = ActorIndex(actors)
    articles = read_articles(ITEMS)
    excluded = {row["article_id"] for row in read_rows(args.exclude)}
    reused = {row["article_id"] for row in read_rows(args.reuse)}
    taken = {(row["article_id"], row["sentence_index"]) for row in read_rows(args.exclude + args.reuse)}
    pool = article_pool(articles, excluded, reused, args.wider)
    rng = random.Random(args.seed)
    for article_id in rng.sample(pool, args.n):
        sentences = list(nlp(articles[article_id].body()).sents)
        candidates = [i for i, s in enumerate(sentences) if 8 <= len(s) <= 60 and (article_id, i) not in taken
                      and any(index.resolve(e) for e in s.ents)]
        if not candidates:
            continue
        i = pick_sentence(rng, sentences, candidates, args.confusable)
        print(json.dumps({"article_id": article_id, "sentence_index": i}))
        if args.show:
            print(f"[{article_id[:8]} {i}] {sentences[i].text.strip()}", file=sys.stderr)


if __name__ == "__main__":
    main()
