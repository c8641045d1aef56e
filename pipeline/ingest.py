"""Ingest: feeds, feed files and JSONL backfills become `Article` records.

Each source yields a `FeedOutcome` (articles, or the reason it failed); one
bad source never stops the others. HTTP is done with httpx (timeouts, a real
User-Agent, a size cap, bounded redirects, conditional GET); feedparser only
parses bytes.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser
import ftfy
import httpx
import lxml.html
from lxml import etree

from .errors import FeedError, InputError
from .records import Article, FeedOutcome
from .settings import Settings

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SCHEMA_FIELDS = ("id", "source", "outlet", "title", "summary", "text", "published", "link")
# UTF-8 read as Latin-1/cp1252 leaves a lead byte (Ã, Â, â, Ø...) before a continuation
# character; only text with such a pair is handed to ftfy, which is slow on long text.
MOJIBAKE_HINT = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u20ac\u2122]")
TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|mc_cid|mc_eid|ocid|cmpid|ref|ref_src|smid|partner|ito|at_\w+|_ga|igshid)$", re.I)


# ---------------------------------------------------------------- identity

def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no tracking parameters, sorted query."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return url
    host = (parts.hostname or "").lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k))
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), host, path, urlencode(query), ""))


def article_id(guid: str, link: str, title: str, summary: str) -> str:
    """Stable id: from the guid, else the canonical link, else a hash of the content."""
    if guid and guid.strip():
        key = "guid:" + guid.strip()
    elif link and link.strip():
        key = "url:" + canonical_url(link)
    else:
        key = "content:" + " ".join((title + " " + summary).split()).lower()
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- text

def clean_text(value: str) -> str:
    """Plain text from a feed field: HTML removed, mojibake repaired, whitespace folded."""
    if not value:
        return ""
    if "<" in value and ">" in value:
        try:
            root = lxml.html.fragment_fromstring(value, create_parent="div")
            for bad in root.xpath("//script|//style"):
                bad.drop_tree()
            value = root.text_content()
        except (etree.ParserError, ValueError):
            value = re.sub(r"<[^>]+>", " ", value)
    if MOJIBAKE_HINT.search(value):
        value = ftfy.fix_text(value)
    return re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\n\s*\n+", "\n\n", value)).strip()


def parse_datetime(value: object) -> datetime | None:
    """UTC naive datetime from an ISO string, a struct_time, or None."""
    if value is None or value == "":
        return None
    if hasattr(value, "tm_year"):
        return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc).replace(tzinfo=None)
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


# ---------------------------------------------------------------- feeds

def parse_feed_bytes(data: bytes, name: str, outlet_hint: str = "") -> FeedOutcome:
    """Parse RSS/Atom bytes. A document with no entries that is broken or is not a feed is a failure."""
    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
    entries = parsed.get("entries", [])
    if not entries:
        if parsed.get("bozo"):
            reason = f"unreadable feed: {type(parsed.bozo_exception).__name__}: {str(parsed.bozo_exception)[:160]}"
        elif not parsed.get("version"):
            reason = "not an RSS or Atom document (no feed elements found)"
        else:
            return FeedOutcome(name, True)  # a real feed that is empty right now
        return FeedOutcome(name, False, error=reason)
    outlet = clean_text(parsed.feed.get("title", "")) or outlet_hint
    articles = [a for a in (_entry_article(e, name, outlet) for e in entries) if a is not None]
    if not articles:
        return FeedOutcome(name, False, error="feed has entries but none with a title, link or text")
    return FeedOutcome(name, True, articles=articles)


def _entry_article(entry, feed_name: str, outlet: str) -> Article | None:
    title = clean_text(entry.get("title", ""))
    summary = clean_text(entry.get("summary", ""))
    content = entry.get("content") or []
    text = clean_text(content[0].get("value", "")) if content else ""
    link = entry.get("link", "") or ""
    if link and urlsplit(link).scheme.lower() not in ("http", "https"):
        link = ""  # javascript:, data: and friends are never kept
    if not (title or summary or text or link):
        return None
    # dict.keys: FeedParserDict.get would fall back from one key to the other with a warning
    present = dict.keys(entry)
    published = parse_datetime(next((entry[k] for k in ("published_parsed", "updated_parsed") if k in present and entry[k]), None))
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


def fetch_feed(url: str, settings: Settings, client: httpx.Client, etag: str = "", last_modified: str = "") -> FeedOutcome:
    """GET a feed politely and parse it. Never raises for a feed's own faults: returns a failed outcome."""
    try:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise FeedError(url, f"scheme '{scheme}' is not allowed (only http, https and local files)")
        headers = {"User-Agent": settings.user_agent, "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return FeedOutcome(url, True, not_modified=True, etag=etag, last_modified=last_modified)
            if response.status_code >= 400:
                raise FeedError(url, f"HTTP {response.status_code}")
            body = _read_capped(response, settings.max_feed_bytes, url)
            outcome = parse_feed_bytes(body, url)
            return FeedOutcome(
                url, outcome.ok, outcome.articles, outcome.error,
                etag=response.headers.get("ETag", ""),
                last_modified=response.headers.get("Last-Modified", ""),
            )
    except FeedError as exc:
        return FeedOutcome(url, False, error=exc.reason)
    except httpx.TooManyRedirects:
        return FeedOutcome(url, False, error=f"more than {settings.max_redirects} redirects")
    except httpx.TimeoutException:
        return FeedOutcome(url, False, error=f"timed out after {settings.http_timeout:g}s")
    except httpx.HTTPError as exc:
        return FeedOutcome(url, False, error=f"{type(exc).__name__}: {str(exc)[:160] or 'connection failed'}")


def _read_capped(response: httpx.Response, cap: int, url: str) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise FeedError(url, f"body of {int(declared)} bytes is over the {cap}-byte cap")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise FeedError(url, f"body is over the {cap}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


def http_client(settings: Settings) -> httpx.Client:
    timeout = httpx.Timeout(settings.http_timeout, connect=min(10.0, settings.http_timeout))
    return httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=settings.max_redirects)


# ---------------------------------------------------------------- local files

def read_jsonl(path: Path, strict: bool = False) -> FeedOutcome:
    """Articles from a JSONL file in the shared schema. Bad lines fail the file, naming the first bad line;
    the good lines are still returned so that nothing valid is lost. `strict` raises InputError instead."""
    articles, first_error, bad, number = [], "", 0, 0
    with Path(path).open(encoding="utf-8", errors="strict") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    articles.append(article_from_record(json.loads(line)))
                except (json.JSONDecodeError, InputError, TypeError, ValueError) as exc:
                    bad += 1
                    reason = exc.reason if isinstance(exc, InputError) else f"not valid JSON ({exc})"
                    if strict:
                        raise InputError(path, number, reason) from None
                    first_error = first_error or str(InputError(path, number, reason))
        except UnicodeDecodeError as exc:
            if strict:
                raise InputError(path, number + 1, f"not UTF-8 ({exc.reason})") from None
            first_error = first_error or str(InputError(path, number + 1, f"not UTF-8 ({exc.reason})"))
            bad += 1
    if bad:
        more = f" (and {bad - 1} more bad lines)" if bad > 1 else ""
        return FeedOutcome(str(path), False, articles, first_error + more)
    return FeedOutcome(str(path), True, articles)


def article_from_record(record: dict) -> Article:
    """An Article from a dict in the shared schema; the id is kept if given, else derived."""
    if not isinstance(record, dict):
        raise InputError("", None, "expected a JSON object")
    if not any(record.get(k) for k in ("title", "summary", "text")):
        raise InputError("", None, "record has no title, summary or text")
    link = str(record.get("link") or "")
    title, summary = clean_text(str(record.get("title") or "")), clean_text(str(record.get("summary") or ""))
    published = record.get("published")
    parsed = parse_datetime(published)
    if published and parsed is None:
        raise InputError("", None, f"unreadable date {published!r} in 'published'")
    return Article(
        id=str(record.get("id") or article_id("", link, title, summary)),
        source=str(record.get("source") or "jsonl"),
        outlet=str(record.get("outlet") or ""),
        title=title,
        summary=summary,
        text=clean_text(str(record.get("text") or "")),
        published=parsed,
        link=canonical_url(link),
    )


def read_feed_file(path: Path) -> FeedOutcome:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return FeedOutcome(str(path), False, error=f"cannot read: {exc.strerror}")
    outcome = parse_feed_bytes(data, str(path))
    return outcome


def expand_paths(paths: list[Path]) -> Iterator[Path]:
    """Files named directly, and feed/JSONL files found in folders (sorted, recursive)."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in FEED_SUFFIXES | JSONL_SUFFIXES:
                    yield child
        else:
            yield path


def read_local(path: Path) -> FeedOutcome:
    """A local JSONL or feed file, by suffix."""
    if not path.exists():
        return FeedOutcome(str(path), False, error="no such file or folder")
    if path.suffix.lower() in JSONL_SUFFIXES:
        return read_jsonl(path)
    return read_feed_file(path)
