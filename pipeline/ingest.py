"""Ingest: feeds, feed files and JSONL backfills become `Article` records.

Each source yields a `FeedOutcome` (articles, or the reason it failed); one
bad source never stops the others. HTTP is done with httpx; feedparser only
parses bytes.

Every fetch is bounded, whatever the server does (`fetch_bounded`):
- http and https only, at most `settings.max_redirects` redirects;
- a per-read timeout AND a wall-clock deadline for the whole exchange
  (`settings.http_timeout`): a watchdog shuts the socket of a server that drips
  bytes just fast enough to dodge the per-read timeout;
- a size cap (`settings.max_feed_bytes`) on the DECODED body: gzip/deflate are
  inflated here in bounded pieces, so a gzip bomb stops at the cap;
- conditional GET (ETag / Last-Modified), a real User-Agent.
Hostile XML is refused before parsing (`unsafe_xml_reason`: entity
declarations, the billion-laughs and external-entity patterns), and feed text
is reduced to plain text (scripts dropped, `javascript:` and other non-http
links never kept).
"""

from __future__ import annotations

import calendar
import hashlib
import html
import json
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser
import ftfy
import httpx
import lxml.html
from lxml import etree

from .errors import ErrorKind, FeedError, InputError
from .records import Article, FeedOutcome
from .settings import Settings

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SCHEMA_FIELDS = ("id", "source", "outlet", "title", "summary", "text", "published", "link")
# UTF-8 read as Latin-1/cp1252 leaves a lead byte (Ã, Â, â, Ø...) before a continuation
# character; only text with such a pair is handed to ftfy, which is slow on long text.
MOJIBAKE_HINT = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u20ac\u2122]")
# C0 controls other than tab/newline/CR, DEL, and lone surrogates: never useful in text, break some stores.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Markup escaped twice (`&amp;lt;script&amp;gt;`) reads as `&lt;script&gt;` after one parse.
ESCAPED_TAG = re.compile(r"&lt;\s*/?\s*[a-zA-Z!]")
# A tag cut off by a source that truncated its summary: `... <img src="https://..." srcset="a 250w, …`
CUT_TAG = re.compile(r"""<([a-zA-Z][\w:-]*)(?:\s+[\w:-]+(?:\s*=\s*(?:"[^"]*"?|'[^']*'?|[^\s"'<>]*))?)*[\s\u2026.]*$""")
HTML_TAG_NAMES = {"a", "img", "p", "div", "span", "br", "iframe", "script", "style", "figure", "video", "source", "picture"}
BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "section", "article")
DROPPED_ELEMENTS = "//script|//style|//noscript|//template|//iframe|//object|//embed"
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
    """Plain text from a feed field: HTML removed (scripts, styles and frames with their content),
    markup escaped twice removed too, control characters dropped, mojibake repaired, whitespace folded."""
    if not value:
        return ""
    value = _strip_markup(value)
    if ESCAPED_TAG.search(value):
        value = _strip_markup(html.unescape(value))
    value = CONTROL_CHARS.sub("", value)
    if MOJIBAKE_HINT.search(value):
        value = ftfy.fix_text(value)
    value = re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\n\s*\n+", "\n\n", value))
    return re.sub(r" ?\n ?", "\n", value).strip()


def _strip_markup(value: str) -> str:
    if "<" not in value:
        return value
    cut = CUT_TAG.search(value)
    if cut and ("=" in cut.group(0) or cut.group(1).lower() in HTML_TAG_NAMES):  # "if a<b then" is not a tag
        value = value[: cut.start()]
    if ">" not in value:
        return value
    try:
        root = lxml.html.fragment_fromstring(value, create_parent="div")
        for bad in root.xpath(DROPPED_ELEMENTS):
            bad.drop_tree()
        for block in root.iter(*BLOCK_TAGS):  # "<p>a</p><p>b</p>" is "a\nb", not "ab"
            block.tail = "\n" + (block.tail or "")
        return root.text_content()
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]+>", " ", re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", value))


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


# ---------------------------------------------------------------- hostile XML

DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[")
ELEMENT_START = re.compile(rb"<[A-Za-z_]")
ENTITY_DECL = re.compile(rb"<!ENTITY\b[^>]*>?")
# The only entity declaration a feed needs: a name for one character (`<!ENTITY nbsp "&#160;">`).
SAFE_ENTITY_DECL = re.compile(rb"""<!ENTITY\s+[A-Za-z_][\w.-]*\s+(["'])&#(?:\d{1,7}|x[0-9a-fA-F]{1,6});\1\s*>""")


def unsafe_xml_reason(data: bytes) -> str:
    """Why an XML document must not be parsed, or '' when it may be.

    Refused: a DOCTYPE whose internal subset declares entities other than single characters, i.e. nested
    entities (billion laughs), external entities (`SYSTEM "file:///etc/passwd"`, XXE) and parameter entities.
    An external DTD reference alone (`<!DOCTYPE rss PUBLIC ... "http://...">`) is allowed: it is never loaded.
    """
    head = _as_ascii_compatible(data)
    match = DOCTYPE_SUBSET.search(head)
    if not match:
        return ""
    first_element = ELEMENT_START.search(head)
    if first_element and first_element.start() < match.start():
        return ""  # the "DOCTYPE" is inside the document (CDATA, say), not its prolog
    end = head.find(b"]", match.end())
    while end != -1 and not re.match(rb"\]\s*>", head[end:end + 64]):
        end = head.find(b"]", end + 1)
    if end == -1:
        return "refused: unterminated DOCTYPE internal subset"
    subset = head[match.end():end]
    for decl in ENTITY_DECL.finditer(subset):
        if not SAFE_ENTITY_DECL.fullmatch(decl.group(0)):
            kind = "external entity (XXE)" if re.search(rb"\b(SYSTEM|PUBLIC)\b", decl.group(0)) else "entity expansion"
            return f"refused: the document declares XML entities ({kind} attack pattern): {decl.group(0)[:80].decode('ascii', 'replace')}"
    return ""


def _as_ascii_compatible(data: bytes) -> bytes:
    """UTF-16/32 documents re-encoded so that ASCII markup can be searched as bytes; others unchanged."""
    start = data[:4]
    for bom, codec in ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
                       (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"),
                       (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                       (b"\x00<", "utf-16-be"), (b"<\x00", "utf-16-le")):
        if start.startswith(bom):
            return data.decode(codec, errors="replace").encode("utf-8", errors="replace")
    return data


# ---------------------------------------------------------------- feeds

def parse_feed_bytes(data: bytes, name: str, outlet_hint: str = "") -> FeedOutcome:
    """Parse RSS/Atom bytes. A document with no entries that is broken or is not a feed is a failure,
    and so is one that declares XML entities (see `unsafe_xml_reason`)."""
    unsafe = unsafe_xml_reason(data)
    if unsafe:
        return FeedOutcome(name, False, error=unsafe)
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
        return FeedOutcome(url, False, error=f"HTTP {fetched.status}", error_kind=kind)
    outcome = parse_feed_bytes(fetched.body, url)
    return FeedOutcome(
        url, outcome.ok, outcome.articles, outcome.error,
        etag=fetched.headers.get("ETag", ""),
        last_modified=fetched.headers.get("Last-Modified", ""),
    )


@dataclass(frozen=True)
class Fetched:
    """One bounded HTTP response: status, headers, final URL, and the decoded body
    (empty for 304 and for error statuses, whose bodies are not read)."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes = b""


ACCEPT_ENCODING = "gzip, deflate"  # the only codings inflated here, piece by piece under the cap
DECODE_PIECE = 64 * 1024


def fetch_bounded(url: str, settings: Settings, client: httpx.Client, headers: dict | None = None,
                  cap: int | None = None, deadline: float | None = None) -> Fetched:
    """GET `url` with every bound applied; raises FeedError with a one-line reason for any fault.

    Bounds: http/https only; redirects as the client allows (`http_client`: settings.max_redirects);
    the client's per-read timeout; a wall-clock `deadline` (default settings.http_timeout) for the whole
    exchange, redirects included; `cap` (default settings.max_feed_bytes) on the decoded body.
    """
    cap = settings.max_feed_bytes if cap is None else cap
    seconds = settings.http_timeout if deadline is None else deadline
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FeedError(url, f"scheme '{scheme}' is not allowed (only http, https and local files)")
    headers = {"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING, **(headers or {})}
    watchdog = _Deadline(seconds)
    try:
        with watchdog, client.stream("GET", url, headers=headers, extensions={"trace": watchdog.trace}) as response:
            watchdog.watch(response)
            if response.status_code == 304 or response.status_code >= 400:
                return Fetched(str(response.url), response.status_code, response.headers)
            body = _read_capped(response, cap, url, watchdog)
            return Fetched(str(response.url), response.status_code, response.headers, body)
    except FeedError:
        raise
    except httpx.TooManyRedirects:
        raise FeedError(url, f"more than {settings.max_redirects} redirects") from None
    except (httpx.HTTPError, OSError) as exc:
        if watchdog.expired:
            raise FeedError(url, watchdog.reason, ErrorKind.TRANSIENT) from None
        if isinstance(exc, httpx.TimeoutException):
            raise FeedError(url, f"timed out after {settings.http_timeout:g}s", ErrorKind.TRANSIENT) from None
        dropped = isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError, ConnectionError))
        raise FeedError(url, f"{type(exc).__name__}: {str(exc)[:160] or 'connection failed'}",
                        ErrorKind.TRANSIENT if dropped else ErrorKind.PERMANENT) from None


class _Deadline:
    """A wall-clock budget for one fetch. When it runs out, the fetch's sockets are shut down, which wakes a read
    blocked on a server that sends a byte now and then (each read under the per-read timeout, forever).
    The sockets come from httpcore's documented `trace` extension and `network_stream` response extension."""

    CONNECT_EVENTS = ("connection.connect_tcp.complete", "connection.start_tls.complete")

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self.ends = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @property
    def reason(self) -> str:
        return f"timed out: no complete response within the {self.seconds:g}s deadline (server too slow or dripping bytes)"

    def __enter__(self) -> "_Deadline":
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict) -> None:
        if event in self.CONNECT_EVENTS and info.get("return_value") is not None:
            self._add(info["return_value"].get_extra_info("socket"))

    def watch(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        if stream is not None:
            self._add(stream.get_extra_info("socket"))

    def check(self, url: str) -> None:
        if self.expired or time.monotonic() > self.ends:
            self.expired = True
            raise FeedError(url, self.reason, ErrorKind.TRANSIENT)

    def _add(self, sock) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)


def _shutdown(sock) -> None:
    try:
        # socket.socket's own shutdown, also for an SSLSocket: only the file descriptor is touched,
        # never the TLS object another thread is reading through.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, TypeError):
        pass


def _read_capped(response: httpx.Response, cap: int, url: str, watchdog: _Deadline | None = None) -> bytes:
    """The body, decoded (gzip/deflate), refused as soon as the DECODED size passes `cap`."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise FeedError(url, f"body of {int(declared)} bytes is over the {cap}-byte cap")
    chunks, size = [], 0
    for piece in _decoded(response.iter_raw(), response.headers.get("Content-Encoding", ""), url):
        size += len(piece)
        if size > cap:
            raise FeedError(url, f"body is over the {cap}-byte cap (counted after decompression)")
        if watchdog is not None:
            watchdog.check(url)
        chunks.append(piece)
    if watchdog is not None:
        watchdog.check(url)  # a shut socket can look like the end of a body sent without a length
    return b"".join(chunks)


def _decoded(raw: Iterator[bytes], content_encoding: str, url: str) -> Iterator[bytes]:
    """Inflate a gzip or deflate body in pieces of at most DECODE_PIECE bytes, however compressible it is."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip().lower() not in ("", "identity")]
    if not codings:
        yield from raw
        return
    if len(codings) > 1 or codings[0] not in ("gzip", "x-gzip", "deflate"):
        raise FeedError(url, f"unsupported Content-Encoding '{content_encoding}' (only gzip and deflate are accepted)")
    gzip_coding = codings[0] != "deflate"
    inflater, ended, held = None, False, b""
    for data in raw:
        data, held = held + data, b""
        while data:
            if inflater is None:
                if ended:  # after a complete stream only another gzip member may follow; anything else is ignored
                    if gzip_coding and data == b"\x1f":
                        held = data  # half a magic number: wait for the next byte
                        break
                    if not (gzip_coding and data.startswith(b"\x1f\x8b")):
                        return
                    ended = False
                if gzip_coding:
                    wbits = 16 + zlib.MAX_WBITS
                elif len(data) < 2:
                    held = data  # two bytes tell a zlib header from raw deflate
                    break
                else:  # "deflate" is zlib-wrapped by the standard, raw deflate by some servers
                    wbits = zlib.MAX_WBITS if (data[0] & 0x0F) == 8 and (data[0] << 8 | data[1]) % 31 == 0 else -zlib.MAX_WBITS
                inflater = zlib.decompressobj(wbits)
            try:
                piece = inflater.decompress(data, DECODE_PIECE)
            except zlib.error as exc:
                raise FeedError(url, f"corrupt {codings[0]} body ({exc})") from None
            if piece:
                yield piece
            if inflater.eof:
                data, inflater, ended = inflater.unused_data, None, True
            elif not piece and inflater.unconsumed_tail == data:
                break  # no progress: wait for more input
            else:
                data = inflater.unconsumed_tail
    # No flush(): inflate hands out its output eagerly, and flush() would inflate any leftover input unbounded.
    if inflater is not None and not inflater.eof:
        raise FeedError(url, f"corrupt {codings[0]} body (the compressed stream is cut short)")


def http_client(settings: Settings, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """A client with the per-read timeout and the redirect limit. Connections are not kept alive: each fetch
    opens its own, so that its deadline watchdog always knows the socket to shut. With a `transport` (one
    that must see every request, as `fulltext.PinnedTransport`), proxies from the environment are not used,
    and the transport must not keep connections alive either."""
    timeout = httpx.Timeout(settings.http_timeout, connect=min(10.0, settings.http_timeout))
    return httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=settings.max_redirects,
                        limits=httpx.Limits(max_keepalive_connections=0), transport=transport,
                        trust_env=transport is None)


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
