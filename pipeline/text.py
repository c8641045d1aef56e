"""Feed text made plain: HTML removed (scripts, styles and frames with their content, markup escaped twice
too), control characters dropped, mojibake repaired, whitespace folded; and feed dates made UTC."""

from __future__ import annotations

import calendar
import html
import re
from datetime import datetime, timedelta, timezone

import ftfy
import lxml.html
from lxml import etree

# UTF-8 read as Latin-1/cp1252 leaves a lead byte (Ã, Â, â, Ø...) before a continuation
# character (cp1252 shows bytes 0x80-0x9f as €, ‚, –, — ...: "Ã–" is a broken Ö); only text with such a pair is
# handed to ftfy, which is slow on long text.
MOJIBAKE_HINT = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u2013\u2014\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u20ac\u2122]")
# C0 controls other than tab/newline/CR, DEL, and lone surrogates: never useful in text, break some stores.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Unicode embedding, override and isolate controls (LRE..RLO, LRI..PDI): one in a title reverses what follows it
# on the line, the report's own outlet and date included. Kept in the store, dropped from what is shown.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Markup escaped twice (`&amp;lt;script&amp;gt;`) reads as `&lt;script&gt;` after one parse.
ESCAPED_TAG = re.compile(r"&lt;\s*/?\s*[a-zA-Z!]")
# Any other entity left after the feed's own parse was escaped twice by its publisher (`&amp;#038;`, `&amp;quot;`):
# 74 fields of 8 real feeds kept "Sutton &#038; Nicholson".
LEFT_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
# A tag cut off by a source that truncated its summary: `... <img src="https://..." srcset="a 250w, …`
CUT_TAG = re.compile(r"""<([a-zA-Z][\w:-]*)(?:\s+[\w:-]+(?:\s*=\s*(?:"[^"]*"?|'[^']*'?|[^\s"'<>]*))?)*[\s\u2026.]*$""")
HTML_TAG_NAMES = {"a", "img", "p", "div", "span", "br", "iframe", "script", "style", "figure", "video", "source", "picture"}
BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "section", "article")
DROPPED_ELEMENTS = "//script|//style|//noscript|//template|//iframe|//object|//embed"


FIELD_CHARS = {"title": 1_000, "summary": 20_000, "text": 500_000}  # beyond any real article; a hostile feed's are cut


def bounded(value: str, field: str) -> str:
    """`value` cut to the field's `FIELD_CHARS` at a word boundary, with '…' where it was cut (unchanged when shorter):
    a feed entry with a 320,000-character title was stored, parsed and encoded whole."""
    limit = FIELD_CHARS[field]
    if len(value) <= limit:
        return value
    cut = value[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2:] else cut) + "…"


def clean_text(value: str) -> str:
    """Plain text from a feed field: HTML removed (scripts, styles and frames with their content),
    markup and entities escaped twice decoded too, control characters dropped, mojibake repaired, whitespace folded."""
    if not value:
        return ""
    value = _strip_markup(value)
    if ESCAPED_TAG.search(value):  # after the parse: before it, `&lt;script&gt;` in real HTML is the text "<script>"
        value = _strip_markup(html.unescape(value))
    else:
        value = LEFT_ENTITY.sub(lambda entity: html.unescape(entity.group(0)), value)
    value = CONTROL_CHARS.sub("", value)
    if MOJIBAKE_HINT.search(value):
        value = ftfy.fix_text(value)
    value = re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\n\s*\n+", "\n\n", value))
    return re.sub(r" ?\n ?", "\n", value).strip()


def shown(value: str) -> str:
    """Article text as a page or a note shows it: without bidi controls, so that it cannot reorder the text
    around it (the stored and classified text keeps them; `clean_text` is not the place, it feeds training)."""
    return BIDI_CONTROLS.sub("", value)


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


# A date this far past the clock is a publisher's mistake, not news from the future (time zones explain less).
FUTURE_TOLERANCE = timedelta(days=1)
# Before any web feed: a CMS's zero date (1970-01-01, 0001-01-01) for one it never set. Left in, one such article
# became the store's first day, and `trend` printed every day since 1970. The shared archives start in 2015.
EARLIEST_DATE = datetime(1995, 1, 1)


def placeholder_date(value: datetime | None) -> bool:
    """True when a UTC naive `value` lies before `EARLIEST_DATE`: a placeholder, not a publication date."""
    return value is not None and value < EARLIEST_DATE


def future_date(value: datetime | None, now: datetime | None = None) -> bool:
    """True when a UTC naive `value` lies more than `FUTURE_TOLERANCE` after `now` (default: the clock, UTC).
    Left in, one such article would become every command's "newest data" and move every default range."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    return value is not None and value > now + FUTURE_TOLERANCE
