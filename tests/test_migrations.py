"""The store's numbered migrations: stores made before versions are recognised and upgraded with their rows,
readers refuse a store older than the code, and every reader and writer refuses one newer than it."""

from datetime import date, datetime

import duckdb
import pytest

from pipeline.errors import StoreError
from pipeline.migrations import LATEST, MIGRATIONS
from pipeline.records import Article, NlpResult, Prediction
from pipeline.store import Store

# The schema string of the store before it had versions, as it was executed on every writer's open.
UNVERSIONED_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id VARCHAR PRIMARY KEY, source VARCHAR, outlet VARCHAR, feed VARCHAR,
    title VARCHAR, summary VARCHAR, text VARCHAR, published TIMESTAMP, link VARCHAR,
    content_hash VARCHAR, first_seen TIMESTAMP, updated TIMESTAMP, story_id VARCHAR
);
CREATE TABLE IF NOT EXISTS nlp (
    article_id VARCHAR PRIMARY KEY, relevant BOOLEAN, actors VARCHAR[], actor_sentences VARCHAR[],
    processed TIMESTAMP
);
CREATE TABLE IF NOT EXISTS entities (
    article_id VARCHAR, text VARCHAR, label VARCHAR, actor VARCHAR, start_char INTEGER, end_char INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    article_id VARCHAR, sentence_index INTEGER, type VARCHAR, source VARCHAR, target VARCHAR,
    trigger VARCHAR, sentence VARCHAR, negated BOOLEAN
);
CREATE TABLE IF NOT EXISTS predictions (
    article_id VARCHAR, scenario VARCHAR, model_version VARCHAR, label VARCHAR,
    p_base DOUBLE, p_accelerated DOUBLE, p_contraction DOUBLE, p_none DOUBLE,
    evidence VARCHAR, predicted TIMESTAMP,
    PRIMARY KEY (article_id, scenario, model_version)
);
CREATE TABLE IF NOT EXISTS daily_signals (
    day DATE, scenario VARCHAR, "case" VARCHAR, articles INTEGER, probability DOUBLE, model_version VARCHAR,
    stories INTEGER,
    PRIMARY KEY (day, scenario, "case")
);
ALTER TABLE daily_signals ADD COLUMN IF NOT EXISTS stories INTEGER;
ALTER TABLE events ADD COLUMN IF NOT EXISTS coder VARCHAR;
CREATE TABLE IF NOT EXISTS daily_events (
    day DATE, type VARCHAR, source VARCHAR, target VARCHAR, events INTEGER, articles INTEGER
);
CREATE TABLE IF NOT EXISTS feeds (
    name VARCHAR PRIMARY KEY, etag VARCHAR, last_modified VARCHAR, last_attempt TIMESTAMP,
    last_success TIMESTAMP, consecutive_failures INTEGER, next_poll TIMESTAMP, last_error VARCHAR
);
CREATE TABLE IF NOT EXISTS runs (
    started TIMESTAMP, finished TIMESTAMP, kind VARCHAR, feeds_ok INTEGER, feeds_failed INTEGER,
    articles_new INTEGER, articles_seen INTEGER, predictions INTEGER
);
"""

# What `ensure_story_schema` then added when stories were first assigned or an OPML file imported.
UNVERSIONED_STORIES = """
ALTER TABLE articles ADD COLUMN IF NOT EXISTS story_id VARCHAR;
CREATE TABLE IF NOT EXISTS feed_registry (url VARCHAR PRIMARY KEY, title VARCHAR, added TIMESTAMP, origin VARCHAR,
position BIGINT);
"""

# A store from before stories, story counts and the event coder's version: those columns are missing.
OLDER_SCHEMA = (UNVERSIONED_SCHEMA
                .replace(", story_id VARCHAR\n", "\n")
                .replace("model_version VARCHAR,\n    stories INTEGER,", "model_version VARCHAR,")
                .replace("ALTER TABLE daily_signals ADD COLUMN IF NOT EXISTS stories INTEGER;\n", "")
                .replace("ALTER TABLE events ADD COLUMN IF NOT EXISTS coder VARCHAR;\n", ""))

BIG_TABLES = ("articles", "nlp", "predictions", "daily_signals", "entities", "events")


def unversioned_store(path, older: bool = False) -> dict[str, list[tuple]]:
    """A store file as the code before versions left it (`older`: before stories and the coder's version), a row
    in every table. Returns each table's rows."""
    with_stories = not older
    con = duckdb.connect(str(path))
    con.execute(OLDER_SCHEMA if older else UNVERSIONED_SCHEMA)
    story = ", 'story-1'" if with_stories else ""
    con.execute(f"INSERT INTO articles VALUES ('a1', 'src', 'Outlet', 'feed', 'Title', '', 'body', TIMESTAMP '2025-06-01 12:00', "
                f"'http://127.0.0.1/1', 'hash', TIMESTAMP '2025-06-01 13:00', TIMESTAMP '2025-06-01 13:00'{story})")
    con.execute("INSERT INTO nlp VALUES ('a1', true, ['IRN'], ['Iran said so.'], TIMESTAMP '2025-06-01 13:00')")
    con.execute("INSERT INTO entities VALUES ('a1', 'Iran', 'GPE', 'IRN', 0, 4)")
    coder = ", 'rules-v1'" if with_stories else ""
    con.execute(f"INSERT INTO events VALUES ('a1', 0, 'consult', 'IRN', 'PAK', 'met', 'Iran met Pakistan.', false{coder})")
    con.execute("INSERT INTO predictions VALUES ('a1', 'sc', 'v1', 'base', 0.7, 0.1, 0.1, 0.1, '[]', TIMESTAMP '2025-06-01 13:00')")
    stories = ", 1" if with_stories else ""
    con.execute(f"INSERT INTO daily_signals VALUES (DATE '2025-06-01', 'sc', 'base', 1, 0.7, 'v1'{stories})")
    con.execute("INSERT INTO daily_events VALUES (DATE '2025-06-01', 'consult', 'IRN', 'PAK', 1, 1)")
    con.execute("INSERT INTO feeds VALUES ('feed', 'etag', '', NULL, NULL, 0, NULL, '')")
    con.execute("INSERT INTO runs VALUES (TIMESTAMP '2025-06-01 13:00', TIMESTAMP '2025-06-01 13:01', 'import', 1, 0, 1, 1, 1)")
    if with_stories:
        con.execute(UNVERSIONED_STORIES)
        con.execute("INSERT INTO feed_registry VALUES ('http://127.0.0.1/feed', 'Feed', TIMESTAMP '2025-06-01 13:00', 'opml', 1)")
    rows = {t: con.execute(f"SELECT * FROM {t}").fetchall() for t in tables(con)}
    con.close()
    return rows


def tables(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]


def keyed_tables(con) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT DISTINCT table_name FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')").fetchall()}


def recorded(con) -> list[tuple]:
    return con.execute("SELECT version, description LIKE '%(found in place)' FROM schema_version ORDER BY version").fetchall()


def test_a_store_made_before_versions_is_recognised_and_migrated_with_its_rows(tmp_path):
    path = tmp_path / "old.duckdb"
    before = unversioned_store(path)
    with Store(path) as store:
        assert recorded(store.con) == [(1, True), (2, True), (3, True)] + [(v, False) for v in range(4, LATEST + 1)]
        for table, rows in before.items():  # every row kept; a column a later migration adds (nlp.parser) is empty
            width = len(rows[0]) if rows else 0
            after = store.con.execute(f"SELECT * FROM {table}").fetchall()
            assert [r[:width] for r in after] == rows and all(v is None for r in after for v in r[width:]), table
        assert keyed_tables(store.con) == {"feeds", "feed_registry"}  # the small tables keep theirs
        assert store.registered_feed_rows() == [("http://127.0.0.1/feed", "Feed")]
        assert store.add_articles([Article("a1", "src", "Outlet", "Title", "", "body", datetime(2025, 6, 1, 12),
                                           "http://127.0.0.1/1")]) == (0, 1)  # known id, new content hash: updated
        assert store.con.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    with Store(path, read_only=True) as reader:  # at the code's version now: readable
        assert reader.con.execute("SELECT count(*) FROM predictions").fetchone()[0] == 0  # forgotten with the update


def test_an_older_store_without_the_later_columns_gets_them(tmp_path):
    path = tmp_path / "older.duckdb"
    before = unversioned_store(path, older=True)
    with Store(path) as store:
        assert recorded(store.con) == [(1, True)] + [(v, False) for v in range(2, LATEST + 1)]
        for table, rows in before.items():  # the old columns as they were, the new ones empty
            if table in ("daily_signals", "daily_events"):
                continue  # rebuilt, below
            width = len(rows[0])
            assert [r[:width] for r in store.con.execute(f"SELECT * FROM {table}").fetchall()] == rows, table
        assert store.con.execute("SELECT story_id FROM articles").fetchall() == [(None,)]
        assert store.con.execute("SELECT coder FROM events").fetchall() == [(None,)]
        # The old days' daily signals had no story counts (trend read "0 stories of 1 article"): the upgrade
        # rebuilds them from the model they were built from, and the daily events with them.
        assert store.con.execute('SELECT "case", articles, stories, model_version FROM daily_signals '
                                 'WHERE articles > 0').fetchall() == [("base", 1, 1, "v1")]
        assert store.con.execute("SELECT count(*) FROM daily_signals WHERE stories IS NULL").fetchone()[0] == 0
        assert store.con.execute("SELECT * FROM daily_events").fetchall() == before["daily_events"]


def test_a_new_store_is_made_at_the_latest_version_without_key_indexes_on_big_tables(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        assert [v for v, _ in recorded(store.con)] == [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1))
        assert not keyed_tables(store.con) & set(BIG_TABLES)
        assert store.con.execute("SELECT count(*) FROM duckdb_indexes()").fetchone()[0] == 0
    with Store(tmp_path / "s.duckdb") as store:  # opening again runs nothing twice
        assert [v for v, _ in recorded(store.con)] == list(range(1, LATEST + 1))


def test_a_reader_refuses_a_store_older_than_the_code_and_leaves_it_as_it_is(tmp_path):
    path = tmp_path / "old.duckdb"
    before = unversioned_store(path)
    with pytest.raises(StoreError, match=r"old\.duckdb: the store's schema is older .*open it once for writing") as raised:
        Store(path, read_only=True)
    assert "\n" not in str(raised.value)
    con = duckdb.connect(str(path), read_only=True)
    assert "schema_version" not in tables(con) and {t: con.execute(f"SELECT * FROM {t}").fetchall() for t in tables(con)} == before
    con.close()


def test_a_store_newer_than_the_code_is_refused_by_readers_and_writers(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.add_articles([Article("a1", "src", "Outlet", "Title", "", "body", datetime(2025, 6, 1), "")])
        store.con.execute("INSERT INTO schema_version VALUES (?, now(), 'from a later release')", [LATEST + 1])
    for read_only in (False, True):
        with pytest.raises(StoreError, match=rf"made by a newer version of signals \(schema version {LATEST + 1}, "
                                             rf"this code knows up to {LATEST}\); upgrade signals"):
            Store(path, read_only=read_only)
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    con.close()


# ---------------------------------------------------------------- keys kept unique by the write path


def article(i: str, text: str = "body") -> Article:
    return Article(i, "src", "Outlet", f"Title {i}", "", text, datetime(2026, 4, 1, 12), "")


def prediction(article_id: str, label: str, version: str = "v1") -> Prediction:
    return Prediction(article_id, "sc", version, label, {c: (0.7 if c == label else 0.1) for c in
                                                         ("base", "accelerated", "contraction", "none")}, [])


def count(store: Store, sql: str) -> int:
    return store.con.execute(sql).fetchall()[0][0]


def test_articles_stay_unique_within_a_batch_and_across_batches(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        assert store.add_articles([article("a1"), article("a1", "second telling"), article("a2")]) == (2, 0)
        assert store.articles(["a1"])[0].text == "second telling"  # the last one given
        assert store.add_articles([article("a1", "second telling"), article("a2"), article("a2")]) == (0, 0)
        assert count(store, "SELECT count(*) FROM articles") == count(store, "SELECT count(DISTINCT id) FROM articles") == 2


def test_nlp_rows_stay_unique_and_replace_their_entities_and_events(tmp_path):
    from pipeline.records import Entity, Event

    first = NlpResult("a1", True, [Entity("Iran", "GPE", "IRN", 0, 4)], [], [Event("consult", "IRN", "PAK", "met", "s")])
    second = NlpResult("a1", False, [Entity("Pakistan", "GPE", "PAK", 0, 8)], [], [])
    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article("a1")])
        store.save_analysis([first, second], [])
        assert store.con.execute("SELECT relevant FROM nlp").fetchall() == [(False,)]
        assert store.con.execute("SELECT text FROM entities").fetchall() == [("Pakistan",)]
        assert count(store, "SELECT count(*) FROM events") == 0
        store.save_analysis([first], [])
        store.save_analysis([first], [])
        assert store.con.execute("SELECT relevant FROM nlp").fetchall() == [(True,)]
        assert store.con.execute("SELECT text FROM entities").fetchall() == [("Iran",)]
        assert count(store, "SELECT count(*) FROM events") == 1


def test_predictions_stay_unique_per_article_scenario_and_model_version(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article("a1"), article("a2")])
        store.save_analysis([], [prediction("a1", "base"), prediction("a1", "none"), prediction("a2", "base")])
        assert store.con.execute("SELECT article_id, label FROM predictions ORDER BY 1").fetchall() == [("a1", "none"), ("a2", "base")]
        store.save_analysis([], [prediction("a1", "accelerated"), prediction("a2", "base", version="v2")])
        assert store.con.execute("SELECT article_id, model_version, label FROM predictions ORDER BY 1, 2").fetchall() == [
            ("a1", "v1", "accelerated"), ("a2", "v1", "base"), ("a2", "v2", "base")]


def test_daily_signals_stay_unique_per_day_scenario_and_case(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article("a1"), article("a2")])
        store.save_analysis([], [prediction("a1", "base"), prediction("a2", "none")])
        store.refresh_daily_signals("sc", "v1")
        store.refresh_daily_signals("sc", "v1")
        store.refresh_daily_signals("sc", "v1", days={date(2026, 4, 1)})
        store.refresh_daily_signals("sc", "v1", days={date(2026, 4, 1), date(2026, 4, 1)})
        assert count(store, "SELECT count(*) FROM daily_signals") == 4
        assert count(store, 'SELECT count(*) FROM (SELECT DISTINCT day, scenario, "case" FROM daily_signals)') == 4
        assert count(store, "SELECT sum(articles) FROM daily_signals") == 2
