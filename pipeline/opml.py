"""OPML: import a feed list (URLs and titles, nested outlines too), export the feed list, and the
`signals feeds` commands.

Feeds imported from OPML go to the store's `feed_registry` table; the feeds a run polls are the configured
ones (`settings.feeds`) plus the registered ones (`feed_sources`). A malformed OPML file is an InputError
naming the file (and the line, when the parser knows it).

    signals feeds import-opml FILE   add the file's feeds to the registry
    signals feeds export-opml FILE   write configured + registered feeds as OPML 2.0
    signals feeds list               every feed: last success, failures in a row, next poll, last error
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import quoteattr

from lxml import etree

from .errors import InputError
from .http import url_problem
from .identity import url_host
from .settings import Settings
from .store import Store
from .xmlsafety import unsafe_xml_reason

MAX_OPML_BYTES = 5_000_000


@dataclass(frozen=True)
class FeedEntry:
    """One feed of a feed list: its URL and a human title ('' when none is known)."""

    url: str
    title: str = ""


def parse_opml(data: bytes, name: str = "<opml>", rejected: list[tuple[FeedEntry, str]] | None = None) -> list[FeedEntry]:
    """Feeds from OPML bytes: every <outline> with an xmlUrl, at any depth, in document order, each URL once.
    Only http and https URLs are kept; the others are appended to `rejected` (when given) as (entry, reason).
    Raises InputError (naming `name`) when the document is not OPML."""
    if len(data) > MAX_OPML_BYTES:
        raise InputError(name, None, f"OPML file of {len(data)} bytes is over the {MAX_OPML_BYTES}-byte limit")
    unsafe = unsafe_xml_reason(data)
    if unsafe:
        raise InputError(name, None, unsafe)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if getattr(exc, "lineno", None) else None
        raise InputError(name, line, f"not well-formed OPML ({exc.msg}); check the file is an OPML export") from None
    if root is None or etree.QName(root).localname.lower() != "opml":
        tag = etree.QName(root).localname if root is not None else "nothing"
        raise InputError(name, None, f"not an OPML file: the root element is <{tag}>, expected <opml>")
    body = next((child for child in root if isinstance(child.tag, str) and etree.QName(child).localname.lower() == "body"), None)
    if body is None:
        raise InputError(name, None, "not an OPML file: no <body> element")
    feeds, seen = [], set()
    for outline in body.iter("{*}outline", "outline"):
        attrs = {k.lower(): (v or "").strip() for k, v in outline.attrib.items()}
        url = attrs.get("xmlurl", "")
        if not url or url in seen:
            continue
        problem = url_problem(url)  # a malformed one, registered, made every run crash on it
        if problem:
            if rejected is not None:
                rejected.append((FeedEntry(url, attrs.get("title") or attrs.get("text", "")), problem))
            continue
        seen.add(url)
        feeds.append(FeedEntry(url, attrs.get("title") or attrs.get("text", "")))
    return feeds


def read_opml(path: Path, rejected: list[tuple[FeedEntry, str]] | None = None) -> list[FeedEntry]:
    """Feeds from an OPML file (see `parse_opml` for `rejected`); InputError naming the file when it cannot be
    read or is not OPML."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror}") from None
    return parse_opml(data, str(path), rejected)


def opml_document(feeds: list[FeedEntry], title: str = "news-signals feeds") -> str:
    """An OPML 2.0 document listing `feeds`."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="2.0">', f"  <head><title>{_text(title)}</title></head>", "  <body>"]
    for feed in feeds:
        label = quoteattr(feed.title or feed.url)
        lines.append(f'    <outline type="rss" text={label} title={label} xmlUrl={quoteattr(feed.url)}/>')
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- the feed list

def registered_feeds(store: Store) -> list[str]:
    """URLs of the feeds added via OPML (the store's feed registry), oldest first; [] when there are none."""
    return [url for url, _ in store.registered_feed_rows()]


def feed_sources(settings: Settings, store: Store | None) -> list[str]:
    """What a run polls: the configured feeds, then the registered ones (none without a store), each once: a URL
    written two ways (`HTTP://Host/feed` and `http://host/feed#top`) is one feed, polled under its first spelling."""
    first: dict[str, str] = {}
    for url in [*settings.feeds, *(registered_feeds(store) if store is not None else [])]:
        first.setdefault(feed_key(url), url)
    return list(first.values())


def feed_key(url: str) -> str:
    """Pure: what makes two feed URLs the same feed: scheme and host in lower case, no default port, no fragment
    (never sent to the server). Path and query stay as written: a feed's server may read them case by case."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # malformed (`http.url_problem`): the same feed only as written
        return url.strip()
    host = url_host(parts)
    if port and port != {"http": 80, "https": 443}.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", parts.query, ""))


def run_feed_sources(settings: Settings) -> list[str]:
    """`feed_sources` for a run, opening the configured store read-only (configured feeds alone when
    there is no store yet). Call it before the run opens the store for writing."""
    if not Path(settings.db).exists():  # the configured feeds alone, still each once (a first run polled both spellings)
        return feed_sources(settings, None)
    with Store(settings.db, read_only=True) as store:
        return feed_sources(settings, store)


def feed_list(settings: Settings, store: Store) -> list[FeedEntry]:
    """The configured and registered feeds with their titles (configured feeds have none)."""
    titles = dict(store.registered_feed_rows())
    return [FeedEntry(url, titles.get(url, "")) for url in feed_sources(settings, store)]


def import_opml(store: Store, path: Path, rejected: list[tuple[FeedEntry, str]] | None = None) -> tuple[int, int]:
    """Register the feeds of an OPML file. Returns (feeds in the file, feeds new to the registry);
    outlines that are not http(s) feeds go to `rejected` (see `parse_opml`)."""
    rejected = [] if rejected is None else rejected
    feeds = read_opml(path, rejected)
    if not feeds:
        also = f" ({len(rejected)} outlines with other URLs: {', '.join(e.url for e, _ in rejected[:3])})" if rejected else ""
        raise InputError(path, None, f"no feeds found: expected <outline xmlUrl=\"http...\"> elements in <body>{also}")
    return len(feeds), store.register_feeds([(f.url, f.title) for f in feeds], origin=str(path))


def export_opml(settings: Settings, store: Store, path: Path) -> int:
    """Write the feed list (configured + registered) to `path` as OPML. Returns the number of feeds."""
    feeds = feed_list(settings, store)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(opml_document(feeds), encoding="utf-8")
    return len(feeds)


def feed_status(settings: Settings, store: Store) -> list[dict]:
    """One row per feed: the feed list first (polled or not yet; `listed`), then anything else the store has read
    (feeds no longer configured or registered, and files; not `listed`)."""
    state = {row["name"]: row for row in store.feed_status_rows()}
    empty = {"last_success": None, "consecutive_failures": 0, "next_poll": None, "last_error": "", "last_attempt": None}
    rows = []
    for feed in feed_list(settings, store):
        rows.append({**empty, **state.pop(feed.url, {}), "name": feed.url, "title": feed.title, "listed": True})
    rows += [{**empty, **row, "title": "", "listed": False} for row in state.values()]
    return rows
