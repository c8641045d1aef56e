"""The store owns every query: its read methods, and a check that no other module reaches for its connection."""

import re
from datetime import date, datetime, timezone
from pathlib import Path

from pipeline.records import LABELS, Article, Prediction
from pipeline.store import Store

ROOT = Path(__file__).resolve().parent.parent

# The only modules that may use a Store's DuckDB connection.
CONNECTION_OWNERS = {"pipeline/store.py", "pipeline/migrations.py"}
# Lines elsewhere still allowed to use it, each as (file, the stripped line). `signals label --import` reads the
# store's ids in `cmd_label`, which the CLI conversion (issue 13) moves into pipeline/cli/; on that merge this entry
# stops matching, the test below fails, and the moved line should call `store.article_ids()` instead.
KNOWN_LEFTOVERS: set[tuple[str, str]] = set()  # (file, line) allowed to use the connection: none
CONNECTION_USE = re.compile(r"\.con\b")


def connection_uses(root: Path) -> list[tuple[str, int, str]]:
    """(file relative to root, line number, stripped line) for each use of `.con` in the pipeline and flows code."""
    found = []
    for path in sorted([*root.glob("pipeline/**/*.py"), *root.glob("flows/**/*.py")]):
        name = path.relative_to(root).as_posix()
        if name in CONNECTION_OWNERS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if CONNECTION_USE.search(line):
                found.append((name, number, line.strip()))
    return found


def test_no_module_outside_the_store_uses_its_connection():
    uses = connection_uses(ROOT)
    unexpected = [f"{name}:{number}: {line}" for name, number, line in uses if (name, line) not in KNOWN_LEFTOVERS]
    assert not unexpected, "SQL belongs in pipeline/store.py; add a Store method instead of:\n" + "\n".join(unexpected)
    stale = KNOWN_LEFTOVERS - {(name, line) for name, _, line in uses}
    assert not stale, f"these allowed leftovers are gone; remove them from KNOWN_LEFTOVERS: {sorted(stale)}"


def test_the_check_finds_a_connection_use(tmp_path):
    module = tmp_path / "pipeline" / "odds.py"
    module.parent.mkdir()
    module.write_text("def f(store):\n    return store.con.execute('SELECT 1')\n\ng(store.con)\n", encoding="utf-8")
    (tmp_path / "pipeline" / "store.py").write_text("store.con.execute('SELECT 1')\n", encoding="utf-8")
    assert [(n, i) for n, i, _ in connection_uses(tmp_path)] == [("pipeline/odds.py", 2), ("pipeline/odds.py", 4)]


def article(i: int, published: datetime | None) -> Article:
    return Article(f"a{i}", "test", "Outlet", f"Title {i}", "", "body", published, f"http://127.0.0.1/{i}")


def prediction(article_id: str, label: str, evidence: list[str], version: str = "v1") -> Prediction:
    probs = {c: (0.7 if c == label else 0.1) for c in LABELS}
    return Prediction(article_id, "sc", version, label, probs, evidence)


def test_articles_by_ids_and_published_range(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article(1, datetime(2026, 4, 1, 9)), article(2, datetime(2026, 4, 2, 9)),
                            article(3, datetime(2026, 4, 3, 9)), article(4, None)])
        assert [a.id for a in store.articles()] == ["a1", "a2", "a3", "a4"]  # oldest first
        a4 = store.articles(["a4"])[0]  # undated: dated when first seen (now), so every day-based view counts it
        assert a4.published is not None and a4.published.date() == datetime.now(timezone.utc).date()
        assert [a.id for a in store.articles(since=datetime(2026, 4, 2), until=datetime(2026, 4, 30))] == ["a2", "a3"]
        assert [a.id for a in store.articles(until=datetime(2026, 4, 2, 9))] == ["a1", "a2"]
        assert [a.id for a in store.articles(["a3", "a1", "a4"], since=datetime(2026, 4, 2), until=datetime(2026, 4, 30))] == ["a3"]
        assert [a.id for a in store.articles(["a4", "a1", "nope"])] == ["a1", "a4"]
        assert sorted(store.article_ids()) == ["a1", "a2", "a3", "a4"]
        assert store.last_published_day() == a4.published.date()
        per_day = store.ingested_per_day(since=date(2026, 4, 2), until=date(2026, 4, 30))
        assert sorted(zip(per_day["day"].dt.date, per_day["n"])) == [(date(2026, 4, 2), 1), (date(2026, 4, 3), 1)]


def test_an_id_that_looks_like_sql_is_only_an_id(tmp_path):
    sneaky = "x' OR '1'='1"
    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article(1, datetime(2026, 4, 1))])
        assert store.articles([sneaky]) == []
        assert store.predictions("sc", "v1", [sneaky]) == []
        assert store.daily_signals(sneaky).empty


def test_predictions_come_back_as_records(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article(1, datetime(2026, 4, 1)), article(2, datetime(2026, 4, 1))])
        store.save_analysis([], [prediction("a1", "base", ["one", "two"]), prediction("a2", "none", []),
                                 prediction("a1", "contraction", ["old"], version="v0")])
        got = {p.article_id: p for p in store.predictions("sc", "v1", ["a1", "a2"])}
        assert got["a1"] == prediction("a1", "base", ["one", "two"])
        assert got["a2"].label == "none" and got["a2"].evidence == []
        assert list(store.prediction_probabilities("sc", "v0")["article_id"]) == ["a1"]
        assert store.newest_model_version("sc") in {"v0", "v1"}
        assert store.signals_model_version("sc") is None
        store.refresh_daily_signals("sc", "v1")
        assert store.signals_model_version("sc") == "v1"
        rows = store.daily_signals("sc", digits=1)
        assert list(rows["case"]) == list(LABELS)  # one row per label, in LABELS order
        assert dict(zip(rows["case"], rows["articles"])) == {"base": 1, "accelerated": 0, "contraction": 0, "none": 1}
        assert dict(zip(rows["case"], rows["probability"])) == {"base": 0.8, "accelerated": 0.2, "contraction": 0.2, "none": 0.8}
