"""Faults inflicted for real on a running import: reads while it writes, SIGTERM, SIGKILL with NLP
workers running, and a full disk."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main
from pipeline.records import Article
from pipeline.settings import PROJECT_ROOT
from pipeline.store import Store

pytestmark = pytest.mark.slow


def shared_items(shared_data: Path, n: int, iran_only: bool = False) -> str:
    """The first `n` items of the spnn archive (those naming Iran with `iran_only`), as JSONL text."""
    lines = []
    with (shared_data / "spnn_dawn_geo" / "items.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if not iran_only or "Iran" in record["title"] + record["text"][:2000]:
                lines.append(line)
            if len(lines) == n:
                break
    return "".join(lines)


def start_import(tmp_path: Path, items: str, **env) -> tuple[subprocess.Popen, Path, list[str]]:
    source = tmp_path / "items.jsonl"
    source.write_text(items, encoding="utf-8")
    db = tmp_path / "s.duckdb"
    command = [sys.executable, "-m", "pipeline.cli", "--db", str(db), "import", str(source)]
    environ = {**os.environ, **{f"SIGNALS_{k.upper()}": str(v) for k, v in env.items()}}
    return subprocess.Popen(command, env=environ, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True), db, command


def children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is `pid`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for_workers(victim: subprocess.Popen, count: int = 2, timeout: float = 300) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and victim.poll() is None:
        workers = children(victim.pid)
        if len(workers) >= count:
            return workers
        time.sleep(0.2)
    raise AssertionError(f"the import started no {count} NLP workers (exit {victim.poll()}): {victim.stderr.read() if victim.poll() is not None else ''}")


def counts(db: Path) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            "articles": con.execute("SELECT count(*) FROM articles").fetchone()[0],
            "distinct_articles": con.execute("SELECT count(DISTINCT id) FROM articles").fetchone()[0],
            "nlp": con.execute("SELECT count(*) FROM nlp").fetchone()[0],
            "predictions": con.execute("SELECT count(*) FROM predictions").fetchone()[0],
            "distinct_predictions": con.execute("SELECT count(DISTINCT article_id) FROM predictions").fetchone()[0],
        }


def test_trend_works_every_second_during_an_import_and_never_goes_down(tmp_path, shared_data, capsys):
    victim, db, _ = start_import(tmp_path, shared_items(shared_data, 300), process_chunk_size=50, nlp_processes=1)
    deadline = time.monotonic() + 120
    while not db.exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    totals, during = [], 0
    while True:
        running = victim.poll() is None
        started = time.monotonic()
        code = main(["--db", str(db), "trend", "--format", "json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        totals.append(sum(row["articles"] for row in json.loads(out)))
        during += running
        if not running:
            break
        time.sleep(max(0.0, 1 - (time.monotonic() - started)))
    assert victim.wait() == 0, victim.stderr.read()
    progress = [line for line in victim.stderr.read().splitlines() if line.startswith("signals: NLP + classify: ")]
    assert progress[-1] == "signals: NLP + classify: 300/300"  # no terminal: progress as plain lines
    final = totals[-1]
    assert final > 0
    assert totals == sorted(totals), totals  # never down
    assert during >= 5, totals
    assert any(0 < t < final for t in totals), totals  # reads saw chunks committed mid-run


def test_sigterm_stops_the_workers_rolls_back_and_says_what_was_stored(tmp_path, shared_data):
    victim, db, _ = start_import(tmp_path, shared_items(shared_data, 120, iran_only=True),
                                 process_chunk_size=120, nlp_processes=2)
    workers = wait_for_workers(victim)
    stopped_at = time.monotonic()
    victim.send_signal(signal.SIGTERM)
    _, err = victim.communicate(timeout=30)
    assert time.monotonic() - stopped_at < 10, "took 10 s or more to stop"
    assert victim.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == (
        "signals: stopped by SIGTERM; the batch in progress was rolled back; stored before stopping: "
        "120 new articles, 0 predictions; run the same command again to finish")
    assert "Traceback" not in err
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
    assert counts(db) == {"articles": 120, "distinct_articles": 120, "nlp": 0, "predictions": 0, "distinct_predictions": 0}


def test_sigkill_leaves_no_worker_behind_and_a_rerun_completes(tmp_path, shared_data):
    victim, db, command = start_import(tmp_path, shared_items(shared_data, 120, iran_only=True),
                                       process_chunk_size=120, nlp_processes=2)
    workers = wait_for_workers(victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    orphans = [pid for pid in workers if alive(pid)]
    for pid in orphans:  # a failing run must not leave 440 MB processes behind
        os.kill(pid, signal.SIGKILL)
    assert not orphans, "an NLP worker outlived its killed parent by 15 s"

    rerun = subprocess.run(command, env={**os.environ, "SIGNALS_NLP_PROCESSES": "2"}, cwd=PROJECT_ROOT,
                           capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr
    assert counts(db) == {"articles": 120, "distinct_articles": 120, "nlp": 120, "predictions": 120, "distinct_predictions": 120}


@pytest.fixture
def tiny_disk(tmp_path):
    """An 8 MB tmpfs (needs root and mount rights; skipped otherwise)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount a tiny tmpfs for the full-disk test")
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mountpoint)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_a_full_disk_says_so_names_the_store_and_keeps_what_was_stored(tmp_path, tiny_disk, capsys):
    db = tiny_disk / "s.duckdb"

    def article(i: int, words: int) -> Article:
        return Article(f"a{i}", "test", "Outlet", f"Title {i}", "", f"word{i} " * words, datetime(2026, 4, 1, 12), f"http://127.0.0.1/{i}")

    with Store(db) as store:
        store.add_articles([article(i, 200) for i in range(20)])
    space = os.statvfs(tiny_disk)
    filler = tiny_disk / "filler"
    filler.write_bytes(b"\0" * (space.f_bavail * space.f_frsize - 300_000))
    big = tmp_path / "big.jsonl"
    big.write_text("".join(json.dumps({"id": f"b{i}", "title": f"Big {i}", "text": f"word{i} " * 3000,
                                       "published": "2026-04-02T10:00:00Z"}) + "\n" for i in range(300)))

    code = main(["--db", str(db), "import", str(big)])
    out, err = capsys.readouterr()
    assert code == 1
    assert err == (f"signals: error: {db}: the disk is full (No space left on device); the batch being written was "
                   "rolled back and everything stored before it is kept; free some space and run again\n")

    filler.unlink()
    with Store(db, read_only=True) as store:
        assert store.con.execute("SELECT count(*), count(DISTINCT id) FROM articles").fetchone() == (20, 20)
    with Store(db) as store:  # writable again once there is room
        assert store.add_articles([article(99, 10)]) == (1, 0)


def test_a_vacuum_on_a_full_disk_says_so_keeps_the_store_and_removes_its_copy(tmp_path, tiny_disk, capsys):
    """The copy a vacuum writes did not fit: the error was an unrelated DuckDB binder error, and the half-written
    copy stayed on the full disk."""
    db = tiny_disk / "s.duckdb"
    with Store(db) as store:
        store.add_articles([Article(f"a{i}", "test", "Outlet", f"Title {i}", "", f"word{i} " * 2000, datetime(2026, 4, 1, 12),
                                    f"http://127.0.0.1/{i}") for i in range(150)])
    before = db.read_bytes()
    space = os.statvfs(tiny_disk)
    (tiny_disk / "filler").write_bytes(b"\0" * (space.f_bavail * space.f_frsize - db.stat().st_size // 2))

    code = main(["--db", str(db), "store", "vacuum"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err == (f"signals: error: {db}: the compacted copy could not be written (No space left on device); the store "
                   "is untouched and the half-written copy removed; a vacuum needs free space beside the store of up to "
                   "about twice its size\n")
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler", "s.duckdb", "s.duckdb.lock"]
    assert db.read_bytes() == before
    with Store(db, read_only=True) as store:
        assert len(store.article_ids()) == 150


def prefect_servers(pid: int) -> set[int]:
    """The temporary Prefect API servers (uvicorn) among `pid`'s children."""
    found = set()
    for child in children(pid):
        try:
            if b"uvicorn" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.add(child)
        except OSError:
            continue
    return found


def test_sigterm_while_a_feed_hangs_stops_within_the_grace_and_leaves_no_prefect_server(tmp_path):
    """A fetch in Prefect's task runner (with its retries) would hold the unwinding for up to three HTTP timeouts,
    and Prefect stops its temporary API server only at a normal exit: a stop took a minute and left a 220 MB
    server behind. Now the process exits by STOP_GRACE_SECONDS after the signal, with that server stopped."""
    from feedserver import FeedServer
    from pipeline.cli import STOP_GRACE_SECONDS

    with FeedServer(slow_seconds=120.0) as server:
        config = tmp_path / "signals.toml"
        config.write_text(f'[signals]\nfeeds = ["{server.url("/slow")}"]\n', encoding="utf-8")
        victim = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "--config", str(config), "--db", str(tmp_path / "s.duckdb"), "run"],
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 180
        while server.hits["/slow"] == 0 and victim.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        servers = prefect_servers(victim.pid)
        assert server.hits["/slow"] and servers, f"the run never fetched the feed (exit {victim.poll()})"
        stopped_at = time.monotonic()
        victim.send_signal(signal.SIGTERM)
        _, err = victim.communicate(timeout=120)
        took = time.monotonic() - stopped_at
    assert victim.returncode == 128 + signal.SIGTERM, err
    assert took < STOP_GRACE_SECONDS + 5, f"took {took:.0f} s to stop"
    assert "Traceback" not in err and "run the same command again to finish" in err
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in servers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in servers if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "the run's temporary Prefect server outlived it"
