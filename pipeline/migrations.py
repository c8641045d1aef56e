"""The store's schema as numbered migrations, and the `schema_version` table that says which have run.

A writing `Store` brings its file up to `LATEST` when it opens it (`migrate`): each pending migration runs in
its own transaction together with the row recording it, so a store killed midway is left at the last whole
version. A reader only checks (`require_current`): it cannot write, so a store older than the code must be
opened once for writing first.

Stores made before this table existed hold the tables of migrations 1 to 3 (or some of them), made by
`CREATE TABLE IF NOT EXISTS` and `ALTER ... IF NOT EXISTS` on every open. `migrate` recognises such a store by
what it holds (`legacy_version`), records those migrations as found in place, and runs the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .errors import StoreError

# Migration 1: the tables as the store made them before it had versions (its schema string, verbatim).
TABLES_V1 = """
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

# Migration 2: the columns older stores lacked, added in place (the schema string's inline ALTERs).
COLUMNS_V2 = """
ALTER TABLE daily_signals ADD COLUMN IF NOT EXISTS stories INTEGER;
ALTER TABLE events ADD COLUMN IF NOT EXISTS coder VARCHAR;  -- the event coder's version; rows from before it have NULL
"""

# Migration 3: stories and the feed registry (feeds added from OPML files), made lazily before versions.
STORIES_V3 = """
ALTER TABLE articles ADD COLUMN IF NOT EXISTS story_id VARCHAR;
CREATE TABLE IF NOT EXISTS feed_registry (url VARCHAR PRIMARY KEY, title VARCHAR, added TIMESTAMP, origin VARCHAR, position BIGINT);
"""

# Migration 4: the big tables without PRIMARY KEYs. DuckDB keeps a key's index (an ART) in memory, where it
# cannot spill: with hashed ids the indexes alone outgrew the 128MB cap before 500k articles. The store's write
# path keeps these keys unique itself (see `Store.add_articles` and `Store.save_analysis`). The key columns stay
# NOT NULL, which costs no index. Columns are in the order earlier versions left them, so rows copy across as they are.
UNKEYED_V4 = {
    "articles": """
        id VARCHAR NOT NULL, source VARCHAR, outlet VARCHAR, feed VARCHAR,
        title VARCHAR, summary VARCHAR, text VARCHAR, published TIMESTAMP, link VARCHAR,
        content_hash VARCHAR, first_seen TIMESTAMP, updated TIMESTAMP, story_id VARCHAR""",
    "nlp": """
        article_id VARCHAR NOT NULL, relevant BOOLEAN, actors VARCHAR[], actor_sentences VARCHAR[], processed TIMESTAMP""",
    "predictions": """
        article_id VARCHAR NOT NULL, scenario VARCHAR NOT NULL, model_version VARCHAR NOT NULL, label VARCHAR,
        p_base DOUBLE, p_accelerated DOUBLE, p_contraction DOUBLE, p_none DOUBLE,
        evidence VARCHAR, predicted TIMESTAMP""",
    "daily_signals": """
        day DATE NOT NULL, scenario VARCHAR NOT NULL, "case" VARCHAR NOT NULL, articles INTEGER, probability DOUBLE,
        model_version VARCHAR, stories INTEGER""",
}


# Migration 5: the full-text stage's record of article pages read, one row per article (its latest read), with
# the content hash the article had from its feed then: a page is read again only when the feed changes the article.
PAGE_READS_V5 = """
CREATE TABLE page_reads (
    article_id VARCHAR NOT NULL, content_hash VARCHAR, url VARCHAR, ok BOOLEAN, chars INTEGER, error VARCHAR,
    read_at TIMESTAMP
);
"""

NLP_PARSER_V6 = """
ALTER TABLE nlp ADD COLUMN IF NOT EXISTS parser VARCHAR;  -- what parsed the row (`Runtime.parser_key`); NULL before
"""


def _run_script(script: str) -> Callable[[duckdb.DuckDBPyConnection], None]:
    return lambda con: con.execute(script)


def _rebuild_without_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Each keyed big table copied into an unkeyed one that takes its name (DuckDB cannot drop a PRIMARY KEY)."""
    for table, columns in UNKEYED_V4.items():
        con.execute(f"CREATE TABLE {table}_unkeyed ({columns})")
        con.execute(f"INSERT INTO {table}_unkeyed SELECT * FROM {table}")
        con.execute(f"DROP TABLE {table}")
        con.execute(f"ALTER TABLE {table}_unkeyed RENAME TO {table}")


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the tables of the unversioned store", _run_script(TABLES_V1)),
    Migration(2, "daily_signals.stories and events.coder", _run_script(COLUMNS_V2)),
    Migration(3, "articles.story_id and feed_registry", _run_script(STORIES_V3)),
    Migration(4, "articles, nlp, predictions and daily_signals without in-memory key indexes", _rebuild_without_keys),
    Migration(5, "page_reads (the full-text stage's page reads)", _run_script(PAGE_READS_V5)),
    Migration(6, "nlp.parser (a re-score reuses only the parses the current parser would make)", _run_script(NLP_PARSER_V6)),
)
LATEST = MIGRATIONS[-1].version

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied TIMESTAMP, description VARCHAR)"


def stored_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The store's schema version; None for a store made before versions (or an empty file)."""
    if not _tables(con) >= {"schema_version"}:
        return None
    # fetchall, not fetchone: DuckDB refuses to register a frame on a connection with a half-read result
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0]


def legacy_version(con: duckdb.DuckDBPyConnection) -> int:
    """The migrations an unversioned store already holds, judged by its tables and columns (0 for an empty file)."""
    tables = _tables(con)
    if not tables >= {"articles", "nlp", "entities", "events", "predictions", "daily_signals", "daily_events", "feeds", "runs"}:
        return 0
    columns = {r[0] for r in con.execute(
        "SELECT table_name || '.' || column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main'").fetchall()}
    if not columns >= {"daily_signals.stories", "events.coder"}:
        return 1
    if "articles.story_id" not in columns or "feed_registry" not in tables:
        return 2
    return 3


def migrate(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Bring the store up to LATEST, one transaction per migration. Returns the version it was at."""
    found = stored_version(con)
    if found is None:
        found = legacy_version(con)
        con.execute("BEGIN")
        con.execute(VERSION_TABLE)
        for migration in MIGRATIONS[:found]:
            con.execute("INSERT INTO schema_version VALUES (?, now(), ?)",
                        [migration.version, f"{migration.description} (found in place)"])
        con.execute("COMMIT")
    _refuse_newer(found, path)
    for migration in MIGRATIONS[found:]:
        con.execute("BEGIN")
        try:
            migration.apply(con)
            con.execute("INSERT INTO schema_version VALUES (?, now(), ?)", [migration.version, migration.description])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return found


def require_current(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A reader's check: the store is at exactly the code's version, or a one-line StoreError saying what to do."""
    found = stored_version(con)
    _refuse_newer(found or 0, path)
    if found != LATEST:
        raise StoreError(
            f"{path}: the store's schema is older than this version of signals (version {found or 0}, this code "
            f"reads {LATEST}); open it once for writing to upgrade it (for example 'signals store vacuum', which reads no news)")


def _refuse_newer(found: int, path: Path) -> None:
    if found > LATEST:
        raise StoreError(
            f"{path}: the store was made by a newer version of signals (schema version {found}, this code knows up to "
            f"{LATEST}); upgrade signals to use it")


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'"
    ).fetchall()}
