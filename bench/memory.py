"""Peak memory of importing 10k, 50k and 100k items through `Store.add_articles` in chunks.

    .venv/bin/python bench/memory.py --sizes 10000 50000 100000 --chunk 5000

Each size runs in its own subprocess (a fresh interpreter, so peaks do not carry over):
it streams items from the shared JSONL files (spnn_dawn_geo, rumca_rss_2026jan,
wklnd_gnews_headlines, ... in turn), turns each line into an `Article`, and stores them
`--chunk` at a time into a new temporary DuckDB. NLP and classification are NOT included:
this measures reading and storing only. Per size it reports the peak resident set size
(`resource.getrusage(...).ru_maxrss`), the RSS after imports (baseline) and the growth
between them, and `tracemalloc`'s peak of Python allocations (DuckDB's own C++ memory is not
seen by tracemalloc, RSS sees both). Flat means the growth at 100k is close to that at 10k.
Prints one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCES = ("spnn_dawn_geo", "rumca_rss_2026jan", "wklnd_gnews_headlines", "fwd_headlines_2021_22",
           "huffpost_2018_2022_slice", "conflibert_cameo_satp", "rss_fixtures")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def lines(data: Path, limit: int):
    n = 0
    for source in SOURCES:
        path = data / source / "items.jsonl"
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                yield line
                n += 1
                if n == limit:
                    return


def child(size: int, chunk_size: int, trace: bool, memory_limit: str | None = None) -> dict:
    """One import in this process; returns its figures."""
    import tracemalloc

    from pipeline.files import article_from_record
    from pipeline.settings import load_settings
    from pipeline.store import Store

    data = load_settings(environ={}, config=None).shared_data
    baseline = rss_mb()
    if trace:
        tracemalloc.start()
    stored = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        with Store(Path(tmp) / "m.duckdb") as store:
            if memory_limit:  # what Store would do with a memory setting; DuckDB's default is 80% of RAM
                store.con.execute(f"SET memory_limit = '{memory_limit}'")
            chunk = []
            for line in lines(data, size):
                chunk.append(article_from_record(json.loads(line)))
                if len(chunk) == chunk_size:
                    stored += store.add_articles(chunk)[0]
                    chunk = []
            if chunk:
                stored += store.add_articles(chunk)[0]
        db_mb = (Path(tmp) / "m.duckdb").stat().st_size / 2**20
    seconds = time.perf_counter() - start
    peak_py = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    peak = rss_mb()
    return {"items": size, "stored": stored, "seconds": round(seconds, 1), "baseline_rss_mb": round(baseline, 1),
            "peak_rss_mb": round(peak, 1), "growth_mb": round(peak - baseline, 1),
            "tracemalloc_peak_mb": round(peak_py, 1) if peak_py is not None else None, "db_mb": round(db_mb, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--chunk", type=int, default=5000, help="articles per add_articles call (default 5000)")
    parser.add_argument("--no-tracemalloc", action="store_true", help="RSS only (tracemalloc slows the import)")
    parser.add_argument("--duckdb-memory-limit", help="SET memory_limit on the store first, e.g. 64MB (default: DuckDB's, 80%% of RAM)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.chunk, not args.no_tracemalloc, args.duckdb_memory_limit)))
        return
    runs = []
    for size in args.sizes:
        command = [sys.executable, __file__, "--child", str(size), "--chunk", str(args.chunk)]
        if args.no_tracemalloc:
            command.append("--no-tracemalloc")
        if args.duckdb_memory_limit:
            command += ["--duckdb-memory-limit", args.duckdb_memory_limit]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(runs[-1], file=sys.stderr)
    growth = [r["growth_mb"] for r in runs]
    out = {"bench": "memory", "scope": "read JSONL + Store.add_articles only; no NLP", "chunk": args.chunk,
           "duckdb_memory_limit": args.duckdb_memory_limit or "default (80% of RAM)",
           "runs": runs, "growth_largest_over_smallest": round(growth[-1] / growth[0], 2) if growth[0] else None}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
