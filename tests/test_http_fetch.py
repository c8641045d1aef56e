"""Fetching feeds over real HTTP from a server the test starts on 127.0.0.1."""

import time

import pytest

from feedserver import CP1251, CUT_ETAG, CYRILLIC_TITLE, ETAG, LAST_MODIFIED, FeedServer
from pipeline.errors import ErrorKind
from pipeline.feeds import fetch_feed, parse_feed_bytes
from pipeline.http import http_client
from pipeline.jobs import read_sources
from pipeline.store import Store


@pytest.fixture(scope="module")
def server():
    with FeedServer(slow_seconds=3.0) as s:
        yield s


@pytest.fixture
def quick(settings):
    return settings.replace(http_timeout=1.0, max_feed_bytes=200_000, max_redirects=3)


def fetch(server, quick, path, **kw):
    with http_client(quick) as client:
        return fetch_feed(server.url(path), quick, client, **kw)


def test_feed_fetch_sends_user_agent_and_keeps_validators(server, quick):
    outcome = fetch(server, quick, "/feed.rss")
    assert outcome.ok and len(outcome.articles) == 3
    assert outcome.etag == ETAG and outcome.last_modified == LAST_MODIFIED
    assert server.user_agents[-1].startswith("news-signals/")


def test_the_charset_in_the_content_type_decodes_a_feed_whose_declaration_names_none(server, quick):
    """A windows-1251 feed with a bare `<?xml version="1.0"?>`: the HTTP charset says how to read it, as in a
    browser. Given the bytes alone, feedparser fell back to windows-1252 and the store kept 'Èðàí è Ïàêèñòàí ...'."""
    outcome = fetch(server, quick, "/cp1251.rss")
    assert outcome.ok and [(a.outlet, a.title) for a in outcome.articles] == [("Новости Пакистана", CYRILLIC_TITLE)]
    assert parse_feed_bytes(CP1251, "ru.rss").ok  # a file has no headers: read as before, from its own bytes
    empty = b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    assert parse_feed_bytes(empty, "quiet", headers={"Content-Type": "text/html"}).ok  # a wrong type is no broken feed


def test_relative_item_links_are_resolved_against_the_url_the_feed_was_read_from(server, quick):
    """`<link>/news/2026/03/x</link>` and `<link>army-chief-tehran</link>` are read against the feed's URL after its
    redirects, as a browser reads them; a `javascript:` link is still dropped. They had been dropped too: the id was
    a hash of title and summary, so a headline edited by its outlet was stored as a second article."""
    redirected = fetch(server, quick, "/goto?to=/news/relative.rss")
    assert [a.link for a in redirected.articles] == [
        server.url("/news/2026/03/taftan-reopens"), server.url("/news/army-chief-tehran"), ""]
    with Store(quick.db) as store:
        assert store.add_articles(fetch(server, quick, "/news/relative.rss").articles) == (3, 0)
        edited = fetch(server, quick, "/news/relative.rss?edited=1").articles
        assert store.add_articles(edited) == (0, 1)  # (new, updated): the same article, its headline edited
        assert len(store.article_ids()) == 3


def test_conditional_get_returns_not_modified(server, quick):
    assert fetch(server, quick, "/feed.rss", etag=ETAG).not_modified
    assert fetch(server, quick, "/feed.rss", last_modified=LAST_MODIFIED).not_modified


def test_unchanged_feed_polled_twice_parses_nothing_the_second_time(server, quick):
    with Store(quick.db) as store:
        first = read_sources(quick, store, [server.url("/feed.rss")])
        second = read_sources(quick, store, [server.url("/feed.rss")], force=True)
    assert len(first[0].articles) == 3
    assert second[0].not_modified and second[0].articles == []


def test_a_run_stopped_after_a_feed_is_fetched_keeps_its_articles_or_fetches_it_again(server, quick):
    """The articles of each fetched feed are stored before its state (ETag, next poll) is: a run stopped before
    the next feed loses nothing, and a feed whose state is recorded has its articles in the store. (Recording first
    and storing after every fetch left a feed 'polled', with its ETag, and no articles: the rerun skipped it.)"""
    from pipeline.jobs import fetch_in_turn

    def stopped_after_the_first(settings, due):
        for n, outcome in enumerate(fetch_in_turn(settings, due)):
            if n == 1:
                raise KeyboardInterrupt  # SIGINT while the second feed is fetched
            yield outcome

    first, second = server.url("/feed.rss"), server.url("/feed.rss?copy=2")
    with Store(quick.db) as store:
        with pytest.raises(KeyboardInterrupt):
            read_sources(quick, store, [first, second], fetch=stopped_after_the_first)
        assert len(store.article_ids()) == 3  # the first feed's articles
        assert store.feed_state(first).etag == ETAG and not store.feed_state(second).etag
        again = read_sources(quick, store, [first, second])  # the first is not due; the second is fetched
    assert [o.name for o in again] == [second]


def test_a_response_cut_short_keeps_no_validator_so_its_failure_is_not_hidden_by_a_304(server, quick):
    """A connection closed before the first item (no Content-Length: it looks like a whole body) is a failure that
    keeps no ETag, so the next poll asks for the whole feed and fails again, and `feeds list` still shows it.
    The ETag had been kept: the next poll's 304 read as 'ok' and the feed's articles were never fetched."""
    url = server.url("/cut/head.rss")
    with Store(quick.db) as store:
        [first] = read_sources(quick, store, [url])
        assert not first.ok and "unreadable feed" in first.error and store.feed_state(url).etag == ""
        [again] = read_sources(quick, store, [url], force=True)
        [row] = [r for r in store.feed_status_rows() if r["name"] == url]
    assert not again.ok and not again.not_modified
    assert row["last_error"] == again.error and row["consecutive_failures"] == 2 and row["last_success"] is None


def test_a_feed_cut_in_an_item_keeps_what_it_read_and_is_fetched_whole_at_the_next_poll(server, quick):
    """Cut in its third item, the feed is read as far as it goes (feedparser recovers) but its validators are not
    kept: the next poll fetches it whole. They had been kept, and the 304 lost the rest of the feed for good."""
    from pipeline.records import FeedOutcome

    url = server.url("/cut/once.rss")
    with Store(quick.db) as store:
        [cut] = read_sources(quick, store, [url])
        assert cut.ok and 0 < len(cut.articles) < 3
        assert (store.feed_state(url).etag, store.feed_state(url).last_modified) == ("", "") and cut.damaged
        [whole] = read_sources(quick, store, [url], force=True)
        assert not whole.damaged and len(store.article_ids()) == 3 and store.feed_state(url).etag == CUT_ETAG
        [unchanged] = read_sources(quick, store, [url], force=True)
        assert unchanged.not_modified  # a clean fetch's validators are kept
        store.record_feed(FeedOutcome(url, False, error="HTTP 500"))
        assert store.feed_state(url).etag == ""  # a failure keeps none: the poll after it fetches the whole feed


def test_a_rate_limited_feed_is_polled_again_when_the_server_asks(server, quick):
    """A 429 with Retry-After: no quick retries, and the next poll waits the two hours the server asks for
    (one failure alone would back off one hour)."""
    from datetime import datetime, timedelta, timezone

    from pipeline.feeds import retry_after
    from pipeline.store import utcnow

    with Store(quick.db) as store:
        [outcome] = read_sources(quick, store, [server.url("/429")])
        next_poll = store.feed_state(server.url("/429")).next_poll
    assert outcome.error == "HTTP 429 (the server asks to retry after 7200 s)" and not outcome.transient
    assert server.hits["/429"] == 1
    assert timedelta(hours=1, minutes=55) < next_poll - utcnow() <= timedelta(hours=2)
    now = datetime(2026, 4, 8, 10, 0, tzinfo=timezone.utc)
    assert retry_after("Wed, 08 Apr 2026 10:30:00 GMT", now) == 1800 and retry_after("soon", now) is None


@pytest.mark.parametrize("path, reason, transient", [
    ("/404", "HTTP 404", False),
    ("/500", "HTTP 500", True),  # the server may recover: worth another try
    ("/loop", "redirects", False),
    ("/big", "byte cap", False),
    ("/html", "not an RSS or Atom document", False),
    ("/corrupt-gzip.rss", "corrupt gzip body", False),
])
def test_bad_responses_are_failed_outcomes_with_a_reason_and_a_kind(server, quick, path, reason, transient):
    outcome = fetch(server, quick, path)
    assert not outcome.ok and reason in outcome.error
    assert outcome.transient is transient  # set where the error is raised, not read back from the message


def test_slow_server_times_out_quickly(server, quick):
    started = time.monotonic()
    outcome = fetch(server, quick, "/slow")
    assert not outcome.ok and "timed out" in outcome.error and outcome.error_kind is ErrorKind.TRANSIENT
    assert time.monotonic() - started < 2.9  # the server answers after 3 s; we gave up before


def test_gzip_and_redirects_are_followed(server, quick):
    assert len(fetch(server, quick, "/gzip.rss").articles) == 3
    assert len(fetch(server, quick, "/redirect").articles) == 3


@pytest.mark.parametrize("path", ["/gzip.rss", "/deflate.rss", "/raw-deflate.rss", "/gzip-members.rss"])
def test_compressed_bodies_are_inflated_here(server, quick, path):
    assert len(fetch(server, quick, path).articles) == 3


def test_only_codings_we_inflate_ourselves_are_asked_for(server, quick):
    from pipeline.http import ACCEPT_ENCODING

    with http_client(quick) as client:
        response = client.get(server.url("/feed.rss"), headers={"Accept-Encoding": ACCEPT_ENCODING})
    assert response.request.headers["Accept-Encoding"] == "gzip, deflate"


def test_corrupt_gzip_is_a_failed_outcome(server, quick):
    outcome = fetch(server, quick, "/corrupt-gzip.rss")
    assert not outcome.ok and "corrupt gzip body" in outcome.error


def test_unreachable_feed_and_bad_scheme(quick):
    with http_client(quick) as client:
        dead = fetch_feed("http://127.0.0.1:9/feed", quick, client)
        ftp = fetch_feed("ftp://127.0.0.1/feed", quick, client)
    assert not dead.ok and dead.error and dead.error_kind is ErrorKind.TRANSIENT  # connection refused
    assert not ftp.ok and "scheme 'ftp' is not allowed" in ftp.error and ftp.error_kind is ErrorKind.PERMANENT


def test_failures_back_off_and_are_recorded(server, quick):
    with Store(quick.db) as store:
        read_sources(quick, store, [server.url("/500")])
        read_sources(quick, store, [server.url("/500")], force=True)
        state = store.feed_state(server.url("/500"))
        hits = server.hits["/500"]
        read_sources(quick, store, [server.url("/500")])  # not due yet: skipped
        assert server.hits["/500"] == hits
        row = store.con.execute("SELECT last_error FROM feeds WHERE name = ?", [server.url("/500")]).fetchone()
    assert state.consecutive_failures == 2 and row[0] == "HTTP 500"


def test_a_feed_that_is_complete_but_not_well_formed_keeps_its_conditional_get(server, quick):
    """Only a body cut short is "damaged": a whole feed with a stray '&' or an undeclared `media:` prefix (1 of the
    53 real fixtures) had lost its validators at every poll, and was fetched whole every 30 minutes (review)."""
    from pipeline.feeds import parse_feed_bytes

    complete = (b'<rss version="2.0"><channel><title>x</title><item><title>Talks & trade</title>'
                b'<media:thumbnail url="http://127.0.0.1/t.jpg"/><link>http://127.0.0.1/a</link></item></channel></rss>\n')
    loose = parse_feed_bytes(complete, "f")
    assert loose.ok and len(loose.articles) == 1 and not loose.damaged
    assert parse_feed_bytes(complete[:-30], "f").damaged  # the same feed cut before its root closes
    # a feed URL written with spaces around it (a padded xmlUrl) is fetched as the URL it names
    padded = f" {server.url('/feed.rss')}\n"
    with Store(quick.db) as store:
        [outcome] = read_sources(quick, store, [padded])
    assert outcome.ok and outcome.articles, outcome.error
