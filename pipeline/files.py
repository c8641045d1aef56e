"""Local sources become `FeedOutcome`s: JSONL backfills in the shared schema (id, source, outlet, title,
summary, text, published, link), feed files, and the folders that hold them. A bad JSONL line fails its
file, naming the line, while the good lines are still read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError
from .feeds import parse_feed_bytes
from .identity import article_id, canonical_url
from .records import LABELS, Article, FeedOutcome
from .text import bounded, clean_text, future_date, parse_datetime, placeholder_date

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}


def read_jsonl(path: Path, strict: bool = False) -> FeedOutcome:
    """Articles from a JSONL file in the shared schema. Bad lines fail the file, naming the first bad line;
    the good lines are still returned so that nothing valid is lost. `strict` raises InputError instead."""
    articles, first_error, bad, number = [], "", 0, 0
    with Path(path).open(encoding="utf-8-sig", errors="strict") as handle:  # a BOM (Notepad, Excel) is not JSON
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


def written_articles(path: Path) -> tuple[list[Article], list[str]]:
    """Written articles (`{id, label, title, text, ...}` a line: a pack's probe suite, the written examples of
    bench/data) and their labels, in file order; none if there is no file. A malformed line, a label not in
    LABELS or an id used twice raises InputError naming the line: `signals train` and `signals scenario check`
    both read the suite here.
    Labels are matched to articles by position (read_jsonl stops at any bad line, so the two lists are the file's
    non-blank lines): matched by id, a line without one had stopped on a KeyError."""
    path = Path(path)
    if not path.exists():
        return [], []
    articles = read_jsonl(path, strict=True).articles  # a malformed line stops here, naming it
    labels, first_line = [], {}
    with path.open(encoding="utf-8-sig") as handle:  # lines as read_jsonl numbers them, BOM dropped
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            label = json.loads(line).get("label")
            if label not in LABELS:
                raise InputError(path, number, f"label {label!r} is not one of {', '.join(LABELS)}")
            article_id = articles[len(labels)].id  # a repeat made the probe results (by id) count one article twice
            if article_id in first_line:
                raise InputError(path, number, f"id {article_id!r} is already on line {first_line[article_id]}")
            first_line[article_id] = number
            labels.append(label)
    return articles, labels


def article_from_record(record: dict) -> Article:
    """An Article from a dict in the shared schema; the id is kept if given, else derived."""
    if not isinstance(record, dict):
        raise InputError("", None, "expected a JSON object")
    if not any(record.get(k) for k in ("title", "summary", "text")):
        raise InputError("", None, "record has no title, summary or text")
    link = str(record.get("link") or "")
    title = bounded(clean_text(str(record.get("title") or "")), "title")
    summary = bounded(clean_text(str(record.get("summary") or "")), "summary")
    published = record.get("published")
    parsed = parse_datetime(published)
    if published and parsed is None:
        raise InputError("", None, f"unreadable date {published!r} in 'published'")
    if future_date(parsed):
        raise InputError("", None, f"date {published!r} in 'published' is more than a day in the future")
    if placeholder_date(parsed):  # a CMS's zero date: undated, as a feed entry's (refused, it stopped a whole predict)
        parsed = None
    return Article(
        id=str(record.get("id") or article_id("", link, title, summary)),
        source=str(record.get("source") or "jsonl"),
        outlet=str(record.get("outlet") or ""),
        title=title,
        summary=summary,
        text=bounded(clean_text(str(record.get("text") or "")), "text"),
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
