"""Full text: for articles whose feed gave only a stub, fetch the article page and extract its main text.

Optional and off by default (`settings.fetch_full_text`). The page is fetched with the same bounds as a
feed (`http.fetch_bounded`: http/https only, redirect limit, per-read timeout, wall-clock deadline,
size cap on the decoded body), and only HTML is read. Article links come from feeds, i.e. from strangers:
unless `allow_private_hosts` is set, a link (or a redirect) to a loopback, private, link-local or reserved
address is refused, so a feed cannot make us fetch our own network. Main text is extracted with trafilatura.

The check and the connection use the same answer (`PinnedTransport`): each request's host name is resolved
once, every address it resolves to is checked, and the connection goes to the first of them, with the Host
header and the TLS server name (SNI, and so the certificate check) still the name. A name that answers
with a public address for the check and with 127.0.0.1 for the connection (DNS rebinding) gets nowhere,
and each redirect hop is a new request, resolved, checked and pinned the same way.

Per-article failures are data (`PageRead.error`); the article keeps its stub. This module reads pages; the
job's full-text stage (`jobs.enrich_stored`) picks the stored articles to read and writes their new text.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import Callable, Collection, Sequence
from urllib.parse import urlsplit

import httpx
import trafilatura

from .errors import FeedError
from .http import fetch_bounded, http_client
from .records import Article, PageRead
from .settings import Settings
from .text import clean_text

STUB_CHARS = 300
MIN_MAIN_TEXT = 200  # less than this from a page is a menu or a caption, not an article
HTML_TYPES = ("text/html", "application/xhtml+xml")


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


Resolver = Callable[[str, int], Sequence[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (IP strings, in the system resolver's order). Raises OSError."""
    return [info[4][0].split("%")[0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def resolve_addresses(host: str, port: int, resolve: Resolver = system_resolver) -> list[ipaddress._BaseAddress]:
    """`host` as addresses: itself when it is an IP literal, else the resolver's answer (asked once).
    Raises ValueError with a one-line reason when it cannot be resolved."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        addresses = [ipaddress.ip_address(str(a).split("%")[0]) for a in resolve(host, port)]
    except (OSError, UnicodeError, ValueError) as exc:
        raise ValueError(f"cannot resolve host '{host}' ({exc})") from None
    if not addresses:
        raise ValueError(f"cannot resolve host '{host}' (no address)")
    return addresses


def non_public_reason(host: str, addresses: Sequence[ipaddress._BaseAddress]) -> str:
    """Why a host with these addresses must not be fetched on a feed's say-so, or '' when all are public."""
    for address in addresses:
        if not address.is_global or address.is_multicast:
            return f"refused: host '{host}' is a non-public address ({address})"
    return ""


def refused_host_reason(url: str, resolve: Resolver = system_resolver) -> str:
    """Why `url` must not be fetched on a feed's say-so (its host is, or resolves to, a non-public
    address), or '' when it may be. A check only: fetch through `page_client`, which checks the address
    it connects to."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        return "no host in the URL"
    try:
        return non_public_reason(host, resolve_addresses(host, parts.port or 0, resolve))
    except ValueError as exc:
        return str(exc)


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport that connects to the address it checked.

    For each request (so for each redirect hop): the host is resolved once with `resolve`, every answer is
    checked (`non_public_reason`; skipped for hosts in `allow_private_hosts`, or for all when it is True),
    and the request is sent to the first answer's IP, keeping the Host header and TLS SNI as the name.
    A refused or unresolvable host raises FeedError naming the URL. Other keyword arguments go to the
    `httpx.HTTPTransport` underneath.
    """

    def __init__(self, resolve: Resolver = system_resolver, allow_private_hosts: bool | Collection[str] = False,
                 **transport_options):
        self.resolve = resolve
        self.allow_private_hosts = allow_private_hosts
        self.transport = httpx.HTTPTransport(**transport_options)

    def _private_allowed(self, host: str) -> bool:
        if isinstance(self.allow_private_hosts, bool):
            return self.allow_private_hosts
        return host.lower() in {h.lower() for h in self.allow_private_hosts}

    def pin(self, url: httpx.URL) -> str:
        """The IP to connect to for `url`, checked; raises FeedError."""
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = resolve_addresses(host, port, self.resolve)
        except ValueError as exc:
            raise FeedError(str(url), str(exc)) from None
        reason = "" if self._private_allowed(host) else non_public_reason(host, addresses)
        if reason:
            raise FeedError(str(url), reason)
        return str(addresses[0])

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        address = self.pin(request.url)
        pinned = httpx.Request(
            request.method, request.url.copy_with(host=address), headers=request.headers, stream=request.stream,
            extensions={**request.extensions, "sni_hostname": request.url.host},
        )
        return self.transport.handle_request(pinned)

    def close(self) -> None:
        self.transport.close()


def page_client(settings: Settings, allow_private_hosts: bool | Collection[str] = False,
                resolve: Resolver = system_resolver) -> httpx.Client:
    """A client for article pages: `http.http_client`'s bounds, sending every request, redirects included,
    through a `PinnedTransport` (resolve once, refuse non-public addresses unless allowed, connect to the
    checked address). Proxies from the environment are not used: they would connect for us, unchecked."""
    transport = PinnedTransport(resolve, allow_private_hosts, limits=httpx.Limits(max_keepalive_connections=0))
    return http_client(settings, transport=transport)


def fetch_full_text(article: Article, settings: Settings, client: httpx.Client,
                    allow_private_hosts: bool = False) -> tuple[Article, PageRead]:
    """The article with the main text of its page as `text` (when longer than what it had), and the outcome.
    Use a client from `page_client`: its transport checks the address of every request it connects to,
    redirects included (`allow_private_hosts` is the client's; kept here for callers that pass it)."""
    url = article.link
    try:
        if urlsplit(url or "").scheme.lower() not in ("http", "https"):
            raise FeedError(url, "no http(s) link to fetch")
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
        return article, PageRead(article.id, url, False, error=exc.reason)
    return dataclasses.replace(article, text=text), PageRead(article.id, url, True, len(text))


def fill_full_text(articles: Sequence[Article], settings: Settings, enabled: bool | None = None,
                   min_chars: int = STUB_CHARS, allow_private_hosts: bool | Collection[str] = False,
                   client: httpx.Client | None = None,
                   resolve: Resolver = system_resolver) -> tuple[list[Article], list[PageRead]]:
    """Articles with stubs replaced by their pages' main text, and one outcome per page tried.

    Does nothing unless `enabled` (default: `settings.fetch_full_text`, off). Articles that are not stubs
    (see `is_stub`) come back unchanged and untried. Pages are fetched with `client`, by default a
    `page_client` resolving host names with `resolve`.
    """
    if enabled is None:
        enabled = bool(getattr(settings, "fetch_full_text", False))
    stubs = [a for a in articles if is_stub(a, min_chars)] if enabled else []
    if not stubs:
        return list(articles), []
    filled: dict[str, Article] = {}
    outcomes = []
    own_client = client is None
    client = client or page_client(settings, allow_private_hosts, resolve)
    try:
        for article in stubs:
            filled[article.id], outcome = fetch_full_text(article, settings, client, allow_private_hosts)
            outcomes.append(outcome)
    finally:
        if own_client:
            client.close()
    return [filled.get(a.id, a) for a in articles], outcomes
