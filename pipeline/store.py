"""The output store: one embedded DuckDB file (SIGNALS_DB / --db).

`Store` owns the connection and the schema: a writer brings the file up to the code's schema version when it
opens it (numbered migrations, pipeline/migrations.py), and a reader refuses a store older than the code.
The big tables have no PRIMARY KEY (DuckDB keeps key indexes in memory, where they cannot spill); the write
path keeps their keys unique itself: inserts skip keys already stored, replacements delete then insert
in the same transaction, and a key given twice in one batch is stored once. Writes go in bulk through
DataFrames (row-by-row inserts are ~1k rows/s, a DataFrame load is ~5M rows/s)
and each batch is one transaction, so a killed run leaves either the whole
batch or none of it.

Who holds the file, and when. DuckDB lets one process open a file for writing,
and then no other process may open it at all, not even to read. So:
- a writing `Store` takes a run lock (`<db>.lock`, flock, freed by the kernel
  even on SIGKILL) for its whole life: a second run stops at once with "in use
  by another run";
- but it opens the DuckDB file only while it works on it, and lets it go after
  every batch transaction (`release()`; the jobs also call it before slow work
  that needs no store: HTTP fetches, NLP). A run holds the file for seconds at
  a time, never for the whole run;
- readers open the file read-only, and when a batch holds it they wait (a
  bounded wait, `lock_wait` seconds, polling) and then see everything committed
  so far.
- `signals serve` holds another lock, `<db>.serve.lock`, for its whole life:
  one serve per store (flows/serve.py). Its runs take the run lock as any run.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import signal
import stat
import threading
import time
from contextlib import contextmanager
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from pathlib import Path

import duckdb
import pandas as pd

from .errors import StoreError
from .migrations import migrate, require_current
from .records import LABELS, Article, Entity, Event, FeedOutcome, FeedState, NlpResult, PageRead, Prediction, RunSummary

# A refresh aggregates at most this many articles per query (whole days, so one very busy day may exceed it):
# the memory a refresh needs is bounded by it, not by the size of the history.
REFRESH_WINDOW_ARTICLES = 100_000

def _daily_signals_sql() -> str:
    """The INSERT that writes one window's daily signals, one row per day and label of `LABELS`.

    The label columns (p_<label>) come from `LABELS`; every value is a named parameter: $scenario,
    $model_version, $low and $high (the published range), and $label_<label> for each label."""
    per_label = ",\n           ".join(
        f"count_if(p.label = $label_{c}) AS n_{c}, sum(p.p_{c}) AS m_{c}, "
        f"count(DISTINCT coalesce(a.story_id, a.id)) FILTER (WHERE p.label = $label_{c}) AS s_{c}"
        for c in LABELS
    )
    rows = ",\n    ".join(
        f"{{'case': $label_{c}, 'articles': n_{c}, 'probability': m_{c}, 'stories': s_{c}}}" for c in LABELS
    )
    return f"""
INSERT INTO daily_signals
WITH per_day AS (
    SELECT CAST(a.published AS DATE) AS day,
           {per_label}
    FROM predictions p JOIN articles a ON a.id = p.article_id
    WHERE p.scenario = $scenario AND p.model_version = $model_version AND a.published >= $low AND a.published < $high
    GROUP BY 1
)
SELECT day, $scenario AS scenario, r.case, r.articles, r.probability, $model_version AS model_version, r.stories
FROM per_day, unnest([
    {rows}
]) AS t(r)
"""


DAILY_SIGNALS_SQL = _daily_signals_sql()
LABEL_PARAMS = {f"label_{c}": c for c in LABELS}  # the $label_<label> values DAILY_SIGNALS_SQL binds

# One window's events by day, type and actor pair (negated events are not counted as happening):
# (published low, published high).
DAILY_EVENTS_SQL = """
INSERT INTO daily_events
SELECT CAST(a.published AS DATE), e.type, coalesce(e.source, ''), coalesce(e.target, ''),
       count(*), count(DISTINCT e.article_id)
FROM events e JOIN articles a ON a.id = e.article_id
WHERE NOT e.negated AND a.published >= ? AND a.published < ?
GROUP BY ALL
"""

# Prune and vacuum copy rows in chunks of this many (each chunk one transaction).
COPY_CHUNK_ROWS = 100_000

ARTICLE_COLUMNS = ["id", "source", "outlet", "feed", "title", "summary", "text", "published", "link", "content_hash"]
ARTICLE_FIELDS = ["id", "source", "outlet", "title", "summary", "text", "published", "link", "feed"]  # read back as an Article


def run_lock_path(path: Path) -> Path:
    """The run lock's file beside a store: `<db>.lock`, beside the file itself when `path` is a symbolic link,
    so that every name of one store shares one lock."""
    real = Path(path).resolve()
    return real.with_name(real.name + ".lock")


def serve_lock_path(path: Path) -> Path:
    """The serve lock's file beside a store: `<db>.serve.lock`, beside the real file as the run lock is. `signals
    serve` holds it for its whole life (flows/serve.py); each served run still takes the run lock."""
    real = Path(path).resolve()
    return real.with_name(real.name + ".serve.lock")


@contextmanager
def stops_held(done: str):
    """SIGINT and SIGTERM wait while the block runs: the last step of a prune or a vacuum (its commit or its
    swap, then closing the file), which a stop must not cut in two. While it runs, a Python-level handler only
    notes the signal (blocking it with a signal mask would not do: the kernel hands a process-directed signal to
    any thread that does not block it, DuckDB's and the CLI's own included). When the block ends, the handlers
    are put back and a noted signal is passed to its handler, the stop carrying `done` (what was finished) for
    the command's stop line. Outside the main thread, where no signal handler runs, the block just runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum)) for sig in HELD_SIGNALS}
    finished = False
    try:
        yield
        finished = True
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if arrived:
            try:
                _pass_on(arrived[0], previous[arrived[0]])
            except KeyboardInterrupt as stop:
                if finished:
                    stop.done = done
                raise


HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _pass_on(signum: int, handler) -> None:
    """What the signal would have done on arrival: call its Python handler, or, for the default action,
    raise KeyboardInterrupt (SIGINT) or deliver it again (SIGTERM's default ends the process)."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        os.kill(os.getpid(), signum)


def _locked(path: Path):
    """The run lock's file of the store at `path`, locked (flock, exclusive); StoreError naming the holder's pid if
    another run has it."""
    handle = open(run_lock_path(path), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        who = f" (pid {holder})" if holder.isdigit() and _alive(int(holder)) else ""  # a backup's flock writes no pid
        raise StoreError(f"{path}: the store is in use by another run{who}; wait for it to finish and try again") from None
    return handle


def _alive(pid: int) -> bool:
    """Whether a process `pid` exists (a lock file can still name a run that has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def check_no_run(path: Path | str) -> None:
    """Refuse at once (StoreError) if another run holds the store's run lock: `signals run` checks this before it
    starts Prefect's temporary server, which takes seconds; the run itself takes the lock when it opens the store."""
    path = Path(path)
    if run_lock_path(path).exists():
        _locked(path).close()


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def content_hash(article: Article) -> str:
    return hashlib.sha1("\x1f".join((article.title, article.summary, article.text)).encode("utf-8")).hexdigest()


def _article(row: Sequence) -> Article:
    """An Article from a row of ARTICLE_FIELDS (missing text as '')."""
    return Article(row[0], row[1], row[2] or "", row[3] or "", row[4] or "", row[5] or "", row[6], row[7] or "", row[8] or "")


def _evidence(raw: str | None) -> list[str]:
    """Evidence sentences from their stored JSON text; anything unreadable counts as none."""
    try:
        value = json.loads(raw or "[]")
    except json.JSONDecodeError:
        return []
    return [str(s) for s in value] if isinstance(value, list) else []


# What DuckDB says about a store file that is cut short or damaged (a copy interrupted, a disk error).
DAMAGED = ("Could not read enough bytes", "not a valid DuckDB database file", "Corrupt database file", "checksum",
           "Failure while replaying WAL")


def damage_hint(message: str) -> str:
    """`message` with what to do when it says the store file is damaged, else as it is."""
    if not any(sign in message for sign in DAMAGED):
        return message
    return (f"{message}; the store file is damaged or cut short: restore it from a backup (README, 'Backing up a store'), "
            "or import the news again into a new store")


def existing_store(path: Path | str) -> Path:
    """`path`, once a store file is there (StoreError otherwise): for the commands that only read or tidy a store,
    where a mistyped --db must not create a new, empty one."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path}: no store here yet; run 'signals import' or 'signals run' first")
    return path


class Store:
    """A DuckDB file with the pipeline's tables. Use as a context manager.

    `Store(path)` is a writer: it takes the run lock at once (StoreError if another run has it), opens the
    file and migrates it to the code's schema version; after `release()` the next use opens the file again.
    `Store(path, read_only=True)` is a reader of a store at the code's schema version. Either waits up to
    `lock_wait` seconds while another process holds the file.
    """

    POLL_SECONDS = 0.05

    def __init__(self, path: Path | str, read_only: bool = False, memory_limit: str = "128MB", lock_wait: float = 60.0):
        self.path = Path(path)
        self.read_only = read_only
        self.memory_limit = memory_limit
        self.lock_wait = lock_wait
        self._con: duckdb.DuckDBPyConnection | None = None
        self._run_lock = None
        self._schema_ready = False
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._take_run_lock()
        else:
            existing_store(self.path)
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ connection lifecycle

    @property
    def lock_path(self) -> Path:
        return run_lock_path(self.path)

    def _take_run_lock(self) -> None:
        handle = _locked(self.path)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._run_lock = handle

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The open connection, opened (and for a writer, the schema made) on first use after a release."""
        if self._con is None:
            self._connect()
        return self._con

    def _connect(self) -> None:
        deadline = time.monotonic() + self.lock_wait
        while True:
            try:
                self._con = duckdb.connect(str(self.path), read_only=self.read_only, config={"memory_limit": self.memory_limit})
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise self.translate(exc) from None
                if time.monotonic() >= deadline:
                    pid = re.search(r"\(PID (\d+)\)", str(exc))
                    who = f" (pid {pid.group(1)})" if pid else ""
                    raise StoreError(
                        f"{self.path}: the store is in use by another process{who}, held for more than {self.lock_wait:g}s: "
                        "a run, or a program reading the file (a notebook, the DuckDB command line); wait for it to "
                        "finish and try again") from None
                time.sleep(self.POLL_SECONDS)
            except duckdb.Error as exc:
                raise StoreError(damage_hint(f"{self.path}: not a usable DuckDB store ({exc})")) from None
        try:
            if self.read_only:
                require_current(self._con, self.path)
            elif not self._schema_ready:
                with self._memory_cap_hint("upgrading the store's schema"):
                    migrate(self._con, self.path)
                self._schema_ready = True
                self._count_stories_of_old_days()
        except duckdb.Error as exc:
            raise self.translate(exc) from None

    def _count_stories_of_old_days(self) -> None:
        """Daily signals written before they counted stories (migration 2 added `stories` empty) are rebuilt,
        each scenario's from the model they were built from: otherwise `trend` reads "0 stories of 9 articles"
        on those days until a promotion rebuilds them. A store without such rows costs one query."""
        for (scenario,) in self.con.execute("SELECT DISTINCT scenario FROM daily_signals WHERE stories IS NULL").fetchall():
            self.refresh_daily_signals(scenario, self.signals_model_version(scenario))

    def release(self) -> None:
        """A writer lets go of the DuckDB file (readers may open it) but keeps the run lock; the next use reopens it.
        Call it between batches, before work that needs no store. A reader keeps its connection."""
        if self.read_only or self._con is None:
            return
        con, self._con = self._con, None
        try:
            con.close()  # checkpoints: what readers open next has every committed batch
        except duckdb.Error as exc:
            raise self.translate(exc) from None

    def translate(self, exc: BaseException) -> StoreError:
        """A StoreError naming the store for a DuckDB or OS error: a full disk says so."""
        text = str(exc)
        if "No space left on device" in text or getattr(exc, "errno", None) == errno.ENOSPC:
            return StoreError(f"{self.path}: the disk is full (No space left on device); the batch being written was "
                              "rolled back and everything stored before it is kept; free some space and run again")
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        return StoreError(damage_hint(f"{self.path}: {first}"))

    def _register(self, name: str, frame: pd.DataFrame) -> None:
        """`frame` visible to SQL as `name`. A result a `fetchone()` left unread is run to its end first: DuckDB 2.0
        refuses `register` while one is open ("Resource In Use"), which stopped every re-score after its first
        chunk (`signals_model_version` had read one row)."""
        self._complete()
        self.con.register(name, frame)

    def _unregister(self, name: str) -> None:
        """`unregister`, after the same: DuckDB refuses it too while a result is open."""
        self._complete()
        self.con.unregister(name)

    def _complete(self) -> None:
        """Run an unread result to its end (DuckDB 2.0's `complete`; older versions have none and need none)."""
        complete = getattr(self.con, "complete", None)
        if complete is not None:
            complete()

    @contextmanager
    def _batch(self, **frames: pd.DataFrame):
        """One transaction with `frames` visible to SQL under their names: all of it is stored, or none.
        A writer releases the file afterwards. A failed write (full disk, say) is a StoreError naming the store."""
        con = self.con
        for name, frame in frames.items():
            self._register(name, frame)
        try:
            con.execute("BEGIN")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException as exc:
                try:
                    con.execute("ROLLBACK")
                except duckdb.Error:  # DuckDB already aborted it (a failed COMMIT): drop the connection, which discards the rest
                    self._drop_connection()
                if isinstance(exc, duckdb.Error):
                    raise self.translate(exc) from exc
                raise
        finally:
            if self._con is con:
                for name in frames:
                    self._unregister(name)
        self.release()

    def _drop_connection(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            try:
                con.close()
            except duckdb.Error:
                pass

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (a writer checkpoints) and free the run lock. A writer also removes DuckDB's
        spill folder beside the store (`<db>.tmp`) when it is empty: a killed process leaves it behind."""
        try:
            if self._con is not None:
                con, self._con = self._con, None
                try:
                    con.close()
                except duckdb.Error as exc:
                    raise self.translate(exc) from None
        finally:
            if self._run_lock is not None:
                try:
                    Path(f"{self.path}.tmp").rmdir()
                except OSError:
                    pass  # none, or not empty
                self._run_lock.seek(0)  # the pid goes with the lock: a backup's flock later was named by a run long over
                self._run_lock.truncate()
                self._run_lock.close()
                self._run_lock = None

    # ------------------------------------------------------------ articles

    def add_articles(self, articles: Sequence[Article]) -> tuple[int, int]:
        """Insert new articles (a copy of a stored one under another id, same link and same content, is not stored
        again); an article seen again with changed content updates its record
        (and drops its derived rows so they are recomputed). An article seen again with only its date moved to
        another day (an outlet correcting a pubDate) takes the new date and keeps its derived rows: the text the
        classifier read is the same. Either way a day that loses or gains an article is recounted. An id given
        twice keeps its last version. An article without a date (none given, unreadable, or a day ahead of the
        clock) is dated when first seen: every view is by day, and an undated article would count in none.
        Returns (new, updated), a re-dated article counting as updated."""
        if not articles:
            return 0, 0
        now = utcnow()
        frame = pd.DataFrame(
            [[a.id, a.source, a.outlet, a.feed, a.title, a.summary, a.text, a.published, a.link, content_hash(a)] for a in articles],
            columns=ARTICLE_COLUMNS,
        ).drop_duplicates("id", keep="last")
        frame["published"] = pd.to_datetime(frame["published"])
        # The same page word for word under another id (a CMS migration gives every item a new guid): a copy of what is
        # stored, or of a line earlier in the batch. Same link and same content, so no two real articles are folded.
        linked = frame["link"].fillna("") != ""
        frame = frame[~(linked & frame.duplicated(["link", "content_hash"], keep="first"))]
        copies = self._stored_copies(frame[linked.reindex(frame.index)])
        frame = frame[~frame["id"].isin(copies)]
        with self._batch(incoming=frame) as con:
            rows = con.execute(  # the stored articles seen again changed: (id, content changed?, old day, new day)
                "SELECT i.id, a.content_hash <> i.content_hash, CAST(a.published AS DATE), "
                "CAST(coalesce(i.published, a.published) AS DATE) FROM incoming i JOIN articles a ON a.id = i.id "
                "WHERE a.content_hash <> i.content_hash OR CAST(i.published AS DATE) <> CAST(a.published AS DATE)"
            ).fetchall()
            changed = [article_id for article_id, edited, _, _ in rows if edited]
            # an edited article leaves its old day (the new one counts it once it is classified again); a re-dated one,
            # the same content on another day, moves with its prediction: both its days are recounted
            moved = {old for _, edited, old, new_day in rows if edited and old != new_day}
            redated = [(old, new_day) for _, edited, old, new_day in rows if not edited]
            if redated:
                con.execute("UPDATE articles SET published = i.published, updated = ? FROM incoming i WHERE articles.id = i.id "
                            "AND articles.content_hash = i.content_hash AND CAST(i.published AS DATE) <> CAST(articles.published AS DATE)",
                            [now])
                moved |= {day for pair in redated for day in pair}  # the new day gains it: its predictions are kept
            new = con.execute(
                f"INSERT INTO articles SELECT {', '.join(ARTICLE_COLUMNS).replace('published', 'coalesce(published, ?)')}, "
                "? AS first_seen, ? AS updated, NULL AS story_id "
                "FROM incoming i WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = i.id)",
                [now, now, now],  # an undated article is dated when first seen, so every day-based view counts it
            ).fetchone()[0]
            if changed:
                con.execute(
                    "UPDATE articles SET title = i.title, summary = i.summary, text = i.text, published = coalesce(i.published, articles.published), "
                    "link = i.link, content_hash = i.content_hash, updated = ? FROM incoming i WHERE articles.id = i.id AND articles.content_hash <> i.content_hash",
                    [now],
                )
                self._forget_derived(changed)
        if moved:  # a day lost (or gained) an article: recount it for every scenario, from the model its signals use
            for (scenario,) in self.con.execute("SELECT DISTINCT scenario FROM daily_signals").fetchall():
                self.refresh_daily_signals(scenario, self.signals_model_version(scenario), days=sorted(moved))
        return int(new), len(changed) + len(redated)

    def _stored_copies(self, linked: pd.DataFrame) -> set[str]:
        """The ids in `linked` (articles with a link) that are new but whose link and content a stored article has."""
        if linked.empty:
            return set()
        self._register("linked_incoming", linked[["id", "link", "content_hash"]])
        try:
            return {r[0] for r in self.con.execute(
                "SELECT i.id FROM linked_incoming i WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = i.id) "
                "AND EXISTS (SELECT 1 FROM articles a WHERE a.link = i.link AND a.content_hash = i.content_hash)").fetchall()}
        finally:
            self._unregister("linked_incoming")

    def update_text(self, article_id: str, text: str) -> None:
        """Replace a stored article's text (with its page's main text, by the full-text stage). Its content hash
        stays the one of what the feed gave, so the same stub polled again does not overwrite the new text; its
        derived rows go, so the NLP stage reads the new text."""
        with self._batch() as con:
            con.execute("UPDATE articles SET text = ?, updated = ? WHERE id = ?", [text, utcnow(), article_id])
            self._forget_derived([article_id])

    def articles_without_page_read(self, ids: Sequence[str]) -> list[Article]:
        """The stored articles among `ids` whose page has not been read for their current content (none read
        yet, or the feed changed the article since), oldest first."""
        self._register("wanted", pd.DataFrame({"id": list(ids)}, dtype="object"))
        try:
            return [_article(r) for r in self._article_rows([
                "id IN (SELECT id FROM wanted)",
                "NOT EXISTS (SELECT 1 FROM page_reads p WHERE p.article_id = articles.id AND p.content_hash = articles.content_hash)",
            ], [])]
        finally:
            self._unregister("wanted")

    def record_page_reads(self, reads: Sequence[PageRead]) -> None:
        """Remember each article's latest page read, failed or not, with the content it was read for."""
        if not reads:
            return
        frame = pd.DataFrame([[r.article_id, r.url, r.ok, r.chars, r.error] for r in reads],
                             columns=["article_id", "url", "ok", "chars", "error"]).drop_duplicates("article_id", keep="last")
        with self._batch(page_read=frame) as con:
            con.execute("DELETE FROM page_reads WHERE article_id IN (SELECT article_id FROM page_read)")
            con.execute("INSERT INTO page_reads SELECT r.article_id, a.content_hash, r.url, r.ok, r.chars, r.error, ? "
                        "FROM page_read r JOIN articles a ON a.id = r.article_id", [utcnow()])

    def _forget_derived(self, ids: list[str]) -> None:
        frame = pd.DataFrame({"id": ids})
        self._register("stale", frame)
        for table in ("nlp", "entities", "events", "predictions"):
            self.con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT id FROM stale)")
        self._unregister("stale")

    def nlp_results(self, ids: Sequence[str], parser: str) -> dict[str, NlpResult]:
        """The stored NLP results that `parser` made of the articles among `ids`, as `save_analysis` was given
        them (entities and events in their order): a re-score classifies from them instead of parsing again."""
        self._register("wanted_nlp", pd.DataFrame({"id": list(ids)}, dtype="object"))
        try:
            rows = self.con.execute("SELECT article_id, relevant, actor_sentences FROM nlp "
                                    "WHERE article_id IN (SELECT id FROM wanted_nlp) AND parser = ?", [parser]).fetchall()
            entities: dict[str, list[Entity]] = {}
            for article_id, *fields in self.con.execute(
                    "SELECT article_id, text, label, actor, start_char, end_char FROM entities "
                    "WHERE article_id IN (SELECT id FROM wanted_nlp) ORDER BY article_id, rowid").fetchall():
                entities.setdefault(article_id, []).append(Entity(*fields))
            events: dict[str, list[Event]] = {}
            for article_id, *fields in self.con.execute(
                    "SELECT article_id, type, source, target, trigger, sentence, negated, sentence_index, coder FROM events "
                    "WHERE article_id IN (SELECT id FROM wanted_nlp) ORDER BY article_id, rowid").fetchall():
                events.setdefault(article_id, []).append(Event(*fields))
        finally:
            self._unregister("wanted_nlp")
        return {i: NlpResult(i, bool(relevant), entities.get(i, []), list(sentences or []), events.get(i, []))
                for i, relevant, sentences in rows}

    def articles(self, ids: Sequence[str] | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> list[Article]:
        """Stored articles, oldest first (undated last): those of `ids` when given, and those published from
        `since` to `until` inclusive when either is given (an undated article then never matches)."""
        clauses: list[str] = []
        params: list = []
        if since is not None:
            clauses.append("published >= ?")
            params.append(since)
        if until is not None:
            clauses.append("published <= ?")
            params.append(until)
        if ids is None:
            return [_article(r) for r in self._article_rows(clauses, params)]
        self._register("wanted", pd.DataFrame({"id": list(ids)}, dtype="object"))
        try:
            return [_article(r) for r in self._article_rows(["id IN (SELECT id FROM wanted)", *clauses], params)]
        finally:
            self._unregister("wanted")

    def _article_rows(self, clauses: Sequence[str], params: Sequence, extra: str = "") -> list[tuple]:
        """Article rows (ARTICLE_FIELDS, then the `extra` columns) matching every one of `clauses`, oldest first.
        The clauses are fixed SQL written in this module; every value in them is a bound parameter."""
        sql = f"SELECT {', '.join(ARTICLE_FIELDS)}{extra} FROM articles"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        return self.con.execute(sql + " ORDER BY published NULLS LAST, id", list(params)).fetchall()

    def article_sources(self) -> dict[str, str]:
        """Every stored article's id and its source: what a label on it must name (`labels.KnownIds`)."""
        return dict(self.con.execute("SELECT id, source FROM articles").fetchall())

    def article_ids(self) -> list[str]:
        """The id of every stored article."""
        return [r[0] for r in self.con.execute("SELECT id FROM articles").fetchall()]

    def first_published_day(self) -> date | None:
        """The publication day of the oldest dated article, None when no article is dated."""
        return self.con.execute("SELECT min(CAST(published AS DATE)) FROM articles").fetchone()[0]

    def last_published_day(self) -> date | None:
        """The publication day of the newest dated article, None when no article is dated."""
        return self.con.execute("SELECT max(CAST(published AS DATE)) FROM articles").fetchone()[0]

    def ingested_per_day(self, since: date | None = None, until: date | None = None) -> pd.DataFrame:
        """Dated articles per publication day from `since` to `until` (inclusive, either open): columns day, n."""
        return self.con.execute(
            "SELECT CAST(published AS DATE) AS day, count(*) AS n FROM articles WHERE published IS NOT NULL "
            "AND ($since IS NULL OR CAST(published AS DATE) >= $since) AND ($until IS NULL OR CAST(published AS DATE) <= $until) "
            "GROUP BY 1", {"since": since, "until": until}).df()

    def pending_ids(self, scenario: str, model_version: str, limit: int | None = None) -> list[str]:
        """Articles with no prediction from this model yet, oldest first."""
        sql = (
            "SELECT a.id FROM articles a LEFT JOIN predictions p ON p.article_id = a.id "
            "AND p.scenario = ? AND p.model_version = ? WHERE p.article_id IS NULL ORDER BY a.published NULLS LAST, a.id"
        )
        params: list = [scenario, model_version]
        if limit:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [r[0] for r in self.con.execute(sql, params).fetchall()]

    def count_pending(self, scenario: str, model_version: str, until: date) -> int:
        """How many articles dated up to `until`, the newest day this model scored, have no prediction from it: left
        by a run stopped between storing and scoring (or one still under way), their days read quieter than they were."""
        # Two counts, not an anti-join (1 s at 2M articles): with `until` the newest day the model scored
        # (`signals.scored_until`), each of its predictions is of an article dated up to it, one per article.
        dated = self.con.execute("SELECT count(*) FROM articles WHERE CAST(published AS DATE) <= ?", [until]).fetchone()[0]
        scored = self.con.execute("SELECT count(*) FROM predictions WHERE scenario = ? AND model_version = ?",
                                  [scenario, model_version]).fetchone()[0]
        return max(0, dated - scored)

    def pending_ids_among(self, scenario: str, model_version: str, ids: Sequence[str]) -> list[str]:
        """Those of `ids` with no prediction from this model yet."""
        self._register("among", pd.DataFrame({"id": list(ids)}))
        try:
            return [r[0] for r in self.con.execute(
                "SELECT w.id FROM among w WHERE NOT EXISTS (SELECT 1 FROM predictions p WHERE p.article_id = w.id "
                "AND p.scenario = ? AND p.model_version = ?)", [scenario, model_version]).fetchall()]
        finally:
            self._unregister("among")

    # ------------------------------------------------------------ derived rows

    def save_analysis(self, results: Sequence[NlpResult], predictions: Sequence[Prediction], parser: str | None = None) -> None:
        """Store NLP results and predictions for a batch of articles in one transaction. They replace the stored
        NLP rows of the same articles and the predictions of the same (article, scenario, model version); an
        article or prediction given twice in the batch is stored once, as last given. `parser` says what made the
        NLP results (`Runtime.parser_key`; a re-score reuses only a parse its parser would make, `nlp_results`)."""
        now = utcnow()
        results = list({r.article_id: r for r in results}.values())
        predictions = list({(p.article_id, p.scenario, p.model_version): p for p in predictions}.values())
        nlp = pd.DataFrame(
            [[r.article_id, r.relevant, r.actors, r.actor_sentences, now, parser] for r in results],
            columns=["article_id", "relevant", "actors", "actor_sentences", "processed", "parser"],
        ).astype({"parser": "object"})
        ents = pd.DataFrame(
            [[r.article_id, e.text, e.label, e.actor, e.start_char, e.end_char] for r in results for e in r.entities],
            columns=["article_id", "text", "label", "actor", "start_char", "end_char"],
        )
        evs = pd.DataFrame(
            [[r.article_id, e.sentence_index, e.type, e.source, e.target, e.trigger, e.sentence, e.negated, e.coder]
             for r in results for e in r.events],
            columns=["article_id", "sentence_index", "type", "source", "target", "trigger", "sentence", "negated", "coder"],
        )
        preds = pd.DataFrame(
            [[p.article_id, p.scenario, p.model_version, p.label, *(p.probabilities.get(c, 0.0) for c in LABELS), json.dumps(p.evidence), now] for p in predictions],
            columns=["article_id", "scenario", "model_version", "label", "p_base", "p_accelerated", "p_contraction", "p_none", "evidence", "predicted"],
        )
        with self._batch(new_nlp=nlp, new_ents=ents, new_evs=evs, new_preds=preds) as con:
            if len(nlp):
                con.execute("DELETE FROM nlp WHERE article_id IN (SELECT article_id FROM new_nlp)")
                con.execute("DELETE FROM entities WHERE article_id IN (SELECT article_id FROM new_nlp)")
                con.execute("DELETE FROM events WHERE article_id IN (SELECT article_id FROM new_nlp)")
                con.execute("INSERT INTO nlp SELECT * FROM new_nlp")
                if len(ents):
                    con.execute("INSERT INTO entities SELECT * FROM new_ents")
                if len(evs):
                    con.execute("INSERT INTO events SELECT * FROM new_evs")
            if len(preds):
                con.execute("DELETE FROM predictions USING new_preds n WHERE predictions.article_id = n.article_id "
                            "AND predictions.scenario = n.scenario AND predictions.model_version = n.model_version")
                con.execute("INSERT INTO predictions SELECT * FROM new_preds")

    def refresh_daily_signals(self, scenario: str, model_version: str, days: Iterable[date] | None = None,
                              window_articles: int = REFRESH_WINDOW_ARTICLES) -> int:
        """Recompute the daily signals of a scenario from one model's predictions, and the daily events, for `days`
        (every day when None: a full refresh), in one transaction. Returns the daily-signal rows written.

        The days are aggregated in windows of at most `window_articles` articles, so the memory a refresh
        needs does not grow with the history, and the work of refreshing a few days does not either. When the
        scenario's stored signals come from another model version (a promotion), every day is refreshed.
        """
        scenario_rows = "SELECT count(*) FROM daily_signals WHERE scenario = ?"
        if days is not None and self.con.execute(scenario_rows + " AND model_version <> ?", [scenario, model_version]).fetchone()[0]:
            days = None
        with self._memory_cap_hint("refreshing the daily signals"), self._batch() as con:
            windows = self._refresh_windows(None if days is None else sorted(set(days)), window_articles)
            if days is None:
                con.execute("DELETE FROM daily_signals WHERE scenario = ?", [scenario])
                con.execute("DELETE FROM daily_events")
            written = 0
            for first, last in windows:
                low, high = datetime.combine(first, clock_time.min), datetime.combine(last + timedelta(days=1), clock_time.min)
                con.execute("DELETE FROM daily_signals WHERE scenario = ? AND day BETWEEN ? AND ?", [scenario, first, last])
                written += con.execute(DAILY_SIGNALS_SQL, {"scenario": scenario, "model_version": model_version,
                                                           "low": low, "high": high, **LABEL_PARAMS}).fetchone()[0]
                con.execute("DELETE FROM daily_events WHERE day BETWEEN ? AND ?", [first, last])
                con.execute(DAILY_EVENTS_SQL, [low, high])
        return int(written)

    def _refresh_windows(self, days: list[date] | None, window_articles: int) -> list[tuple[date, date]]:
        """(first, last) day ranges that cover `days` (every day with a dated article when None), in order, each
        holding at most `window_articles` articles (a single day may hold more). Days between wanted ones
        may fall inside a range: recomputing them is harmless."""
        sql = "SELECT CAST(published AS DATE) AS day, count(*) FROM articles WHERE published IS NOT NULL"
        params: list = []
        if days is not None:
            if not days:
                return []
            sql += " AND published >= ? AND published < ?"
            params = [datetime.combine(days[0], clock_time.min), datetime.combine(days[-1] + timedelta(days=1), clock_time.min)]
        per_day = dict(self.con.execute(sql + " GROUP BY 1", params).fetchall())
        wanted = set(per_day) if days is None else set(days)
        windows: list[tuple[date, date]] = []
        first = last = None
        held = 0
        for day in sorted(wanted | set(per_day)):
            articles = per_day.get(day, 0)
            if first is not None and held + articles > window_articles:
                windows.append((first, last))
                first = None
            if first is None:
                if day not in wanted:
                    continue
                first, held = day, 0
            held += articles
            if day in wanted:
                last = day
        if first is not None:
            windows.append((first, last))
        return windows

    @contextmanager
    def _memory_cap_hint(self, doing: str):
        """Turn DuckDB running out of its memory cap into a StoreError saying which setting to raise."""
        try:
            yield
        except (duckdb.OutOfMemoryException, StoreError) as exc:
            if not isinstance(exc, duckdb.OutOfMemoryException) and not isinstance(exc.__cause__, duckdb.OutOfMemoryException):
                raise  # the batch turned another failure into a StoreError already
            raise StoreError(
                f"{self.path}: DuckDB ran out of memory {doing} (cap {self.memory_limit}); raise the duckdb_memory_limit setting "
                "(signals.toml or SIGNALS_DUCKDB_MEMORY_LIMIT, e.g. 512MB)"
            ) from None

    # ------------------------------------------------------------ retention

    def prune_predictions(self, keep_versions: int, protect: Iterable[str] = ()) -> dict:
        """Drop the predictions of retired model versions: for each scenario, every version but the
        `keep_versions` most recently put to work (by their first prediction), never one in `protect` (the
        active model) nor one the scenario's daily signals are built from.

        The kept predictions are copied into a new table in chunks, which then replaces the old one in one
        transaction. Interrupted, the store
        keeps every prediction; the next prune discards the half-built table.
        Returns {"versions_removed": [(scenario, version, predictions), ...], "predictions_removed": n}."""
        if keep_versions < 1:
            raise StoreError(f"{self.path}: keep at least one model version's predictions (asked to keep {keep_versions})")
        con = self.con
        with self._memory_cap_hint("pruning predictions"):
            con.execute("DROP TABLE IF EXISTS predictions_pruned")  # left by an interrupted prune
            retired = con.execute(
                """
                WITH versions AS (
                    SELECT scenario, model_version, count(*) AS n,
                           row_number() OVER (PARTITION BY scenario ORDER BY min(predicted) DESC, model_version DESC) AS recency
                    FROM predictions GROUP BY scenario, model_version
                )
                SELECT scenario, model_version, n FROM versions
                WHERE recency > ? AND list_position(?, model_version) IS NULL
                  AND NOT EXISTS (SELECT 1 FROM daily_signals d
                                  WHERE d.scenario = versions.scenario AND d.model_version = versions.model_version)
                ORDER BY scenario, model_version
                """,
                [keep_versions, sorted(set(protect))],
            ).fetchall()
            result = {"versions_removed": [tuple(r) for r in retired], "predictions_removed": int(sum(r[2] for r in retired))}
            if retired:
                drop = pd.DataFrame(retired, columns=["scenario", "model_version", "n"])
                committed = False
                try:
                    con.execute(_table_sql(con, "predictions", "predictions_pruned"))
                    self._register("retired_versions", drop)
                    try:
                        _copy_rows(con, "predictions", "predictions_pruned", "NOT EXISTS (SELECT 1 FROM retired_versions r "
                                   "WHERE r.scenario = predictions.scenario AND r.model_version = predictions.model_version)")
                    finally:
                        self._unregister("retired_versions")
                    with stops_held(f"the prune was committed: {prune_summary(result)}"):
                        with self._batch():
                            con.execute("DROP TABLE predictions")
                            con.execute("ALTER TABLE predictions_pruned RENAME TO predictions")
                        committed = True
                except BaseException:
                    if not committed:  # a failed or stopped prune leaves no half-built table behind
                        try:
                            self.con.execute("DROP TABLE IF EXISTS predictions_pruned")
                        except (duckdb.Error, StoreError, RuntimeError):
                            pass  # the next prune drops it
                    raise
        return result

    # ------------------------------------------------------------ feeds and runs

    def feed_state(self, name: str) -> FeedState:
        """A feed's polling state: validators, failures in a row, next poll time, last success."""
        row = self.con.execute(
            "SELECT etag, last_modified, consecutive_failures, next_poll, last_success, last_error FROM feeds WHERE name = ?", [name]
        ).fetchone()
        if not row:
            return FeedState()
        return FeedState(row[0] or "", row[1] or "", row[2] or 0, row[3], row[4], row[5] or "")

    def record_feed(self, outcome: FeedOutcome, next_poll: datetime | None = None) -> None:
        """Remember a feed's outcome: the error and failure count, and the validators the outcome carries (a clean
        fetch's, or those a 304 answered). A failure or a damaged body carries none and clears the stored ones, so the
        next poll fetches the whole feed: a 304 to an old validator would read as "ok" and hide the failure."""
        now = utcnow()
        state = self.feed_state(outcome.name)
        self.con.execute(
            "INSERT OR REPLACE INTO feeds VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                outcome.name,
                outcome.etag,
                outcome.last_modified,
                now,
                now if outcome.ok else state.last_success,
                0 if outcome.ok else state.consecutive_failures + 1,
                next_poll,
                "" if outcome.ok else outcome.error,
            ],
        )

    def record_run(self, kind: str, started: datetime, summary: RunSummary) -> None:
        self.con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [started, utcnow(), kind, summary.feeds_ok, summary.feeds_failed,
             summary.articles_new, summary.articles_seen, summary.predictions],
        )

    # ------------------------------------------------------------ reading signals and predictions back

    def daily_signals(self, scenario: str, since: date | None = None, until: date | None = None,
                      digits: int | None = None) -> pd.DataFrame:
        """A scenario's daily_signals rows from `since` to `until` (inclusive, either open), oldest first, labels in
        `LABELS` order: day, scenario, case, articles, probability (rounded to `digits` when given), stories,
        model_version."""
        probability = "probability" if digits is None else "round(probability, $digits)"
        params = {"scenario": scenario, "since": since, "until": until, "labels": list(LABELS)}
        if digits is not None:
            params["digits"] = digits
        return self.con.execute(
            f"""SELECT day, scenario, "case", articles, {probability} AS probability, stories, model_version
                FROM daily_signals
                WHERE scenario = $scenario AND ($since IS NULL OR day >= $since) AND ($until IS NULL OR day <= $until)
                ORDER BY day, array_position($labels, "case")""", params).df()

    def signals_model_version(self, scenario: str) -> str | None:
        """The model whose predictions the scenario's daily signals were built from (the one behind most rows)."""
        row = self.con.execute(
            "SELECT model_version FROM daily_signals WHERE scenario = ? GROUP BY 1 ORDER BY count(*) DESC, 1 DESC LIMIT 1",
            [scenario]).fetchone()
        return row[0] if row else None

    def newest_model_version(self, scenario: str) -> str | None:
        """The model version that predicted for the scenario most recently."""
        row = self.con.execute(
            "SELECT model_version FROM predictions WHERE scenario = ? GROUP BY 1 ORDER BY max(predicted) DESC, 1 DESC LIMIT 1",
            [scenario]).fetchone()
        return row[0] if row else None

    def last_predicted_day(self, scenario: str, model_version: str) -> date | None:
        """The publication day of the newest dated article this model predicted for the scenario (None: none)."""
        return self.con.execute(
            "SELECT max(CAST(a.published AS DATE)) FROM predictions p JOIN articles a ON a.id = p.article_id "
            "WHERE p.scenario = ? AND p.model_version = ?", [scenario, model_version]).fetchone()[0]

    def article_predictions(self, scenario: str, model_version: str, since: date | None = None,
                            until: date | None = None, text: bool = False) -> pd.DataFrame:
        """One row per dated article published from `since` to `until` (days, inclusive, either open) with a
        prediction from this model, oldest first: id, day, published, title, summary and text ('' unless `text`),
        outlet, link, label, p_<label> for each of LABELS, evidence (the stored JSON text), story (the article's
        story id, or its own id)."""
        body = "coalesce(a.summary, '') AS summary, coalesce(a.text, '') AS text" if text else "'' AS summary, '' AS text"
        probabilities = ", ".join(f"p.p_{c}" for c in LABELS)
        return self.con.execute(
            f"""SELECT a.id, CAST(a.published AS DATE) AS day, a.published, coalesce(a.title, '') AS title, {body},
                       coalesce(a.outlet, '') AS outlet, coalesce(a.link, '') AS link, p.label,
                       {probabilities}, p.evidence, coalesce(a.story_id, a.id) AS story
                FROM predictions p JOIN articles a ON a.id = p.article_id
                WHERE p.scenario = $scenario AND p.model_version = $model_version AND a.published IS NOT NULL
                  AND ($since IS NULL OR CAST(a.published AS DATE) >= $since)
                  AND ($until IS NULL OR CAST(a.published AS DATE) <= $until)
                ORDER BY a.published, a.id""",
            {"scenario": scenario, "model_version": model_version, "since": since, "until": until}).df()

    def prediction_probabilities(self, scenario: str, model_version: str) -> pd.DataFrame:
        """article_id, p_<label> for each of LABELS, and `parsed`, for every stored article this model predicted.
        `parsed` is the stored parse's `relevant` (True: the article named a relevance actor of some watched pack;
        False: of none), None when no parse is stored with the prediction; `passed_gate` reads it."""
        probabilities = ", ".join(f"p.p_{c}" for c in LABELS)
        frame = self.con.execute(
            f"SELECT p.article_id, {probabilities}, n.relevant AS parsed FROM predictions p "
            "JOIN articles a ON a.id = p.article_id LEFT JOIN nlp n ON n.article_id = p.article_id "
            "WHERE p.scenario = ? AND p.model_version = ?", [scenario, model_version]).df()
        return frame.assign(parsed=pd.Series([None if pd.isna(v) else bool(v) for v in frame["parsed"]],
                                             index=frame.index, dtype="object"))

    def gated_out_only(self, scenario: str, model_version: str) -> int:
        """How many predictions this model made for the scenario when every one of them is `none` with the same
        probabilities (what the gate gives an article it keeps out), else 0. Most stores stop at the first call
        that is not `none`; only an all-`none` store is read whole, once, for the count and the spread."""
        where = "WHERE p.scenario = ? AND p.model_version = ?"
        if self.con.execute(f"SELECT 1 FROM predictions p {where} AND p.label <> 'none' LIMIT 1",
                            [scenario, model_version]).fetchall():
            return 0
        same = " AND ".join(f"min(p.p_{c}) = max(p.p_{c})" for c in LABELS)
        count, uniform = self.con.execute(f"SELECT count(*), {same} FROM predictions p JOIN articles a ON a.id = p.article_id "
                                          f"{where}", [scenario, model_version]).fetchall()[0]
        return int(count) if uniform else 0

    def passed_gate(self, frame: pd.DataFrame, gate: Callable[[Article], bool] | None = None,
                    chunk: int = 200) -> Iterator[str]:
        """The article ids of `frame` (rows of `prediction_probabilities`, in their order) that passed the pack's
        relevance gate. Not those whose stored parse says they named no watched pack's relevance actor; nor, with
        `gate` (the pack's `scenario.Relevance`), those whose stored text names none of this pack's: with several
        packs watched, an article may have been parsed for another pack. A prediction stored without a parse
        counts as passed. Lazily, reading the articles `chunk` at a time: a caller that needs a few reads a few."""
        rows = [(i, parsed) for i, parsed in zip(frame["article_id"], frame["parsed"]) if parsed is not False]
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            stored = {a.id: a for a in self.articles([i for i, parsed in part if parsed])} if gate is not None else {}
            yield from (i for i, parsed in part if gate is None or parsed is None or (i in stored and gate(stored[i])))

    def predictions(self, scenario: str, model_version: str, ids: Sequence[str]) -> list[Prediction]:
        """This model's stored predictions for those of `ids` it predicted (a missing probability reads 0.0,
        unreadable evidence as none)."""
        probabilities = ", ".join(f"p_{c}" for c in LABELS)
        rows = self.con.execute(
            f"SELECT article_id, label, {probabilities}, evidence FROM predictions "
            "WHERE scenario = ? AND model_version = ? AND list_contains(?, article_id)",
            [scenario, model_version, list(ids)]).fetchall()
        return [Prediction(r[0], scenario, model_version, r[1],
                           {c: float(v or 0.0) for c, v in zip(LABELS, r[2:-1])}, _evidence(r[-1])) for r in rows]

    # ---- stories
    # (and the feed registry: feeds added from OPML files, polled alongside the configured ones)

    def articles_without_story(self) -> list[Article]:
        """Stored articles not yet given a story, oldest first."""
        return [_article(r) for r in self._article_rows(["story_id IS NULL"], [])]

    def story_members(self, since: datetime | None, until: datetime | None) -> list[tuple[Article, str]]:
        """(article, story id) for articles that have a story and were published between `since` and `until`;
        undated ones count when first seen in that span. Either bound may be None (open)."""
        low, high = since or datetime.min, until or datetime.max
        rows = self._article_rows(
            ["story_id IS NOT NULL", "(published BETWEEN ? AND ? OR (published IS NULL AND first_seen BETWEEN ? AND ?))"],
            [low, high, low, high], extra=", story_id")
        return [(_article(r), r[len(ARTICLE_FIELDS)]) for r in rows]

    def save_story_ids(self, assignment: dict[str, str]) -> int:
        """Write {article id: story id} in one transaction. Returns the rows updated."""
        if not assignment:
            return 0
        frame = pd.DataFrame({"id": list(assignment), "story_id": list(assignment.values())})
        with self._batch(new_stories=frame) as con:
            con.execute("UPDATE articles SET story_id = s.story_id FROM new_stories s WHERE articles.id = s.id")
        return len(frame)

    def story_sizes(self, min_size: int = 2) -> list[tuple[str, int]]:
        """(story id, articles) for stories of at least `min_size` articles, largest first."""
        return [tuple(r) for r in self.con.execute(
            "SELECT story_id, count(*) AS n FROM articles WHERE story_id IS NOT NULL GROUP BY story_id "
            "HAVING count(*) >= ? ORDER BY n DESC, story_id", [min_size]
        ).fetchall()]

    def register_feeds(self, feeds: Sequence[tuple[str, str]], origin: str) -> int:
        """Add (url, title) pairs to the feed registry; known URLs keep their first title. Returns how many were new."""
        frame = pd.DataFrame(list(feeds), columns=["url", "title"]).drop_duplicates("url")
        if frame.empty:
            return 0
        frame["position"] = range(1, len(frame) + 1)
        con = self.con
        self._register("incoming_feeds", frame)
        try:
            new = con.execute("SELECT count(*) FROM incoming_feeds WHERE url NOT IN (SELECT url FROM feed_registry)").fetchone()[0]
            con.execute(
                "INSERT INTO feed_registry SELECT url, title, ?, ?, "
                "(SELECT coalesce(max(position), 0) FROM feed_registry) + position FROM incoming_feeds "
                "WHERE url NOT IN (SELECT url FROM feed_registry) ORDER BY position", [utcnow(), origin],
            )
        finally:
            self._unregister("incoming_feeds")
        return int(new)

    def unregister_feeds(self, urls: Sequence[str]) -> list[str]:
        """Take URLs out of the feed registry (their polling history stays in `feeds`). Returns those removed."""
        known = {r[0] for r in self.con.execute("SELECT url FROM feed_registry").fetchall()}
        removed = [u for u in dict.fromkeys(urls) if u in known]
        with self._batch() as con:
            for url in removed:
                con.execute("DELETE FROM feed_registry WHERE url = ?", [url])
        return removed

    def registered_feed_rows(self) -> list[tuple[str, str]]:
        """(url, title) of every registered feed, in the order they were added."""
        return [tuple(r) for r in self.con.execute("SELECT url, coalesce(title, '') FROM feed_registry ORDER BY position, url").fetchall()]

    def feed_status_rows(self) -> list[dict]:
        """Every row of the `feeds` table (polling state of each feed or file read), by name."""
        rows = self.con.execute(
            "SELECT name, last_success, consecutive_failures, next_poll, last_error, last_attempt FROM feeds ORDER BY name"
        ).fetchall()
        keys = ("name", "last_success", "consecutive_failures", "next_poll", "last_error", "last_attempt")
        return [dict(zip(keys, r)) for r in rows]


def vacuum_store(path: Path | str, memory_limit: str = "128MB") -> dict:
    """Compact the store at `path`: copy its tables into a fresh file beside it, then swap that in with one
    atomic rename, holding the store's lock throughout. Interrupted before the rename, the store is untouched: a
    failed or stopped vacuum removes its half-written copy (a killed one leaves it to the next vacuum); after
    it, the compacted store is complete. The copy takes the store's permissions (and owner, where allowed);
    through a symbolic link the file itself is compacted and the link kept.
    Returns {"bytes_before", "bytes_after", "bytes_reclaimed"} (the file and its write-ahead log)."""
    path = existing_store(path).resolve()
    fresh = path.with_name(path.name + ".vacuum")
    half_written = (fresh, Path(f"{fresh}.wal"))
    with Store(path, memory_limit=memory_limit) as store:
        con = store.con
        con.execute("CHECKPOINT")  # everything in the file, nothing left in the write-ahead log
        before = _store_bytes(path)
        _remove(half_written)  # from a killed vacuum
        holder = None
        try:
            with store._memory_cap_hint("compacting the store"):
                _copy_store(con, fresh)
            _keep_file_mode(path, fresh)
            # Lock the copy before it takes the store's name, so no other run can open the new file until it is in
            # place, and none can reach the old one once it is unlinked.
            holder = duckdb.connect(str(fresh))
        except BaseException as exc:
            if holder is not None:
                holder.close()
            store._drop_connection()  # before the copy goes: DuckDB writes no more of it
            _remove(half_written)
            reason = next((r for r in WRITE_FAILURES if r in str(exc)), None)
            if reason:
                raise StoreError(f"{path}: the compacted copy could not be written ({reason}); the store is untouched and "
                                 "the half-written copy removed; a vacuum needs free space beside the store of up to about "
                                 "twice its size") from None
            if isinstance(exc, duckdb.Error):
                raise store.translate(exc) from None
            raise
        with stops_held("the vacuum had finished: the store is compacted"):
            try:
                fresh.replace(path)
                _sync_directory(path.parent)
            finally:
                store.close()
                holder.close()
    after = _store_bytes(path)
    return {"bytes_before": before, "bytes_after": after, "bytes_reclaimed": before - after}


# What an OS error writing the copy says (DuckDB passes on strerror): a full disk, a file-size limit, a quota.
WRITE_FAILURES = ("No space left on device", "File too large", "Disk quota exceeded")


def _copy_store(con, fresh: Path) -> None:
    """Every table and index of the connection's database, copied into the new database file `fresh`."""
    source = '"' + con.execute("SELECT current_database()").fetchone()[0].replace('"', '""') + '"'
    # a quoted literal, not a parameter: DuckDB 1.1 and 1.2 (which pyproject.toml allows) take none in ATTACH
    con.execute(f"ATTACH '{_sql_text(str(fresh))}' AS vacuum_copy")
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
            "ORDER BY table_name").fetchall()]
        indexes = [r[0] for r in con.execute(
            "SELECT sql FROM duckdb_indexes() WHERE database_name = current_database() AND sql IS NOT NULL").fetchall()]
        for table in tables:
            create = _table_sql(con, table, table)
            con.execute("USE vacuum_copy")
            con.execute(create)
            con.execute(f"USE {source}")
            _copy_rows(con, f'{source}.main."{table}"', f'vacuum_copy.main."{table}"')
        con.execute("USE vacuum_copy")
        for sql in indexes:
            con.execute(sql)
        con.execute(f"USE {source}")
        con.execute("DETACH vacuum_copy")  # checkpoints and syncs the copy
    except BaseException:
        for cleanup in (f"USE {source}", "DETACH DATABASE IF EXISTS vacuum_copy"):
            try:
                con.execute(cleanup)
            except (duckdb.Error, RuntimeError):
                pass  # a failed write can leave the connection unusable; the caller drops it
        raise


def _keep_file_mode(original: Path, copy: Path) -> None:
    """`copy` takes `original`'s permission bits and, where this process may set them, its owner and group: a
    vacuum run by another user (root's cron) must not leave a service's store unwritable, or a private one readable."""
    info = original.stat()
    os.chmod(copy, stat.S_IMODE(info.st_mode))
    try:
        os.chown(copy, info.st_uid, info.st_gid)
    except PermissionError:
        pass  # only root may give a file away: the copy stays this user's


def _remove(paths: Iterable[Path]) -> None:
    for leftover in paths:
        leftover.unlink(missing_ok=True)


def prune_summary(result: dict) -> str:
    """"12 predictions of 2 retired model versions removed" for a prune's result."""
    versions = len(result["versions_removed"])
    return (f"{result['predictions_removed']} predictions of {versions} retired model "
            f"version{'' if versions == 1 else 's'} removed")


def _table_sql(con, table: str, name: str) -> str:
    """The CREATE TABLE statement of `table` in the current database, creating `name` instead."""
    sql = con.execute(
        "SELECT sql FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?",
        [table],
    ).fetchone()[0]
    head = f"CREATE TABLE {table}("
    if not sql.startswith(head):
        raise StoreError(f"cannot copy table {table}: unexpected definition {sql[:80]!r}")
    return f'CREATE TABLE "{name}"(' + sql[len(head):]


def _copy_rows(con, source: str, target: str, where: str = "TRUE") -> int:
    """Insert the rows of `source` matching `where` into `target`, COPY_CHUNK_ROWS at a time, each chunk its own
    transaction, so the memory one insert needs does not grow with the table. Returns rows copied."""
    top = con.execute(f"SELECT max(rowid) FROM {source}").fetchone()[0]
    copied = 0
    for low in range(0, (top if top is not None else -1) + 1, COPY_CHUNK_ROWS):
        copied += con.execute(
            f"INSERT INTO {target} SELECT * FROM {source} WHERE rowid >= ? AND rowid < ? AND ({where})",
            [low, low + COPY_CHUNK_ROWS],
        ).fetchone()[0]
    return copied


def _sql_text(text: str) -> str:
    """`text` made safe inside a single-quoted SQL literal."""
    return text.replace("'", "''")


def _store_bytes(path: Path) -> int:
    """The size of a store: its file plus its write-ahead log, if any."""
    wal = Path(f"{path}.wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _sync_directory(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    import os

    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
