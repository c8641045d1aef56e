"""Read latency while an import writes the store, next to the idle latency.

    .venv/bin/python bench/read_during_ingest.py --n 1000

Starts `signals import` of the first `n` spnn_dawn_geo items (../shared/data) in a subprocess,
with the shipped settings (NLP chunks of `--chunk` articles, 2 NLP processes). While it runs,
this process reads the store every `--interval` seconds the way `signals trend` does: open it
read-only (waiting while a batch holds the file), `signals.trend` for the scenario, close.
When the import is done, the same read is timed `--idle-reads` times on the finished store.

  during_*_ms      open + trend + close while the import runs (median, p95, max)
  idle_*_ms        the same on the finished store, nothing writing
  reads_during     how many reads ran during the import; failed_reads: how many raised
  import_s         the import's wall time; rows_seen: the trend rows each read saw (first, last)

Prints one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.errors import StoreError  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402
from pipeline.signals import trend  # noqa: E402
from pipeline.store import Store  # noqa: E402


def timed_read(db: Path, scenario: str) -> tuple[float, int]:
    started = time.perf_counter()
    with Store(db, read_only=True) as store:
        rows = len(trend(store, scenario))
    return (time.perf_counter() - started) * 1000, rows


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="items to import")
    parser.add_argument("--chunk", type=int, default=load_settings().process_chunk_size, help="articles per NLP chunk")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between reads during the import")
    parser.add_argument("--idle-reads", type=int, default=40)
    args = parser.parse_args()
    settings = load_settings()
    items = settings.shared_data / "spnn_dawn_geo" / "items.jsonl"
    with tempfile.TemporaryDirectory(prefix="bench-read-") as tmp:
        source, db = Path(tmp) / "items.jsonl", Path(tmp) / "s.duckdb"
        with items.open(encoding="utf-8") as handle, source.open("w", encoding="utf-8") as out:
            for _, line in zip(range(args.n), handle):
                out.write(line)
        env = {**os.environ, "SIGNALS_PROCESS_CHUNK_SIZE": str(args.chunk)}
        started = time.perf_counter()
        victim = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--db", str(db), "import", str(source)],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while not db.exists() and victim.poll() is None:
            time.sleep(0.05)
        during, rows, failed = [], [], 0
        while victim.poll() is None:
            try:
                ms, n_rows = timed_read(db, settings.scenario)
                during.append(ms)
                rows.append(n_rows)
            except StoreError as exc:
                failed += 1
                print(f"read failed: {exc}", file=sys.stderr)
            time.sleep(args.interval)
        import_s = time.perf_counter() - started
        if victim.returncode != 0:
            sys.exit(f"the import failed: {victim.stderr.read()[-500:]}")
        idle = [timed_read(db, settings.scenario)[0] for _ in range(args.idle_reads)]
    print(json.dumps({
        "n": args.n, "chunk": args.chunk, "import_s": round(import_s, 1),
        "reads_during": len(during), "failed_reads": failed,
        "during_median_ms": round(statistics.median(during), 1), "during_p95_ms": round(p95(during), 1),
        "during_max_ms": round(max(during), 1),
        "idle_median_ms": round(statistics.median(idle), 1), "idle_p95_ms": round(p95(idle), 1),
        "rows_seen": [rows[0], rows[-1]] if rows else [],
    }))


if __name__ == "__main__":
    main()
