"""Trend-query latency over a year of daily signals backed by 10 million prediction rows, DuckDB against pandas.

    .venv/bin/python bench/query.py --rows 10000000 --repeat 15

Builds a temporary store (the product's `Store`, default settings) and fills it with vectorized SQL
(`INSERT ... SELECT FROM range(...)`, 100k rows a statement, no Python loop): `rows` articles spread over 365 days
and one prediction each with random calibrated-looking probabilities, then
`Store.refresh_daily_signals` (timed once). Then, each the median of `repeat` runs:

  trend_ms                 `signals.trend(store, ...)` for the year: what `signals trend` runs
  trend_pandas_ms          the same filter, order and rounding on the daily_signals frame held in pandas
  aggregate_duckdb_ms      the year of daily signals computed straight from the 10M predictions
                           joined to their articles in one query (null, with aggregate_duckdb_error, when that
                           query runs out of the store's memory cap, as it does at 10M rows under the default
                           128MB: the refresh itself works in windows)
  aggregate_pandas_ms      the same join and group-by in pandas, on frames already in memory

Prints one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.records import LABELS  # noqa: E402
from pipeline.signals import trend  # noqa: E402
from pipeline.store import Store  # noqa: E402

SCENARIO, VERSION = "bench-scenario", "bench-model-v1"
FIRST_DAY, DAYS = date(2025, 1, 1), 365

AGGREGATE_SQL = """
SELECT CAST(a.published AS DATE) AS day, c.case AS "case",
       count(*) FILTER (WHERE p.label = c.case) AS articles,
       sum(CASE c.case WHEN 'base' THEN p.p_base WHEN 'accelerated' THEN p.p_accelerated
                       WHEN 'contraction' THEN p.p_contraction ELSE p.p_none END) AS probability
FROM predictions p JOIN articles a ON a.id = p.article_id
CROSS JOIN (SELECT unnest(?) AS case) c
WHERE p.scenario = ? AND p.model_version = ? AND a.published IS NOT NULL
GROUP BY ALL ORDER BY 1, 2
"""


FILL_CHUNK = 100_000  # rows per INSERT, so no statement holds the whole fill at once


def fill(store: Store, rows: int) -> None:
    """`rows` articles over DAYS days and one prediction each, all in SQL, FILL_CHUNK rows per statement."""
    con = store.con
    con.execute("SELECT setseed(0.42)")
    for low in range(0, rows, FILL_CHUNK):
        high = min(rows, low + FILL_CHUNK)
        con.execute(
            f"""INSERT INTO articles (id, source, outlet, title, published, content_hash, first_seen, updated)
                SELECT 'a' || i, 'bench', 'outlet-' || (i % 40), 'title ' || i,
                       TIMESTAMP '{FIRST_DAY}' + to_seconds(CAST(floor(random() * {DAYS} * 86400) AS BIGINT)),
                       md5(i::VARCHAR), now(), now()
                FROM range({low}, {high}) t(i)"""
        )
        con.execute(
            f"""INSERT INTO predictions
                SELECT 'a' || i, '{SCENARIO}', '{VERSION}',
                       CASE greatest(w1, w2, w3, w4) WHEN w1 THEN 'base' WHEN w2 THEN 'accelerated'
                                                     WHEN w3 THEN 'contraction' ELSE 'none' END,
                       w1 / s, w2 / s, w3 / s, w4 / s, '[]', now()
                FROM (SELECT *, w1 + w2 + w3 + w4 AS s
                      FROM (SELECT i, random() AS w1, random() AS w2, random() AS w3, random() * 3 AS w4
                            FROM range({low}, {high}) t(i)))"""
        )


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def pandas_trend(daily: pd.DataFrame, since: date, until: date) -> pd.DataFrame:
    order = {c: i for i, c in enumerate(LABELS)}
    day = pd.to_datetime(daily["day"])
    out = daily[(daily["scenario"] == SCENARIO) & (day >= pd.Timestamp(since)) & (day <= pd.Timestamp(until))].copy()
    out["probability"] = out["probability"].round(3)
    out = out.assign(_order=out["case"].map(order)).sort_values(["day", "_order"])
    out["day"] = pd.to_datetime(out["day"]).dt.strftime("%Y-%m-%d")
    return out[["day", "scenario", "case", "articles", "probability"]]


def pandas_aggregate(articles: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    joined = predictions.merge(articles, left_on="article_id", right_on="id")
    joined["day"] = joined["published"].dt.normalize()
    frames = []
    for case in LABELS:
        grouped = joined.groupby("day")
        frames.append(pd.DataFrame({
            "case": case,
            "articles": (joined["label"] == case).groupby(joined["day"]).sum(),
            "probability": grouped[f"p_{case}"].sum(),
        }))
    return pd.concat(frames).reset_index().sort_values(["day", "case"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="prediction rows (default 10M)")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per query (default 15)")
    parser.add_argument("--no-pandas-aggregate", action="store_true", help="skip the 10M-row pandas group-by")
    args = parser.parse_args()
    since, until = FIRST_DAY, date.fromordinal(FIRST_DAY.toordinal() + DAYS - 1)
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        with Store(Path(tmp) / "bench.duckdb") as store:
            start = time.perf_counter()
            fill(store, args.rows)
            fill_s = time.perf_counter() - start
            start = time.perf_counter()
            daily_rows = store.refresh_daily_signals(SCENARIO, VERSION)
            refresh_s = time.perf_counter() - start
            out = {"bench": "query", "predictions": args.rows, "days": DAYS, "daily_rows": daily_rows,
                   "fill_s": round(fill_s, 1), "refresh_daily_signals_s": round(refresh_s, 2)}

            frame = trend(store, SCENARIO, since, until)
            assert len(frame) == daily_rows == DAYS * len(LABELS), (len(frame), daily_rows)
            out["trend_ms"] = median_ms(lambda: trend(store, SCENARIO, since, until), args.repeat)
            daily = store.con.execute("SELECT * FROM daily_signals").df()
            expected = pandas_trend(daily, since, until).reset_index(drop=True)
            assert (expected["articles"].to_numpy() == frame["articles"].to_numpy()).all()
            out["trend_pandas_ms"] = median_ms(lambda: pandas_trend(daily, since, until), args.repeat)

            params = [list(LABELS), SCENARIO, VERSION]
            try:
                out["aggregate_duckdb_ms"] = median_ms(lambda: store.con.execute(AGGREGATE_SQL, params).fetchall(), max(3, args.repeat // 3))
            except duckdb.OutOfMemoryException:  # one query over every row; the refresh itself works in windows
                out["aggregate_duckdb_ms"] = None
                out["aggregate_duckdb_error"] = "out of memory under the store's default cap (one query over all rows)"
            if not args.no_pandas_aggregate:
                articles = store.con.execute("SELECT id, published FROM articles").df()
                predictions = store.con.execute(
                    "SELECT article_id, label, p_base, p_accelerated, p_contraction, p_none FROM predictions"
                ).df()
                agg = pandas_aggregate(articles, predictions)
                assert int(agg["articles"].sum()) == args.rows
                out["aggregate_pandas_ms"] = median_ms(lambda: pandas_aggregate(articles, predictions), 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
