"""Full text from article pages served on 127.0.0.1 by tests/feedserver.py (pages written for the tests)."""

import dataclasses
import time

import pytest

from feedserver import ARTICLE_BODY, FeedServer
from pipeline.feeds import fetch_feed
from pipeline.fulltext import extract_main_text, fill_full_text, is_stub, refused_host_reason
from pipeline.http import http_client
from pipeline.records import Article


@pytest.fixture(scope="module")
def server():
    with FeedServer() as s:
        yield s


@pytest.fixture
def quick(settings):
    return settings.replace(http_timeout=1.5, max_feed_bytes=1_000_000)


def stub(server, path, **changes):
    article = Article("id-" + path, "feed", "Fixture", "Title", "A stub.", "", None, server.url(path))
    return dataclasses.replace(article, **changes)


def test_stub_articles_get_the_main_text_of_their_page(server, quick):
    with http_client(quick) as client:
        feed = fetch_feed(server.url("/stubs.rss"), quick, client)
    assert feed.ok and all(is_stub(a) for a in feed.articles)
    articles, outcomes = fill_full_text(feed.articles, quick, enabled=True, allow_private_hosts=True)
    border = articles[0]
    assert outcomes[0].ok and outcomes[0].chars == len(border.text)
    for paragraph in ARTICLE_BODY:
        assert paragraph in border.text
    for marker in ("NAVIGATION-MARKER", "SCRIPT-MARKER", "FOOTER-MARKER", "UA-TRACKING-MARKER", "Most read"):
        assert marker not in border.text
    assert border.summary == feed.articles[0].summary and border.id == feed.articles[0].id


def test_pages_without_an_article_or_not_html_keep_the_stub_with_a_reason(server, quick):
    articles = [stub(server, "/article/empty.html"), stub(server, "/article/image.png"), stub(server, "/article/missing")]
    filled, outcomes = fill_full_text(articles, quick, enabled=True, allow_private_hosts=True)
    assert filled == articles
    assert [o.ok for o in outcomes] == [False, False, False]
    assert "no main text" in outcomes[0].error
    assert outcomes[1].error == "not an HTML page (image/png)"
    assert outcomes[2].error == "HTTP 404"


def test_page_fetch_is_bounded_like_a_feed(server, quick):
    started = time.monotonic()
    _, outcomes = fill_full_text([stub(server, "/article/huge.html"), stub(server, "/article/slow.html")], quick,
                                 enabled=True, allow_private_hosts=True)
    assert "byte cap" in outcomes[0].error
    assert "deadline" in outcomes[1].error
    assert time.monotonic() - started < 2 * 1.5 + 2


def test_off_by_default_and_only_for_stubs(server, quick):
    articles = [stub(server, "/article/border.html")]
    assert fill_full_text(articles, quick) == (articles, [])  # settings.fetch_full_text is off
    long_summary = stub(server, "/article/border.html", summary="x " * 200)
    javascript = stub(server, "/article/border.html", link="javascript:alert(1)")
    assert not is_stub(long_summary) and not is_stub(javascript)
    assert fill_full_text([long_summary, javascript], quick, enabled=True, allow_private_hosts=True) == ([long_summary, javascript], [])


def test_links_to_our_own_network_are_refused_unless_allowed(server, quick):
    _, outcomes = fill_full_text([stub(server, "/article/border.html")], quick, enabled=True)
    assert "non-public address" in outcomes[0].error
    assert server.hits["/article/border.html"] <= 1  # only the allowed fetch of the first test, if it ran
    for url in ("http://localhost/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]/"):
        assert refused_host_reason(url).startswith("refused")


def test_page_client_checks_every_request_it_sends(server, quick):
    """The check is a request hook, so it runs for each redirect hop as for the first request."""
    from pipeline.fulltext import page_client
    from pipeline.http import fetch_bounded
    from pipeline.errors import FeedError

    with page_client(quick) as client, pytest.raises(FeedError, match="non-public"):
        fetch_bounded(server.url("/redirect"), quick, client)


def test_extract_main_text_of_a_string_page():
    page = "<html><body><nav>Menu</nav><article>" + "".join(f"<p>{p}</p>" for p in ARTICLE_BODY) + "</article></body></html>"
    assert ARTICLE_BODY[2] in extract_main_text(page)
    assert extract_main_text("<html><body></body></html>") == ""


def stored_texts(store, ids):
    return {a.id: a.text for a in store.articles(ids)}


def test_the_full_text_stage_reads_stored_stubs_once_and_a_repoll_keeps_their_text(server, quick):
    """Stored as the feed gave them, then the stage reads each stub's page once: the page with an article
    replaces the stored text; the two without one leave their articles as stored, and every read is recorded."""
    from pipeline.jobs import enrich_stored, store_outcomes
    from pipeline.records import RunSummary
    from pipeline.store import Store

    on = quick.replace(fetch_full_text=True)
    with http_client(quick) as client:
        feed = fetch_feed(server.url("/stubs.rss"), quick, client)
    ids = [a.id for a in feed.articles]
    with Store(quick.db) as store:
        store_outcomes(store, [feed], RunSummary())
        assert stored_texts(store, ids) == {a.id: a.text for a in feed.articles}  # before the stage: the feed's stubs
        reads = enrich_stored(on, store, [feed], allow_private_hosts=True)
        assert [r.ok for r in reads] == [True, False, False]
        texts = stored_texts(store, ids)
        assert all(p in texts[ids[0]] for p in ARTICLE_BODY) and len(texts[ids[0]]) == reads[0].chars
        assert [texts[i] for i in ids[1:]] == [a.text for a in feed.articles[1:]]  # failed reads: stored intact
        recorded = store.con.execute("SELECT article_id, ok, error FROM page_reads ORDER BY article_id").fetchall()
        assert recorded == sorted((r.article_id, r.ok, r.error) for r in reads)

        hits = dict(server.hits)
        assert store.add_articles(feed.articles) == (0, 0)  # the same stubs polled again change nothing stored
        assert enrich_stored(on, store, [feed], allow_private_hosts=True) == []  # and no page is read again
        assert server.hits == hits and stored_texts(store, ids) == texts

        changed = dataclasses.replace(feed.articles[0], summary="Officials opened an office on Tuesday.")
        assert store.add_articles([changed]) == (0, 1)  # the feed changed the article: its page is read again
        reads = enrich_stored(on, store, [dataclasses.replace(feed, articles=[changed])], allow_private_hosts=True)
        assert [r.article_id for r in reads if r.ok] == [ids[0]] and stored_texts(store, ids) == texts


def test_the_full_text_stage_is_off_by_default_and_skips_local_files(server, quick):
    from pipeline.jobs import enrich_stored, store_outcomes
    from pipeline.records import FeedOutcome, RunSummary
    from pipeline.store import Store

    article = stub(server, "/article/border.html")
    from_file = FeedOutcome("articles.jsonl", True, [article])
    from_feed = FeedOutcome(server.url("/stubs.rss"), True, [article])
    with Store(quick.db) as store:
        store_outcomes(store, [from_feed], RunSummary())
        assert enrich_stored(quick, store, [from_feed], allow_private_hosts=True) == []  # fetch_full_text is off
        assert enrich_stored(quick.replace(fetch_full_text=True), store, [from_file], allow_private_hosts=True) == []
        assert stored_texts(store, [article.id]) == {article.id: ""}


def test_an_article_is_stored_when_its_page_cannot_be_read(server, quick):
    """A whole ingest with full text on: the pages' host is refused (127.0.0.1 is not public), so every read
    fails; the articles are stored as the feed gave them and the failed reads are in the summary and the store."""
    from pipeline.jobs import read_and_store
    from pipeline.store import Store

    on = quick.replace(fetch_full_text=True)
    with Store(on.db) as store:
        summary = read_and_store(on, store, [server.url("/stubs.rss")], force=True)
        assert summary.articles_new == 3 and summary.pages_read == 0 and summary.pages_failed == 3
        assert all("non-public address" in r.error for r in summary.page_reads)
        stored = store.articles()
        assert sorted(a.title for a in stored) == ["A picture", "Joint border office opens at Taftan", "Nothing to read here"]
        assert all(a.text == "" and a.summary for a in stored)
        assert store.con.execute("SELECT count(*) FROM page_reads WHERE NOT ok").fetchone()[0] == 3


# ---------------------------------------------------------------- DNS rebinding: the fetch connects to what it checked

PUBLIC_ADDRESS = "93.184.215.14"  # a global unicast address; nothing on it answers from this test machine


class ScriptedResolver:
    """The test's own DNS: each name answers from its list in turn (the last answer repeats); asks are logged."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = {name: list(values) for name, values in answers.items()}
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        values = self.answers[host]
        return [values.pop(0) if len(values) > 1 else values[0]]


def test_a_name_that_rebinds_to_loopback_after_the_check_never_reaches_it(server, quick):
    """First answer public, every later one 127.0.0.1: the fetch resolves once and connects to the public
    address it checked, so the page on 127.0.0.1 is never requested."""
    quick = quick.replace(http_timeout=1.0)
    resolver = ScriptedResolver({"rebind.test": [PUBLIC_ADDRESS, "127.0.0.1"]})
    article = stub(server, "", link=f"http://rebind.test:{server.port}/article/border.html")
    hits = server.hits["/article/border.html"]
    filled, outcomes = fill_full_text([article], quick, enabled=True, resolve=resolver)
    assert filled == [article] and not outcomes[0].ok
    assert server.hits["/article/border.html"] == hits
    assert resolver.asked == ["rebind.test"]  # one answer, the checked one, used for the connection


def test_a_name_that_answers_loopback_is_refused_before_connecting(server, quick):
    resolver = ScriptedResolver({"rebind.test": ["127.0.0.1"]})
    article = stub(server, "", link=f"http://rebind.test:{server.port}/article/border.html")
    hits = server.hits["/article/border.html"]
    _, outcomes = fill_full_text([article], quick, enabled=True, resolve=resolver)
    assert outcomes[0].error == "refused: host 'rebind.test' is a non-public address (127.0.0.1)"
    assert server.hits["/article/border.html"] == hits


def test_the_pinned_connection_keeps_the_host_name_in_the_host_header(server, quick):
    resolver = ScriptedResolver({"news.test": ["127.0.0.1"]})
    article = stub(server, "", link=f"http://news.test:{server.port}/article/border.html")
    filled, outcomes = fill_full_text([article], quick, enabled=True, resolve=resolver, allow_private_hosts={"news.test"})
    assert outcomes[0].ok and ARTICLE_BODY[0] in filled[0].text
    assert server.host_headers[-1] == f"news.test:{server.port}"


def test_each_redirect_hop_is_resolved_and_checked_again(server, quick):
    """news.test may be private (allowed by name); its page redirects to evil.test, which answers 127.0.0.1 too:
    the hop to evil.test is refused before any request reaches it."""
    from urllib.parse import quote

    resolver = ScriptedResolver({"news.test": ["127.0.0.1"], "evil.test": ["127.0.0.1"]})
    target = f"http://evil.test:{server.port}/article/border.html"
    article = stub(server, "", link=f"http://news.test:{server.port}/goto?to={quote(target, safe='')}")
    hits = server.hits["/article/border.html"]
    _, outcomes = fill_full_text([article], quick, enabled=True, resolve=resolver, allow_private_hosts={"news.test"})
    assert outcomes[0].error == "refused: host 'evil.test' is a non-public address (127.0.0.1)"
    assert resolver.asked == ["news.test", "evil.test"]
    assert server.hits["/article/border.html"] == hits
