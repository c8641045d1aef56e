"""The store at scale: day-scoped refreshes, a store past the old 128MB failure point, pruning and vacuuming,
and both of those killed midway."""

import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta

import duckdb
import pytest

from pipeline.errors import StoreError
from pipeline.records import Article, NlpResult, Prediction
from pipeline.settings import PROJECT_ROOT
from pipeline.store import Store, vacuum_store

LABELS = ("base", "accelerated", "contraction", "none")


def article(i: int, day: date, story: str | None = None) -> Article:
    return Article(f"a{i}", "test", "Outlet", f"Title {i} {story or ''}", "", "body", datetime.combine(day, datetime.min.time()) + timedelta(hours=i % 24),
                   f"http://127.0.0.1/{i}")


def prediction(article_id: str, label: str, version: str = "v1", p: float = 0.7) -> Prediction:
    probs = {c: (p if c == label else (1 - p) / 3) for c in LABELS}
    return Prediction(article_id, "sc", version, label, probs, [])


def signal_rows(store: Store) -> list[tuple]:
    return store.con.execute(
        'SELECT day, "case", articles, round(probability, 6), stories, model_version FROM daily_signals ORDER BY 1, 2'
    ).fetchall()


def fill_predictions_in_sql(con, rows: int, scenario: str, version: str, first_day: date, days: int, chunk: int = 100_000,
                            hashed_ids: bool = False, older_versions: tuple[str, ...] = ()) -> None:
    """`rows` articles spread over `days` days from `first_day` (one story per three articles) and one prediction each
    from `version` and from each of `older_versions` (re-scored by promotions), written in SQL, `chunk` articles a
    transaction. Ids are 'h0', 'h1', ..., or with `hashed_ids` 32 hex digits like the ingest's, in no order."""
    article_id = "md5('h' || i)" if hashed_ids else "'h' || i"
    for low in range(0, rows, chunk):
        high = min(rows, low + chunk)
        con.execute("BEGIN")
        con.execute(
            f"""INSERT INTO articles (id, source, outlet, title, published, content_hash, first_seen, updated, story_id)
                SELECT {article_id}, 'history', 'outlet', 'title ' || i,
                       TIMESTAMP '{first_day}' + to_seconds(CAST(hash(i) % ({days} * 86400) AS BIGINT)),
                       md5(i::VARCHAR), now(), now(), 'story-' || (i // 3)
                FROM range({low}, {high}) t(i)"""
        )
        for age, scored_by in enumerate((version, *older_versions)):
            con.execute(
                f"""INSERT INTO predictions
                    SELECT {article_id}, '{scenario}', '{scored_by}', ['base', 'accelerated', 'contraction', 'none'][1 + i % 4],
                           0.25, 0.25, 0.25, 0.25, '[]', now() - to_days({age})
                    FROM range({low}, {high}) t(i)"""
            )
        con.execute("COMMIT")


def test_refreshing_the_touched_days_gives_what_a_full_refresh_gives(tmp_path):
    days = [date(2026, 4, d) for d in range(1, 11)]
    with Store(tmp_path / "s.duckdb") as store:
        history = [article(i, days[i % 10], story=f"s{i // 4}") for i in range(60)]
        store.add_articles(history)
        store.save_story_ids({a.id: f"s{int(a.id[1:]) // 4}" for a in history})
        store.save_analysis([], [prediction(a.id, LABELS[i % 4]) for i, a in enumerate(history)])
        assert store.refresh_daily_signals("sc", "v1") == 10 * 4
        untouched_before = [r for r in signal_rows(store) if r[0] not in (days[2], days[7])]

        batch = [article(100 + i, days[2] if i % 2 else days[7]) for i in range(6)]
        store.add_articles(batch)
        store.save_analysis([], [prediction(a.id, "contraction") for a in batch])
        written = store.refresh_daily_signals("sc", "v1", days={days[2], days[7]}, window_articles=2)
        assert written == 2 * 4
        by_day = signal_rows(store)
        assert [r for r in by_day if r[0] not in (days[2], days[7])] == untouched_before
        contraction = {r[0]: r[2] for r in by_day if r[1] == "contraction"}
        assert contraction[days[2]] == 3 + sum(1 for i in range(60) if i % 10 == 2 and i % 4 == 2)

        store.refresh_daily_signals("sc", "v1", window_articles=7)  # full, in many windows
        assert signal_rows(store) == by_day
        store.refresh_daily_signals("sc", "v1")  # full, in one window
        assert signal_rows(store) == by_day


def test_a_new_model_version_makes_a_day_refresh_a_full_one(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article(1, date(2026, 4, 1)), article(2, date(2026, 4, 2))])
        store.save_analysis([], [prediction("a1", "base"), prediction("a2", "base")])
        store.refresh_daily_signals("sc", "v1")
        store.save_analysis([], [prediction("a2", "none", version="v2")])  # v2 promoted; only a2 re-scored so far
        store.refresh_daily_signals("sc", "v2", days={date(2026, 4, 2)})
        rows = signal_rows(store)
    assert {r[5] for r in rows} == {"v2"}  # no day is left on the retired model
    assert {r[0] for r in rows} == {date(2026, 4, 2)}


def test_running_out_of_the_memory_cap_names_the_setting_to_raise(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        fill_predictions_in_sql(store.con, 300_000, "sc", "v1", date(2026, 1, 1), 30)
    with Store(path, memory_limit="4MB") as store:
        with pytest.raises(StoreError, match=r"ran out of memory refreshing the daily signals .*raise the duckdb_memory_limit setting"):
            store.refresh_daily_signals("sc", "v1")
        assert store.con.execute("SELECT count(*) FROM predictions").fetchone()[0] == 300_000


@pytest.mark.slow
def test_one_ingest_on_a_store_past_the_old_failure_point(tmp_path, runtime_session):
    """600k articles with hashed ids, like the ingest's, each scored by the active model and two retired ones,
    written under the default 128MB cap 20k articles a transaction (the same fill into the keyed tables of schema
    version 3 ran out of memory committing the articles past 560k: their key indexes live in memory), then a real
    import of three articles on top: its writes, its refresh of the days it touched, and a full refresh succeed."""
    from pipeline.jobs import Runtime, ingest

    rt = Runtime(runtime_session.settings.replace(db=tmp_path / "s.duckdb"))
    version = rt.active_model[1].version
    history = 600_000
    with Store(rt.settings.db, memory_limit=rt.settings.duckdb_memory_limit) as store:
        assert store.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "122.0 MiB"  # 128MB
        fill_predictions_in_sql(store.con, history, rt.scenario.id, version, date(2023, 1, 1), 1216,
                                chunk=20_000, hashed_ids=True, older_versions=("retired-1", "retired-2"))
    summary = ingest(rt, [str(PROJECT_ROOT / "tests" / "fixtures" / "articles.jsonl")], force=True)
    assert summary.articles_new == 3 and summary.predictions == 3
    with Store(rt.settings.db) as store:
        day = date(2026, 4, 11)
        stored = store.con.execute(
            "SELECT count(*) FROM articles a JOIN predictions p ON p.article_id = a.id AND p.model_version = ? "
            "WHERE CAST(a.published AS DATE) = ?", [version, day]).fetchone()[0]
        counted = store.con.execute("SELECT sum(articles) FROM daily_signals WHERE day = ?", [day]).fetchone()[0]
        assert counted == stored > 3  # the new articles joined the day's history
        assert store.refresh_daily_signals(rt.scenario.id, version) == 4 * store.con.execute(
            "SELECT count(DISTINCT CAST(published AS DATE)) FROM articles").fetchone()[0]
        assert store.con.execute("SELECT sum(articles) FROM daily_signals").fetchone()[0] == history + 3


def test_a_rescore_after_a_promotion_keeps_the_old_signals_whole_until_it_is_done(tmp_path, runtime_session):
    """After a promotion the next import re-scores the store chunk by chunk. The signals were rebuilt from the
    first chunk alone: `trend` and `odds` lost every other day for the whole re-score (7 minutes on the archive),
    and for good when it was stopped. Now readers see the old model's signals whole until the last chunk."""
    from pipeline.jobs import Runtime, ingest, process_pending

    rt = Runtime(runtime_session.settings.replace(db=tmp_path / "s.duckdb"))
    scenario, version = rt.scenario.id, rt.active_model[1].version
    ingest(rt, [str(PROJECT_ROOT / "tests" / "fixtures" / "articles.jsonl")], force=True)

    def signals(store: Store) -> list[tuple]:
        return store.con.execute('SELECT day, "case", articles, model_version FROM daily_signals ORDER BY 1, 2').fetchall()

    def predictions(store: Store) -> list[tuple]:
        return store.con.execute("SELECT article_id, label, p_base, p_accelerated, p_contraction, p_none, evidence "
                                 "FROM predictions WHERE model_version = ? ORDER BY 1", [version]).fetchall()

    def parses(store: Store) -> list[tuple]:
        return store.con.execute("SELECT article_id, relevant, actor_sentences, processed FROM nlp ORDER BY 1").fetchall()

    with Store(rt.settings.db) as store:
        fresh, parsed = predictions(store), parses(store)
        # As if `version` had just been promoted over "retired": the store's predictions and signals are the old model's.
        store.con.execute("UPDATE predictions SET model_version = 'retired'")
        store.con.execute("UPDATE daily_signals SET model_version = 'retired'")
        old = signals(store)
        assert len({row[0] for row in old}) == 3
        seen = []
        assert process_pending(rt, store, chunk_size=1, progress=lambda done, total: seen.append(signals(store))) == 3
        assert seen[:2] == [old, old]  # mid-way: the old model's signals, every day of them
        new = signals(store)
        # The same re-score with nothing reading the store between chunks, as `signals import` runs it: the second
        # chunk's `register` met the result `signals_model_version` had left open after `fetchone()` and DuckDB
        # refused it ("Resource In Use"), so a re-score stopped after the first 2,000 articles of any store.
        store.con.execute("UPDATE predictions SET model_version = 'retired'")
        store.con.execute("UPDATE daily_signals SET model_version = 'retired'")
        assert process_pending(rt, store, chunk_size=1) == 3
        assert signals(store) == new
        # Both re-scores classified from the stored parses: spaCy ran over the whole store again after every
        # promotion. The parses are the ones stored (same `processed` time), and the predictions, evidence sentences
        # included, are those the fresh parses gave.
        assert parses(store) == parsed and predictions(store) == fresh
    assert [row[:2] for row in new] == [row[:2] for row in old] and {row[3] for row in new} == {version}
    assert sum(row[2] for row in new) == sum(row[2] for row in old) == 3


def three_versions(store: Store) -> None:
    """a1..a4 scored by v1, then v2, then v3 (promoted in that order); the daily signals come from v3."""
    store.add_articles([article(i, date(2026, 4, 1 + i)) for i in range(1, 5)])
    for version in ("v1", "v2", "v3"):
        store.save_analysis([], [prediction(f"a{i}", "base", version=version) for i in range(1, 5)])
        time.sleep(0.01)  # distinct first-prediction times
    store.refresh_daily_signals("sc", "v3")


def versions(store: Store) -> dict[str, int]:
    return dict(store.con.execute("SELECT model_version, count(*) FROM predictions GROUP BY 1").fetchall())


def test_prune_keeps_the_newest_versions_the_active_one_and_the_one_signals_use(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        three_versions(store)
        result = store.prune_predictions(2)
        assert result == {"versions_removed": [("sc", "v1", 4)], "predictions_removed": 4}
        assert versions(store) == {"v2": 4, "v3": 4}
        assert store.prune_predictions(1, protect=["v2"])["predictions_removed"] == 0
        store.refresh_daily_signals("sc", "v2")  # signals rebuilt from v2: v3, the newest, is kept by recency
        assert store.prune_predictions(1)["predictions_removed"] == 0
        store.refresh_daily_signals("sc", "v3")
        assert store.prune_predictions(1)["versions_removed"] == [("sc", "v2", 4)]
        assert versions(store) == {"v3": 4}
        store.save_analysis([], [prediction("a1", "none", version="v3")])  # the rebuilt table: re-scoring still replaces
        assert versions(store) == {"v3": 4}
        assert store.pending_ids("sc", "v3") == []
        with pytest.raises(StoreError, match="keep at least one"):
            store.prune_predictions(0)


def test_vacuum_reclaims_the_space_of_pruned_predictions_and_keeps_the_rest(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        fill_predictions_in_sql(store.con, 200_000, "sc", "v1", date(2026, 1, 1), 30)
        store.con.execute("UPDATE predictions SET predicted = predicted - INTERVAL 1 DAY")
        store.con.execute("INSERT INTO predictions SELECT article_id, scenario, 'v2', label, p_base, p_accelerated, "
                          "p_contraction, p_none, evidence, now() FROM predictions")
        store.refresh_daily_signals("sc", "v2")
        signals_before = signal_rows(store)
        assert store.prune_predictions(1)["predictions_removed"] == 200_000
        tables_before = table_definitions(store)
    result = vacuum_store(path)
    assert result["bytes_reclaimed"] == result["bytes_before"] - result["bytes_after"] > 0
    assert path.stat().st_size == result["bytes_after"]
    assert not (tmp_path / "s.duckdb.vacuum").exists()
    with Store(path) as store:
        assert versions(store) == {"v2": 200_000}
        assert store.con.execute("SELECT count(*) FROM articles").fetchone()[0] == 200_000
        assert signal_rows(store) == signals_before
        assert table_definitions(store) == tables_before  # the schema and its version table came across
    with Store(path, read_only=True) as store:  # a reader accepts its schema version
        assert versions(store) == {"v2": 200_000}


def table_definitions(store: Store) -> list[tuple]:
    return store.con.execute("SELECT table_name, sql FROM duckdb_tables() ORDER BY 1").fetchall() + \
        store.con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()


def test_vacuum_of_a_store_in_a_folder_with_a_quote_in_its_name(tmp_path):
    """The copy is attached by a quoted SQL literal (DuckDB 1.1 and 1.2, which pyproject.toml allows, take no parameter there): a quote
    in the path must not break it."""
    folder = tmp_path / "analyst's store"
    folder.mkdir()
    path = folder / "s.duckdb"
    with Store(path) as store:
        store.add_articles([article(i, date(2026, 1, 1)) for i in range(5)])
    vacuum_store(path)
    assert sorted(p.name for p in folder.iterdir()) == ["s.duckdb", "s.duckdb.lock"]
    with Store(path, read_only=True) as store:
        assert sorted(store.article_ids()) == [f"a{i}" for i in range(5)]


def test_vacuum_through_a_symbolic_link_compacts_the_store_and_keeps_the_link(tmp_path):
    """Operators link var/signals.duckdb to a data disk: the vacuum must compact the file itself (it had replaced
    the link with a plain file, leaving two stores), and one lock must cover both names."""
    data, var = tmp_path / "data", tmp_path / "var"
    data.mkdir()
    var.mkdir()
    real, link = data / "real.duckdb", var / "signals.duckdb"
    link.symlink_to(real)
    with Store(link) as store:
        store.add_articles([article(i, date(2026, 1, 1)) for i in range(5)])
        with pytest.raises(StoreError, match="in use by another run"):
            Store(real)  # the other name of the same store: the same run lock
    vacuum_store(link)
    assert link.is_symlink() and link.resolve() == real
    assert sorted(p.name for p in data.iterdir()) == ["real.duckdb", "real.duckdb.lock"]
    assert sorted(p.name for p in var.iterdir()) == ["signals.duckdb"]
    with Store(real, read_only=True) as store:
        assert len(store.article_ids()) == 5


def test_vacuum_keeps_the_store_files_permissions(tmp_path):
    """The compacted copy is a new file: it must not come back world-readable (or unwritable by its service)."""
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.add_articles([article(i, date(2026, 1, 1)) for i in range(5)])
    path.chmod(0o600)
    vacuum_store(path)
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o640)
    vacuum_store(path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_vacuum_of_a_missing_store_says_so(tmp_path):
    with pytest.raises(StoreError, match="no store here yet"):
        vacuum_store(tmp_path / "none.duckdb")


# ---------------------------------------------------------------- killed midway


def two_version_store(path, rows: int) -> dict[str, int]:
    """`rows` articles scored by v1 and re-scored by v2 (the active one); returns predictions per version."""
    with Store(path) as store:
        fill_predictions_in_sql(store.con, rows, "sc", "v1", date(2025, 1, 1), 365)
        store.con.execute("UPDATE predictions SET predicted = predicted - INTERVAL 1 DAY")
        for low in range(0, rows, 100_000):
            store.con.execute("INSERT INTO predictions SELECT article_id, scenario, 'v2', label, p_base, p_accelerated, "
                              "p_contraction, p_none, evidence, now() FROM predictions WHERE model_version = 'v1' "
                              f"AND rowid >= {low} AND rowid < {low + 100_000}")
        store.refresh_daily_signals("sc", "v2")
        return versions(store)


def kill_when(command: list[str], ready) -> subprocess.Popen:
    """Start `command`, SIGKILL it as soon as `ready()` is true; fail if it finished first."""
    victim = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while victim.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL, f"finished before it could be killed: {victim.stderr.read().decode()[-500:]}"
    return victim


def grown(path, size: int):
    return lambda: path.exists() and path.stat().st_size > size


def store_command(db, *args) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "--db", str(db), "store", *args]


@pytest.mark.slow
def test_prune_killed_midway_loses_nothing_and_a_rerun_finishes(tmp_path):
    db = tmp_path / "s.duckdb"
    before = two_version_store(db, 600_000)
    # Each copied chunk is committed through the write-ahead log (then checkpointed into the file): kill once
    # the first one is being logged, long before the swap.
    wal = tmp_path / "s.duckdb.wal"
    kill_when(store_command(db, "prune", "--keep-versions", "1"), grown(wal, 4_000_000))
    with Store(db) as store:
        assert versions(store) == before  # the swap never happened: every prediction is still there
        assert store.con.execute("SELECT sum(articles) FROM daily_signals").fetchone()[0] == 600_000
    rerun = subprocess.run(store_command(db, "prune", "--keep-versions", "1", "--json"), cwd=PROJECT_ROOT,
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert '"predictions_removed": 600000' in rerun.stdout
    with Store(db) as store:
        assert versions(store) == {"v2": 600_000}
        assert store.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'predictions_pruned'").fetchone()[0] == 0


@pytest.mark.slow
def test_vacuum_killed_midway_leaves_the_store_whole_and_a_rerun_finishes(tmp_path):
    db = tmp_path / "s.duckdb"
    before = two_version_store(db, 600_000)
    copy = tmp_path / "s.duckdb.vacuum"
    kill_when(store_command(db, "vacuum"), lambda: grown(copy, 4_000_000)() or grown(tmp_path / "s.duckdb.vacuum.wal", 4_000_000)())
    assert copy.exists()  # killed while copying
    with Store(db) as store:
        assert versions(store) == before
        assert store.con.execute("SELECT count(*) FROM articles").fetchone()[0] == 600_000
    rerun = subprocess.run(store_command(db, "vacuum"), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "MB reclaimed" in rerun.stdout
    assert not copy.exists()
    with Store(db) as store:
        assert versions(store) == before
        assert store.con.execute("SELECT sum(articles) FROM daily_signals").fetchone()[0] == 600_000


@pytest.mark.slow
def test_a_prune_or_vacuum_stopped_by_sigint_leaves_no_half_built_work(tmp_path):
    """SIGINT unwinds: a stopped prune drops its half-built table and a stopped vacuum its half-written copy
    (a SIGKILL leaves them to the next run, above)."""
    db = tmp_path / "s.duckdb"
    before = two_version_store(db, 400_000)
    copy = tmp_path / "s.duckdb.vacuum"
    for args, ready in ((("prune", "--keep-versions", "1"), grown(tmp_path / "s.duckdb.wal", 4_000_000)),
                        (("vacuum",), lambda: grown(copy, 4_000_000)() or grown(tmp_path / "s.duckdb.vacuum.wal", 4_000_000)())):
        victim = subprocess.Popen(store_command(db, *args), cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while victim.poll() is None and not ready() and time.monotonic() < deadline:
            time.sleep(0.02)
        victim.send_signal(signal.SIGINT)
        _, err = victim.communicate(timeout=60)
        assert victim.returncode == 130, f"{args}: finished before the stop: {err[-300:]}"
        assert err.strip() == "signals: stopped by SIGINT", err
        assert not copy.exists() and not (tmp_path / "s.duckdb.vacuum.wal").exists()
        with Store(db) as store:
            assert versions(store) == before
            assert store.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'predictions_pruned'").fetchone()[0] == 0
