"""The store at scale: refresh times, trend latency and peak memory as the history grows, under the default settings.

    .venv/bin/python bench/scale.py --articles 1000000 5000000

For each size, in its own subprocess (so peak RSS is that size's), a temporary store opened with the
product's `Store` and default settings is filled with that many articles, `--per-day` a day (1,000: a dozen
feeds), written in transactions of the ingest's batch size (`process_chunk_size`, 2,000) with SQL
`INSERT ... SELECT FROM range(...)` through the store's connection; ids are md5 hashes, like the ingest's sha1
ones (`--ids sequential` for 'b0', 'b1', ..., short and in insertion order). Four in ten articles share a story with
others. Three model versions scored them the way promotions do: v1 the first third of the history, v2 (after
re-scoring) the first two thirds, v3 (active) all of it, so there are two predictions per article. Then:

  write_one_day_s        one new day of articles written through `Store.add_articles` and `Store.save_analysis`
                         (Article and Prediction objects, the ingest's write path), `Store.pending_ids` included
  pending_ids_s          `Store.pending_ids` finding that day's articles among the whole history (ingest's next step)
  refresh_one_day_s      `Store.refresh_daily_signals` for that day only (what an ingest run does)
  refresh_full_s         `Store.refresh_daily_signals` for every day (what a promotion does)
  trend_year_ms          `signals.trend` over the last 365 days, median of `--repeat` runs
  peak_rss_mb            the subprocess's peak resident memory (fill included)

`--shapes` also runs, on each filled store, the old one-pass aggregation (the whole history in one query), a
two-stage group-by over the whole history (per story, then per day: no DISTINCT) and the windowed refresh, each under threads 1 and 2 and preserve_insertion_order true and false, in a fresh
process apiece, reporting seconds, peak RSS and whether DuckDB ran out of memory.

Prints one JSON line at the end (progress to stderr).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.records import LABELS, Article, Prediction  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.signals import trend  # noqa: E402
from pipeline.store import Store  # noqa: E402
from query import median_ms  # noqa: E402  (bench/query.py, beside this script)

SCENARIO = "bench-scenario"
VERSIONS = ("bench-v1", "bench-v2", "bench-v3")  # the last is active
FIRST_DAY = date(2012, 1, 1)

# The old refresh: the whole history in one join and group-by (what ran out of memory at 1M articles).
ONE_PASS_SQL = """
SELECT CAST(a.published AS DATE) AS day,
       count_if(p.label = 'base'), count_if(p.label = 'accelerated'), count_if(p.label = 'contraction'), count_if(p.label = 'none'),
       sum(p.p_base), sum(p.p_accelerated), sum(p.p_contraction), sum(p.p_none),
       count(DISTINCT coalesce(a.story_id, a.id)) FILTER (WHERE p.label = 'base'),
       count(DISTINCT coalesce(a.story_id, a.id)) FILTER (WHERE p.label = 'accelerated'),
       count(DISTINCT coalesce(a.story_id, a.id)) FILTER (WHERE p.label = 'contraction'),
       count(DISTINCT coalesce(a.story_id, a.id)) FILTER (WHERE p.label = 'none')
FROM predictions p JOIN articles a ON a.id = p.article_id
WHERE p.scenario = ? AND p.model_version = ? AND a.published IS NOT NULL
GROUP BY 1
"""

# A group-by shape DuckDB can spill: per (day, label, story) first, then per day; no DISTINCT aggregates.
TWO_STAGE_SQL = """
WITH per_story AS (
    SELECT CAST(a.published AS DATE) AS day, p.label, coalesce(a.story_id, a.id) AS story, count(*) AS n,
           sum(p.p_base) AS m_base, sum(p.p_accelerated) AS m_accelerated, sum(p.p_contraction) AS m_contraction, sum(p.p_none) AS m_none
    FROM predictions p JOIN articles a ON a.id = p.article_id
    WHERE p.scenario = ? AND p.model_version = ? AND a.published IS NOT NULL
    GROUP BY ALL
)
SELECT day, label, count(*) AS stories, sum(n) AS articles, sum(m_base), sum(m_accelerated), sum(m_contraction), sum(m_none)
FROM per_story GROUP BY ALL
"""


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: VmHWM, which starts afresh at exec (ru_maxrss keeps the
    forking parent's size as a floor, which would hide a small child's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


ARTICLE_IDS = {"hashed": "md5('b' || i)", "sequential": "'b' || i"}  # SQL for article i's id


def fill(store: Store, articles: int, per_day: int, batch: int, ids: str = "hashed") -> None:
    """`articles` articles, `per_day` a day from FIRST_DAY, and their predictions, `batch` articles per transaction.
    Ids are md5 hashes (32 hex digits, like the ingest's sha1 ids) or, with ids="sequential", 'b0', 'b1', ..."""
    con = store.con
    article_id = ARTICLE_IDS[ids]
    thirds = (articles // 3, 2 * articles // 3, articles)
    start = time.perf_counter()
    for low in range(0, articles, batch):
        high = min(articles, low + batch)
        con.execute("BEGIN")
        con.execute(
            f"""INSERT INTO articles (id, source, outlet, feed, title, published, link, content_hash, first_seen, updated, story_id)
                SELECT {article_id}, 'bench', 'outlet-' || (i % 12), 'feed-' || (i % 12), 'title ' || i,
                       TIMESTAMP '{FIRST_DAY}' + to_seconds(CAST((i // {per_day}) * 86400 + hash(i) % 86400 AS BIGINT)),
                       'http://127.0.0.1/' || i, md5(i::VARCHAR), now(), now(),
                       CASE WHEN hash(i) % 10 < 4 THEN 'story-' || (i // 4) END
                FROM range({low}, {high}) t(i)"""
        )
        for k, (version, covered) in enumerate(zip(VERSIONS, thirds)):
            if low >= covered:
                continue
            con.execute(
                f"""INSERT INTO predictions
                    SELECT {article_id}, '{SCENARIO}', '{version}',
                           CASE WHEN r < 70 THEN 'none' WHEN r < 85 THEN 'base' WHEN r < 93 THEN 'accelerated' ELSE 'contraction' END,
                           CASE WHEN r BETWEEN 70 AND 84 THEN 0.55 ELSE 0.15 END, CASE WHEN r BETWEEN 85 AND 92 THEN 0.55 ELSE 0.15 END,
                           CASE WHEN r >= 93 THEN 0.55 ELSE 0.15 END, CASE WHEN r < 70 THEN 0.55 ELSE 0.15 END,
                           '[]', TIMESTAMP '2026-0{k + 1}-01'
                    FROM (SELECT i, (hash(i + {k}) % 100)::INTEGER AS r FROM range({low}, {min(high, covered)}) t(i))"""
            )
        con.execute("COMMIT")
        if (low // batch) % 250 == 0:
            log(f"  {high:,} articles stored, {time.perf_counter() - start:.0f} s")


def one_day(day: date, per_day: int) -> tuple[list[Article], list[Prediction]]:
    """A new day's articles and the active model's predictions for them, as the ingest makes them."""
    articles, predictions = [], []
    for n in range(per_day):
        published = datetime.combine(day, datetime.min.time()) + timedelta(seconds=n * 86400 // per_day)
        a = Article(f"new-{day}-{n}", "bench", f"outlet-{n % 12}", f"New title {n}", "summary", "body " * 50, published,
                    f"http://127.0.0.1/new/{n}", f"feed-{n % 12}")
        label = LABELS[n % len(LABELS)]
        probs = {c: (0.55 if c == label else 0.15) for c in LABELS}
        articles.append(a)
        predictions.append(Prediction(a.id, SCENARIO, VERSIONS[-1], label, probs, ["a sentence"]))
    return articles, predictions


def child(articles: int, per_day: int, batch: int, repeat: int, shapes: bool, ids: str, memory_limit: str | None) -> dict:
    settings = Settings().replace(duckdb_memory_limit=memory_limit)
    out = {"articles": articles, "per_day": per_day, "batch": batch, "ids": ids, "duckdb_memory_limit": settings.duckdb_memory_limit}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        path = Path(tmp) / "scale.duckdb"
        with Store(path, memory_limit=settings.duckdb_memory_limit) as store:
            start = time.perf_counter()
            fill(store, articles, per_day, batch, ids)
            out["fill_s"] = round(time.perf_counter() - start, 1)
            start = time.perf_counter()
            store.refresh_daily_signals(SCENARIO, VERSIONS[-1])
            log(f"  first full refresh {time.perf_counter() - start:.1f} s")
            out["predictions"] = store.con.execute("SELECT count(*) FROM predictions").fetchall()[0][0]
            last = store.con.execute("SELECT max(day) FROM daily_signals").fetchall()[0][0]
            new_day = last + timedelta(days=1)
            new_articles, new_predictions = one_day(new_day, per_day)
            start = time.perf_counter()
            for low in range(0, per_day, batch):
                store.add_articles(new_articles[low : low + batch])
            pending_start = time.perf_counter()
            pending = store.pending_ids(SCENARIO, VERSIONS[-1])
            out["pending_ids_s"] = round(time.perf_counter() - pending_start, 3)
            assert len(pending) == per_day, len(pending)
            for low in range(0, per_day, batch):
                store.save_analysis([], new_predictions[low : low + batch])
            out["write_one_day_s"] = round(time.perf_counter() - start, 3)
            start = time.perf_counter()
            written = store.refresh_daily_signals(SCENARIO, VERSIONS[-1], days={new_day})
            out["refresh_one_day_s"] = round(time.perf_counter() - start, 3)
            assert written == len(LABELS), written
            counted = store.con.execute("SELECT sum(articles) FROM daily_signals WHERE day = ?", [new_day]).fetchone()[0]
            assert counted == per_day, counted
            start = time.perf_counter()
            rows = store.refresh_daily_signals(SCENARIO, VERSIONS[-1])
            out["refresh_full_s"] = round(time.perf_counter() - start, 2)
            out["days"] = rows // len(LABELS)
            assert store.con.execute("SELECT sum(articles) FROM daily_signals").fetchone()[0] == articles + per_day
            since = new_day - timedelta(days=364)
            assert len(trend(store, SCENARIO, since, new_day)) == min(365, out["days"]) * len(LABELS)
            out["trend_year_ms"] = median_ms(lambda: trend(store, SCENARIO, since, new_day), repeat)
        out["store_mb"] = round(path.stat().st_size / 2**20, 1)
        out["peak_rss_mb"] = peak_rss_mb()
        if shapes:
            out["shapes"] = [
                shape_run(path, shape, threads, order, settings.duckdb_memory_limit)
                for shape in ("one_pass", "two_stage", "windowed") for threads in (2, 1) for order in (True, False)
            ]
    return out


def shape_run(path: Path, shape: str, threads: int, preserve_order: bool, memory_limit: str) -> dict:
    """One aggregation shape under one setting, in a fresh process: seconds, peak RSS, ok or out of memory."""
    command = [sys.executable, __file__, "--shape", shape, str(path), str(threads), str(int(preserve_order)), memory_limit]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"shape run failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"  {result}")
    return result


def shape_child(path: str, shape: str, threads: int, preserve_order: bool, memory_limit: str) -> dict:
    import duckdb

    out = {"shape": shape, "threads": threads, "preserve_insertion_order": preserve_order}
    with Store(path, memory_limit=memory_limit) as store:
        store.con.execute(f"SET threads = {threads}")
        store.con.execute(f"SET preserve_insertion_order = {str(preserve_order).lower()}")
        start = time.perf_counter()
        try:
            if shape in ("one_pass", "two_stage"):
                store.con.execute(ONE_PASS_SQL if shape == "one_pass" else TWO_STAGE_SQL, [SCENARIO, VERSIONS[-1]]).fetchall()
            else:
                store.refresh_daily_signals(SCENARIO, VERSIONS[-1])
            out["result"] = "ok"
        except (duckdb.OutOfMemoryException, Exception) as exc:  # StoreError carries the out-of-memory hint
            out["result"] = "out of memory" if "memory" in str(exc).lower() else f"failed: {str(exc).splitlines()[0]}"
        out["seconds"] = round(time.perf_counter() - start, 2)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--shape":
        shape, path, threads, order, memory_limit = sys.argv[2:7]
        print(json.dumps(shape_child(path, shape, int(threads), order == "1", memory_limit)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[1_000_000, 5_000_000], help="store sizes, in articles")
    parser.add_argument("--per-day", type=int, default=1000, help="articles a day (default 1000)")
    parser.add_argument("--batch", type=int, default=Settings().process_chunk_size, help="articles per write transaction (default: the ingest's)")
    parser.add_argument("--repeat", type=int, default=15, help="timed trend queries (default 15)")
    parser.add_argument("--shapes", action="store_true", help="also compare the one-pass and windowed refresh under thread and order settings")
    parser.add_argument("--ids", choices=sorted(ARTICLE_IDS), default="hashed", help="article ids: md5 hashes like the ingest's (default) or sequential")
    parser.add_argument("--duckdb-memory-limit", help="the store's DuckDB cap (default: the setting's default, 128MB)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.per_day, args.batch, args.repeat, args.shapes, args.ids, args.duckdb_memory_limit)))
        return
    results = []
    for size in args.articles:
        log(f"{size:,} articles")
        command = [sys.executable, __file__, "--child", str(size), "--per-day", str(args.per_day), "--batch", str(args.batch),
                   "--repeat", str(args.repeat), "--ids", args.ids] + (["--shapes"] if args.shapes else []) + (
                   ["--duckdb-memory-limit", args.duckdb_memory_limit] if args.duckdb_memory_limit else [])
        start = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise SystemExit(f"size {size} failed (exit {done.returncode})")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["run_s"] = round(time.perf_counter() - start, 1)
        log(f"  {result}")
        results.append(result)
    out = {"bench": "scale", "sizes": results}
    if len(results) > 1:
        rss = [r["peak_rss_mb"] for r in results]
        out["peak_rss_ratio"] = round(max(rss) / min(rss), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
