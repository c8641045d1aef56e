"""A real HTTP server on 127.0.0.1 for feed tests: the network edge, faked with real sockets.

Routes: /feed.rss (ETag + Last-Modified, answers 304 to a matching conditional GET),
/gzip.rss, /deflate.rss, /raw-deflate.rss, /gzip-members.rss, /corrupt-gzip.rss, /html, /404, /500, /429 (Retry-After 2 h), /slow (waits before answering), /drip (sends a byte a
second), /big (a body over any small cap), /loop (redirects to itself), /redirect (to /feed.rss),
/goto?to=URL (redirects to URL).
/cp1251.rss: a Russian feed in windows-1251 whose XML declaration names no encoding; only the Content-Type's
charset says how to read it (as legacy CMSs send it).
/news/relative.rss: items whose links are relative to the feed's URL (`/news/...`, `army-chief-tehran`), no guids;
/news/relative.rss?edited=1 has the first headline edited.
/cut/head.rss: the feed cut before its first item, without a Content-Length, as a connection closed early leaves
it; /cut/once.rss: cut in its third item at the first request only. Both send the whole feed's ETag (`CUT_ETAG`)
and answer 304 to it.

Hostile routes (`HOSTILE` names them all; each is bounded on the server side too):
/hostile/lol.rss (billion laughs), /hostile/xxe.rss (external entity on /etc/passwd),
/hostile/xxe-param.rss (parameter entity), /hostile/external-dtd.rss (DTD reference only),
/hostile/huge (100 MB, no Content-Length), /hostile/huge-declared (100 MB, Content-Length given),
/hostile/gzip-bomb (256 kB of gzip that inflates to 256 MB), /hostile/drip (a byte every 0.1 s
after the headers), /hostile/drip-headers (the status line and headers themselves dripped),
/hostile/loop-a <-> /hostile/loop-b, /hostile/to-file (redirects to file:///etc/passwd),
/hostile/bad-utf8.rss, /hostile/script.rss (scripts, javascript:/data: links, escaped twice),
/hostile/br (a Content-Encoding we never accept).

Article pages for full-text tests: /article/border.html (a page with navigation, scripts and a
long article body), /article/empty.html (no main text), /article/image.png (not HTML),
/article/huge.html (10 MB page), /stubs.rss (entries with stub summaries linking to those pages).
`server.hits` counts requests per path.
"""

from __future__ import annotations

import gzip
import struct
import threading
import zlib
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

FEED = (Path(__file__).parent / "fixtures" / "feeds" / "border_news.rss").read_bytes()
ETAG = '"fixture-v1"'
LAST_MODIFIED = "Wed, 08 Apr 2026 10:00:00 GMT"
PASSWD_MARKERS = ("root:x:0:0", "/bin/bash", "/usr/sbin/nologin", "daemon:")
HUGE_BYTES = 100 * 1024 * 1024
DRIP_INTERVAL = 0.1
DRIP_MAX_SECONDS = 30.0  # the server gives up on its own if a client never does


def _rss(items: str, title: str = "Hostile fixture") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{title}</title>'
            f"<link>http://127.0.0.1/</link>{items}</channel></rss>").encode("utf-8")


LOL = (b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n <!ENTITY lol "lol">\n'
       + b"".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode() for i in range(1, 10))
       + b']>\n<rss version="2.0"><channel><title>laughs</title><item><title>&lol9;</title>'
       + b"<link>http://127.0.0.1/lol</link><description>&lol9;</description></item></channel></rss>")
XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
       b'<rss version="2.0"><channel><title>xxe &xxe;</title><item><title>Leak &xxe;</title>'
       b"<link>http://127.0.0.1/xxe</link><description>Contents: &xxe;</description></item></channel></rss>")
XXE_PARAM = (b'<?xml version="1.0"?>\n<!DOCTYPE rss [ <!ENTITY % file SYSTEM "file:///etc/passwd"> '
             b'<!ENTITY % eval "<!ENTITY leak \'&#x25;file;\'>"> %eval; ]>\n'
             b'<rss version="2.0"><channel><title>p</title><item><title>Leak &leak;</title>'
             b"<link>http://127.0.0.1/xxe2</link></item></channel></rss>")
EXTERNAL_DTD = (b'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "file:///etc/passwd">\n'
                b'<rss version="2.0"><channel><title>dtd</title><item><title>External DTD named, never loaded</title>'
                b"<link>http://127.0.0.1/dtd</link><description>Plain entry.</description></item></channel></rss>")
BAD_UTF8 = _rss("<item><title>Caf\xc3\xa9 talks \xff\xfe broken \xc3( bytes</title><link>http://127.0.0.1/u</link>"
                "<description>Valid \xe2\x82\xac then \xed\xa0\x80 a surrogate and \xc0\xaf overlong</description></item>")
SCRIPTED = _rss(
    "<item><title>Talks resume &lt;script&gt;alert('t')&lt;/script&gt;in Doha</title>"
    "<link>javascript:alert(document.cookie)</link>"
    "<description>&lt;p onmouseover=\"steal()\"&gt;Envoys met.&lt;/p&gt;&lt;script&gt;steal()&lt;/script&gt;"
    "&lt;a href=\"javascript:steal()\"&gt;read more&lt;/a&gt;&lt;iframe src=\"http://evil/\"&gt;frame text&lt;/iframe&gt;</description></item>"
    "<item><title><![CDATA[Border reopens <script>document.write('x')</script>at Taftan]]></title>"
    "<link> JaVaScRiPt:alert(1)</link><description><![CDATA[<img src=x onerror=alert(2)>Trucks crossed.<style>p{}</style>]]></description></item>"
    "<item><title>Double escaped &amp;lt;script&amp;gt;pwn()&amp;lt;/script&amp;gt;headline</title>"
    "<link>data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==</link><description>Ministers spoke.\x01\x08</description></item>"
    "<item><title>Safe entry</title><link>https://127.0.0.1/safe?utm_source=x</link><description>Kept as is.</description></item>"
).replace(b"\x01\x08", b"")  # XML 1.0 forbids them; see BAD_CONTROL for the raw form


def _gzip_bomb(megabytes: int = 256) -> bytes:
    """A gzip stream that inflates to `megabytes` MB of zeros from about 1 kB per MB: one fully flushed
    deflate block, repeated (each block is independent after a full flush). The trailer's CRC is not
    computed (a client must give up long before it gets there)."""
    zeros = bytes(1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + block * megabytes + final + struct.pack("<II", 0, (megabytes * len(zeros)) & 0xFFFFFFFF)


GZIP_BOMB = _gzip_bomb()
# Written for these tests (fictional events): a page with navigation, scripts and one long article body.
ARTICLE_BODY = [
    "Officials from both provinces met on Tuesday at the Taftan crossing to open a joint border management "
    "office, the first of three such offices planned along the frontier this year.",
    "The office will share the daily records of trucks and travellers between the two customs services, "
    "which until now kept separate ledgers and often disagreed about the number of crossings in a week.",
    "A spokesman for the provincial government said the office would also handle complaints from traders, "
    "who have waited up to four days at the crossing during the busiest weeks of the harvest season.",
    "Security officers will staff the office in shifts, and a second office is due to open at a smaller "
    "crossing further south once its building has been repaired after last winter's floods.",
    "Traders' associations welcomed the step but asked for longer opening hours and for the fees charged at "
    "the gate to be published, saying that unclear charges had driven some of them to informal routes.",
]
ARTICLE_PAGE = ("""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Joint border office opens at Taftan</title>
<script>window.tracker = {id: "UA-TRACKING-MARKER"};</script><style>body { font-family: serif; }</style></head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a> NAVIGATION-MARKER</nav></header>
<main><article><h1>Joint border office opens at Taftan</h1><p class="byline">By a staff reporter</p>"""
    + "".join(f"<p>{p}</p>" for p in ARTICLE_BODY)
    + """<script>document.write("SCRIPT-MARKER")</script></article></main>
<aside><h2>Most read</h2><ul><li><a href="/a">Cricket scores</a></li><li><a href="/b">Weather</a></li></ul></aside>
<footer>Copyright FOOTER-MARKER. All rights reserved.</footer></body></html>""").encode("utf-8")
CYRILLIC_TITLE = "Иран и Пакистан обсудили газопровод"
CP1251 = ('<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Новости Пакистана</title><link>http://127.0.0.1/ru</link>'
          f"<item><title>{CYRILLIC_TITLE}</title><link>http://127.0.0.1/ru/1</link>"
          "<description>Министры встретились в Тегеране.</description></item></channel></rss>").encode("cp1251")
RELATIVE_HEADLINE = "Iran and Pakistan reopen Taftan crossing"


def _relative_links(edited: bool) -> bytes:
    headline = RELATIVE_HEADLINE.replace("reopen", "reopen the") if edited else RELATIVE_HEADLINE
    return _rss(f"<item><title>{headline}</title><link>/news/2026/03/taftan-reopens</link>"
                "<description>Trucks crossed again on Monday.</description></item>"
                "<item><title>Pakistan army chief visits Tehran</title><link>army-chief-tehran</link>"
                "<description>A two-day visit.</description></item>"
                "<item><title>Scripted link</title><link>javascript:alert(1)</link><description>No link kept.</description></item>",
                "Relative links")


CUT_ETAG = '"fixture-whole"'
CUT_SHORT = {"/cut/head.rss": FEED[:FEED.index(b"<item>")], "/cut/once.rss": FEED[:FEED.rindex(b"<item>") + 40]}
EMPTY_PAGE = b"<html><head><title>Nothing</title></head><body><nav><a href='/'>Home</a></nav></body></html>"
HOSTILE = {
    "billion laughs": "/hostile/lol.rss",
    "external entity (XXE)": "/hostile/xxe.rss",
    "parameter entity (XXE)": "/hostile/xxe-param.rss",
    "external DTD reference": "/hostile/external-dtd.rss",
    "100 MB body, no length": "/hostile/huge",
    "100 MB body, length declared": "/hostile/huge-declared",
    "gzip bomb": "/hostile/gzip-bomb",
    "drip after headers": "/hostile/drip",
    "drip in headers": "/hostile/drip-headers",
    "redirect loop": "/hostile/loop-a",
    "redirect to file://": "/hostile/to-file",
    "unknown Content-Encoding": "/hostile/br",
    "invalid UTF-8": "/hostile/bad-utf8.rss",
    "scripts and javascript: links": "/hostile/script.rss",
}


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

    def _stream(self, total: int, headers: dict) -> None:
        """`total` bytes of filler, produced as they are sent (never held), until the client leaves."""
        self.send_response(200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        piece = b"<!-- padding -->" * 4096
        try:
            for _ in range(total // len(piece)):
                self.wfile.write(piece)
        except OSError:
            pass

    def _drip(self, data: bytes) -> None:
        started = time.monotonic()
        for i in range(len(data)):
            if time.monotonic() - started > DRIP_MAX_SECONDS:
                return
            try:
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
            except OSError:
                return
            time.sleep(DRIP_INTERVAL)

    def _hostile(self, path: str):
        if path == "/hostile/lol.rss":
            return self._send(200, LOL, {"Content-Type": "application/rss+xml"})
        if path == "/hostile/xxe.rss":
            return self._send(200, XXE, {"Content-Type": "application/rss+xml"})
        if path == "/hostile/xxe-param.rss":
            return self._send(200, XXE_PARAM, {"Content-Type": "application/rss+xml"})
        if path == "/hostile/external-dtd.rss":
            return self._send(200, EXTERNAL_DTD, {"Content-Type": "application/rss+xml"})
        if path == "/hostile/huge":
            return self._stream(HUGE_BYTES, {"Content-Type": "application/rss+xml"})
        if path == "/hostile/huge-declared":
            return self._stream(HUGE_BYTES, {"Content-Type": "application/rss+xml", "Content-Length": str(HUGE_BYTES)})
        if path == "/hostile/gzip-bomb":
            return self._send(200, GZIP_BOMB, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})
        if path == "/hostile/drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            return self._drip(FEED * 10)
        if path == "/hostile/drip-headers":
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n" + b"X-Pad: " + b"a" * 2000 + b"\r\n\r\n"
            return self._drip(head + FEED)
        if path == "/hostile/loop-a":
            return self._send(302, headers={"Location": "/hostile/loop-b"})
        if path == "/hostile/loop-b":
            return self._send(302, headers={"Location": "/hostile/loop-a"})
        if path == "/hostile/to-file":
            return self._send(302, headers={"Location": "file:///etc/passwd"})
        if path == "/hostile/br":
            return self._send(200, b"\x8b\x02\x80not really brotli", {"Content-Type": "application/rss+xml", "Content-Encoding": "br"})
        if path == "/hostile/bad-utf8.rss":
            return self._send(200, BAD_UTF8, {"Content-Type": "application/rss+xml; charset=utf-8"})
        if path == "/hostile/script.rss":
            return self._send(200, SCRIPTED, {"Content-Type": "application/rss+xml"})
        return self._send(404)

    def _article(self, path: str):
        if path == "/article/border.html":
            return self._send(200, ARTICLE_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        if path == "/article/empty.html":
            return self._send(200, EMPTY_PAGE, {"Content-Type": "text/html"})
        if path == "/article/image.png":
            return self._send(200, b"\x89PNG\r\n\x1a\n" + bytes(64), {"Content-Type": "image/png"})
        if path == "/article/huge.html":
            return self._stream(10 * 1024 * 1024, {"Content-Type": "text/html"})
        if path == "/article/slow.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            return self._drip(ARTICLE_PAGE)
        return self._send(404, b"not found")

    def _stubs_feed(self) -> bytes:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        items = "".join(
            f"<item><title>{title}</title><link>{base}{path}</link><guid>stub-{i}</guid>"
            f"<description>{summary}</description></item>"
            for i, (title, path, summary) in enumerate([
                ("Joint border office opens at Taftan", "/article/border.html", "Officials opened an office."),
                ("Nothing to read here", "/article/empty.html", "A stub."),
                ("A picture", "/article/image.png", "A stub."),
            ])
        )
        return _rss(items, "Stub feed")

    def do_GET(self):
        self.server.hits[self.path] += 1
        self.server.user_agents.append(self.headers.get("User-Agent", ""))
        self.server.host_headers.append(self.headers.get("Host", ""))
        path = self.path
        if path.startswith("/hostile/"):
            return self._hostile(path)
        if path.startswith("/article/"):
            return self._article(path)
        if path == "/stubs.rss":
            return self._send(200, self._stubs_feed(), {"Content-Type": "application/rss+xml"})
        if path == "/feed.rss":
            if self.headers.get("If-None-Match") == ETAG or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                return self._send(304, headers={"ETag": ETAG})
            return self._send(200, FEED, {"Content-Type": "application/rss+xml", "ETag": ETAG, "Last-Modified": LAST_MODIFIED})
        if path == "/cp1251.rss":
            return self._send(200, CP1251, {"Content-Type": "application/rss+xml; charset=windows-1251"})
        if path.startswith("/news/relative.rss"):
            return self._send(200, _relative_links("edited=1" in path), {"Content-Type": "application/rss+xml"})
        if path in CUT_SHORT:
            if self.headers.get("If-None-Match") == CUT_ETAG:
                return self._send(304, headers={"ETag": CUT_ETAG})
            if path == "/cut/once.rss" and self.server.hits[path] > 1:
                return self._send(200, FEED, {"Content-Type": "application/rss+xml", "ETag": CUT_ETAG})
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", CUT_ETAG)
            self.end_headers()  # no Content-Length: the end of the connection looks like the end of the body
            self.wfile.write(CUT_SHORT[path])
            return
        if path == "/deflate.rss":
            return self._send(200, zlib.compress(FEED), {"Content-Type": "application/rss+xml", "Content-Encoding": "deflate"})
        if path == "/raw-deflate.rss":
            raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            return self._send(200, raw.compress(FEED) + raw.flush(), {"Content-Type": "application/rss+xml", "Content-Encoding": "deflate"})
        if path == "/gzip-members.rss":  # two gzip members, as `cat a.gz b.gz` makes
            half = len(FEED) // 2
            body = gzip.compress(FEED[:half]) + gzip.compress(FEED[half:])
            return self._send(200, body, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})
        if path == "/corrupt-gzip.rss":
            return self._send(200, gzip.compress(FEED)[:40] + b"\x00garbage" * 8, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})
        if path == "/gzip.rss":
            return self._send(200, gzip.compress(FEED), {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})
        if path == "/html":
            return self._send(200, b"<html><body><h1>Service unavailable</h1></body></html>", {"Content-Type": "text/html"})
        if path == "/404":
            return self._send(404, b"not found")
        if path == "/500":
            return self._send(500, b"boom")
        if path == "/429":
            return self._send(429, b"slow down", {"Retry-After": "7200"})
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
        if path.startswith("/goto?to="):  # a redirect to any URL the test names
            return self._send(302, headers={"Location": unquote(path[len("/goto?to="):])})
        return self._send(404)


class FeedServer:
    def __init__(self, slow_seconds: float = 3.0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.hits = Counter()
        self.httpd.user_agents = []
        self.httpd.host_headers = []
        self.httpd.slow_seconds = slow_seconds
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def hits(self) -> Counter:
        return self.httpd.hits

    @property
    def user_agents(self) -> list[str]:
        return self.httpd.user_agents

    @property
    def host_headers(self) -> list[str]:
        return self.httpd.host_headers

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self) -> "FeedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
