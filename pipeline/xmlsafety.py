"""Hostile XML is refused before it is parsed (`unsafe_xml_reason`): entity declarations, i.e. the
billion-laughs and external-entity (XXE) patterns. Feeds and OPML files are screened here."""

from __future__ import annotations

import re

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
