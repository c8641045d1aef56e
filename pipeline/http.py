"""The bounded HTTP fetch every feed and article page goes through (`fetch_bounded`), with httpx.

Every fetch is bounded, whatever the server does:
- http and https only, at most `settings.max_redirects` redirects;
- a per-read timeout AND a wall-clock deadline for the whole exchange
  (`settings.http_timeout`): a watchdog shuts the socket of a server that drips
  bytes just fast enough to dodge the per-read timeout;
- a size cap (`settings.max_feed_bytes`) on the DECODED body: gzip/deflate are
  inflated here in bounded pieces, so a gzip bomb stops at the cap;
- a real User-Agent, and only the codings it can inflate in Accept-Encoding.
A fault is a `FeedError` with a one-line reason and its kind: transient (a timeout, a dropped connection)
or permanent.
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from .errors import ErrorKind, FeedError
from .settings import Settings


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
    url = url.strip()  # as url_problem and every feed list read it (a padded xmlUrl failed every run)
    scheme = url.partition(":")[0].lower()
    if scheme not in ("http", "https"):
        raise FeedError(url, f"scheme '{scheme}' is not allowed (only http, https and local files)")
    problem = url_problem(url)
    if problem:
        raise FeedError(url, problem)
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
    except (httpx.InvalidURL, UnicodeError) as exc:  # a redirect to a host no resolver takes (url_problem's kind)
        raise FeedError(url, f"malformed URL after a redirect ({str(exc)[:160]})") from None
    except (httpx.HTTPError, OSError) as exc:
        if watchdog.expired:
            raise FeedError(url, watchdog.reason, ErrorKind.TRANSIENT) from None
        if isinstance(exc, httpx.TimeoutException):
            raise FeedError(url, f"timed out after {settings.http_timeout:g}s", ErrorKind.TRANSIENT) from None
        dropped = isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError, ConnectionError))
        raise FeedError(url, f"{type(exc).__name__}: {str(exc)[:160] or 'connection failed'}",
                        ErrorKind.TRANSIENT if dropped else ErrorKind.PERMANENT) from None


def url_problem(url: str) -> str | None:
    """Why `url` cannot be fetched, in a few words; None for a fetchable http(s) URL. Checked before any request:
    a port out of range, a broken IPv6 literal or a host no resolver takes (`news..example.com`, `xn--a`) raised
    ValueErrors from urllib, httpx and the resolver that no fetch expects, and one such feed stopped a whole run."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it checks the range)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
        if scheme not in ("http", "https"):
            return f"scheme '{scheme}' is not http or https"
        if not host:
            return "no host in the URL"
        request = httpx.URL(url)
        request.host  # noqa: B018 (httpx decodes an xn-- host here, as a request does)
        raw = request.raw_host  # the host as the request sends it: an IDN in IDNA 2008, as httpx encodes it
    except (ValueError, httpx.InvalidURL) as exc:  # UnicodeError and the idna package's errors are ValueErrors
        return f"malformed URL ({str(exc)[:160]})"
    if b":" not in raw and any(not label or len(label) > 63 for label in raw.rstrip(b".").split(b".")):
        return f"malformed URL (an empty or overlong label in the host '{host}')"  # what the resolver refuses
    return None


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
