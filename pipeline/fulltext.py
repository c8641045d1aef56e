"""Full text: for articles whose feed gave only a stub, fetch the article page and extract its main text.

Optional and off by default (`settings.fetch_full_text`). The page is fetched with the same bounds as a
feed (`ingest.fetch_bounded`: http/https only, redirect limit, per-read timeout, wall-clock deadline,
size cap on the decoded body), and only HTML is read. Article links come from feeds, i.e. from strangers:
unless `allow_private_hosts` is set, a link (or a redirect) to a loopback, private, link-local or reserved
address is refused, so a feed cannot make us fetch our own network. Main text is extracted with trafilatura.

Per-article failures are data (`FullTextOutcome.error`); the article keeps its stub.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import trafilatura

from .errors import FeedError
from .ingest import clean_text, fetch_bounded, http_client
from .records import Article, FeedOutcome
from .settings import Settings

STUB_CHARS = 300
MIN_MAIN_TEXT = 200  # less than this from a page is a menu or a caption, not an article
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class FullTextOutcome:
    """What happened to one article's page: `chars` of main text found, or the reason there is none."""

    article_id: str
    url: str
    ok: bool
    chars: int = 0
    error: str = ""


def is_stub(article: Article, min_chars: int = STUB_CHARS) -> bool:
    """True when neither the text nor the summary reaches `min_chars` and there is a web page to read."""
    has_page = urlsplit(article.link or "").scheme.lower() in ("http", "https")
    return has_page and max(len(article.text.strip()), len(article.summary.strip())) < min_chars


def extract_main_text(page: bytes | str, url: str = "") -> str:
    """The main text of an HTML page as plain text (navigation, scripts, footers left out); '' when none."""
    text = trafilatura.extract(
        page, url=url or None, output_format="txt", include_comments=False, include_tables=False,
        include_images=False, include_links=False, favor_precision=True, with_metadata=False,
    )
    return clean_text(text or "")


def refused_host_reason(url: str) -> str:
    """Why `url` must not be fetched on a feed's say-so (its host is, or resolves to, a non-public
    address), or '' when it may be."""
    host = urlsplit(url).hostname or ""
    if not host:
        return "no host in the URL"
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in socket.getaddrinfo(host, None)}
        except (socket.gaierror, UnicodeError, ValueError) as exc:
            return f"cannot resolve host '{host}' ({exc})"
    for address in addresses:
        if not address.is_global or address.is_multicast:
            return f"refused: host '{host}' is a non-public address ({address})"
    return ""


def page_client(settings: Settings, allow_private_hosts: bool = False) -> httpx.Client:
    """A client for article pages: `ingest.http_client`, plus a check of every request, redirects included,
    against non-public hosts (unless allowed)."""
    client = http_client(settings)
    if not allow_private_hosts:
        def guard(request: httpx.Request) -> None:
            reason = refused_host_reason(str(request.url))
            if reason:
                raise FeedError(str(request.url), reason)

        client.event_hooks = {"request": [guard], "response": []}
    return client


def fetch_full_text(article: Article, settings: Settings, client: httpx.Client,
                    allow_private_hosts: bool = False) -> tuple[Article, FullTextOutcome]:
    """The article with the main text of its page as `text` (when longer than what it had), and the outcome.
    Use a client from `page_client`, so that redirects are checked too."""
    url = article.link
    try:
        if urlsplit(url or "").scheme.lower() not in ("http", "https"):
            raise FeedError(url, "no http(s) link to fetch")
        if not allow_private_hosts:
            reason = refused_host_reason(url)
            if reason:
                raise FeedError(url, reason)
        fetched = fetch_bounded(url, settings, client, {"Accept": "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"})
        if fetched.status >= 400:
            raise FeedError(url, f"HTTP {fetched.status}")
        kind = fetched.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind and kind not in HTML_TYPES:
            raise FeedError(url, f"not an HTML page ({kind})")
        text = extract_main_text(fetched.body, url)
        if len(text) < MIN_MAIN_TEXT or len(text) <= max(len(article.text), len(article.summary)):
            raise FeedError(url, f"no main text found on the page (only {len(text)} characters)")
    except FeedError as exc:
        return article, FullTextOutcome(article.id, url, False, error=exc.reason)
    return dataclasses.replace(article, text=text), FullTextOutcome(article.id, url, True, len(text))


def fill_full_text(articles: Sequence[Article], settings: Settings, enabled: bool | None = None,
                   min_chars: int = STUB_CHARS, allow_private_hosts: bool = False,
                   client: httpx.Client | None = None) -> tuple[list[Article], list[FullTextOutcome]]:
    """Articles with stubs replaced by their pages' main text, and one outcome per page tried.

    Does nothing unless `enabled` (default: `settings.fetch_full_text`, off). Articles that are not stubs
    (see `is_stub`) come back unchanged and untried.
    """
    if enabled is None:
        enabled = bool(getattr(settings, "fetch_full_text", False))
    stubs = [a for a in articles if is_stub(a, min_chars)] if enabled else []
    if not stubs:
        return list(articles), []
    filled: dict[str, Article] = {}
    outcomes = []
    own_client = client is None
    client = client or page_client(settings, allow_private_hosts)
    try:
        for article in stubs:
            filled[article.id], outcome = fetch_full_text(article, settings, client, allow_private_hosts)
            outcomes.append(outcome)
    finally:
        if own_client:
            client.close()
    return [filled.get(a.id, a) for a in articles], outcomes


def enrich_outcome(store, outcome: FeedOutcome, settings: Settings, enabled: bool | None = None,
                   allow_private_hosts: bool = False) -> tuple[FeedOutcome, list[FullTextOutcome]]:
    """A feed outcome ready to store: stubs of articles new to `store` filled from their pages, and stubs of
    articles already stored given back the full text they have there (so that a feed polled again does not
    turn a stored full text back into its stub). Off unless `enabled` (default: settings.fetch_full_text)."""
    if enabled is None:
        enabled = bool(getattr(settings, "fetch_full_text", False))
    if not enabled or not outcome.articles:
        return outcome, []
    stored = {a.id: a for a in store.articles([a.id for a in outcome.articles])}
    kept = [
        dataclasses.replace(a, text=stored[a.id].text)
        if a.id in stored and is_stub(a) and len(stored[a.id].text) > len(a.text) else a
        for a in outcome.articles
    ]
    new = [a for a in kept if a.id not in stored]
    filled, tried = fill_full_text(new, settings, enabled=True, allow_private_hosts=allow_private_hosts)
    by_id = {a.id: a for a in filled}
    return dataclasses.replace(outcome, articles=[by_id.get(a.id, a) for a in kept]), tried
