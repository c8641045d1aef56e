"""Faults inflicted for real: a killed import, and properties of ids, URLs and dates."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import duckdb
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from pipeline.identity import TRACKING_PARAMS, article_id, canonical_url
from pipeline.settings import PROJECT_ROOT
from pipeline.text import parse_datetime


@pytest.mark.slow
def test_sigkill_mid_import_then_rerun_loses_and_duplicates_nothing(tmp_path, shared_data):
    items = []
    with (shared_data / "spnn_dawn_geo" / "items.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if "Iran" in record["title"] + record["text"][:2000]:
                items.append(line)
            if len(items) == 120:
                break
    source = tmp_path / "items.jsonl"
    source.write_text("".join(items))
    db = tmp_path / "s.duckdb"
    env = {**os.environ, "SIGNALS_PROCESS_CHUNK_SIZE": "40", "SIGNALS_NLP_PROCESSES": "1"}
    command = [sys.executable, "-m", "pipeline.cli", "--db", str(db), "import", str(source)]
    victim = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and victim.poll() is None and not db.exists():
        time.sleep(0.2)
    time.sleep(12)  # articles stored; spaCy loaded; some 40-article NLP batches committed, others not
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL, "the import finished before it could be killed"

    rerun = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        (articles, distinct) = con.execute("SELECT count(*), count(DISTINCT id) FROM articles").fetchone()
        (predictions, distinct_pred) = con.execute("SELECT count(*), count(DISTINCT article_id) FROM predictions").fetchone()
        nlp_rows = con.execute("SELECT count(*) FROM nlp").fetchone()[0]
        counted = con.execute("SELECT sum(articles) FROM daily_signals").fetchone()[0]
        dated = con.execute("SELECT count(*) FROM articles WHERE published IS NOT NULL").fetchone()[0]
    assert articles == distinct == len(items)
    assert predictions == distinct_pred == len(items)
    assert nlp_rows == len(items)
    assert counted == dated  # every dated article counted once in the daily signals


URLS = st.builds(
    lambda scheme, host, path, params, tracking: f"{scheme}://{host}/{path}?" + "&".join(
        [f"{k}={v}" for k, v in params] + [f"{k}=x" for k in tracking]
    ),
    st.sampled_from(["http", "https", "HTTPS"]),
    st.from_regex(r"[a-z]{1,10}\.(com|pk|ir)", fullmatch=True),
    st.from_regex(r"[a-z0-9/-]{0,20}", fullmatch=True),
    st.lists(st.tuples(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True)), max_size=3),
    st.lists(st.sampled_from(["utm_source", "utm_medium", "fbclid", "gclid"]), max_size=2),
)


@given(URLS)
@hsettings(max_examples=200, deadline=None)
def test_canonical_url_is_idempotent_and_drops_tracking(url):
    once = canonical_url(url)
    assert canonical_url(once) == once
    query = once.split("?", 1)[1] if "?" in once else ""
    assert not any(TRACKING_PARAMS.match(p.split("=")[0]) for p in query.split("&") if p)


@given(URLS, st.text(max_size=40), st.text(max_size=40))
@hsettings(max_examples=200, deadline=None)
def test_ids_are_stable_under_tracking_parameters(url, title, summary):
    assert article_id("", url, title, summary) == article_id("", canonical_url(url) + "#frag", "other", "")


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
       st.integers(min_value=-12 * 60, max_value=14 * 60))
@hsettings(max_examples=200, deadline=None)
def test_dates_parse_to_the_same_utc_instant(moment, offset_minutes):
    zone = timezone(timedelta(minutes=offset_minutes))
    aware = moment.replace(tzinfo=zone, microsecond=0)
    expected = aware.astimezone(timezone.utc).replace(tzinfo=None)
    assert parse_datetime(aware.isoformat()) == expected
    assert parse_datetime(aware.isoformat().replace("+00:00", "Z")) == expected


@given(st.text(max_size=30))
def test_unparseable_dates_are_none_not_errors(text):
    result = parse_datetime(text)
    assert result is None or isinstance(result, datetime)
