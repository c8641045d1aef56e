"""Hostile feeds over real HTTP (tests/feedserver.py on 127.0.0.1).

Each case states what must happen: a failed outcome with a reason, or articles that were cleaned.
Every case is also bounded: it ends within the fetch deadline, and the big ones never build a
buffer much larger than the size cap (measured with tracemalloc, which counts decoded bytes).
"""

import time
import tracemalloc
from pathlib import Path

import pytest

from feedserver import HOSTILE, PASSWD_MARKERS, FeedServer
from pipeline.feeds import fetch_feed, parse_feed_bytes
from pipeline.http import http_client
from pipeline.jobs import read_sources
from pipeline.settings import load_settings
from pipeline.store import Store
from pipeline.xmlsafety import unsafe_xml_reason

CAP = 1_000_000  # over the gzip bomb's compressed size (265 kB), far under its inflated size (256 MB)
TIMEOUT = 1.0
SLACK = 1.5  # seconds allowed past the deadline (thread start-up, a loaded 2-core machine)


@pytest.fixture(scope="module")
def server():
    with FeedServer() as s:
        with http_client(load_settings(environ={}, config=None)) as client:
            fetch_feed(s.url("/feed.rss"), load_settings(environ={}, config=None), client)  # warm up imports
        yield s


@pytest.fixture
def quick(settings):
    return settings.replace(http_timeout=TIMEOUT, max_feed_bytes=CAP, max_redirects=3)


def passwd_lines() -> list[str]:
    try:
        lines = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    return [line for line in lines if len(line) > 12] + list(PASSWD_MARKERS[:1])


def fetch_measured(server, settings, path):
    """(outcome, seconds, peak bytes traced) for one fetch."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with http_client(settings) as client:
            outcome = fetch_feed(server.url(path), settings, client)
        return outcome, time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def article_strings(outcome) -> list[str]:
    return [v for a in outcome.articles for v in (a.title, a.summary, a.text, a.link, a.outlet)]


FAILURES = [
    # fault, expected words in the reason
    ("billion laughs", "entity expansion"),
    ("external entity (XXE)", "external entity (XXE)"),
    ("parameter entity (XXE)", "declares XML entities"),
    ("100 MB body, no length", f"over the {CAP}-byte cap"),
    ("100 MB body, length declared", f"body of {100 * 1024 * 1024} bytes is over"),
    ("gzip bomb", "counted after decompression"),
    ("drip after headers", "deadline"),
    ("drip in headers", "deadline"),
    ("redirect loop", "more than 3 redirects"),
    ("redirect to file://", "UnsupportedProtocol"),
    ("unknown Content-Encoding", "unsupported Content-Encoding 'br'"),
]


@pytest.mark.parametrize("fault, reason", FAILURES, ids=[f for f, _ in FAILURES])
def test_hostile_feed_is_a_bounded_failure_with_a_reason(server, quick, fault, reason):
    outcome, seconds, peak = fetch_measured(server, quick, HOSTILE[fault])
    assert not outcome.ok and reason in outcome.error, outcome.error
    assert outcome.articles == []
    assert outcome.transient is ("deadline" in reason)  # only a timeout is worth retrying; the rest fail the same way again
    assert seconds < TIMEOUT + SLACK, f"{fault} took {seconds:.1f}s"
    assert peak < 3 * CAP + 1_000_000, f"{fault} built {peak} bytes"


def test_gzip_bomb_stops_at_the_default_cap_too(server, settings):
    outcome, seconds, peak = fetch_measured(server, settings, HOSTILE["gzip bomb"])
    assert not outcome.ok and "after decompression" in outcome.error
    assert peak < 3 * settings.max_feed_bytes + 1_000_000  # 256 MB inflated would be 25x that
    assert seconds < 10


def test_drip_is_cut_at_the_deadline_not_left_to_the_per_read_timeout(server, quick):
    outcome, seconds, _ = fetch_measured(server, quick.replace(http_timeout=2.0), HOSTILE["drip after headers"])
    # The server sends a byte every 0.1 s: a per-read timeout of 2 s alone would wait for all 6 kB (10 min).
    assert "deadline" in outcome.error and 1.9 < seconds < 2.0 + SLACK
    assert outcome.transient  # a slow server may be quicker next time


def test_external_dtd_reference_is_parsed_without_loading_it(server, quick):
    outcome, _, _ = fetch_measured(server, quick, HOSTILE["external DTD reference"])
    assert outcome.ok and [a.title for a in outcome.articles] == ["External DTD named, never loaded"]
    assert not any(line in text for text in article_strings(outcome) for line in passwd_lines())


def test_invalid_utf8_is_read_and_cleaned(server, quick, tmp_path):
    outcome, _, _ = fetch_measured(server, quick, HOSTILE["invalid UTF-8"])
    assert outcome.ok and len(outcome.articles) == 1
    article = outcome.articles[0]
    assert "talks" in article.title and "broken" in article.title
    for text in article_strings(outcome):
        text.encode("utf-8")  # strict: no lone surrogates left
    with Store(tmp_path / "s.duckdb") as store:
        assert store.add_articles(outcome.articles) == (1, 0)


def test_scripts_and_javascript_links_are_cleaned(server, quick):
    outcome, _, _ = fetch_measured(server, quick, HOSTILE["scripts and javascript: links"])
    assert outcome.ok and len(outcome.articles) == 4
    titles = [a.title for a in outcome.articles]
    assert titles == ["Talks resume in Doha", "Border reopens at Taftan", "Double escaped headline", "Safe entry"]
    assert outcome.articles[0].summary.startswith("Envoys met.\nread more")
    assert outcome.articles[1].summary == "Trucks crossed."
    for text in article_strings(outcome):
        for bad in ("<", "script", "alert", "steal", "pwn", "onerror", "onmouseover", "javascript", "p{}"):
            assert bad not in text.lower(), (bad, text)
    assert [a.link for a in outcome.articles] == ["", "", "", "https://127.0.0.1/safe"]


def test_every_hostile_feed_is_recorded_and_nothing_leaks_into_the_store(server, quick):
    urls = [server.url(path) for path in HOSTILE.values()]
    started = time.monotonic()
    with Store(quick.db) as store:
        outcomes = read_sources(quick, store, urls)
        for outcome in outcomes:
            store.add_articles(outcome.articles)
        feeds = dict(store.con.execute("SELECT name, last_error FROM feeds").fetchall())
        stored = store.con.execute("SELECT title, summary, text, link FROM articles").fetchall()
    assert time.monotonic() - started < len(urls) * (TIMEOUT + SLACK)
    assert set(feeds) == set(urls)
    expected_failures = {server.url(HOSTILE[fault]) for fault, _ in FAILURES}
    assert {o.name for o in outcomes if not o.ok} == expected_failures
    assert all(feeds[url] for url in expected_failures)  # each failure carries its reason
    assert len(stored) == 6  # external DTD 1, invalid UTF-8 1, scripts 4
    for row in stored:
        for text in row:
            assert not any(line in (text or "") for line in passwd_lines())


# ---------------------------------------------------------------- the XML screen on its own

def test_xxe_in_utf16_is_refused_too():
    xml = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss/>'
    assert "external entity" in unsafe_xml_reason(xml.encode("utf-16"))
    assert "external entity" in unsafe_xml_reason(xml.encode("utf-16-be"))


def test_single_character_entities_and_doctype_lookalikes_are_allowed():
    nbsp = b'<?xml version="1.0"?><!DOCTYPE rss [ <!ENTITY nbsp "&#160;"> ]><rss version="2.0"><channel><title>t</title>' \
           b"<item><title>A&nbsp;B</title><link>http://127.0.0.1/a</link></item></channel></rss>"
    assert unsafe_xml_reason(nbsp) == ""
    assert parse_feed_bytes(nbsp, "f").articles[0].title == "A\u00a0B"
    in_cdata = b'<rss version="2.0"><channel><title>t</title><item><title>XXE explained</title>' \
               b'<description><![CDATA[<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>]]></description>' \
               b"<link>http://127.0.0.1/b</link></item></channel></rss>"
    assert unsafe_xml_reason(in_cdata) == ""


def test_local_feed_file_is_screened_like_a_fetched_one(tmp_path):
    from feedserver import LOL
    from pipeline.files import read_local

    path = tmp_path / "laughs.xml"
    path.write_bytes(LOL)
    outcome = read_local(path)
    assert not outcome.ok and "entity expansion" in outcome.error
