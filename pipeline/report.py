"""One self-contained HTML page for analysts: signals, odds, evidence, indicators.

`write_report(store, scenario, out_path, since, until, png_dir=None)` gathers
the data (`gather`), renders it (`render_html`, pure: data in, a string out)
and writes one HTML file with no outside references: the charts are inline
SVG drawn here, so the page needs no plotting library, no script and no
network. It holds

    the scenario's current odds and the pack's priors
    daily signals: each day's probability mass stacked by case; days with no
        classified articles are marked "no data", not drawn as zero
    the odds over time (see pipeline/odds.py for the model), priors dashed
    the indicator timeline: each indicator's firings, its deadline window, as-of line
    the indicator statuses and the top evidence of each day (the articles that
        moved that day's odds most, with the classifier's evidence sentences)

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
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .alerts import FIRED, PASSED, PENDING, AlertReport, evaluate, last_ingested_day
from .errors import SignalsError
from .odds import DEFAULT_HALF_LIFE, DEFAULT_STRENGTH, OddsModel, compute_path, daily_movers
from .records import CASES, LABELS
from .scenario import Scenario
from .signals import article_predictions, daily_frame
from .store import Store

COLORS = {"base": "#4e79a7", "accelerated": "#59a14f", "contraction": "#e15759", "none": "#bab0ac"}
STATUS_COLORS = {FIRED: "#e15759", PENDING: "#f28e2b", PASSED: "#76716d"}
CHART_WIDTH = 960
EVIDENCE_PER_DAY = 3
PNG_NAMES = ("daily_signals.png", "odds.png", "indicators.png")


def esc(value: object) -> str:
    """HTML-escape anything for text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def safe_href(link: str) -> str:
    """The link, escaped, when it is http(s); '' otherwise (no javascript: or data: URLs)."""
    link = (link or "").strip()
    return esc(link) if link.lower().startswith(("http://", "https://")) else ""


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


def gather(
    store: Store, scenario: Scenario, since: date | None = None, until: date | None = None,
    half_life: float = DEFAULT_HALF_LIFE, strength: float = DEFAULT_STRENGTH, evidence_per_day: int = EVIDENCE_PER_DAY,
) -> ReportData:
    """Read everything the report shows. Without until, up to the last day with ingested articles."""
    model = OddsModel.for_scenario(scenario, half_life, strength)
    until = until or last_ingested_day(store)
    history = article_predictions(store, scenario, None, until, text=True)
    first_day = since or (history["day"].min().date() if not history.empty else until)
    daily = daily_frame(store, scenario, first_day, until) if until else daily_frame(store, scenario)
    odds = compute_path(history, model, first_day, until) if until else compute_path(history, model)
    evidence = daily_movers(history, model, evidence_per_day)
    if first_day is not None and not evidence.empty:
        evidence = evidence[evidence["day"] >= pd.Timestamp(first_day)].reset_index(drop=True)
    alerts = evaluate(scenario, history, until)
    return ReportData(scenario, first_day, until, daily, odds, evidence, alerts, model, datetime.now().replace(microsecond=0))


# ---------------------------------------------------------------- SVG charts (pure)


def _x_scale(days: pd.DatetimeIndex, left: float, width: float):
    n = max(len(days), 1)
    step = width / n
    index = {d: i for i, d in enumerate(days)}
    return step, (lambda d: left + index[pd.Timestamp(d)] * step)


def _date_ticks(days: pd.DatetimeIndex, x, step: float, y: float, max_ticks: int = 10) -> list[str]:
    if len(days) == 0:
        return []
    every = max(1, int(np.ceil(len(days) / max_ticks)))
    return [
        f'<text x="{x(d) + step / 2:.1f}" y="{y:.1f}" class="tick" text-anchor="middle">{d:%m-%d}</text>'
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
    """Stacked bars: each day's probability mass by case (none on top, in grey); 'no data' days hatched."""
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
    totals = wide.sum(axis=1, min_count=1)
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
        for case in LABELS:
            value = float(wide.at[day, case])
            if value <= 0:
                continue
            body.append(
                f'<rect class="bar bar-{case}" x="{x0:.1f}" y="{y(base_y + value):.1f}" width="{bar_w:.1f}" '
                f'height="{max(y(base_y) - y(base_y + value), 0.5):.1f}" fill="{COLORS[case]}">'
                f"<title>{day:%Y-%m-%d} {case}: {value:.2f}</title></rect>"
            )
            base_y += value
    body += _date_ticks(days, x, step, top + plot_h + 16)
    body.append(_legend([(c, COLORS[c]) for c in LABELS] + [("no data", "url(#nodata)")], left, 16))
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
        body.append(f'<line class="prior" x1="{left}" y1="{y(priors[case]):.1f}" x2="{left + plot_w}" y2="{y(priors[case]):.1f}" '
                    f'stroke="{color}" stroke-dasharray="4 4" stroke-width="1"/>')
        points = " ".join(f"{x(d) + step / 2:.1f},{y(v):.1f}" for d, v in zip(days, odds[case]))
        body.append(f'<polyline class="odds-line odds-{case}" fill="none" stroke="{color}" stroke-width="2" points="{points}">'
                    f"<title>{case}: {odds[case].iloc[-1]:.1%} on {days[-1]:%Y-%m-%d}</title></polyline>")
    body += _date_ticks(days, x, step, top + plot_h + 16)
    body.append(_legend([(c, COLORS[c]) for c in CASES] + [("prior (dashed)", "#999")], left, 16))
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
        body.append(f'<circle class="firing" cx="{xd(firing.day) + step / 2:.1f}" cy="{yc:.1f}" r="{min(4 + firing.articles, 9)}" fill="#e15759">'
                    f"<title>{esc(firing.indicator)} fired {firing.day} ({firing.articles} articles): {esc(titles)}</title></circle>")
    if report.as_of and pd.Timestamp(since) <= pd.Timestamp(report.as_of) <= pd.Timestamp(until):
        xa = xd(report.as_of) + step
        body.append(f'<line class="asof" x1="{xa:.1f}" y1="{top - 6}" x2="{xa:.1f}" y2="{height - 24}" stroke="#333" stroke-dasharray="2 3"/>')
    every = max(1, int(np.ceil(len(days) / 10)))
    for i, d in enumerate(days):
        if i % every == 0:
            body.append(f'<text x="{xd(d) + step / 2:.1f}" y="{height - 8}" class="tick" text-anchor="middle">{d:%m-%d}</text>')
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
.snippet{color:#555;font-style:italic}
"""


def _odds_boxes(data: ReportData) -> str:
    if data.odds.empty:
        values, caption = data.model.priors, "no news yet: the priors"
    else:
        latest = data.odds.iloc[-1]
        values = {c: float(latest[c]) for c in CASES}
        caption = f"as of {latest['day']:%Y-%m-%d}, on {latest['evidence']:.1f} articles' worth of news"
    boxes = "".join(
        f'<div class="odds-{c}" style="background:{COLORS[c]}"><b>{values[c]:.0%}</b>{c} (prior {data.model.priors[c]:.0%})</div>'
        for c in CASES
    )
    return f'<div class="odds" id="current-odds">{boxes}</div><p class="meta">{esc(caption)}; half-life {data.model.half_life:g} days, prior strength {data.model.strength:g}.</p>'


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
            f'<li>{esc(ev.title)} <span class="meta">[{esc(ev.outlet)}; {esc(ev.label)}; {esc(ev.article_id)}]</span><br>'
            f'<span class="snippet">{esc(ev.field)}: {esc(ev.snippet)}</span></li>'
            for ev in firing.evidence[:3]
        )
        items.append(f"<tr><td>{firing.day}</td><td>{esc(firing.name)}</td><td>{firing.articles}</td><td><ul>{evidence}</ul></td></tr>")
        if len(items) >= limit:
            break
    if not items:
        return '<p class="meta">No indicator fired in this range.</p>'
    return f'<table id="firings"><tr><th>day</th><th>indicator</th><th>articles</th><th>evidence</th></tr>{"".join(items)}</table>'


def _evidence_rows(evidence: pd.DataFrame, max_days: int = 31) -> str:
    if evidence.empty:
        return '<p class="meta">No classified articles in this range.</p>'
    rows = []
    for day, group in list(evidence.groupby("day", sort=False))[:max_days]:
        for i, r in enumerate(group.itertuples(index=False)):
            href = safe_href(r.link)
            title = f'<a href="{href}" rel="noopener noreferrer">{esc(r.title)}</a>' if href else esc(r.title)
            sentences = "".join(f"<li>{esc(s)}</li>" for s in list(r.evidence)[:2])
            probs = " / ".join(f"{c[0].upper()} {getattr(r, 'p_' + c):.0%}" for c in LABELS)
            rows.append(
                f"<tr><td>{f'{day:%Y-%m-%d}' if i == 0 else ''}</td><td>{title}<br><span class=\"meta\">{esc(r.outlet)} · {esc(r.id)} · "
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
<p>{esc(scenario.description)}</p>
<h2>Odds now</h2>
{_odds_boxes(data)}
<h2>Daily signals by case</h2>
<p class="meta">Each bar is a day's summed classifier probability per case (about one unit per article). Hatched days had no classified articles: missing, not quiet.</p>
{svg_daily_signals(data.daily)}
<h2>Odds over time</h2>
<p class="meta">Dirichlet pseudo-counts from the priors plus each day's probability mass, older news fading with a {data.model.half_life:g}-day half-life; dashed lines are the priors.</p>
{svg_odds(data.odds, data.model.priors)}
<h2>Indicators</h2>
<p class="meta">Dots are firing days (larger: more articles); shaded bands are deadline windows; the dotted line is the as-of day ({esc(data.alerts.as_of)}).</p>
{svg_indicators(data.alerts, scenario, data.since, data.until)}
{_status_rows(data.alerts)}
<h3>Firings</h3>
{_firing_rows(data.alerts, data.since)}
<h2>Top evidence of each day</h2>
<p class="meta">The articles that moved each day's odds most (leave-one-out, in probability points), newest day first (at most 31 days), with the classifier's evidence sentences.</p>
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
) -> Path:
    """Gather, render and write the HTML report (and PNG charts to png_dir). Returns the HTML path."""
    if png_dir is not None:
        _matplotlib()  # fail before writing anything
    data = gather(store, scenario, since, until, half_life, strength)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_html(data), encoding="utf-8")
    if png_dir is not None:
        write_pngs(data, Path(png_dir))
    return out_path


def cmd_report(args) -> int:
    from .scenario import load_scenario
    from .settings import load_settings

    settings = load_settings(args.config, db=args.db).replace(scenario=args.scenario)
    pack = load_scenario(settings.scenario_dir)
    with Store(settings.db, read_only=True) as store:
        path = write_report(store, pack, args.out, args.since, args.until, args.png, args.half_life, args.strength)
    print(f"report written to {path}" + (f"; PNG charts in {args.png}" if args.png else ""), file=sys.stderr)
    return 0


def add_commands(subparsers) -> None:
    """Register `signals report` on the CLI's subparsers."""
    p = subparsers.add_parser("report", help="write one self-contained HTML report: signals, odds, evidence, indicators")
    p.add_argument("--scenario")
    p.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    p.add_argument("--png", type=Path, help="also write the charts as PNG files here (needs matplotlib)")
    p.add_argument("--since", type=date.fromisoformat)
    p.add_argument("--until", type=date.fromisoformat)
    p.add_argument("--half-life", type=float, default=DEFAULT_HALF_LIFE)
    p.add_argument("--strength", type=float, default=DEFAULT_STRENGTH)
    p.set_defaults(func=cmd_report)
