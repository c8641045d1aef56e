"""One self-contained HTML page for analysts: signals, odds, evidence, indicators.

`write_report(store, scenario, out_path, since, until, png_dir=None)` gathers
the data (`gather`), renders it (`render_html`, pure: data in, a string out)
and writes one HTML file with no outside references: the markup is the
Jinja2 template `templates/report.html.j2` and the charts (`pipeline.charts`,
matplotlib) are inline SVG, so the page needs no script and no network.
Without a range it covers the last 8 weeks up to the newest data.
The first screen answers the weekly question (`week_summary`, the same text
`signals brief` writes as Markdown):

    the odds with their 90% intervals and their change since a week before
    the three stories that moved them most in the week, with evidence and source
    indicators that fired or whose deadline passed in the week
    what the model cannot see (cases held at their prior, with their recall)

then, under a table of contents:

    daily signals: each day's probability mass for the three cases (`none` is
        left out of the bars and given as a count); days with no classified
        articles are marked "no data", not drawn as zero
    the odds over time with their intervals (see pipeline/odds.py), priors dashed
    the indicator timeline, statuses and firings (one row per story)
    the outlet mix
    the evidence of each day, one row per story (the stories that moved that
        day's odds most, with the classifier's evidence sentences)

The template escapes every value (autoescaping): article-derived text (titles,
outlets, sentences, snippets) stays text. Links are kept only when they are
http(s), and the page carries a Content-Security-Policy that forbids scripts,
so a hostile title stays text even if escaping failed.

With `png_dir`, the same three figures are also written as PNG files.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from .alerts import FIRED, PASSED, PENDING, UNKNOWN, AlertReport, count_words, evaluate, last_ingested_day
from .charts import COLORS, Chart, daily_figure, indicators_figure, odds_figure
from .errors import SignalsError
from .odds import (
    DEFAULT_DAILY_CAP, DEFAULT_HALF_LIFE, DEFAULT_STRENGTH, INTERVAL, MIN_RECALL, NOT_MEASURABLE, OddsModel, Visibility,
    compute_path, daily_movers, developments, shorten, visibility,
)
from .records import CASES, LABELS
from .scenario import Scenario
from .signals import article_predictions, build_outlet_breakdown, daily_frame, gate_note, model_note
from .store import Store
from .text import shown

EVIDENCE_PER_DAY = 3
PNG_NAMES = ("daily_signals.png", "odds.png", "indicators.png")
DEFAULT_WEEKS = 8
WEEK_MOVERS = 3


def _finalize(value):
    """Every text the template prints, before it is escaped: bidi controls dropped (`text.shown`), so a title
    cannot reverse the outlet and date printed after it. The charts' SVG (Markup) is drawn by us and left as is."""
    return shown(value) if isinstance(value, str) and not isinstance(value, Markup) else value


TEMPLATES = Environment(loader=PackageLoader("pipeline", "templates"), autoescape=True, keep_trailing_newline=True,
                        finalize=_finalize)


def safe_href(link: str) -> str:
    """The link when it is http(s); '' otherwise (no javascript: or data: URLs). The template escapes it."""
    link = (link or "").strip()
    return link if link.lower().startswith(("http://", "https://")) else ""


@dataclass(frozen=True)
class WeekMover:
    """One story that moved the odds in the week: its first article, how many copies, and the move."""

    day: date
    title: str
    outlet: str
    link: str
    article_id: str
    articles: int
    toward: str
    points: float
    sentence: str
    others: int = 0  # other stories of the same day that pushed the same way


@dataclass(frozen=True)
class WeekSummary:
    """The answer to the weekly question, for the top of the report and for `signals brief`."""

    scenario: str
    title: str
    week_start: date
    week_end: date
    odds: dict
    low: dict
    high: dict
    odds_week_before: dict
    priors: dict
    evidence: float
    movers: tuple
    fired: tuple  # (indicator name, first day it fired in the week, stories, first day it ever fired)
    expired: tuple  # (indicator name, deadline, status: passed or unknown, its note)
    blind: tuple  # one line per case the model cannot see
    no_data_days: int
    other_developments: int = 0  # the week's developments beyond the `movers` shown
    first_data: date | None = None  # the first day with classified articles (the week's change is from the priors before it)


@dataclass(frozen=True)
class ReportData:
    scenario: Scenario
    since: date | None
    until: date | None
    daily: pd.DataFrame
    odds: pd.DataFrame
    evidence: pd.DataFrame
    alerts: AlertReport
    model: OddsModel
    generated: datetime
    summary: WeekSummary | None = None
    outlets: pd.DataFrame | None = None
    seen: Visibility | None = None


def default_since(until: date | None, weeks: int = DEFAULT_WEEKS) -> date | None:
    """The first day of the default range: `weeks` weeks ending on `until` (both days included)."""
    return until - timedelta(days=7 * weeks - 1) if until is not None else None


def week_developments(history: pd.DataFrame, model: OddsModel, week_start: date, week_end: date,
                      n: int = WEEK_MOVERS) -> tuple[tuple, int]:
    """Pure: the week's `n` biggest developments (see `pipeline.odds.developments`) as WeekMovers, and how many
    more the week had."""
    if history.empty:
        return (), 0
    every = developments(history, model, week_end, week_start, None)
    movers = tuple(
        WeekMover(r.day.date(), r.title, r.outlet, r.link, r.id, int(r.articles), r.toward, float(r.contribution * 100),
                  (list(r.evidence) or [""])[0], int(r.others))
        for r in every.head(n).itertuples()
    )
    return movers, max(len(every) - n, 0)


def week_summary(
    scenario: Scenario, history: pd.DataFrame, alerts: AlertReport, model: OddsModel, week_end: date,
    seen: Visibility | None = None, daily: pd.DataFrame | None = None, n: int = WEEK_MOVERS, gate: str = "",
) -> WeekSummary:
    """Pure: the week of 7 days ending on `week_end`, from an `article_predictions(..., text=True)` frame. `gate`,
    `signals.gate_note`'s line when the pack's gate passed none of the articles it scored, opens what the model
    can't see: every call is then `none` by the gate alone, and a terminal's stderr is not where a reader of the
    report or the pasted brief looks."""
    week_start = week_end - timedelta(days=6)
    path = compute_path(history, model, week_start - timedelta(days=1), week_end)
    latest, before = path.iloc[-1], path.iloc[0]
    movers, others = week_developments(history, model, week_start, week_end, n)
    fired: dict[str, list] = {}
    for firing in alerts.firings:
        if week_start <= firing.day <= week_end and not firing.outside:  # the status's rule: inside the window
            entry = fired.setdefault(firing.name, [firing.day, 0])
            entry[0] = min(entry[0], firing.day)
            entry[1] += firing.stories or firing.articles
    first_ever = {s.name: s.first_fired for s in alerts.statuses if s.first_fired is not None}
    expired = tuple((s.name, s.deadline, s.status, s.note) for s in alerts.statuses
                    if s.status in (PASSED, UNKNOWN) and s.deadline is not None and week_start <= s.deadline <= week_end)
    blind = tuple(seen.describe(c) if seen else f"{c}: {NOT_MEASURABLE}" for c in model.blind_cases())
    if seen is not None:  # a measurable case can still miss plain news of a kind the labels hold little of
        signals = scenario.probe_signals()
        blind += tuple(line for c in CASES if c not in model.blind_cases() and (line := seen.plain_misses(c, signals)))
    if seen is not None and (note := model_note([seen.model_version], scenario.id, seen.active_version)):
        blind = (note,) + blind
    if gate:
        blind = (gate,) + blind
    no_data = 0
    if daily is not None and not daily.empty:
        days = daily.drop_duplicates("day")
        in_week = days[(days["day"] >= pd.Timestamp(week_start)) & (days["day"] <= pd.Timestamp(week_end))]
        no_data = int((~in_week["covered"]).sum())
    return WeekSummary(
        scenario=scenario.id, title=scenario.title or scenario.id, week_start=week_start, week_end=week_end,
        odds={c: float(latest[c]) for c in CASES}, low={c: float(latest[f"{c}_low"]) for c in CASES},
        high={c: float(latest[f"{c}_high"]) for c in CASES}, odds_week_before={c: float(before[c]) for c in CASES},
        priors=dict(model.priors), evidence=float(latest["evidence"]), movers=movers,
        fired=tuple((name, day, count, first_ever.get(name, day))
                    for name, (day, count) in sorted(fired.items(), key=lambda kv: kv[1][0])),
        expired=expired, blind=blind, no_data_days=no_data, other_developments=others,
        first_data=pd.Timestamp(history["day"].min()).date() if not history.empty else None,
    )


def gather(
    store: Store, scenario: Scenario, since: date | None = None, until: date | None = None,
    half_life: float = DEFAULT_HALF_LIFE, strength: float = DEFAULT_STRENGTH, evidence_per_day: int = EVIDENCE_PER_DAY,
    models_dir: Path | str | None = None, min_recall: float = MIN_RECALL, daily_cap: float = DEFAULT_DAILY_CAP,
) -> ReportData:
    """Read everything the report shows. Without until, up to the last day with ingested articles;
    without since, the 8 weeks up to until. With models_dir, the cases the model cannot see (per
    the registry) are held at their prior; without it every case counts as measurable."""
    until = until or last_ingested_day(store)
    if since and until and since > until:
        raise SignalsError(f"report: the first day {since} is after the last day {until} (the newest data); give an earlier --since")
    seen = visibility(store, scenario, models_dir, min_recall) if models_dir is not None else None
    model = OddsModel.for_scenario(scenario, half_life, strength, daily_cap, seen.measurable if seen else None)
    history = article_predictions(store, scenario, None, until, text=True)
    first_day = since or default_since(until)
    daily = daily_frame(store, scenario, first_day, until) if until else daily_frame(store, scenario)
    odds = compute_path(history, model, first_day, until) if until else compute_path(history, model)
    evidence = daily_movers(history, model, evidence_per_day)
    if first_day is not None and not evidence.empty:
        evidence = evidence[evidence["day"] >= pd.Timestamp(first_day)].reset_index(drop=True)
    alerts = evaluate(scenario, history, until)
    in_range = history[history["day"] >= pd.Timestamp(first_day)] if first_day is not None and not history.empty else history
    summary = week_summary(scenario, history, alerts, model, until, seen, daily, gate=gate_note(store, scenario)) if until else None
    return ReportData(scenario, first_day, until, daily, odds, evidence, alerts, model, datetime.now(timezone.utc).replace(microsecond=0),
                      summary, build_outlet_breakdown(in_range), seen)


# ---------------------------------------------------------------- page (pure)


def draw_charts(data: ReportData) -> dict[str, Chart]:
    """The three charts, each drawn once: inlined as SVG in the page and, with --png, saved as PNG."""
    return {
        "daily": daily_figure(data.daily),
        "odds": odds_figure(data.odds, data.model.priors),
        "indicators": indicators_figure(data.alerts, data.scenario, data.since, data.until),
    }


def odds_view(data: ReportData) -> dict:
    """Today's odds as one box per case (value, interval or 'not measurable yet', prior) and a caption."""
    if data.odds.empty:
        values, caption = data.model.priors, "no news yet: the priors"
        low = high = {c: float("nan") for c in CASES}
    else:
        latest = data.odds.iloc[-1]
        values = {c: float(latest[c]) for c in CASES}
        low = {c: float(latest[f"{c}_low"]) for c in CASES}
        high = {c: float(latest[f"{c}_high"]) for c in CASES}
        caption = f"as of {latest['day']:%Y-%m-%d}, on {latest['evidence']:.1f} stories' worth of news"
    boxes = []
    for c in CASES:
        blind = c not in data.model.measurable
        detail = NOT_MEASURABLE if blind else (f"{low[c]:.0%}–{high[c]:.0%}" if not np.isnan(low[c]) else "")
        boxes.append({"case": c, "blind": blind, "color": COLORS[c], "value": f"{values[c]:.0%}", "detail": detail,
                      "prior": f"{data.model.priors[c]:.0%}"})
    return {"boxes": boxes, "caption": caption}


def _change(now: float, before: float) -> str:
    """The change in points between the odds as shown (whole percents, `:.0%`), so the shown odds and the change
    add up: 38.6% after 52.9% reads 39%, -14 pts from 53% (rounding the unrounded difference said -13)."""
    points = int(f"{now:.0%}"[:-1]) - int(f"{before:.0%}"[:-1])
    return "no change" if points == 0 else f"{points:+d} {'pt' if abs(points) == 1 else 'pts'}"


def _days(n: float) -> str:
    return f"{n:g} {'day' if n == 1 else 'days'}"


def summary_lines(summary: WeekSummary) -> dict[str, list[str]]:
    """Pure: the summary's sentences by section (odds, movers, indicators, blind), as plain text.

    Movers' titles and sentences are article text: the HTML caller escapes them."""
    odds = []
    day_before = summary.week_start - timedelta(days=1)
    since = (f"the priors (the first data is from {summary.first_data:%Y-%m-%d})"
             if summary.first_data is not None and summary.first_data > day_before else f"{day_before:%Y-%m-%d}")
    for c in CASES:
        if np.isnan(summary.low[c]):  # a case the model cannot see has no change to date: it is its prior, every day
            odds.append(f"{c} {summary.odds[c]:.0%} ({NOT_MEASURABLE}), held at its prior: the news does not move it")
            continue
        change = _change(summary.odds[c], summary.odds_week_before[c])
        odds.append(f"{c} {summary.odds[c]:.0%} ({summary.low[c]:.0%}–{summary.high[c]:.0%}), {change} since {since}")
    indicators = [f"fired: {name}, this week first on {day:%Y-%m-%d} ({count} {'story' if count == 1 else 'stories'})"
                  + (f"; it first fired on {first:%Y-%m-%d}" if first < summary.week_start else "")
                  for name, day, count, first in summary.fired]
    indicators += [f"{'deadline passed without firing' if status == PASSED else 'deadline passed, ' + status}: {name} "
                   f"({deadline:%Y-%m-%d}{'; ' + note if note else ''})" for name, deadline, status, note in summary.expired]
    blind = list(summary.blind)
    if summary.no_data_days:
        blind.append(f"{summary.no_data_days} of the week's 7 days {'has' if summary.no_data_days == 1 else 'have'} "
                     "no classified articles (missing, not quiet)")
    moved = any(abs(summary.odds[c] - summary.odds_week_before[c]) >= 0.005 for c in CASES)
    if summary.movers:
        others = summary.other_developments
        older = summary.first_data is None or summary.first_data < summary.week_start  # a first week has no older news
        rest = [f"the week's {others} other {'development' if others == 1 else 'developments'}"] if others else []
        rest += ["older news fading"] if older else []
        movers_note = (f"pts: what each day's stories still add to that case's odds on {summary.week_end:%Y-%m-%d}, after "
                       "fading, not the day's own move" + (f"; the rest of the week's change is {' and '.join(rest)}"
                                                          if rest else ""))
    elif moved:
        movers_note = (f"the change since {summary.week_start - timedelta(days=1):%Y-%m-%d} is older news fading toward "
                       "the priors: no story this week was labelled a measurable case")
    else:
        movers_note = ""
    return {"odds": odds, "indicators": indicators or ["no indicator fired or expired this week"],
            "blind": blind or ["every case is measurable"], "movers_note": movers_note}


def _copies(articles: int, others: int) -> str:
    copies = f", +{articles - 1} {'copy' if articles == 2 else 'copies'}" if articles > 1 else ""
    return copies + (f"; with {others} other {'story' if others == 1 else 'stories'} that day" if others else "")


def summary_view(summary: WeekSummary | None) -> dict | None:
    """The week's summary for the template: its lines by section and one entry per mover."""
    if summary is None:
        return None
    movers = [{"points": f"{m.points:.1f}", "toward": m.toward, "title": shorten(m.title, 110), "href": safe_href(m.link),
               "outlet": m.outlet, "day": f"{m.day:%Y-%m-%d}", "copies": _copies(m.articles, m.others),
               "sentence": shorten(m.sentence, 220) if m.sentence else ""}
              for m in summary.movers]
    return {"week_start": f"{summary.week_start:%Y-%m-%d}", "week_end": f"{summary.week_end:%Y-%m-%d}",
            "lines": summary_lines(summary), "movers": movers}


# What would format, link or open raw HTML inside a line of Markdown (GitHub's tables and ~strikes~ too), and an
# `&` that starts an entity: each is escaped with a backslash, which CommonMark shows as the character itself.
MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<|~]|&(?=#?\w+;)")
LINE_START = re.compile(r"^(?:[-+#>]|\d+[.)])")  # a list, heading, quote or rule where a line starts
# What GitHub's Markdown turns into a link with no brackets at all (its extended autolinks, @mentions and #123
# references): a scheme's colon, the dot after `www`, an `@` before a name, a `#` before a number; a backslash before
# that character breaks the match, and the reader sees it as is.
AUTOLINK = re.compile(r"(?i)\b(?:https?|ftp|mailto|xmpp)(?=:)|\bwww(?=\.)|(?=@\w)|(?=#\d)")  # ends where the backslash goes


def _md(text: str) -> str:
    """Article text shown literally in Markdown: entities decoded (`&gt;` is not what a reader should see), bidi
    controls dropped, whitespace (newlines too) folded to one space so that it cannot start a heading, a table or
    a paragraph of its own, and every character that Markdown would read escaped with a backslash."""
    text = " ".join(shown(html.unescape(str(text or ""))).split())
    text = MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    text = AUTOLINK.sub(lambda m: m.group(0) + "\\", text)
    return LINE_START.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], text, count=1)


def brief_markdown(summary: WeekSummary) -> str:
    """Pure: the week's summary as Markdown, for pasting into a note (what `signals brief` prints).
    Article text is shown as written (`_md`): one line each, nothing in it read as Markdown or HTML."""
    lines = summary_lines(summary)
    out = [f"## {summary.title}: week {summary.week_start:%Y-%m-%d} to {summary.week_end:%Y-%m-%d}", "",
           f"**Odds** ({INTERVAL:.0%} intervals, on {summary.evidence:.1f} stories' worth of news):", ""]
    out += [f"- {line}" for line in lines["odds"]]
    out += ["", "**What moved them most** (a day's stories pushing one way, led by its biggest story):", ""]
    if not summary.movers:
        out.append("- no story this week moved the odds")
    for i, m in enumerate(summary.movers, start=1):
        copies = f", +{m.articles - 1} {'copy' if m.articles == 2 else 'copies'}" if m.articles > 1 else ""
        copies += f"; with {m.others} other {'story' if m.others == 1 else 'stories'} that day" if m.others else ""
        title = _md(shorten(m.title, 110))
        safe_link = m.link.lower().startswith(("http://", "https://")) and not any(c in m.link for c in " ()<>")
        linked = f"[{title}]({m.link})" if safe_link else title
        out.append(f"{i}. {m.points:.1f} pts toward {m.toward}: {linked} ({_md(m.outlet)}, {m.day:%Y-%m-%d}{copies})")
        if m.sentence:
            out.append(f"   > {_md(shorten(m.sentence, 220))}")
    if lines["movers_note"]:
        out += ["", f"*{lines['movers_note']}*"]
    out += ["", "**Indicators:**", ""] + [f"- {line}" for line in lines["indicators"]]
    out += ["", "**What the model can't see:**", ""] + [f"- {line}" for line in lines["blind"]]
    return "\n".join(out) + "\n"


def outlet_view(outlets: pd.DataFrame | None, limit: int = 12) -> list[dict]:
    """One row per outlet (most articles first): its classified articles, and how many per predicted label."""
    if outlets is None or outlets.empty:
        return []
    rows = []
    for outlet, group in list(outlets.groupby("outlet", sort=False))[:limit]:
        by_case = group.set_index("case")
        rows.append({"outlet": outlet, "articles": int(group["outlet_articles"].iloc[0]),
                     "by_label": [int(by_case.at[c, "articles"]) for c in LABELS]})
    return rows


def _when(s) -> str:
    if s.status == FIRED:
        return f"{s.first_fired}" + (f" .. {s.last_fired} ({s.days_fired} days)" if s.days_fired > 1 else "")
    if s.status == PENDING:
        return f"deadline {s.deadline}, {s.days_left} {'day' if s.days_left == 1 else 'days'} left" + (f"; {s.note}" if s.note else "")
    if s.status in (PASSED, UNKNOWN):
        return f"deadline {s.deadline}" + (f"; {s.note}" if s.note else "")
    return ""


def status_view(report: AlertReport) -> list[dict]:
    """One row per indicator: its status, when (fired, pending or passed), cases, threshold and meaning."""
    return [{"css": s.status.replace(" ", "-"), "name": s.name, "indicator": s.indicator, "status": s.status,
             "when": _when(s), "cases": ", ".join(s.cases), "threshold": s.threshold, "meaning": s.meaning}
            for s in report.statuses]


def firing_view(report: AlertReport, since: date | None, limit: int = 40) -> list[dict]:
    """The firings in range (at most `limit`), each with up to three pieces of evidence, one per story."""
    rows = []
    for firing in report.firings:
        if since is not None and firing.day < since:
            continue
        evidence = [{"title": shorten(ev.title, 110), "outlet": ev.outlet, "label": ev.label, "article_id": ev.article_id,
                     "copies": f"; +{ev.copies} more in this story" if ev.copies else "", "field": ev.field,
                     "snippet": ev.snippet}
                    for ev in firing.evidence[:3]]
        rows.append({"day": firing.day, "name": firing.name, "count": count_words(firing), "evidence": evidence,
                     "outside": f"does not count: {firing.outside}" if firing.outside else ""})
        if len(rows) >= limit:
            break
    return rows


def evidence_view(evidence: pd.DataFrame, max_days: int = 14) -> list[dict]:
    """The stories that moved each day's odds most, newest day first; the day is given on its first row only."""
    rows = []
    for day, group in list(evidence.groupby("day", sort=False))[:max_days] if not evidence.empty else []:
        for i, r in enumerate(group.itertuples(index=False)):
            rows.append({
                "day": f"{day:%Y-%m-%d}" if i == 0 else "", "title": r.title, "href": safe_href(r.link), "outlet": r.outlet,
                "id": r.id, "copies": f" · +{r.articles - 1} more in this story" if r.articles > 1 else "",
                "label": r.label, "probs": " / ".join(f"{c[0].upper()} {getattr(r, 'p_' + c):.0%}" for c in LABELS),
                "sentences": list(r.evidence)[:2], "color": COLORS[r.toward], "moved": f"{r.contribution * 100:.2f}",
                "toward": r.toward,
            })
    return rows


def render_html(data: ReportData, charts: dict[str, Chart] | None = None) -> str:
    """Pure: the whole page as a string, from the template `templates/report.html.j2` (autoescaped)."""
    covered = data.daily.drop_duplicates("day") if not data.daily.empty else data.daily
    model = data.model
    return TEMPLATES.get_template("report.html.j2").render(
        title=data.scenario.title or data.scenario.id, scenario_id=data.scenario.id,
        span=f"{data.since} to {data.until}" if data.since and data.until else "no data yet",
        days=_days(len(covered)), missing=int((~covered["covered"]).sum()) if not covered.empty else 0,
        generated=f"{data.generated:%Y-%m-%d %H:%M} UTC", summary=summary_view(data.summary), odds=odds_view(data),
        model={"half_life": _days(model.half_life), "strength": f"{model.strength:g}", "daily_cap": f"{model.daily_cap:g}"},
        interval=f"{INTERVAL:.0%}", charts=charts or draw_charts(data), as_of=data.alerts.as_of,
        statuses=status_view(data.alerts), firings=firing_view(data.alerts, data.since), labels=LABELS,
        outlets=outlet_view(data.outlets), evidence=evidence_view(data.evidence),
    )


def write_pngs(charts: dict[str, Chart], png_dir: Path) -> list[Path]:
    """The daily-signals, odds and indicator charts as PNG files in png_dir, from the page's own figures."""
    png_dir = Path(png_dir)
    png_dir.mkdir(parents=True, exist_ok=True)
    return [charts[name].write_png(png_dir / file) for name, file in zip(("daily", "odds", "indicators"), PNG_NAMES)]


# ---------------------------------------------------------------- the step that writes


def write_report(
    store: Store, scenario: Scenario, out_path: Path | str, since: date | None = None, until: date | None = None,
    png_dir: Path | str | None = None, half_life: float = DEFAULT_HALF_LIFE, strength: float = DEFAULT_STRENGTH,
    models_dir: Path | str | None = None, min_recall: float = MIN_RECALL, daily_cap: float = DEFAULT_DAILY_CAP,
) -> Path:
    """Gather, render and write the HTML report (and the same charts as PNG files to png_dir). Returns the HTML path."""
    data = gather(store, scenario, since, until, half_life, strength, models_dir=models_dir, min_recall=min_recall,
                  daily_cap=daily_cap)
    charts = draw_charts(data)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_html(data, charts), encoding="utf-8")
    if png_dir is not None:
        write_pngs(charts, Path(png_dir))
    return out_path


def parse_week(text: str) -> date:
    """'YYYY-Www' (ISO week) -> the Sunday that ends it; a clear error otherwise."""
    import re

    found = re.fullmatch(r"(\d{4})-W(\d{2})", text.strip())
    if not found:
        raise SignalsError(f"--week {text!r}: expected an ISO week like 2026-W15")
    try:
        return date.fromisocalendar(int(found.group(1)), int(found.group(2)), 7)
    except ValueError:
        raise SignalsError(f"--week {text!r}: {found.group(1)} has no week {found.group(2)}") from None


def weekly_brief(
    store: Store, scenario: Scenario, week_end: date | None = None, models_dir: Path | str | None = None,
    half_life: float = DEFAULT_HALF_LIFE, strength: float = DEFAULT_STRENGTH, min_recall: float = MIN_RECALL,
    daily_cap: float = DEFAULT_DAILY_CAP, scored: date | None = None,
) -> WeekSummary:
    """The week's summary (the report's first block) for the 7 days ending on `week_end`
    (default: the last day with ingested articles). A week that runs past the newest data is the 7 days up to it,
    as `report` and `odds` show it: past the data the odds would only fade toward the priors. `scored`, the pack's
    newest scored day where its data ends before the store's (a pack no longer watched), is its newest data."""
    newest = scored or last_ingested_day(store)
    if newest is None:
        raise SignalsError("no dated articles in the store yet; run 'signals import' or 'signals run' first")
    week_end = week_end or newest
    if week_end - timedelta(days=6) > newest:  # a week the store cannot see would read as a quiet week
        raise SignalsError(f"brief: the week {week_end - timedelta(days=6)} to {week_end} starts after the newest data "
                           f"({newest}); give an earlier --week")
    first = store.first_published_day()
    if week_end < first:  # nor can it see a week before its first article
        raise SignalsError(f"brief: the week {week_end - timedelta(days=6)} to {week_end} ends before the first data "
                           f"({first}, the oldest article); give a later --week")
    week_end = min(week_end, newest)
    seen = visibility(store, scenario, models_dir, min_recall) if models_dir is not None else None
    model = OddsModel.for_scenario(scenario, half_life, strength, daily_cap, seen.measurable if seen else None)
    history = article_predictions(store, scenario, None, week_end, text=True)
    daily = daily_frame(store, scenario, week_end - timedelta(days=6), week_end)
    return week_summary(scenario, history, evaluate(scenario, history, week_end), model, week_end, seen, daily,
                        gate=gate_note(store, scenario))
