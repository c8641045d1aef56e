"""Every command's typical mistakes: one line on stderr, exit 1, nothing written. Also a closed pipe,
URLs given to `signals import`, and feeds skipped by backoff in the run summary."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from feedserver import FeedServer
from pipeline.cli.ingest import print_summary
from pipeline.records import FeedOutcome, SkippedFeed
from pipeline.settings import PROJECT_ROOT
from pipeline.store import Store, utcnow
from test_cli import run  # (capsys, *argv) -> (exit code, stdout, stderr)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path):
        pass
    return path


def mistakes(tmp: Path, db: Path):
    """(argv, what the one line must say) for each command's typical mistakes."""
    nowhere = tmp / "no" / "such" / "dir"
    missing = tmp / "missing.jsonl"
    copy = tmp / "articles.jsonl"  # an input given as its own output too: it must come through untouched
    copy.write_bytes((FIXTURES / "articles.jsonl").read_bytes())
    return [
        (["frobnicate"], "No such command 'frobnicate'"),
        ([], "Missing command"),
        (["--db", db, "trend", "--since", "2026-13-01"], "'2026-13-01' is not a date; expected YYYY-MM-DD"),
        (["--db", db, "trend", "--until", "yesterday"], "'yesterday' is not a date; expected YYYY-MM-DD"),
        (["--db", db, "trend", "--since", "2026-04-10", "--until", "2026-04-01"], "--since 2026-04-10 is after --until 2026-04-01"),
        (["--db", db, "trend", "--format", "csv", "--output", nowhere / "t.csv"], f"the folder {nowhere} does not exist"),
        (["--db", db, "trend", "--format", "xml"], "Invalid value for '--format': 'xml' is not one of 'table', 'csv', 'json', 'parquet'"),
        (["--db", tmp / "absent.duckdb", "trend"], "no store here yet"),
        (["--db", db, "odds", "--since", "2026-04-10", "--until", "2026-04-01"], "--since 2026-04-10 is after --until 2026-04-01"),
        (["--db", db, "odds", "--since", "10/04/2026"], "'10/04/2026' is not a date; expected YYYY-MM-DD"),
        (["--db", db, "alerts", "--as-of", "2026-02-30"], "'2026-02-30' is not a date; expected YYYY-MM-DD"),
        (["--db", db, "report", "--out", nowhere / "r.html"], f"the folder {nowhere} does not exist"),
        (["--db", db, "report", "--out", tmp], "is a folder; give a file name to write"),
        (["--db", db, "report", "--out", tmp / "r.html", "--since", "2026-05-01", "--until", "2026-04-01"], "is after --until"),
        (["--db", db, "report"], "Missing option '--out'"),
        (["predict", "--input", missing, "--output", tmp / "o.jsonl"], f"{missing}: no such file"),
        (["predict", "--input", FIXTURES / "articles.jsonl", "--output", nowhere / "o.jsonl"], f"the folder {nowhere} does not exist"),
        (["predict", "--input", FIXTURES, "--output", tmp / "o.jsonl"], f"{FIXTURES}: not a file"),
        (["events", "--input", missing, "--output", tmp / "e.jsonl"], f"{missing}: no such file"),
        (["events", "--input", FIXTURES / "articles.jsonl", "--output", nowhere / "e.jsonl"], f"the folder {nowhere} does not exist"),
        (["--db", db, "label", "--export", nowhere / "q.jsonl"], f"the folder {nowhere} does not exist"),
        (["--db", db, "label", "--import", missing], f"{missing}: no such file"),
        (["--db", db, "label", "--size", "0"], "expected a whole number of at least 1"),
        (["--db", db, "label", "--export", tmp / "q.jsonl", "--import", FIXTURES / "articles.jsonl"], "--export and --import cannot be used together"),
        (["--db", db, "store", "prune", "--keep-versions", "0"], "expected a whole number of at least 1"),
        (["--db", db, "feeds", "import-opml", tmp / "missing.opml"], "missing.opml: no such file"),
        (["--db", db, "feeds", "export-opml", nowhere / "f.opml"], f"the folder {nowhere} does not exist"),
        (["--config", tmp / "missing.toml", "--db", db, "trend"], "settings file not found"),
        (["--db", db, "serve"], "schedules need a Prefect server"),
        (["--db", db, "trend", "--scenario", "nope"], "no scenario pack here"),
        (["predict", "--input", copy, "--output", copy], "--output is the input file itself"),
        (["events", "--input", copy, "--output", tmp / "." / copy.name], "--output is the input file itself"),
        (["--db", db, "odds", "--top", "-2"], "-2 is not in the range x>=0"),
        (["--db", db, "alerts", "--limit", "-1"], "-1 is not in the range x>=0"),
        (["--db", db, "odds", "--min-recall", "2"], "2.0 is not in the range 0<=x<=1"),
        (["--db", db, "report", "--out", tmp / "r.html", "--png", nowhere / "png"], f"the folder {nowhere} does not exist"),
        (["--db", db, "report", "--out", tmp / "r.html", "--png", copy], "is a file; give a folder for the charts"),
        (["--db", tmp / "absent.duckdb", "store", "prune", "--keep-versions", "1"], "no store here yet"),
        (["--db", tmp / "absent.duckdb", "feeds", "list"], "no store here yet"),
        (["--db", db, "store"], "signals store: Missing command; one of prune, vacuum"),
    ]


def test_every_command_says_what_is_wrong_in_one_line(tmp_path, store_path, capsys):
    for argv, expected in mistakes(tmp_path, store_path):
        code, out, err = run(capsys, *argv)
        shown = " ".join(str(a) for a in argv)
        assert code == 1, f"signals {shown}: exit {code}"
        assert err.count("\n") == 1 and err.startswith("signals"), f"signals {shown}: not one line: {err!r}"
        assert expected in err, f"signals {shown}: {err!r}"
        assert "Traceback" not in err and out == ""
    assert (tmp_path / "articles.jsonl").read_bytes() == (FIXTURES / "articles.jsonl").read_bytes()
    assert not (tmp_path / "absent.duckdb").exists()  # neither prune nor feeds list made a store
    assert not (tmp_path / "no").exists()  # no command made the missing folders
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "e.jsonl").exists()


def test_events_refuses_a_line_that_is_not_utf8_or_has_no_id_or_text_in_one_line(tmp_path, capsys):
    """Trial B §5 and §9: `events --input` on a Latin-1 file ended in a UnicodeDecodeError traceback (predict names
    the line), and a null `id` or `text` was coded as the word "None". Each is one line naming the file and line."""
    good = '{"id": "l1", "text": "Iran attacked Pakistan."}\n'
    cases = [
        (good.encode() + b'{"id": "l2", "text": "caf\xe9 Iran attacked Pakistan"}\n', ":2: not UTF-8 text (byte 0xe9)"),
        ((good + '{"id": null, "text": "Iran attacked Pakistan."}\n').encode(), ":2: 'id' is null; each line needs"),
        ((good + '{"id": "l2", "text": null}\n').encode(), ":2: 'text' is null"),
        ((good + '{"id": "l2"}\n').encode(), ":2: 'text' is missing"),
        ((good + '{"id": "l2", "text": ["Iran"]}\n').encode(), ":2: 'text' is [\"Iran\"], not a text"),
    ]
    for n, (content, expected) in enumerate(cases):
        source, output = tmp_path / f"in{n}.jsonl", tmp_path / f"out{n}.jsonl"
        source.write_bytes(content)
        code, out, err = run(capsys, "events", "--input", source, "--output", output)
        assert code == 1 and out == "" and err.count("\n") == 1 and "Traceback" not in err, err
        assert f"{source}{expected}" in err, err
        assert not output.exists()


def test_an_output_that_is_the_store_is_refused_and_the_store_kept(tmp_path, monkeypatch, capsys):
    """`report --out` naming the store wrote the HTML page over it (exit 0, every article gone); `brief --out` and
    `trend --output` did the same. Any spelling of the store (./, a symbolic link) and its companion files count."""
    from datetime import datetime

    from pipeline.records import Article, Prediction
    from storekit import MODEL, PACK, classified_store, probs

    monkeypatch.chdir(tmp_path)
    db = classified_store(tmp_path / "s.duckdb", [Article("a1", "test", "Dawn", "Talks continue", "", "Text.",
                                                          datetime(2026, 4, 1, 12), "https://example.org/a1")],
                          [Prediction("a1", PACK.id, MODEL, "base", probs("base"), [])])
    (tmp_path / "link.duckdb").symlink_to(db)
    (tmp_path / "hard.duckdb").hardlink_to(db)  # another name of the same file: compared by inode, not path
    before = db.read_bytes()
    store_line = "is the store itself (--db "
    attempts = [
        (["--db", db, "report", "--out", db], f"{db}: --out {store_line}{db})"),
        (["--db", "s.duckdb", "report", "--out", "./s.duckdb"], f"--out {store_line}s.duckdb)"),
        (["--db", db, "report", "--out", "link.duckdb"], f"link.duckdb: --out {store_line}{db})"),
        (["--db", "link.duckdb", "brief", "--out", db], f"--out {store_line}link.duckdb)"),
        (["--db", db, "trend", "--format", "csv", "--output", db], f"--output {store_line}"),
        (["--db", db, "trend", "--format", "csv", "--output", f"{db}.wal"], "--output is the store's write-ahead log"),
        (["--db", db, "label", "--export", f"{db}.lock"], "--export is the store's run lock"),
        (["--db", "link.duckdb", "label", "--export", f"{db}.serve.lock"], "--export is the store's serve lock"),
        (["--db", db, "feeds", "export-opml", db], f"FILE {store_line}"),
        (["--db", db, "predict", "--input", FIXTURES / "articles.jsonl", "--output", db], f"--output {store_line}"),
        (["--db", db, "events", "--input", FIXTURES / "articles.jsonl", "--output", "link.duckdb"], f"--output {store_line}"),
        (["--db", db, "trend", "--format", "csv", "--output", "hard.duckdb"], f"hard.duckdb: --output {store_line}"),
    ]
    for argv, expected in attempts:
        code, out, err = run(capsys, *argv)
        shown = " ".join(str(a) for a in argv)
        assert code == 1 and out == "", f"signals {shown}: exit {code}"
        assert err.count("\n") == 1 and expected in err and err.rstrip().endswith("; write to another file"), err
        assert db.read_bytes() == before, f"signals {shown} changed the store"
    assert not (tmp_path / "s.duckdb.wal").exists() and (tmp_path / "link.duckdb").is_symlink()
    with Store(db, read_only=True) as store:
        assert store.article_ids() == ["a1"]


def test_a_reader_that_closes_the_pipe_gets_one_line(store_path):
    # the read end is closed before the command writes: its first write meets a broken pipe
    command = [sys.executable, "-m", "pipeline.cli", "--db", str(store_path), "alerts", "--format", "json"]
    proc = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 1
    assert err == "signals: error: the output was closed before everything was written (broken pipe)\n"


@pytest.mark.slow
def test_import_passes_urls_through_untouched(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    with FeedServer() as server:
        url = server.url("/feed.rss")
        code, out, err = run(capsys, "--db", db, "import", url, "--json")
        assert server.hits["/feed.rss"] == 1
    assert code == 0, err
    assert json.loads(out)["articles_new"] > 0
    with Store(db, read_only=True) as store:
        assert [row["name"] for row in store.feed_status_rows()] == [url]  # not 'http:/127.0.0.1:...'
        assert {a.feed for a in store.articles()} == {url}


def test_sources_written_like_urls_with_another_scheme_fail_by_name(settings):
    from pipeline.jobs import read_sources

    with Store(settings.db) as store:
        outcomes = read_sources(settings, store, ["htps://www.dawn.com/feeds/home"])
    assert [(o.name, o.ok) for o in outcomes] == [("htps://www.dawn.com/feeds/home", False)]
    assert "scheme 'htps' is not http or https" in outcomes[0].error


def test_the_run_summary_lists_feeds_skipped_by_backoff(settings, capsys):
    from pipeline.jobs import Runtime, ingest, record_fetch

    backing_off = "http://127.0.0.1:9/feed.rss"
    with Store(settings.db) as store:
        record_fetch(store, FeedOutcome(backing_off, False, error="ConnectError: connection refused"))
        next_poll = store.feed_state(backing_off).next_poll
    assert next_poll > utcnow() + timedelta(minutes=50)  # one failure: an hour's backoff
    summary = ingest(Runtime(settings), [backing_off], force=False)
    assert summary.feeds_failed == 0 and summary.feeds_ok == 0
    assert [(s.feed, s.next_poll, s.failures) for s in summary.skipped] == [(backing_off, next_poll, 1)]
    print_summary(summary, as_json=False)
    out, err = capsys.readouterr()
    assert f"skipped (backing off after 1 failure): {backing_off}: next poll {next_poll:%Y-%m-%d %H:%M} UTC" in err
    table = dict(line.rsplit(None, 1) for line in out.splitlines())
    assert table == {"feeds ok": "0", "feeds failed": "0", "feeds skipped": "1", "articles new": "0",
                     "articles updated": "0", "articles seen": "0", "predictions": "0"}
    print_summary(summary, as_json=True)
    out, err = capsys.readouterr()
    assert json.loads(out)["feeds_skipped"] == 1  # a script can tell 'all skipped' from 'no feeds'
    assert f"skipped (backing off after 1 failure): {backing_off}" in err  # named on stderr as with the table
    healthy = SkippedFeed("http://127.0.0.1:9/ok.rss", next_poll, 0)
    assert healthy.why == "polled recently"  # not 'backing off after 0 failures'


def test_progress_without_a_terminal_is_a_line_every_n_items(capsys):
    from pipeline.cli.app import progress as start_progress

    bar, progress = start_progress("NLP + classify", every=100, seconds=3600)
    assert bar is None  # pytest's stderr is not a terminal
    for done in (40, 80, 120, 160, 200, 230):
        progress(done, 230)
    assert capsys.readouterr().err.splitlines() == ["signals: NLP + classify: 120/230", "signals: NLP + classify: 230/230"]


@pytest.mark.slow
def test_run_says_one_line_per_failed_feed_then_a_summary_table(prefect_harness, tmp_path):
    import os

    from prefect.settings import PREFECT_API_URL

    db = tmp_path / "s.duckdb"
    with FeedServer() as server:
        unreachable = "http://127.0.0.1:9/unreachable.rss"  # the discard port: connection refused
        typo = "http://news..example.com/feed"  # a host no resolver takes: the run had ended in a traceback
        config = tmp_path / "signals.toml"
        config.write_text(f'[signals]\nfeeds = ["{server.url("/404")}", "{unreachable}", "{typo}", '
                          f'"{server.url("/feed.rss")}"]\nnlp_processes = 1\n')
        env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}  # the test harness's server
        result = subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", str(config), "--db", str(db), "run"],
                                env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    err = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert err == [  # nothing else: Prefect's chatter is in the debug log
        "signals: NLP + classify: 3/3",  # no terminal: progress as plain lines
        f"signals: failed: {server.url('/404')}: HTTP 404",
        f"signals: failed: {unreachable}: ConnectError: [Errno 111] Connection refused",
        f"signals: failed: {typo}: malformed URL (an empty or overlong label in the host 'news..example.com')",
        f"signals: the full log, tracebacks included, is in {db.with_suffix('.log')}",
    ]
    table = dict(line.rsplit(None, 1) for line in result.stdout.splitlines())
    assert table == {"feeds ok": "1", "feeds failed": "3", "feeds skipped": "0", "articles new": "3",
                     "articles updated": "0", "articles seen": "3", "predictions": "3", "relevant to iran-pakistan-2026": "2/3"}
    log = db.with_suffix(".log").read_text()
    assert "Beginning flow run" in log and "NLP + classify: 3/3" in log


def test_a_store_error_names_the_store_the_settings_chose(tmp_path, capsys, monkeypatch):
    """The error edge named `var/signals.duckdb` for any DuckDB error unless --db was given, though the settings
    file's `db` or SIGNALS_DB had chosen another store (a trial's 'store var/signals.duckdb: Resource In Use')."""
    import duckdb

    path = tmp_path / "chosen.duckdb"
    with Store(path):
        pass
    with duckdb.connect(str(path)) as con:  # a store whose table went missing: a query fails inside DuckDB
        con.execute("DROP TABLE daily_signals")
    config = tmp_path / "signals.toml"
    config.write_text(f'[signals]\ndb = "{path}"\n', encoding="utf-8")
    monkeypatch.delenv("SIGNALS_DB", raising=False)
    code, _, err = run(capsys, "--config", config, "trend")
    assert code == 1 and err.startswith(f"signals: error: store {path}: Catalog Error: ") and err.count("\n") == 1
    monkeypatch.setenv("SIGNALS_DB", str(path))
    monkeypatch.delenv("SIGNALS_CONFIG", raising=False)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # no signals.toml here: the variable alone names the store
    assert not Path("signals.toml").exists()
    code, _, err = run(capsys, "trend")
    assert code == 1 and err.startswith(f"signals: error: store {path}: Catalog Error: ")
    code, _, err = run(capsys, "--db", path, "trend")  # --db, as before
    assert code == 1 and err.startswith(f"signals: error: store {path}: Catalog Error: ")
