"""Article identity: the canonical form of a URL (tracking parameters, fragment and case dropped) and the
stable article id derived from a guid, a link or the content, so that the same article read twice, from a
feed or a file, is stored once."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|mc_cid|mc_eid|ocid|cmpid|ref|ref_src|smid|partner|ito|at_\w+|_ga|igshid)$", re.I)


# A URL's scheme, read without urllib: `urlsplit` raises on a broken IPv6 literal, and a run had crashed on one.
SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*):")


def url_scheme(source: str) -> str:
    """The scheme `source` is written with, lower case ('' for none: a relative link, a local path)."""
    match = SCHEME.match(str(source))
    return match.group(1).lower() if match else ""


def is_url(source: str) -> bool:
    """True for a source written as an http(s) URL, well-formed or not (a malformed one then fails as a feed,
    named as given: `http.url_problem`); anything else is a local path."""
    return url_scheme(source) in ("http", "https")


def url_host(parts) -> str:
    """A split URL's host in lower case, an IPv6 literal in its brackets (without them, `http://2001:db8::1/a` is
    no URL a request can follow)."""
    host = (parts.hostname or "").lower()
    return f"[{host}]" if ":" in host else host


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no tracking parameters, sorted query. A URL urllib cannot split
    (a broken IPv6 literal, a port out of range) is kept as written."""
    url = (url or "").strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https"):
        return url
    host = url_host(parts)
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k))
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), host, path, urlencode(query), ""))


def article_id(guid: str, link: str, title: str, summary: str) -> str:
    """Stable id: from the guid, else the canonical link, else a hash of the content. An `&amp;` left in the guid
    or link counts as `&`: feedparser's loose parser, which reads a feed that is not well-formed (one stray `&` in a
    headline), leaves it undecoded, and the whole feed would otherwise be stored a second time under new ids."""
    guid, link = (guid or "").replace("&amp;", "&"), (link or "").replace("&amp;", "&")
    if guid.strip():
        key = "guid:" + guid.strip()
    elif link.strip():
        key = "url:" + canonical_url(link)
    else:
        key = "content:" + " ".join((title + " " + summary).split()).lower()
    return hashlib.sha1(key.encode("utf-8")).hexdigest()
