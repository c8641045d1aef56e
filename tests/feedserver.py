"""A real HTTP server on 127.0.0.1 for feed tests: the network edge, faked with real sockets.

Routes: /feed.rss (ETag + Last-Modified, answers 304 to a matching conditional GET),
/gzip.rss, /html, /404, /500, /slow (waits before answering), /drip (sends a byte a
second), /big (a body over any small cap), /loop (redirects to itself), /redirect (to /feed.rss).
`server.hits` counts requests per path.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FEED = (Path(__file__).parent / "fixtures" / "feeds" / "border_news.rss").read_bytes()
ETAG = '"fixture-v1"'
LAST_MODIFIED = "Wed, 08 Apr 2026 10:00:00 GMT"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (timeouts are tested on purpose)

    def do_GET(self):
        self.server.hits[self.path] += 1
        self.server.user_agents.append(self.headers.get("User-Agent", ""))
        path = self.path
        if path == "/feed.rss":
            if self.headers.get("If-None-Match") == ETAG or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                return self._send(304, headers={"ETag": ETAG})
            return self._send(200, FEED, {"Content-Type": "application/rss+xml", "ETag": ETAG, "Last-Modified": LAST_MODIFIED})
        if path == "/gzip.rss":
            return self._send(200, gzip.compress(FEED), {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})
        if path == "/html":
            return self._send(200, b"<html><body><h1>Service unavailable</h1></body></html>", {"Content-Type": "text/html"})
        if path == "/404":
            return self._send(404, b"not found")
        if path == "/500":
            return self._send(500, b"boom")
        if path == "/slow":
            time.sleep(self.server.slow_seconds)
            return self._send(200, FEED)
        if path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            for byte in FEED[:20]:
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(1.0)
            return
        if path == "/big":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the client must count
            try:
                for _ in range(64):
                    self.wfile.write(b"<!-- padding -->" * 4096)
            except OSError:
                pass
            return
        if path == "/loop":
            return self._send(302, headers={"Location": "/loop"})
        if path == "/redirect":
            return self._send(301, headers={"Location": "/feed.rss"})
        return self._send(404)


class FeedServer:
    def __init__(self, slow_seconds: float = 3.0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.hits = Counter()
        self.httpd.user_agents = []
        self.httpd.slow_seconds = slow_seconds
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def hits(self) -> Counter:
        return self.httpd.hits

    @property
    def user_agents(self) -> list[str]:
        return self.httpd.user_agents

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self) -> "FeedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
