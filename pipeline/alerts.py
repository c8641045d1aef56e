"""Watchlist alerts: the scenario pack's indicators checked against the stored articles.

An indicator fires on a day when at least `threshold` stories match it for the
first time that day, with a predicted label among the indicator's `cases` (the
classifier's judgment that the article is about the scenario at all). A story
counts once, on the day of its first such match: a copy matching again on a
later day neither fires the indicator again nor counts twice in a week, and
what fired on a past day never changes as later news arrives. An
article matches when, in one sentence of its title, summary or text (each
searched on its own), one of the indicator's patterns matches AND every group
of its required `actors` is named (e.g. the State Department *and* Pakistan):
an in-passing mention in a sentence about something else does not count.
Syndicated copies share a story (pipeline/stories.py) and count once. Each
firing keeps its evidence, one per story: the first article's id and title,
how many copies, and the matched passage (at most 200 characters, cut at word
boundaries).

Each indicator gets a status as of a day (default: the last day with ingested
articles); firings after that day are not seen:

    fired                            it fired on some day up to as_of (inside its window, if it has one)
    not fired                        no deadline, and it has not fired yet
    pending                          it has a window (start + deadline_days), has not fired in it,
                                     and the deadline is today or later
    deadline passed without firing   the deadline is behind as_of and it never fired inside the window
    unknown: not enough data         the deadline is behind as_of, it never fired, and the store cannot
                                     see the window: its newest classified article is older than the
                                     deadline, or fewer than DEADLINE_COVERAGE of the window's days have
                                     any classified article. Days the store cannot see are missing, not
                                     quiet, so nothing is concluded; the note says which

The window runs from `start` to `start + deadline_days`, both days included.
An indicator with `start` but no deadline only counts firings from `start` on.

`evaluate(indicators, articles, as_of)` is pure; `check_alerts(store, scenario, as_of)`
reads the store; `signals alerts` (pipeline/cli/read.py) prints them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import pandas as pd

from .records import is_zero_shot
from .scenario import Indicator, Scenario
from .signals import article_predictions, current_model_version
from .store import Store

SNIPPET_CHARS = 200
FIRED, NOT_FIRED, PENDING, PASSED = "fired", "not fired", "pending", "deadline passed without firing"
UNKNOWN = "unknown: not enough data"
# The share of a deadline window's days that must have classified articles before "passed without firing" is said.
# A feed down for a day or two leaves the verdict standing (its note counts the days without data); a store that
# saw a week of a month-long window says nothing about the other three.
DEADLINE_COVERAGE = 0.75
FIELDS = ("title", "summary", "text")


@dataclass(frozen=True)
class Evidence:
    """One story behind a firing: its first matching article, where the match is and the passage around it."""

    article_id: str
    title: str
    outlet: str
    label: str
    field: str
    snippet: str
    story: str = ""
    copies: int = 0  # other matching articles of the same story that day


@dataclass(frozen=True)
class Firing:
    """An indicator firing on one day, with the stories (and their articles) that made it fire."""

    indicator: str
    name: str
    day: date
    articles: int
    evidence: tuple[Evidence, ...]
    stories: int = 0
    outside: str = ""  # why the firing does not count, when it lies outside the indicator's window ("" inside)


@dataclass(frozen=True)
class IndicatorStatus:
    """Where one indicator stands as of a day."""

    indicator: str
    name: str
    cases: tuple[str, ...]
    threshold: int
    status: str
    first_fired: date | None = None
    last_fired: date | None = None
    days_fired: int = 0
    matched: int = 0
    window_start: date | None = None
    deadline: date | None = None
    days_left: int | None = None
    meaning: str = ""
    note: str = ""


@dataclass(frozen=True)
class AlertReport:
    scenario: str
    as_of: date | None
    statuses: tuple[IndicatorStatus, ...]
    firings: tuple[Firing, ...] = ()
    data_until: date | None = None  # the newest classified article's day, on or before as_of
    model_version: str | None = None  # whose labels the firings rest on: a zero-shot recipe's are not calibrated

    def to_dict(self) -> dict:
        """JSON-ready: dates as YYYY-MM-DD, and `zero_shot` (the labels are the zero-shot recipe's), as in odds' JSON."""
        def clean(value):
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            return value

        return clean(asdict(self)) | {"zero_shot": is_zero_shot(self.model_version)}


# ---------------------------------------------------------------- pure computation


def snippet(text: str, start: int, end: int, limit: int = SNIPPET_CHARS) -> str:
    """The passage around text[start:end], whitespace collapsed, cut at word boundaries ('…' where cut),
    at most `limit` characters."""
    lead = min(60, max(0, (limit - (end - start)) // 2))
    lo = max(0, start - lead)
    hi = min(len(text), lo + limit)
    lo = max(0, min(lo, hi - limit))
    if lo > 0 and not text[lo - 1].isspace():  # move past the partial word
        space = text.find(" ", lo, start) if lo < start else -1
        lo = space + 1 if space >= 0 else lo
    if hi < len(text) and not text[hi].isspace():
        space = text.rfind(" ", max(end, lo), hi)
        hi = space if space > lo else hi
    piece = re.sub(r"\s+", " ", text[lo:hi]).strip()
    before, after = ("…" if lo > 0 else ""), ("…" if hi < len(text) else "")
    room = limit - len(before) - len(after)
    if len(piece) > room:
        cut = piece[: room - (0 if after else 1)]
        piece = cut[: cut.rfind(" ")] if " " in cut else cut
        piece, after = piece.rstrip(), "…"
    return before + piece + after


SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(]*[A-Z0-9])|\n\s*\n?")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of text: split after . ! ? before a capital or digit, and at line breaks."""
    spans, start = [], 0
    for brk in SENTENCE_BREAK.finditer(text):
        if brk.start() > start:
            spans.append((start, brk.start()))
        start = brk.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def match_in(indicator: Indicator, text: str) -> tuple[int, int] | None:
    """(start, end) of the first pattern match inside a sentence that also names every required actor group."""
    for lo, hi in sentence_spans(text):
        sentence = text[lo:hi]
        if not all(group.search(sentence) for group in getattr(indicator, "requires", ())):
            continue
        for pattern in indicator.patterns:
            found = pattern.search(sentence)
            if found:
                return lo + found.start(), lo + found.end()
    return None


def find_match(indicator: Indicator, fields: dict[str, str]) -> tuple[str, str] | None:
    """(field, snippet) of the first match (see `match_in`) in title, summary or text, or None."""
    for name in FIELDS:
        text = fields.get(name) or ""
        if not text:
            continue
        found = match_in(indicator, text)
        if found:
            return name, snippet(text, *found)
    return None


def indicator_window(indicator: Indicator) -> tuple[date | None, date | None]:
    """(start, deadline) of the indicator's window; deadline is None without deadline_days."""
    if indicator.start is None:
        return None, None
    if indicator.deadline_days is None:
        return indicator.start, None
    return indicator.start, indicator.start + timedelta(days=int(indicator.deadline_days))


def firings_for(indicator: Indicator, articles: pd.DataFrame) -> tuple[list[Firing], int]:
    """Pure: the days an indicator fired on, and how many articles matched it at all.

    A day fires when at least `threshold` distinct stories (the `story` column; an article without
    one is its own story) match for the first time that day, with a label among the indicator's cases. A
    story's later matching copies are left out: it counts once, on its first day. Each firing says when it
    lies outside the indicator's window (`Firing.outside`)."""
    by_story: dict[str, list[tuple[date, Evidence]]] = {}
    matched = 0
    for row in articles.itertuples(index=False):
        hit = find_match(indicator, {"title": row.title, "summary": row.summary, "text": row.text})
        if hit is None:
            continue
        matched += 1
        if row.label not in indicator.cases:
            continue
        story = getattr(row, "story", None) or row.id
        by_story.setdefault(story, []).append(
            (pd.Timestamp(row.day).date(), Evidence(row.id, row.title, row.outlet, row.label, hit[0], hit[1], story)))
    per_day: dict[date, list[list[Evidence]]] = {}
    for matches in by_story.values():
        first = min(day for day, _ in matches)
        per_day.setdefault(first, []).append([ev for day, ev in matches if day == first])
    start, deadline = indicator_window(indicator)
    firings = []
    for day, stories in sorted(per_day.items()):
        if len(stories) < indicator.threshold:
            continue
        evidence = tuple(dataclasses.replace(group[0], copies=len(group) - 1) for group in stories)
        outside = (f"before its window opens on {start.isoformat()}" if start is not None and day < start else
                   f"after its deadline {deadline.isoformat()}" if deadline is not None and day > deadline else "")
        firings.append(Firing(indicator.id, indicator.name, day, sum(len(g) for g in stories), evidence, len(stories),
                              outside))
    return firings, matched


def status_for(indicator: Indicator, firings: list[Firing], matched: int, as_of: date | None,
               data_until: date | None = None, data_days: frozenset[date] | None = None) -> IndicatorStatus:
    """Pure: the indicator's status as of a day, from its firings (all on or before as_of). `data_until`, the
    newest day with classified articles, keeps a deadline the data does not reach from passing "without firing";
    `data_days`, the days with classified articles (None: every day up to data_until), keeps a window the data
    mostly misses from passing either (`DEADLINE_COVERAGE`)."""
    start, deadline = indicator_window(indicator)
    counted = [f for f in firings if not f.outside]
    late = [f for f in firings if deadline is not None and f.day > deadline]
    note = ""
    if counted:
        status = FIRED
    elif deadline is None:
        status = NOT_FIRED
    elif as_of is not None and as_of > deadline and (data_until is None or data_until < deadline):
        status = UNKNOWN
        note = f"the newest data is from {data_until.isoformat()}" if data_until else "no classified articles"
    elif as_of is not None and as_of > deadline:
        window = (deadline - start).days + 1
        blind = 0 if data_days is None else sum(start + timedelta(days=n) not in data_days for n in range(window))
        seen = f"{window - blind} of the window's {window} days have classified articles"
        if window - blind < DEADLINE_COVERAGE * window:
            status, note = UNKNOWN, f"only {seen}"
        else:
            status = PASSED
            notes = [f"{seen}; {blind} {'is' if blind == 1 else 'are'} missing"] if blind else []
            if late:
                notes.append(f"fired after the deadline, first on {late[0].day.isoformat()}")
            note = "; ".join(notes)
    else:
        status = PENDING
        if as_of is not None and start is not None and as_of < start:
            note = f"the window opens on {start.isoformat()}"
        elif as_of is not None and data_until is not None and data_until < as_of:
            note = f"no data after {data_until.isoformat()}"
    days_left = (deadline - as_of).days if deadline is not None and as_of is not None and status == PENDING else None
    return IndicatorStatus(
        indicator=indicator.id,
        name=indicator.name,
        cases=tuple(indicator.cases),
        threshold=indicator.threshold,
        status=status,
        first_fired=counted[0].day if counted else None,
        last_fired=counted[-1].day if counted else None,
        days_fired=len(counted),
        matched=matched,
        window_start=start,
        deadline=deadline,
        days_left=days_left,
        meaning=indicator.meaning,
        note=note,
    )


def evaluate(scenario: Scenario, articles: pd.DataFrame, as_of: date | None,
             model_version: str | None = None) -> AlertReport:
    """Pure: every indicator of the pack against an `article_predictions(..., text=True)` frame (the predictions of
    `model_version`, which the report names).

    Articles after `as_of` are ignored. Firings come newest first.
    """
    if as_of is not None and not articles.empty:
        articles = articles[articles["day"] <= pd.Timestamp(as_of)]
    data_until = None if articles.empty else pd.Timestamp(articles["day"].max()).date()
    data_days = frozenset(pd.to_datetime(articles["day"]).dt.date.unique())
    statuses, firings = [], []
    for indicator in scenario.indicators:
        fired, matched = firings_for(indicator, articles)
        statuses.append(status_for(indicator, fired, matched, as_of, data_until, data_days))
        firings.extend(fired)
    firings.sort(key=lambda f: (f.day, f.indicator), reverse=True)
    return AlertReport(scenario.id, as_of, tuple(statuses), tuple(firings), data_until, model_version)


# ---------------------------------------------------------------- store wrapper


def last_ingested_day(store: Store) -> date | None:
    """The publication day of the newest dated article in the store."""
    return store.last_published_day()


def check_alerts(store: Store, scenario: Scenario, as_of: date | None = None) -> AlertReport:
    """The pack's indicators against the stored articles and the current model's labels, as of a day
    (default: the last day with ingested articles)."""
    as_of = as_of or last_ingested_day(store)
    version = current_model_version(store, scenario)
    articles = article_predictions(store, scenario, None, as_of, model_version=version, text=True)
    return evaluate(scenario, articles, as_of, version)


# ---------------------------------------------------------------- command


def status_table(report: AlertReport) -> pd.DataFrame:
    """Pure: one row per indicator for the terminal."""
    rows = []
    for s in report.statuses:
        when = ""
        if s.status == FIRED:
            when = f"{s.first_fired} .. {s.last_fired} ({s.days_fired} days)" if s.days_fired > 1 else str(s.first_fired)
        elif s.status == PENDING:
            when = f"deadline {s.deadline} ({s.days_left} {'day' if s.days_left == 1 else 'days'} left)" + (f"; {s.note}" if s.note else "")
        elif s.status in (PASSED, UNKNOWN):
            when = f"deadline {s.deadline}" + (f"; {s.note}" if s.note else "")
        rows.append({"indicator": s.indicator, "status": s.status, "when": when, "cases": ",".join(s.cases),
                     "threshold": s.threshold, "matched": s.matched})
    return pd.DataFrame(rows)


def count_words(firing: Firing) -> str:
    """'1 story', '3 stories, 5 articles': what a firing rests on, in words."""
    stories = firing.stories or firing.articles
    text = f"{stories} {'story' if stories == 1 else 'stories'}"
    return text + (f", {firing.articles} articles" if firing.articles != stories else "")
