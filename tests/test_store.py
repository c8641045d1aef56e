from dataclasses import replace
from datetime import datetime

import duckdb
import pytest

from pipeline.errors import StoreError
from pipeline.records import Article, NlpResult, Prediction
from pipeline.store import Store, run_lock_path


def article(i: int, day: int = 1, text: str = "body") -> Article:
    return Article(f"a{i}", "test", "Outlet", f"Title {i}", "", text, datetime(2026, 4, day, 12), f"http://127.0.0.1/{i}")


def prediction(article_id: str, label: str, p: float, version: str = "v1") -> Prediction:
    rest = (1 - p) / 3
    probs = {c: (p if c == label else rest) for c in ("base", "accelerated", "contraction", "none")}
    return Prediction(article_id, "sc", version, label, probs, ["a sentence"])


def test_importing_twice_adds_nothing(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        assert store.add_articles([article(1), article(2), article(2)]) == (2, 0)
        assert store.add_articles([article(1), article(2)]) == (0, 0)
        assert store.con.execute("SELECT count(*) FROM articles").fetchone()[0] == 2


def test_republished_article_updates_and_forgets_derived_rows(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article(1)])
        store.save_analysis([NlpResult("a1", True)], [prediction("a1", "base", 0.9)])
        assert store.pending_ids("sc", "v1") == []
        assert store.add_articles([article(1, text="corrected body")]) == (0, 1)
        assert store.articles(["a1"])[0].text == "corrected body"
        assert store.pending_ids("sc", "v1") == ["a1"]  # to be classified again


def test_an_article_whose_date_is_corrected_counts_on_its_new_day_only(tmp_path):
    """A publisher corrects an article's date (and its text): the old day's signals lose it at once, and once it
    is classified again the new day counts it. Before, the old day kept counting it for good."""
    def counted(store):
        return store.con.execute("SELECT day::VARCHAR, sum(articles) FROM daily_signals GROUP BY 1 HAVING sum(articles) > 0 "
                                 "ORDER BY 1").fetchall()

    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article(1, day=24), article(2, day=23)])
        store.save_analysis([], [prediction("a1", "contraction", 0.9), prediction("a2", "base", 0.8)])
        store.refresh_daily_signals("sc", "v1")
        assert counted(store) == [("2026-04-23", 1), ("2026-04-24", 1)]
        assert store.add_articles([replace(article(1, day=25), text="corrected body")]) == (0, 1)
        assert counted(store) == [("2026-04-23", 1)]  # gone from the 24th; not classified again yet
        store.save_analysis([], [prediction("a1", "contraction", 0.9)])
        store.refresh_daily_signals("sc", "v1", days={datetime(2026, 4, 25).date()})
        assert counted(store) == [("2026-04-23", 1), ("2026-04-25", 1)]
        # The date alone corrected (same title and text): it was ignored, and the article stayed on its old day for good.
        # It moves at once, its prediction kept (the classifier read the same text), and both days are recounted.
        assert store.add_articles([replace(article(2, day=21))]) == (0, 1)
        assert counted(store) == [("2026-04-21", 1), ("2026-04-25", 1)]
        assert store.pending_ids("sc", "v1") == []
        assert store.add_articles([replace(article(2, day=21), published=datetime(2026, 4, 21, 18))]) == (0, 0)  # same day


def test_daily_signals_count_labels_and_sum_probabilities(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article(1, day=1), article(2, day=1), article(3, day=2)])
        preds = [prediction("a1", "base", 0.8), prediction("a2", "contraction", 0.6), prediction("a3", "base", 0.7)]
        store.save_analysis([], preds)
        store.save_analysis([], [prediction("a1", "none", 0.9, version="v0")])  # another model: ignored
        store.refresh_daily_signals("sc", "v1")
        rows = store.con.execute(
            "SELECT day::VARCHAR, \"case\", articles, round(probability, 3) FROM daily_signals ORDER BY 1, 2"
        ).fetchall()
    day1 = {r[1]: (r[2], r[3]) for r in rows if r[0] == "2026-04-01"}
    assert day1["base"] == (1, round(0.8 + 0.4 / 3, 3))
    assert day1["contraction"] == (1, round(0.6 + 0.2 / 3, 3))
    assert day1["accelerated"][0] == 0
    assert {r[1]: r[2] for r in rows if r[0] == "2026-04-02"}["base"] == 1


def test_a_second_writer_gets_a_clear_error(tmp_path):
    path = tmp_path / "s.duckdb"
    import subprocess
    import sys
    import textwrap
    import time

    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from pipeline.store import Store
        store = Store({str(path)!r})
        store.add_articles([])
        print('ready', flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        with pytest.raises(StoreError, match=f"in use by another run \\(pid {holder.pid}\\)"):
            Store(path)
        assert time.monotonic() - started < 2  # at once: a run never waits for another run
        from pipeline.cli import main
        from pipeline.store import check_no_run

        with pytest.raises(StoreError, match=f"in use by another run \\(pid {holder.pid}\\)"):
            check_no_run(path)  # what `signals run` checks before it starts Prefect's temporary server
        started = time.monotonic()
        assert main(["--db", str(path), "run"]) == 1
        assert time.monotonic() - started < 5
        # `import` refuses before it loads spaCy and the models (it took 7-17 s to say so)
        refused = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from pipeline.cli import main
            code = main(["--db", {str(path)!r}, "import", "nothing.jsonl"])
            print(code, "pipeline.jobs" in sys.modules, "spacy" in sys.modules)
        """)], capture_output=True, text=True, timeout=120)
        assert refused.stdout.split() == ["1", "False", "False"], refused.stderr
        assert f"in use by another run (pid {holder.pid})" in refused.stderr
    finally:
        holder.communicate("\n", timeout=10)
    # A backup holding the lock file with flock (README, "Backing up a store") while the file still names a run that
    # ended without closing the store: no pid is named. The trial's scheduled run had named a run long over.
    assert run_lock_path(path).read_text() == str(holder.pid)
    backup = subprocess.Popen(["flock", str(run_lock_path(path)), "sh", "-c", "echo held; read line"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert backup.stdout.readline().strip() == "held"
        with pytest.raises(StoreError, match=r"the store is in use by another run; wait"):
            Store(path)
    finally:
        backup.communicate("\n", timeout=10)
    with Store(path) as store:
        store.add_articles([])
    assert run_lock_path(path).read_text() == ""  # a run that closes the store takes its pid with the lock


def test_a_writer_removes_the_empty_spill_folder_a_killed_process_left(tmp_path):
    path = tmp_path / "s.duckdb"
    spill = tmp_path / "s.duckdb.tmp"
    spill.mkdir()  # what DuckDB leaves beside the store when a process spilling to disk is killed
    with Store(path) as store:
        store.add_articles([article(1)])
    assert not spill.exists()
    spill.mkdir()
    (spill / "in-use").write_text("x")  # not empty: never touched
    with Store(path) as store:
        store.add_articles([article(2)])
    assert (spill / "in-use").exists()


def test_a_stop_during_a_held_step_waits_for_it_and_says_it_was_done():
    """`stops_held` covers the last step of a prune or vacuum: a SIGINT arriving inside it is raised when the step
    has finished, carrying what was done, and the command's stop line says so."""
    import os
    import signal

    from pipeline.cli import _stopped_line
    from pipeline.store import stops_held

    import threading
    import time

    # Another thread that does not hold the signal (DuckDB's, the CLI's stop watch): a signal mask on the main
    # thread alone let the kernel hand the signal to it, and the stop was raised inside the held step.
    other = threading.Thread(target=time.sleep, args=(2,), daemon=True)
    other.start()
    steps = []
    with pytest.raises(KeyboardInterrupt) as stop:
        with stops_held("the prune was committed"):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # a Python handler would have run by now
            steps.append("after the signal")  # still runs: the signal waits
    assert steps == ["after the signal"]
    assert stop.value.done == "the prune was committed"
    assert _stopped_line(stop.value) == ("signals: stopped by SIGINT after its work was done; the prune was committed", 130)
    with pytest.raises(ValueError):  # the step itself failed: no claim that it was done
        with stops_held("done"):
            raise ValueError("failed")


def test_a_reader_waits_a_bounded_time_for_a_process_holding_the_file(tmp_path):
    path = tmp_path / "s.duckdb"
    import subprocess
    import sys
    import textwrap
    import time

    with Store(path) as store:
        store.add_articles([article(1)])
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(path)!r})
        print('ready', flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        # the holder is a program reading the file, not a run: the message says so, and names it
        with pytest.raises(StoreError, match=f"in use by another process \\(pid {holder.pid}\\), held for more than 0.5s: "
                                             "a run, or a program reading the file"):
            Store(path, read_only=True, lock_wait=0.5)
        assert 0.5 <= time.monotonic() - started < 5
    finally:
        holder.communicate("\n", timeout=10)
    with Store(path, read_only=True, lock_wait=0.5) as store:  # let go: readable again
        assert store.con.execute("SELECT count(*) FROM articles").fetchone()[0] == 1


def test_a_writer_lets_go_of_the_file_between_batches(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as writer:
        writer.add_articles([article(1)])
        with Store(path, read_only=True, lock_wait=0) as reader:  # the writer is still open: its run lock held
            assert reader.con.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
        writer.add_articles([article(2)])
        with Store(path, read_only=True, lock_wait=0) as reader:
            assert reader.con.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
        with pytest.raises(StoreError, match="in use by another run"):
            Store(path)


def test_failed_batch_writes_nothing(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article(1)])
        bad = replace(prediction("a1", "base", 0.9), probabilities={"base": "not a number"})
        with pytest.raises((StoreError, ValueError), match="Conversion|could not convert"):
            store.save_analysis([NlpResult("a1", True, actor_sentences=["x"])], [bad])
        assert store.con.execute("SELECT count(*) FROM nlp").fetchone()[0] == 0
        assert store.con.execute("SELECT count(*) FROM predictions").fetchone()[0] == 0


def test_daily_events_count_by_type_and_actor_pair(tmp_path):
    from pipeline.records import Event

    with Store(tmp_path / "s.duckdb") as store:
        store.add_articles([article(1, day=3), article(2, day=3)])
        sanction = Event("SANCTION", "United States", "Iran", "sanctions", "s", False, 0)
        denied = Event("ASSAULT", "Iran", "Pakistan", "attack", "s", True, 1)
        store.save_analysis(
            [NlpResult("a1", True, events=[sanction, denied]), NlpResult("a2", True, events=[sanction])],
            [prediction("a1", "contraction", 0.7), prediction("a2", "contraction", 0.7)],
        )
        store.refresh_daily_signals("sc", "v1")
        rows = store.con.execute("SELECT day::VARCHAR, type, source, target, events, articles FROM daily_events").fetchall()
    assert rows == [("2026-04-03", "SANCTION", "United States", "Iran", 2, 2)]  # the negated assault is not counted


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_store_file_says_so_and_what_to_do(damage, tmp_path, capsys):
    """A copy cut short or a file that is not a store: DuckDB's own words ("Could not read enough bytes ...") did not
    say the file was damaged, nor what to do."""
    from pipeline.cli import main

    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.add_articles([article(i, text="word " * 2000) for i in range(1, 200)])
    data = path.read_bytes()
    path.write_bytes(data[:20_000] if damage == "truncated" else b"not a store " * 1000)  # a copy cut short
    assert main(["--db", str(path), "trend"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err
    assert "the store file is damaged or cut short: restore it from a backup" in err


def test_the_same_page_under_a_new_id_is_not_stored_twice(tmp_path):
    """A CMS migration republished every item under a new guid with the same link and text: each was stored again,
    and trend doubled those days' article counts. Same link and same content is a copy; either alone is not."""
    with Store(tmp_path / "s.duckdb") as store:
        first = article(1)
        assert store.add_articles([first]) == (1, 0)
        migrated = replace(first, id="a1-new-guid")
        assert store.add_articles([migrated, replace(migrated, id="a1-newer-guid")]) == (0, 0)
        edited = replace(first, id="a1-edited", title="Title 1, updated")  # same link, new content: an article of its own
        syndicated = replace(first, id="a1-wire", link="http://127.0.0.1/other")  # same content, another page
        assert store.add_articles([edited, syndicated]) == (2, 0)
        assert sorted(store.article_ids()) == ["a1", "a1-edited", "a1-wire"]


def test_a_prune_that_removed_nothing_sends_no_one_to_vacuum(tmp_path):
    """Trial: 'store prune' on a store with one model said '0 predictions … removed; run 'signals store vacuum' to give
    the space back', sending the user to a vacuum that frees nothing."""
    from signals_app import invoke
    from storekit import MODEL, PACK, classified_store, probs

    from pipeline.records import Prediction

    db = classified_store(tmp_path / "s.duckdb", [article(1)], [Prediction(article(1).id, PACK.id, MODEL, "base", probs("base"), [])])
    result = invoke("--db", db, "store", "prune", "--keep-versions", "1")
    assert result.stdout.strip() == "0 predictions of 0 retired model versions removed"
