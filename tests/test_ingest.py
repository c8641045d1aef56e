from datetime import datetime
from pathlib import Path

import pytest

from pipeline.feeds import parse_feed_bytes
from pipeline.files import expand_paths, read_jsonl, read_local
from pipeline.identity import article_id, canonical_url
from pipeline.text import clean_text

FIXTURES = Path(__file__).parent / "fixtures"


def test_canonical_url_drops_tracking_and_fragment():
    assert canonical_url("HTTPS://Example.COM/a/b?utm_source=x&id=3&fbclid=y#top") == "https://example.com/a/b?id=3"
    assert canonical_url("https://example.com/a?b=2&a=1") == canonical_url("https://example.com/a?a=1&b=2")


def test_ids_prefer_guid_then_link_then_content():
    assert article_id("g-1", "https://x/a", "t", "s") == article_id("g-1", "https://x/other", "t2", "s2")
    assert article_id("", "https://x/a?utm_medium=rss", "t", "s") == article_id("", "https://x/a", "other", "")
    assert article_id("", "", "Title", "Sum") == article_id("", "", "  title ", "sum")
    assert article_id("", "", "Title", "Sum") != article_id("", "", "Title", "Other")


def test_rss_and_atom_fixtures_parse_to_articles():
    rss = read_local(FIXTURES / "feeds" / "border_news.rss")
    assert rss.ok and len(rss.articles) == 3
    first = rss.articles[0]
    assert first.outlet == "Fixture Frontier Wire"
    assert first.link == "http://127.0.0.1/frontier/joint-office?id=7"  # tracking parameter gone
    assert first.published == datetime(2026, 4, 8, 10, 0)
    assert "<p>" not in first.summary and "joint border management office" in first.summary
    atom = read_local(FIXTURES / "feeds" / "energy.atom")
    assert atom.ok and [a.title[:9] for a in atom.articles] == ["Technical", "Brent jum"]


def test_html_error_page_is_a_failed_feed_not_an_empty_one():
    outcome = parse_feed_bytes(b"<html><body><h1>502 Bad Gateway</h1></body></html>", "http://127.0.0.1/feed")
    assert not outcome.ok and outcome.error


def test_scripts_and_javascript_links_are_dropped():
    xml = b"""<rss version="2.0"><channel><title>x</title><item><title>Hi &lt;script&gt;alert(1)&lt;/script&gt;there</title>
    <link>javascript:alert(1)</link><description>&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;evil()&lt;/script&gt;</description></item></channel></rss>"""
    outcome = parse_feed_bytes(xml, "f")
    article = outcome.articles[0]
    assert "alert" not in article.title and "evil" not in article.summary and article.link == ""


def test_mojibake_is_repaired():
    assert clean_text("Pakistan\u00e2\u20ac\u2122s minister") == "Pakistan's minister"


def test_bad_jsonl_line_is_named_and_good_lines_kept():
    outcome = read_jsonl(FIXTURES / "bad_line.jsonl")
    assert not outcome.ok
    assert outcome.error.startswith(f"{FIXTURES / 'bad_line.jsonl'}:2: not valid JSON")
    assert [a.id for a in outcome.articles] == ["ok-1", "ok-3"]


@pytest.mark.shared_data
def test_every_raw_fixture_feed_is_read_or_recorded(shared_data):
    outcomes = [read_local(p) for p in expand_paths([shared_data / "rss_fixtures" / "raw"])]
    assert len(outcomes) == 53
    assert sum(len(o.articles) for o in outcomes) >= 1150
    for failed in (o for o in outcomes if not o.ok):
        assert failed.error  # each unreadable file carries its reason
