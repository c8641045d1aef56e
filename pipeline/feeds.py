"""Feeds become `FeedOutcome`s: articles, or the reason the feed failed; one bad feed never stops the others.

`fetch_feed` GETs a feed politely (conditional GET with ETag / Last-Modified, kept only from a clean parse)
through the bounded fetch (`http.fetch_bounded`); `parse_feed_bytes` screens the bytes for hostile XML
(`xmlsafety`), lets feedparser parse them (in the response's charset, when fetched), and reduces every entry to
plain text (`text.clean_text`), resolving links relative to the feed's URL and never keeping a `javascript:` or
other non-http link.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from urllib.parse import urljoin

import feedparser
import httpx

from .errors import ErrorKind, FeedError
from .http import fetch_bounded, url_problem
from .identity import article_id, canonical_url, url_scheme
from .records import Article, FeedOutcome
from .settings import Settings
from .text import bounded, clean_text, future_date, parse_datetime, placeholder_date
from .xmlsafety import unsafe_xml_reason


def parse_feed_bytes(data: bytes, name: str, outlet_hint: str = "", headers: Mapping[str, str] | None = None,
                     base: str = "") -> FeedOutcome:
    """Parse RSS/Atom bytes. A document with no entries that is broken or is not a feed is a failure,
    and so is one that declares XML entities (see `unsafe_xml_reason`).
    `headers`, a response's, lend feedparser the Content-Type: its charset decides how the bytes are read, as in a
    browser (a windows-1251 feed whose XML declaration names no encoding was read as windows-1252). A file has none.
    `base`, the URL the feed was read from, resolves entry links written relative to it (`/news/2026/03/x`)."""
    unsafe = unsafe_xml_reason(data)
    if unsafe:
        return FeedOutcome(name, False, error=unsafe)
    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False,
                              response_headers=_content_type(headers))
    entries = parsed.get("entries", [])
    if not entries:
        if _broken(parsed):
            reason = f"unreadable feed: {type(parsed.bozo_exception).__name__}: {str(parsed.bozo_exception)[:160]}"
        elif not parsed.get("version"):
            reason = "not an RSS or Atom document (no feed elements found)"
        else:
            return FeedOutcome(name, True)  # a real feed that is empty right now
        return FeedOutcome(name, False, error=reason)
    outlet = clean_text(parsed.feed.get("title", "")) or outlet_hint
    articles = [a for a in (_entry_article(e, name, outlet, base) for e in entries) if a is not None]
    if not articles:
        return FeedOutcome(name, False, error="feed has entries but none with a title, link or text")
    return FeedOutcome(name, True, articles=articles, damaged=_broken(parsed) and _cut_short(data))


# feedparser's complaints about the Content-Type or the encoding it names: the document was still read whole
HEADER_COMPLAINTS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def _broken(parsed) -> bool:
    """The XML parser gave up on the document and feedparser's loose parser read what it could."""
    return bool(parsed.get("bozo")) and not isinstance(parsed.get("bozo_exception"), HEADER_COMPLAINTS)


# The document's last element closes its root: </rss>, </feed>, </rdf:RDF> (comments and whitespace may follow).
ROOT_END = re.compile(rb"</\s*(?:[\w.-]+:)?(?:rss|feed|rdf)\s*>(?:\s|<!--.*?-->)*$", re.I | re.S)


def _cut_short(data: bytes) -> bool:
    """A body that stops before its root element closes: a connection closed early, read as a whole body. Only such
    a body is "damaged" (no validators kept, so the next poll fetches it whole); a complete feed that is merely not
    well-formed (a stray '&', an undeclared `media:` prefix) keeps its conditional GET. UTF-16's zero bytes are
    dropped for the check."""
    return not ROOT_END.search(data[-1024:].replace(b"\x00", b""))


def _content_type(headers: Mapping[str, str] | None) -> dict | None:
    """The response headers feedparser reads the encoding from. A response without a Content-Type is read like a
    file (feedparser would otherwise take it for ISO-8859-1 text)."""
    if headers is None:
        return None
    return {"content-type": headers.get("Content-Type") or "application/xml"}


def _entry_article(entry, feed_name: str, outlet: str, base: str = "") -> Article | None:
    title = bounded(clean_text(entry.get("title", "")), "title")
    summary = bounded(clean_text(entry.get("summary", "")), "summary")
    content = entry.get("content") or []
    text = bounded(clean_text(content[0].get("value", "")), "text") if content else ""
    link = (entry.get("link", "") or "").strip()
    if link and base and not url_scheme(link):  # relative (a link with a scheme: absolute, or javascript:, data:...)
        # Resolved here, not by feedparser: given a base, it also rewrites a guid like `12345` into a URL, which
        # would change the id of every such article already stored.
        try:
            link = urljoin(base, link)
        except ValueError:  # a broken IPv6 literal: dropped below
            pass
    if link and url_problem(link):
        link = ""  # javascript:, data: and friends are never kept, nor a link no request could follow
    if not (title or summary or text or link):
        return None
    # dict.keys: FeedParserDict.get would fall back from one key to the other with a warning
    present = dict.keys(entry)
    published = parse_datetime(next((entry[k] for k in ("published_parsed", "updated_parsed") if k in present and entry[k]), None))
    if future_date(published) or placeholder_date(published):
        published = None  # a clock error or a CMS's zero date: the store dates the article when it is first seen
    return Article(
        id=article_id(entry.get("id", ""), link, title, summary),
        source="feed",
        outlet=outlet,
        title=title,
        summary=summary,
        text=text,
        published=published,
        link=canonical_url(link),
        feed=feed_name,
    )


def retry_after(value: str, now: datetime | None = None) -> float | None:
    """Pure: the seconds a Retry-After header asks for (a number of seconds, or an HTTP date), None when absent or
    unreadable; never negative."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def fetch_feed(url: str, settings: Settings, client: httpx.Client, etag: str = "", last_modified: str = "") -> FeedOutcome:
    """GET a feed politely and parse it. Never raises for a feed's own faults: returns a failed outcome."""
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        fetched = fetch_bounded(url, settings, client, headers)
    except FeedError as exc:
        return FeedOutcome(url, False, error=exc.reason, error_kind=exc.kind)
    if fetched.status == 304:
        return FeedOutcome(url, True, not_modified=True, etag=etag, last_modified=last_modified)
    if fetched.status >= 400:
        kind = ErrorKind.TRANSIENT if fetched.status >= 500 else ErrorKind.PERMANENT
        wait = retry_after(fetched.headers.get("Retry-After", "")) if fetched.status in (429, 503) else None
        if wait is not None:  # the server says when to come back: no quick retries, and the next poll waits that long
            return FeedOutcome(url, False, error=f"HTTP {fetched.status} (the server asks to retry after {wait:.0f} s)",
                               error_kind=ErrorKind.PERMANENT, retry_after=wait)
        return FeedOutcome(url, False, error=f"HTTP {fetched.status}", error_kind=kind)
    outcome = parse_feed_bytes(fetched.body, url, headers=fetched.headers, base=fetched.url)  # after redirects
    # Validators only from a clean parse: a 304 to those of a failed or cut-off body would read as "ok" and keep
    # the missing articles away until the feed changes.
    clean = outcome.ok and not outcome.damaged
    return FeedOutcome(
        url, outcome.ok, outcome.articles, outcome.error, damaged=outcome.damaged,
        etag=fetched.headers.get("ETag", "") if clean else "",
        last_modified=fetched.headers.get("Last-Modified", "") if clean else "",
    )
