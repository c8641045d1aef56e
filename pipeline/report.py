"""One self-contained HTML page for analysts: signals, odds, evidence, indicators.

`write_report(store, scenario, out_path, since, until, png_dir=None)` gathers
the data (`gather`), renders it (`render_html`, pure: data in, a string out)
and writes one HTML file with no outside references: the charts are inline
SVG drawn here, so the page needs no plotting library, no script and no
network. Without a range it covers the last 8 weeks up to the newest data.
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

Every piece of article-derived text (titles, outlets, sentences, snippets) is
HTML-escaped, links are kept only when they are http(s), and the page carries
a Content-Security-Policy that forbids scripts, so a hostile title stays text.

With `png_dir`, the same three charts are also written as PNG files when
matplotlib is installed (it is not a dependency of the project; without it,
asking for PNGs is an error that says so before anything is written).
"""

from __future__ import annotations

import html
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .alerts import FIRED, PASSED, PENDING, AlertReport, count_words, evaluate, last_ingested_day
from .errors import SignalsError
from .odds import (
    DEFAULT_DAILY_CAP, DEFAULT_HALF_LIFE, DEFAULT_STRENGTH, INTERVAL, MIN_RECALL, NOT_MEASURABLE, OddsModel, Visibility,
    add_odds_options, compute_path, daily_movers, developments, shorten, visibility,
)
from .records import CASES, LABELS
from .scenario import Scenario
from .signals import article_predictions, build_outlet_breakdown, daily_frame
from .store import Store

COLORS = {"base": "#4e79a7", "accelerated": "#59a14f", "contraction": "#e15759", "none": "#bab0ac"}
STATUS_COLORS = {FIRED: "#e15759", PENDING: "#f28e2b", PASSED: "#76716d"}
CHART_WIDTH = 960
EVIDENCE_PER_DAY = 3
PNG_NAMES = ("daily_signals.png", "odds.png", "indicators.png")
DEFAULT_WEEKS = 8
WEEK_MOVERS = 3


def esc(value: object) -> str:
    """HTML-escape anything for text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def safe_href(link: str) -> str:
    """The link, escaped, when it is http(s); '' otherwise (no javascript: or data: URLs)."""
    link = (link or "").strip()
    return esc(link) if link.lower().startswith(("http://", "https://")) else ""


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
    fired: tuple  # (indicator name, first day it fired in the week, stories)
    expired: tuple  # (indicator name, deadline)
    blind: tuple  # one line per case the model cannot see
    no_data_days: int


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


def week_developments(history: pd.DataFrame, model: OddsModel, week_start: date, week_end: date, n: int = WEEK_MOVERS) -> tuple:
    """Pure: the week's `n` biggest developments (see `pipeline.odds.developments`) as WeekMovers."""
    if history.empty:
        return ()
    top = developments(history, model, week_end, week_start, n)
    return tuple(
        WeekMover(r.day.date(), r.title, r.outlet, r.link, r.id, int(r.articles), r.toward, float(r.contribution * 100),
                  (list(r.evidence) or [""])[0], int(r.others))
        for r in top.itertuples()
    )


def week_summary(
    scenario: Scenario, history: pd.DataFrame, alerts: AlertReport, model: OddsModel, week_end: date,
    seen: Visibility | None = None, daily: pd.DataFrame | None = None, n: int = WEEK_MOVERS,
) -> WeekSummary:
    """Pure: the week of 7 days ending on `week_end`, from an `article_predictions(..., text=True)` frame."""
    week_start = week_end - timedelta(days=6)
    path = compute_path(history, model, week_start - timedelta(days=1), week_end)
    latest, before = path.iloc[-1], path.iloc[0]
    movers = week_developments(history, model, week_start, week_end, n)
    fired: dict[str, list] = {}
    for firing in alerts.firings:
        if week_start <= firing.day <= week_end:
            entry = fired.setdefault(firing.name, [firing.day, 0])
            entry[0] = min(entry[0], firing.day)
            entry[1] += firing.stories or firing.articles
    expired = tuple((s.name, s.deadline) for s in alerts.statuses
                    if s.status == PASSED and s.deadline is not None and week_start <= s.deadline <= week_end)
    blind = tuple(seen.describe(c) if seen else f"{c}: {NOT_MEASURABLE}" for c in model.blind_cases())
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
        fired=tuple((name, day, count) for name, (day, count) in sorted(fired.items(), key=lambda kv: kv[1][0])),
        expired=expired, blind=blind, no_data_days=no_data,
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
    summary = week_summary(scenario, history, alerts, model, until, seen, daily) if until else None
    return ReportData(scenario, first_day, until, daily, odds, evidence, alerts, model, datetime.now().replace(microsecond=0),
                      summary, build_outlet_breakdown(in_range), seen)


# ---------------------------------------------------------------- SVG charts (pure)


def _x_scale(days: pd.DatetimeIndex, left: float, width: float):
    n = max(len(days), 1)
    step = width / n
    index = {d: i for i, d in enumerate(days)}
    return step, (lambda d: left + index[pd.Timestamp(d)] * step)


def _date_ticks(days: pd.DatetimeIndex, x, step: float, y: float, max_ticks: int = 8) -> list[str]:
    if len(days) == 0:
        return []
    every = max(1, int(np.ceil(len(days) / max_ticks)))
    return [
        f'<text x="{x(d) + step / 2:.1f}" y="{y:.1f}" class="tick" text-anchor="middle">{d:%Y-%m-%d}</text>'
        for i, d in enumerate(days) if i % every == 0
    ]


def _legend(items: list[tuple[str, str]], x: float, y: float) -> str:
    parts = []
    for name, color in items:
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{x + 14:.1f}" y="{y:.1f}" class="legend">{esc(name)}</text>')
        x += 24 + 7.5 * len(name)
    return "".join(parts)


def _svg(chart_id: str, title: str, height: int, body: list[str]) -> str:
    return (
        f'<svg id="{chart_id}" class="chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{esc(title)}" '
        f'viewBox="0 0 {CHART_WIDTH} {height}" width="{CHART_WIDTH}" height="{height}">'
        f"<title>{esc(title)}</title>{''.join(body)}</svg>"
    )


def svg_daily_signals(daily: pd.DataFrame) -> str:
    """Stacked bars: each day's probability mass for the three scenario cases (`none` is left out: it
    would fill most of each bar; its mass is in each bar's tooltip); 'no data' days hatched."""
    height, left, top, bottom = 300, 50, 30, 40
    plot_w, plot_h = CHART_WIDTH - left - 20, height - top - bottom
    body = ['<defs><pattern id="nodata" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#ccc" stroke-width="3"/></pattern></defs>']
    if daily.empty:
        body.append(f'<text x="{CHART_WIDTH / 2}" y="{height / 2}" text-anchor="middle" class="empty">no signals in this range</text>')
        return _svg("chart-daily", "Daily signals by case", height, body)
    wide = daily.pivot(index="day", columns="case", values="probability").reindex(columns=list(LABELS))
    days = pd.DatetimeIndex(wide.index)
    covered = daily.groupby("day")["covered"].first().reindex(days)
    totals = wide[list(CASES)].sum(axis=1, min_count=1)
    peak = float(totals.max()) if totals.notna().any() and totals.max() > 0 else 1.0
    step, x = _x_scale(days, left, plot_w)
    y = lambda v: top + plot_h - v / peak * plot_h  # noqa: E731
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" class="axis"/>')
    for frac in (0.0, 0.5, 1.0):
        body.append(f'<text x="{left - 6}" y="{y(peak * frac) + 4:.1f}" class="tick" text-anchor="end">{peak * frac:.1f}</text>')
    bar_w = max(step * 0.8, 1.0)
    for day in days:
        x0 = x(day) + (step - bar_w) / 2
        if not covered.get(day, False):
            body.append(f'<rect class="nodata" x="{x0:.1f}" y="{top}" width="{bar_w:.1f}" height="{plot_h}" fill="url(#nodata)">'
                        f"<title>{day:%Y-%m-%d}: no data</title></rect>")
            continue
        base_y = 0.0
        for case in CASES:
            value = float(wide.at[day, case])
            if value <= 0:
                continue
            body.append(
                f'<rect class="bar bar-{case}" x="{x0:.1f}" y="{y(base_y + value):.1f}" width="{bar_w:.1f}" '
                f'height="{max(y(base_y) - y(base_y + value), 0.5):.1f}" fill="{COLORS[case]}">'
                f"<title>{day:%Y-%m-%d} {case}: {value:.2f} (none: {float(wide.at[day, 'none']):.2f})</title></rect>"
            )
            base_y += value
    body += _date_ticks(days, x, step, top + plot_h + 16)
    body.append(_legend([(c, COLORS[c]) for c in CASES] + [("no data", "url(#nodata)")], left, 16))
    body.append(f'<text x="12" y="{top + plot_h / 2}" class="tick" transform="rotate(-90 12 {top + plot_h / 2})" text-anchor="middle">probability mass (articles)</text>')
    return _svg("chart-daily", "Daily signals by case", height, body)


def svg_odds(odds: pd.DataFrame, priors: dict[str, float]) -> str:
    """Lines: each case's odds per day, 0-100%, with the priors dashed."""
    height, left, top, bottom = 280, 50, 30, 40
    plot_w, plot_h = CHART_WIDTH - left - 20, height - top - bottom
    body = []
    if odds.empty:
        body.append(f'<text x="{CHART_WIDTH / 2}" y="{height / 2}" text-anchor="middle" class="empty">no odds in this range</text>')
        return _svg("chart-odds", "Scenario odds over time", height, body)
    days = pd.DatetimeIndex(odds["day"])
    step, x = _x_scale(days, left, plot_w)
    y = lambda v: top + plot_h - v * plot_h  # noqa: E731
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(f'<line x1="{left}" y1="{y(frac):.1f}" x2="{left + plot_w}" y2="{y(frac):.1f}" class="grid"/>'
                    f'<text x="{left - 6}" y="{y(frac) + 4:.1f}" class="tick" text-anchor="end">{frac:.0%}</text>')
    for case in CASES:
        color = COLORS[case]
        low, high = odds.get(f"{case}_low"), odds.get(f"{case}_high")
        if low is not None and high is not None and low.notna().all() and len(days):
            upper = [f"{x(d) + step / 2:.1f},{y(v):.1f}" for d, v in zip(days, high)]
            lower = [f"{x(d) + step / 2:.1f},{y(v):.1f}" for d, v in zip(days, low)]
            body.append(f'<polygon class="band band-{case}" fill="{color}" opacity="0.15" points="{" ".join(upper + lower[::-1])}"/>')
        body.append(f'<line class="prior" x1="{left}" y1="{y(priors[case]):.1f}" x2="{left + plot_w}" y2="{y(priors[case]):.1f}" '
                    f'stroke="{color}" stroke-dasharray="4 4" stroke-width="1"/>')
        points = " ".join(f"{x(d) + step / 2:.1f},{y(v):.1f}" for d, v in zip(days, odds[case]))
        body.append(f'<polyline class="odds-line odds-{case}" fill="none" stroke="{color}" stroke-width="2" points="{points}">'
                    f"<title>{case}: {odds[case].iloc[-1]:.1%} on {days[-1]:%Y-%m-%d}</title></polyline>")
    body += _date_ticks(days, x, step, top + plot_h + 16)
    body.append(_legend([(c, COLORS[c]) for c in CASES] + [("prior (dashed)", "#999"), (f"{INTERVAL:.0%} interval (band)", "#ddd")], left, 16))
    return _svg("chart-odds", "Scenario odds over time", height, body)


def svg_indicators(report: AlertReport, scenario: Scenario, since: date | None, until: date | None) -> str:
    """One row per indicator: its deadline window, its firing days, the as-of line."""
    indicators = scenario.indicators
    row_h, left, top = 26, 230, 24
    height = top + row_h * max(len(indicators), 1) + 30
    plot_w = CHART_WIDTH - left - 20
    body = []
    if not indicators or since is None or until is None:
        body.append(f'<text x="{CHART_WIDTH / 2}" y="{height / 2}" text-anchor="middle" class="empty">no indicators or no days to show</text>')
        return _svg("chart-indicators", "Indicator timeline", height, body)
    days = pd.date_range(pd.Timestamp(since), pd.Timestamp(until), freq="D")
    step = plot_w / max(len(days), 1)
    first = days[0]
    xd = lambda d: left + (pd.Timestamp(d) - first).days * step  # noqa: E731
    clamp = lambda v: min(max(v, left), left + plot_w)  # noqa: E731
    statuses = {s.indicator: s for s in report.statuses}
    for row, indicator in enumerate(indicators):
        yc = top + row * row_h + row_h / 2
        status = statuses.get(indicator.id)
        label = f"{indicator.id} ({status.status})" if status else indicator.id
        color = STATUS_COLORS.get(status.status if status else "", "#333")
        body.append(f'<text x="{left - 8}" y="{yc + 4:.1f}" class="ind-label" text-anchor="end" fill="{color}">{esc(label)}</text>')
        body.append(f'<line x1="{left}" y1="{yc:.1f}" x2="{left + plot_w}" y2="{yc:.1f}" class="grid"/>')
        if status and status.window_start and status.deadline:
            x0, x1 = clamp(xd(status.window_start)), clamp(xd(status.deadline) + step)
            if x1 > x0:
                body.append(f'<rect class="window" x="{x0:.1f}" y="{yc - 8:.1f}" width="{x1 - x0:.1f}" height="16" fill="#f28e2b" opacity="0.18">'
                            f"<title>{esc(indicator.id)}: window {status.window_start} to {status.deadline}</title></rect>")
    rows = {ind.id: i for i, ind in enumerate(indicators)}
    for firing in report.firings:
        if firing.indicator not in rows or not (pd.Timestamp(since) <= pd.Timestamp(firing.day) <= pd.Timestamp(until)):
            continue
        yc = top + rows[firing.indicator] * row_h + row_h / 2
        titles = "; ".join(ev.title for ev in firing.evidence[:3])
        stories = firing.stories or firing.articles
        body.append(f'<circle class="firing" cx="{xd(firing.day) + step / 2:.1f}" cy="{yc:.1f}" r="{min(4 + stories, 9)}" fill="#e15759">'
                    f"<title>{esc(firing.indicator)} fired {firing.day} ({count_words(firing)}): {esc(titles)}</title></circle>")
    if report.as_of and pd.Timestamp(since) <= pd.Timestamp(report.as_of) <= pd.Timestamp(until):
        xa = xd(report.as_of) + step
        body.append(f'<line class="asof" x1="{xa:.1f}" y1="{top - 6}" x2="{xa:.1f}" y2="{height - 24}" stroke="#333" stroke-dasharray="2 3"/>')
    every = max(1, int(np.ceil(len(days) / 8)))
    for i, d in enumerate(days):
        if i % every == 0:
            body.append(f'<text x="{xd(d) + step / 2:.1f}" y="{height - 8}" class="tick" text-anchor="middle">{d:%Y-%m-%d}</text>')
    return _svg("chart-indicators", "Indicator timeline", height, body)


# ---------------------------------------------------------------- page (pure)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1000px;color:#222}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:.9em} .chart{max-width:100%;height:auto;display:block}
.tick,.legend{font-size:11px;fill:#555} .empty{font-size:14px;fill:#999} .ind-label{font-size:12px}
.axis{stroke:#888} .grid{stroke:#eee}
table{border-collapse:collapse;width:100%;font-size:.9em} td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
.odds{display:flex;gap:24px;margin:12px 0} .odds div{padding:8px 14px;border-radius:6px;color:#fff}
.odds b{font-size:1.4em;display:block} .sentences{color:#555;font-size:.92em;margin:2px 0 0 0;padding-left:18px}
.snippet{color:#555;font-style:italic} .interval{font-size:.85em;display:block}
#summary{border:1px solid #ccc;border-radius:8px;padding:4px 16px 10px;background:#fafafa}
#summary h3{margin:.6em 0 .2em;font-size:1em} #summary ul,#summary ol{margin:.2em 0;padding-left:20px}
.cols{display:flex;gap:24px} .cols>div{flex:1} #toc{margin:14px 0;font-size:.95em}
"""


def _odds_boxes(data: ReportData) -> str:
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
        style = f"background:{COLORS[c]}" + (";opacity:.55" if blind else "")
        boxes.append(f'<div class="odds-{c}{" blind" if blind else ""}" style="{style}"><b>{values[c]:.0%}</b>{c} '
                     f'<span class="interval">{esc(detail)}</span><br>prior {data.model.priors[c]:.0%}</div>')
    return (f'<div class="odds" id="current-odds">{"".join(boxes)}</div><p class="meta">{esc(caption)}; '
            f'{INTERVAL:.0%} intervals; half-life {data.model.half_life:g} days, prior strength {data.model.strength:g}, '
            f'at most {data.model.daily_cap:g} stories\' worth a day.</p>')


def _change(now: float, before: float) -> str:
    points = (now - before) * 100
    return "no change" if abs(points) < 0.5 else f"{points:+.0f} pts"


def summary_lines(summary: WeekSummary) -> dict[str, list[str]]:
    """Pure: the summary's sentences by section (odds, movers, indicators, blind), as plain text.

    Movers' titles and sentences are article text: the HTML caller escapes them."""
    odds = []
    for c in CASES:
        interval = (f"{summary.low[c]:.0%}–{summary.high[c]:.0%}" if not np.isnan(summary.low[c]) else NOT_MEASURABLE)
        change = _change(summary.odds[c], summary.odds_week_before[c]) if not np.isnan(summary.low[c]) else "held at its prior"
        odds.append(f"{c} {summary.odds[c]:.0%} ({interval}), {change} since {summary.week_start - timedelta(days=1):%Y-%m-%d}")
    indicators = [f"fired: {name}, first on {day:%Y-%m-%d} ({count} {'story' if count == 1 else 'stories'})"
                  for name, day, count in summary.fired]
    indicators += [f"deadline passed without firing: {name} ({deadline:%Y-%m-%d})" for name, deadline in summary.expired]
    blind = list(summary.blind)
    if summary.no_data_days:
        blind.append(f"{summary.no_data_days} of the week's 7 days have no classified articles (missing, not quiet)")
    return {"odds": odds, "indicators": indicators or ["no indicator fired or expired this week"], "blind": blind or ["every case is measurable"]}


def _summary_block(summary: WeekSummary | None) -> str:
    if summary is None:
        return '<section id="summary"><h2>This week</h2><p class="meta">No data yet.</p></section>'
    lines = summary_lines(summary)
    movers = []
    for m in summary.movers:
        href = safe_href(m.link)
        title = f'<a href="{href}" rel="noopener noreferrer">{esc(shorten(m.title, 110))}</a>' if href else esc(shorten(m.title, 110))
        copies = f", +{m.articles - 1} {'copy' if m.articles == 2 else 'copies'}" if m.articles > 1 else ""
        copies += f"; with {m.others} other {'story' if m.others == 1 else 'stories'} that day" if m.others else ""
        sentence = f'<br><span class="snippet">“{esc(shorten(m.sentence, 220))}”</span>' if m.sentence else ""
        movers.append(f'<li>{m.points:.1f} pts toward <b>{esc(m.toward)}</b>: {title} '
                      f'<span class="meta">({esc(m.outlet)}, {m.day:%Y-%m-%d}{copies})</span>{sentence}</li>')
    li = lambda items: "".join(f"<li>{esc(x)}</li>" for x in items)  # noqa: E731
    return f"""<section id="summary">
<h2>The week {summary.week_start:%Y-%m-%d} to {summary.week_end:%Y-%m-%d}</h2>
<div class="cols"><div><h3>Odds</h3><ul id="summary-odds">{li(lines["odds"])}</ul></div>
<div><h3>What the model can't see</h3><ul id="summary-blind">{li(lines["blind"])}</ul></div></div>
<h3>What moved them most (each: a day's stories pushing one way, led by its biggest story)</h3><ol id="summary-movers">{"".join(movers) or "<li>no story this week moved the odds</li>"}</ol>
<h3>Indicators</h3><ul id="summary-indicators">{li(lines["indicators"])}</ul>
</section>"""


def _md(text: str) -> str:
    """Article text made inert in Markdown: no raw HTML tags, no link brackets."""
    return str(text or "").replace("<", "&lt;").replace(">", "&gt;").replace("[", "(").replace("]", ")")


def brief_markdown(summary: WeekSummary) -> str:
    """Pure: the week's summary as Markdown, for pasting into a note (what `signals brief` prints).
    Article text is made inert: no raw HTML, no brackets that would start a link."""
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
    out += ["", "**Indicators:**", ""] + [f"- {line}" for line in lines["indicators"]]
    out += ["", "**What the model can't see:**", ""] + [f"- {line}" for line in lines["blind"]]
    return "\n".join(out) + "\n"


def _outlet_rows(outlets: pd.DataFrame | None, limit: int = 12) -> str:
    if outlets is None or outlets.empty:
        return '<p class="meta">No classified articles in this range.</p>'
    rows = []
    for outlet, group in list(outlets.groupby("outlet", sort=False))[:limit]:
        by_case = group.set_index("case")
        cells = "".join(f"<td>{int(by_case.at[c, 'articles'])}</td>" for c in LABELS)
        rows.append(f"<tr><td>{esc(outlet)}</td><td>{int(group['outlet_articles'].iloc[0])}</td>{cells}</tr>")
    head = "<tr><th>outlet</th><th>articles</th>" + "".join(f"<th>{c}</th>" for c in LABELS) + "</tr>"
    return f'<table id="outlet-mix">{head}{"".join(rows)}</table>'


def _status_rows(report: AlertReport) -> str:
    rows = []
    for s in report.statuses:
        if s.status == FIRED:
            when = f"{s.first_fired}" + (f" .. {s.last_fired} ({s.days_fired} days)" if s.days_fired > 1 else "")
        elif s.status == PENDING:
            when = f"deadline {s.deadline}, {s.days_left} days left"
        elif s.status == PASSED:
            when = f"deadline {s.deadline}" + (f"; {s.note}" if s.note else "")
        else:
            when = ""
        rows.append(
            f'<tr class="status-{esc(s.status.replace(" ", "-"))}"><td>{esc(s.name)}<br><span class="meta">{esc(s.indicator)}</span></td>'
            f"<td>{esc(s.status)}</td><td>{esc(when)}</td><td>{esc(', '.join(s.cases))}</td><td>{s.threshold}</td><td>{esc(s.meaning)}</td></tr>"
        )
    head = "<tr><th>indicator</th><th>status</th><th>when</th><th>cases</th><th>threshold</th><th>meaning</th></tr>"
    return f'<table id="indicator-status">{head}{"".join(rows)}</table>' if rows else '<p class="meta">This pack has no indicators.</p>'


def _firing_rows(report: AlertReport, since: date | None, limit: int = 40) -> str:
    items = []
    for firing in report.firings:
        if since is not None and firing.day < since:
            continue
        evidence = "".join(
            f'<li>{esc(shorten(ev.title, 110))} <span class="meta">[{esc(ev.outlet)}; {esc(ev.label)}; {esc(ev.article_id)}'
            f'{f"; +{ev.copies} more in this story" if ev.copies else ""}]</span><br>'
            f'<span class="snippet">{esc(ev.field)}: {esc(ev.snippet)}</span></li>'
            for ev in firing.evidence[:3]
        )
        items.append(f"<tr><td>{firing.day}</td><td>{esc(firing.name)}</td><td>{esc(count_words(firing))}</td><td><ul>{evidence}</ul></td></tr>")
        if len(items) >= limit:
            break
    if not items:
        return '<p class="meta">No indicator fired in this range.</p>'
    return f'<table id="firings"><tr><th>day</th><th>indicator</th><th>stories</th><th>evidence, one per story</th></tr>{"".join(items)}</table>'


def _evidence_rows(evidence: pd.DataFrame, max_days: int = 14) -> str:
    if evidence.empty:
        return '<p class="meta">No classified articles in this range.</p>'
    rows = []
    for day, group in list(evidence.groupby("day", sort=False))[:max_days]:
        for i, r in enumerate(group.itertuples(index=False)):
            href = safe_href(r.link)
            title = f'<a href="{href}" rel="noopener noreferrer">{esc(r.title)}</a>' if href else esc(r.title)
            sentences = "".join(f"<li>{esc(s)}</li>" for s in list(r.evidence)[:2])
            probs = " / ".join(f"{c[0].upper()} {getattr(r, 'p_' + c):.0%}" for c in LABELS)
            copies = f" · +{r.articles - 1} more in this story" if r.articles > 1 else ""
            rows.append(
                f"<tr><td>{f'{day:%Y-%m-%d}' if i == 0 else ''}</td><td>{title}<br><span class=\"meta\">{esc(r.outlet)} · {esc(r.id)}{copies} · "
                f"label {esc(r.label)} · {probs}</span>{f'<ul class=sentences>{sentences}</ul>' if sentences else ''}</td>"
                f'<td style="color:{COLORS[r.toward]}">{r.contribution * 100:.2f} pts → {esc(r.toward)}</td></tr>'
            )
    head = "<tr><th>day</th><th>article</th><th>moved the odds</th></tr>"
    return f'<table id="top-evidence">{head}{"".join(rows)}</table>'


def render_html(data: ReportData) -> str:
    """Pure: the whole page as a string."""
    scenario = data.scenario
    span = f"{data.since} to {data.until}" if data.since and data.until else "no data yet"
    covered = data.daily.drop_duplicates("day") if not data.daily.empty else data.daily
    missing = int((~covered["covered"]).sum()) if not covered.empty else 0
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(scenario.title or scenario.id)}: signals report</title>
<style>{CSS}</style>
</head>
<body>
<h1>{esc(scenario.title or scenario.id)}</h1>
<p class="meta">Scenario <code>{esc(scenario.id)}</code> · {esc(span)} · {len(covered)} days, {missing} without data · generated {data.generated:%Y-%m-%d %H:%M}</p>
{_summary_block(data.summary)}
<h2>Odds now</h2>
{_odds_boxes(data)}
<nav id="toc"><b>Contents</b>: <a href="#daily">Daily signals</a> · <a href="#odds">Odds over time</a> · <a href="#indicators">Indicators</a> · <a href="#outlets">Outlet mix</a> · <a href="#evidence">Evidence by story</a></nav>
<h2 id="daily">Daily signals by case</h2>
<p class="meta">Each bar is a day's summed classifier probability for the three cases (about one unit per article); the <code>none</code> mass is left out (it is in each bar's tooltip). Hatched days had no classified articles: missing, not quiet.</p>
{svg_daily_signals(data.daily)}
<h2 id="odds">Odds over time</h2>
<p class="meta">Dirichlet pseudo-counts from the priors plus each day's story mass (at most {data.model.daily_cap:g} stories' worth a day), older news fading with a {data.model.half_life:g}-day half-life; bands are {INTERVAL:.0%} intervals, dashed lines the priors. A case the model cannot see has no band and stays at its prior.</p>
{svg_odds(data.odds, data.model.priors)}
<h2 id="indicators">Indicators</h2>
<p class="meta">Dots are firing days (larger: more stories); shaded bands are deadline windows; the dotted line is the as-of day ({esc(data.alerts.as_of)}).</p>
{svg_indicators(data.alerts, scenario, data.since, data.until)}
{_status_rows(data.alerts)}
<h3>Firings</h3>
{_firing_rows(data.alerts, data.since)}
<h2 id="outlets">Outlet mix</h2>
<p class="meta">Classified articles per outlet in this range, by predicted label (most articles first).</p>
{_outlet_rows(data.outlets)}
<h2 id="evidence">Evidence by story</h2>
<p class="meta">The stories that moved each day's odds most (leave-one-out, in probability points), newest day first (at most 14 days), with the classifier's evidence sentences.</p>
{_evidence_rows(data.evidence)}
</body>
</html>
"""


# ---------------------------------------------------------------- PNG charts (optional)


def _matplotlib():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SignalsError("PNG charts need matplotlib, which is not installed: pip install matplotlib, or leave out --png") from None
    return plt


def write_pngs(data: ReportData, png_dir: Path) -> list[Path]:
    """The daily-signals, odds and indicator charts as PNG files in png_dir (needs matplotlib)."""
    plt = _matplotlib()
    png_dir = Path(png_dir)
    png_dir.mkdir(parents=True, exist_ok=True)
    paths = [png_dir / name for name in PNG_NAMES]

    fig, ax = plt.subplots(figsize=(10, 3.2))
    if not data.daily.empty:
        wide = data.daily.pivot(index="day", columns="case", values="probability").reindex(columns=list(LABELS))
        bottom = np.zeros(len(wide))
        for case in LABELS:
            values = wide[case].fillna(0.0).to_numpy()
            ax.bar(wide.index, values, bottom=bottom, color=COLORS[case], label=case, width=0.8)
            bottom += values
        for day in wide.index[wide.isna().all(axis=1)]:
            ax.axvspan(day - pd.Timedelta(hours=10), day + pd.Timedelta(hours=10), color="#ddd", hatch="//", fill=False)
    ax.set_ylabel("probability mass")
    ax.set_title("Daily signals by case (hatched: no data)")
    ax.legend(loc="upper left", ncol=4, fontsize=8)
    fig.autofmt_xdate()
    fig.savefig(paths[0], dpi=120, bbox_inches="tight")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(10, 3.2))
    for case in CASES:
        if not data.odds.empty:
            ax.plot(data.odds["day"], data.odds[case], color=COLORS[case], label=case)
        ax.axhline(data.model.priors[case], color=COLORS[case], linestyle="--", linewidth=0.8)
    ax.set_ylim(0, 1)
    ax.set_title("Scenario odds over time (dashed: priors)")
    ax.legend(loc="upper left", ncol=3, fontsize=8)
    fig.autofmt_xdate()
    fig.savefig(paths[1], dpi=120, bbox_inches="tight")
    plt.close(fig)

    indicators = data.scenario.indicators
    fig, ax = plt.subplots(figsize=(10, 0.5 + 0.4 * max(len(indicators), 1)))
    rows = {ind.id: i for i, ind in enumerate(indicators)}
    for status in data.alerts.statuses:
        if status.window_start and status.deadline:
            ax.barh(rows[status.indicator], (status.deadline - status.window_start).days + 1,
                    left=pd.Timestamp(status.window_start), color="#f28e2b", alpha=0.2, height=0.6)
    for firing in data.alerts.firings:
        if firing.indicator in rows:
            ax.plot(pd.Timestamp(firing.day), rows[firing.indicator], "o", color="#e15759")
    ax.set_yticks(range(len(indicators)), [ind.id for ind in indicators], fontsize=8)
    if data.since and data.until:
        ax.set_xlim(pd.Timestamp(data.since), pd.Timestamp(data.until) + pd.Timedelta(days=1))
    ax.invert_yaxis()
    ax.set_title("Indicator timeline")
    fig.autofmt_xdate()
    fig.savefig(paths[2], dpi=120, bbox_inches="tight")
    plt.close(fig)
    return paths


# ---------------------------------------------------------------- the step that writes


def write_report(
    store: Store, scenario: Scenario, out_path: Path | str, since: date | None = None, until: date | None = None,
    png_dir: Path | str | None = None, half_life: float = DEFAULT_HALF_LIFE, strength: float = DEFAULT_STRENGTH,
    models_dir: Path | str | None = None, min_recall: float = MIN_RECALL, daily_cap: float = DEFAULT_DAILY_CAP,
) -> Path:
    """Gather, render and write the HTML report (and PNG charts to png_dir). Returns the HTML path."""
    if png_dir is not None:
        _matplotlib()  # fail before writing anything
    data = gather(store, scenario, since, until, half_life, strength, models_dir=models_dir, min_recall=min_recall,
                  daily_cap=daily_cap)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_html(data), encoding="utf-8")
    if png_dir is not None:
        write_pngs(data, Path(png_dir))
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
    daily_cap: float = DEFAULT_DAILY_CAP,
) -> WeekSummary:
    """The week's summary (the report's first block) for the 7 days ending on `week_end`
    (default: the last day with ingested articles)."""
    week_end = week_end or last_ingested_day(store)
    if week_end is None:
        raise SignalsError("no dated articles in the store yet; run 'signals import' or 'signals run' first")
    seen = visibility(store, scenario, models_dir, min_recall) if models_dir is not None else None
    model = OddsModel.for_scenario(scenario, half_life, strength, daily_cap, seen.measurable if seen else None)
    history = article_predictions(store, scenario, None, week_end, text=True)
    daily = daily_frame(store, scenario, week_end - timedelta(days=6), week_end)
    return week_summary(scenario, history, evaluate(scenario, history, week_end), model, week_end, seen, daily)


def cmd_report(args) -> int:
    from .scenario import load_scenario
    from .settings import load_settings

    settings = load_settings(args.config, db=args.db).replace(scenario=args.scenario)
    pack = load_scenario(settings.scenario_dir)
    with Store(settings.db, read_only=True) as store:
        path = write_report(store, pack, args.out, args.since, args.until, args.png, args.half_life, args.strength,
                            settings.models_dir, args.min_recall, args.daily_cap)
    print(f"report written to {path}" + (f"; PNG charts in {args.png}" if args.png else ""), file=sys.stderr)
    return 0


def cmd_brief(args) -> int:
    from .scenario import load_scenario
    from .settings import load_settings

    settings = load_settings(args.config, db=args.db).replace(scenario=args.scenario)
    pack = load_scenario(settings.scenario_dir)
    week_end = parse_week(args.week) if args.week else None
    with Store(settings.db, read_only=True) as store:
        text = brief_markdown(weekly_brief(store, pack, week_end, settings.models_dir, args.half_life, args.strength,
                                           args.min_recall, args.daily_cap))
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"brief written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def add_commands(subparsers) -> None:
    """Register `signals report` and `signals brief` on the CLI's subparsers."""
    p = subparsers.add_parser("report", help="write one self-contained HTML report: the week's summary, signals, odds, evidence, indicators")
    p.add_argument("--scenario", help="the scenario pack (default: the first watched one)")
    p.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    p.add_argument("--png", type=Path, help="also write the charts as PNG files here (needs matplotlib)")
    p.add_argument("--since", type=date.fromisoformat, help=f"first day (default: {DEFAULT_WEEKS} weeks before --until)")
    p.add_argument("--until", type=date.fromisoformat, help="last day (default: the newest data)")
    add_odds_options(p)
    p.set_defaults(func=cmd_report)

    p = subparsers.add_parser("brief", help="the week's summary as Markdown: odds and their change, top movers, indicators, blind spots")
    p.add_argument("--scenario", help="the scenario pack (default: the first watched one)")
    p.add_argument("--week", help="ISO week, e.g. 2026-W15 (default: the 7 days up to the newest data)")
    p.add_argument("--out", type=Path, help="write to this file instead of printing")
    add_odds_options(p)
    p.set_defaults(func=cmd_brief)
