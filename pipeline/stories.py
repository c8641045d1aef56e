"""Stories: near-duplicate and syndicated articles (wire copies, light rewrites across outlets) grouped
into one story, within a time window.

Pure grouping first (`assign_stories`), writing second (`update_stories` asks the store for what is new and
what is recent, and saves the result).

How two articles are matched (recipe `minhash-title-lead.v2`; v1 lacked the same-text rule):
- the title, lower-cased, split into words, a trailing " - Publisher" removed; and the *lead*: the title
  plus the first `LEAD_WORDS` words of the text (or the summary when there is no text). Reading only the
  lead lets a full article and a wire copy that was cut short still match;
- title signature: words and word pairs of the title (needs `MIN_TITLE_WORDS` words, of which
  `MIN_TITLE_CONTENT_WORDS` not in `STOPWORDS`, so that "News Round-Up", "Jan 3, 2026" or "Out with the
  old, in with the new" match nothing); lead signature: word 3-shingles of the lead (needs `MIN_LEAD_SHINGLES`);
- MinHash LSH (datasketch) proposes candidates for each; a candidate is kept when its estimated Jaccard
  similarity passes the threshold (`TITLE_THRESHOLD`, `LEAD_THRESHOLD`), or when both have the same
  canonical link, or the same text (not summary): an outlet that edits a headline ("... as hunt for crew
  continues" / "... while hunt ...") republishes the same article, and the series rule below must not split
  it. From `LONG_BODY_CHARS` characters the text alone decides; from `MIN_BODY_CHARS` the titles must also
  share `SAME_TEXT_TITLE_OVERLAP` of their words, as a summit page's standing intro under each speaker's
  headline, or a consent page fetched as the text, is not one story;
- a match is dropped when the two titles look like items of a series rather than one story
  (`series_difference`): one word swapped for another ("Kurs HUF/PLN ..." / "Kurs DKK/PLN ...", "Eagles
  Playoff Schedule" / "Bills Playoff Schedule"), or numbers that differ on both sides ("... Friday, Jan. 2,
  #936" / "... Saturday, Jan. 3, #937"). When only numbers differ, a lead similarity of `SAME_LEAD` or more
  keeps the match: a death toll updated from 59 to 67 in an otherwise unchanged article is one story;
- a match on the lead alone between two articles of the same outlet needs their titles to share at least
  `SAME_OUTLET_TITLE_OVERLAP` of the shorter one's words: an outlet's boilerplate summary ("Read the full
  story on our site...") is not a story;
- articles are taken oldest first; each joins the story of its most similar earlier article, provided
  that story began no more than `window` before it (so a story spans at most the window, and daily
  boilerplate does not chain into one months-long story). Otherwise it starts a story of its own.
Every article gets a story id; a story of one article is an article nobody else copied.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from datasketch import LeanMinHash, MinHash, MinHashLSH

from .records import Article

RECIPE = "minhash-title-lead.v2"  # v2: the same long body is the same story
WINDOW = timedelta(days=3)
NUM_PERM = 64
SCHEME = "affine32"  # datasketch 2 default, named so that stored sketches never mix schemes
LEAD_WORDS = 60
MIN_TITLE_WORDS = 6
MIN_LEAD_SHINGLES = 12
TITLE_THRESHOLD = 0.6
LEAD_THRESHOLD = 0.5
SAME_LEAD = 0.8
MIN_TITLE_CONTENT_WORDS = 4
STOPWORDS = frozenset(
    "the and with for from that this are was were has have had will its his her our you your new old out who what "
    "how why all not but can more after over into about says said just now here there their they them than then "
    "one two get got".split()
)
SAME_OUTLET_TITLE_OVERLAP = 0.4
# The same text, word for word, is one article however its headline was edited: from LONG_BODY_CHARS on whatever
# the titles say (a whole article rewritten under a new headline), from MIN_BODY_CHARS when the titles share
# SAME_TEXT_TITLE_OVERLAP of the shorter one's words. Shorter shared texts are an event page's standing intro
# (a summit's, under each speaker's headline) or a consent page fetched as the text: not one story.
MIN_BODY_CHARS = 300
LONG_BODY_CHARS = 1000
SAME_TEXT_TITLE_OVERLAP = 0.5
WORD = re.compile(r"\w+", re.UNICODE)
PUBLISHER_SUFFIX = re.compile(r"\s+[-–—|]\s+[^-–—|]{2,40}$")


@dataclass(frozen=True)
class _Signature:
    title: LeanMinHash | None
    lead: LeanMinHash | None
    link: str
    words: tuple[str, ...] = ()
    outlet: str = ""
    body: str = ""  # a digest of the text's words when it is at least MIN_BODY_CHARS long, else ""
    long_body: bool = False  # the text is at least LONG_BODY_CHARS long


def story_id_for(article_id: str) -> str:
    """The id of a story founded by this article: stable, so re-running gives the same ids."""
    return "story-" + hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:16]


def title_words(title: str) -> list[str]:
    return WORD.findall(PUBLISHER_SUFFIX.sub("", title or "").lower())


def lead_words(article: Article, limit: int = LEAD_WORDS) -> list[str]:
    body = article.text or article.summary or ""
    return title_words(article.title) + WORD.findall(body[: limit * 12].lower())[:limit]


def _hashes(shingles: Iterable[str]) -> list[int]:
    return [zlib.crc32(s.encode("utf-8")) for s in shingles]


@cache
def _permutations():
    """datasketch's random permutations for (NUM_PERM, seed 1), made once: making them is most of the cost."""
    return MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME).permutations


def _minhash(shingles: set[str]) -> LeanMinHash:
    m = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int, permutations=_permutations(), scheme=SCHEME)
    m.update_batch(_hashes(sorted(shingles)))
    return LeanMinHash(m)


def signature(article: Article) -> _Signature:
    """The article's title and lead MinHashes (None when too short to say anything) and its link."""
    words = title_words(article.title)
    title = None
    content = [w for w in words if len(w) >= 3 and w not in STOPWORDS]
    if len(words) >= MIN_TITLE_WORDS and len(set(content)) >= MIN_TITLE_CONTENT_WORDS:
        title = _minhash(set(words) | {f"{a} {b}" for a, b in zip(words, words[1:])})
    lead_tokens = lead_words(article)
    shingles = {" ".join(lead_tokens[i : i + 3]) for i in range(len(lead_tokens) - 2)}
    lead = _minhash(shingles) if len(shingles) >= MIN_LEAD_SHINGLES else None
    text = article.text or ""  # not a summary: an outlet's boilerplate summary is not an article
    body = hashlib.sha1(" ".join(WORD.findall(text.lower())).encode("utf-8")).hexdigest() if len(text) >= MIN_BODY_CHARS else ""
    return _Signature(title, lead, article.link or "", tuple(words), article.outlet.strip().lower(), body,
                      len(text) >= LONG_BODY_CHARS)


def assign_stories(
    articles: Sequence[Article],
    existing: Sequence[tuple[Article, str]] = (),
    window: timedelta = WINDOW,
) -> dict[str, str]:
    """Story ids for `articles`: {article id: story id}. Pure: reads nothing, writes nothing.

    `existing` are articles that already have a story, as (article, story id) pairs: a new article that
    copies one of them joins that story. Articles without a date are matched on text alone.
    """
    lsh_title = MinHashLSH(threshold=TITLE_THRESHOLD, num_perm=NUM_PERM)
    lsh_lead = MinHashLSH(threshold=LEAD_THRESHOLD, num_perm=NUM_PERM)
    signatures: dict[str, _Signature] = {}
    published: dict[str, datetime | None] = {}
    story_of: dict[str, str] = {}
    story_start: dict[str, datetime | None] = {}
    by_link: dict[str, str] = {}
    by_body: dict[str, str] = {}

    def index(article: Article, sig: _Signature, story: str) -> None:
        key = article.id
        signatures[key], published[key], story_of[key] = sig, article.published, story
        if sig.title is not None:
            lsh_title.insert(key, sig.title, check_duplication=False)
        if sig.lead is not None:
            lsh_lead.insert(key, sig.lead, check_duplication=False)
        if sig.link:
            by_link.setdefault(sig.link, key)
        if sig.body:
            by_body.setdefault(sig.body, key)
        start = story_start.get(story, article.published)
        if article.published is not None and (start is None or article.published < start):
            start = article.published
        story_start[story] = start

    for article, story in existing:
        if article.id not in signatures:
            index(article, signature(article), story)

    assigned: dict[str, str] = {}
    unique = {a.id: a for a in articles if a.id not in signatures}
    for article in sorted(unique.values(), key=_time_order):
        sig = signature(article)
        best, best_score = None, 0.0
        for key, score in _candidates(sig, signatures, lsh_title, lsh_lead, by_link, by_body):
            if score > best_score and _within(article.published, published[key], story_start[story_of[key]], window):
                best, best_score = key, score
        story = story_of[best] if best is not None else story_id_for(article.id)
        index(article, sig, story)
        assigned[article.id] = story
    return assigned


def _time_order(article: Article) -> tuple:
    return (article.published is None, article.published or datetime.min, article.id)


def _candidates(sig, signatures, lsh_title, lsh_lead, by_link, by_body) -> Iterable[tuple[str, float]]:
    if sig.link and sig.link in by_link:
        yield by_link[sig.link], 2.0  # the same page, fetched twice under two ids
    if sig.body and sig.body in by_body:
        key = by_body[sig.body]
        if sig.long_body or _title_overlap(sig.words, signatures[key].words) >= SAME_TEXT_TITLE_OVERLAP:
            yield key, 2.0  # the same article, its headline edited
    if sig.title is not None:
        for key in lsh_title.query(sig.title):
            other = signatures[key]
            score = sig.title.jaccard(other.title)
            if score >= TITLE_THRESHOLD and not series_difference(sig.words, other.words):
                yield key, score
    if sig.lead is not None:
        for key in lsh_lead.query(sig.lead):
            other = signatures[key]
            score = sig.lead.jaccard(other.lead)
            if score < LEAD_THRESHOLD:
                continue
            if sig.outlet == other.outlet and _title_overlap(sig.words, other.words) < SAME_OUTLET_TITLE_OVERLAP:
                continue
            series = series_difference(sig.words, other.words)
            if series == "words" or (series == "numbers" and score < SAME_LEAD):
                continue
            yield key, score + 0.01  # a matching lead says more than a matching title


def _title_overlap(words: Sequence[str], other: Sequence[str]) -> float:
    mine, theirs = set(words), set(other)
    return len(mine & theirs) / min(len(mine), len(theirs)) if mine and theirs else 0.0


def series_difference(words: Sequence[str], other: Sequence[str]) -> str:
    """How two similar titles differ when they look like items of a series: 'numbers' when only numbers
    differ (each side has one the other lacks: a count updated, or issue #936 and #937), 'words' when they
    are the same length and one word is swapped (Eagles / Bills), '' otherwise."""
    mine, theirs = set(words) - set(other), set(other) - set(words)
    has_digit = lambda w: any(ch.isdigit() for ch in w)  # noqa: E731
    if any(map(has_digit, mine)) and any(map(has_digit, theirs)):
        return "numbers" if all(map(has_digit, mine | theirs)) else "words"
    if len(words) == len(other) and sum(a != b for a, b in zip(words, other)) == 1:
        return "words"
    return ""


def _within(when: datetime | None, other: datetime | None, story_began: datetime | None, window: timedelta) -> bool:
    if when is None or other is None:
        return True
    if abs(when - other) > window:
        return False
    return story_began is None or when - story_began <= window


def story_groups(assignment: Mapping[str, str]) -> dict[str, list[str]]:
    """{story id: [article ids]} from an assignment, for reports."""
    groups: dict[str, list[str]] = {}
    for article_id, story in assignment.items():
        groups.setdefault(story, []).append(article_id)
    return groups


def update_stories(store, window: timedelta = WINDOW) -> dict:
    """Give every stored article without a story one: new articles are matched against each other and
    against stored articles published within `window` of them. Returns counts."""
    new = store.articles_without_story()
    if not new:
        return {"articles": 0, "joined_existing": 0, "stories_new": 0}
    dated = [a.published for a in new if a.published is not None]
    since = (min(dated) - window) if dated else None
    until = (max(dated) + window) if dated else None
    existing = store.story_members(since, until)
    assignment = assign_stories(new, existing, window)
    store.save_story_ids(assignment)
    known = {story for _, story in existing}
    return {
        "articles": len(assignment),
        "joined_existing": sum(story in known for story in assignment.values()),
        "stories_new": len(set(assignment.values()) - known),
    }

