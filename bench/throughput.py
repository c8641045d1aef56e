"""Throughput: raw spaCy `nlp.pipe` against the whole import pipeline, on the same items, in words/s.

    .venv/bin/python bench/throughput.py --n 300
    .venv/bin/python bench/throughput.py --n 60 --stream on-topic --event-model plover-model-v10

Two streams from ../shared/data:
  on-topic  spnn_dawn_geo items with text that mention Iran (full articles)
  mixed     mostly off-topic: rumca_rss_2026jan and wklnd_gnews_headlines, with a tenth spnn_dawn_geo

raw   `Runtime.nlp.pipe` (en_core_web_sm + the actor ruler) over every item's text, n_process=2,
      batch_size=64; the texts are prepared before the clock starts.
raw encoder  the sentence encoder's features (`Featurizer.dense`: title, lead and sentences) and, when
      the classifier has them, the fine-tuned reader's pass and the case head's all-mpnet-base-v2 pass over
      the headline and lead of the items past the relevance gate (the only ones the pipeline gives them), on
      the same items; `raw_combined` is spaCy plus encoders, the work the full pipeline cannot avoid.
      The case head's vector cache is empty at the start of every full run (`SIGNALS_VECTOR_CACHE` points
      at a new file), so the full pipeline encodes what the raw pass encoded.
full  `jobs.ingest` on a JSONL file of the same items into a temporary DuckDB: parse the file,
      store the articles, relevance gate, NLP with events, classify, save, refresh daily signals.

Words are the whitespace words of each item's `body()[:nlp_max_chars]`, the same count for both.
spaCy is loaded before either clock starts; with `--repeat` the two alternate and the best of each
counts, since the machine may be shared. The classifier is the active model in models/ or,
when none is registered yet, a tiny one trained into a temporary folder (the JSON says which).
Prints one JSON line at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from pipeline import mpnet  # noqa: E402
from pipeline.errors import ModelError  # noqa: E402
from pipeline.files import article_from_record  # noqa: E402
from pipeline.jobs import Runtime, ingest  # noqa: E402
from pipeline.reader import reader_text  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402


WARM_ENCODER = mpnet.shared_cache().encoder


def jsonl_lines(path: Path, keep=lambda record: True):
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if keep(json.loads(line)):
                yield line


def on_topic(data: Path, n: int) -> list[str]:
    keep = lambda r: bool(r.get("text")) and "Iran" in r["text"]  # noqa: E731
    return list(itertools.islice(jsonl_lines(data / "spnn_dawn_geo" / "items.jsonl", keep), n))


def mixed(data: Path, n: int) -> list[str]:
    """45% rumca, 45% wklnd, 10% spnn (any topic), interleaved as a feed reader would see them."""
    spnn = n // 10
    rest = n - spnn
    parts = [
        list(itertools.islice(jsonl_lines(data / "rumca_rss_2026jan" / "items.jsonl"), rest // 2)),
        list(itertools.islice(jsonl_lines(data / "wklnd_gnews_headlines" / "items.jsonl"), rest - rest // 2)),
        list(itertools.islice(jsonl_lines(data / "spnn_dawn_geo" / "items.jsonl"), 5000, 5000 + spnn)),
    ]
    return [line for group in itertools.zip_longest(*parts) for line in group if line]


def runtime_with_model(settings, tmp: Path) -> tuple[Runtime, str]:
    rt = Runtime(settings)
    try:
        return rt, rt.active_model[1].version
    except ModelError:
        from test_dask import train_tiny_model

        models = tmp / "models"
        train_tiny_model(models, settings.scenario)
        rt = Runtime(settings.replace(models_dir=models))
        return rt, "tiny-temp:" + rt.active_model[1].version


def time_raw(rt: Runtime, texts: list[str]) -> float:
    s = rt.settings
    start = time.perf_counter()
    for _ in rt.nlp.pipe(texts, batch_size=s.nlp_batch_size, n_process=s.nlp_processes):
        pass
    return time.perf_counter() - start


def time_encoder(rt: Runtime, articles) -> float:
    bodies = [a.body() for a in articles]
    model = rt.active_model[0]
    reader, head = getattr(model, "reader", None), getattr(model, "head", None)
    leads = [reader_text(a.title, b) for a, b in zip(articles, bodies) if rt.relevance(a)]
    start = time.perf_counter()
    rt.featurizer.dense([a.title for a in articles], [b[:500] for b in bodies], bodies)
    if reader is not None:
        reader.predict_proba(leads)
    if head is not None:
        mpnet.shared_cache().encoder.encode(leads)  # the encoder itself, past the cache
    return time.perf_counter() - start


def time_full(rt: Runtime, source: Path, db: Path, expected: int) -> float:
    os.environ["SIGNALS_VECTOR_CACHE"] = str(db.with_suffix(".vectors.duckdb"))  # an empty cache for this run
    mpnet.shared_cache.cache_clear()
    mpnet.shared_cache().encoder = WARM_ENCODER  # the weights stay loaded: outside the clock, as spaCy's
    full_rt = Runtime(rt.settings.replace(db=db))
    loaded = ("scenario", "actors", "nlp", "index", "relevance", "extract_events", "active_model", "encoder")
    full_rt.__dict__.update({name: getattr(rt, name) for name in loaded})  # loaded once, outside the clock
    start = time.perf_counter()
    summary = ingest(full_rt, [str(source)], force=True)
    seconds = time.perf_counter() - start
    assert summary.predictions == expected, summary
    return seconds


def measure(rt: Runtime, lines: list[str], tmp: Path, name: str, repeat: int) -> dict:
    """Raw and full, alternating, `repeat` times each; the best time of each counts (the machine is shared)."""
    articles = [article_from_record(json.loads(line)) for line in lines]
    texts = [a.body()[: rt.settings.nlp_max_chars] for a in articles]
    words = sum(len(t.split()) for t in texts)
    relevant = sum(rt.relevance(a) for a in articles)
    source = tmp / f"{name}.jsonl"
    source.write_text("".join(lines), encoding="utf-8")
    raws, encs, fulls = [], [], []
    for n in range(repeat):
        raws.append(time_raw(rt, texts))
        encs.append(time_encoder(rt, articles))
        fulls.append(time_full(rt, source, tmp / f"{name}-{n}.duckdb", len(articles)))
    raw, enc, full = min(raws), min(encs), min(fulls)
    return {
        "items": len(articles), "relevant": relevant, "words": words,
        "raw_s": round(raw, 2), "raw_encoder_s": round(enc, 2), "full_s": round(full, 2),
        "raw_words_per_s": round(words / raw), "raw_encoder_docs_per_s": round(len(articles) / enc),
        "full_words_per_s": round(words / full),
        "full_over_raw": round(raw / full, 3), "full_over_raw_combined": round((raw + enc) / full, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="items per stream (default 300)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, best counts (default 1)")
    parser.add_argument("--stream", choices=("on-topic", "mixed", "both"), default="both")
    parser.add_argument("--event-model", help="the event coder's model, if not the default (the `event_model` setting)")
    args = parser.parse_args()
    settings = load_settings(environ={}, config=None, nlp_processes=2, nlp_batch_size=64, event_model=args.event_model)
    data = settings.shared_data
    if not (data / "spnn_dawn_geo" / "items.jsonl").exists():
        sys.exit(f"needs the shared data at {data}")
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        tmp = Path(tmp)
        rt, model = runtime_with_model(settings, tmp)
        rt.nlp, rt.extract_events, rt.featurizer  # load spaCy, the event rules and the encoder before any clock
        rt.nlp("Warm-up: Iran and Pakistan talk.")
        reader = getattr(rt.active_model[0], "reader", None)
        if reader is not None:
            reader.predict_proba(["Warm-up: Iran and Pakistan talk."])  # the reader's weights, loaded outside the clock
        WARM_ENCODER.encode(["Warm-up: Iran and Pakistan talk."])  # and the case head's encoder's
        out = {"bench": "throughput", "model": model, "event_coder": rt.extract_events.version, "n_process": settings.nlp_processes,
               "batch_size": settings.nlp_batch_size, "repeat": args.repeat}
        streams = {"on-topic": on_topic, "mixed": mixed}
        for name, pick in streams.items():
            if args.stream in (name, "both"):
                out[name] = measure(rt, pick(data, args.n), tmp, name, args.repeat)
                print(f"{name}: {out[name]}", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
