"""Bytes of the HTML report, in all and per inline chart, on the report tests' small store.

    PYTHONPATH=. .venv/bin/python bench/report_size.py

The store is the one `tests/test_report.py` builds (tests/storekit.py): four articles over April 1-6,
2026, so the default 8-week range has 56 days, 52 of them without data. The page is rendered with a
fixed generation time. Only `report.gather` and `report.render_html` are called, so the same command
measures an older version of `pipeline/` too:

    mkdir /tmp/old && git archive <commit> pipeline labels | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old:. .venv/bin/python bench/report_size.py

Prints one JSON line: page bytes and each chart's bytes (the element with the chart's id, to its end).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pipeline import report  # noqa: E402
from pipeline.records import Article, Prediction  # noqa: E402
from pipeline.store import Store  # noqa: E402
from storekit import MODEL, PACK, classified_store, probs  # noqa: E402

ROWS = [  # the rows of tests/test_report.py's store, hostile text left out: it does not change the size much
    ("a1", 1, "base", "Talks continue in Islamabad", "Dawn", "https://example.org/a1", ["Talks went on."]),
    ("a2", 2, "accelerated", "IP gas pipeline survey resumes", "Geo", "https://example.org/a2", ["Surveyors returned."]),
    ("b5", 5, "contraction", "Border clash near Taftan", "Evil Outlet", "https://example.org/b5", ["Officials said nothing."]),
    ("a6", 6, "none", "Cricket: Pakistan win the series", "Geo", "https://example.org/a6", []),
]


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    articles = [Article(i, "test", outlet, title, "", f"Text of {i}.", datetime(2026, 4, d, 12), link)
                for i, d, _, title, outlet, link, _ in ROWS]
    predictions = [Prediction(i, PACK.id, MODEL, label, probs(label), evidence) for i, _, label, _, _, _, evidence in ROWS]
    with Store(classified_store(folder / "s.duckdb", articles, predictions), read_only=True) as store:
        data = dataclasses.replace(report.gather(store, PACK), generated=datetime(2026, 4, 7, 9, 0))
    page = report.render_html(data)
    charts = {}
    for chart in ("chart-daily", "chart-odds", "chart-indicators"):
        found = re.search(rf'<(\w+) id="{chart}".*?</svg>(</figure>)?', page, re.S)
        charts[chart] = len(found.group(0).encode("utf-8")) if found else None
    print(json.dumps({"page_bytes": len(page.encode("utf-8")), "chart_bytes": charts}))


if __name__ == "__main__":
    main()
