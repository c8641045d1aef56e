"""The report's three charts, drawn once each with matplotlib and rendered from the same figure as
inline SVG (for the HTML page) and as PNG (for `--png`).

    daily_figure       each day's probability mass for the three cases, stacked; `none` left out
                       (its mass is in each bar's tooltip); days with no classified articles hatched
    odds_figure        each case's odds per day with its interval band; priors dashed
    indicators_figure  one row per indicator: deadline window, firing days, the as-of line

Figures are built on the Agg canvas directly (no pyplot, so no global figure state). Every drawn
element a reader may ask about gets an SVG id (`gid`): `bar-<case>-<day>`, `nodata-<day>`,
`odds-line-<case>`, `band-<case>`, `prior-<case>`, `window-<indicator>`, `firing-<indicator>-<day>`,
`asof`; `inline_svg` adds each one's tooltip as an SVG <title>, escaped. The SVG keeps text as
text (smaller, searchable) and its internal ids are salted with the chart's id, so three charts
inline in one page never share an id.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import matplotlib
import pandas as pd
from markupsafe import Markup, escape
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from .alerts import FIRED, PASSED, PENDING, UNKNOWN, AlertReport, count_words
from .odds import INTERVAL
from .records import CASES, LABELS
from .scenario import Scenario
from .text import shown

COLORS = {"base": "#4e79a7", "accelerated": "#59a14f", "contraction": "#e15759", "none": "#bab0ac"}
STATUS_COLORS = {FIRED: "#e15759", PENDING: "#f28e2b", PASSED: "#76716d", UNKNOWN: "#b0aca8"}
WIDTH_INCHES = 10
PNG_DPI = 120
BAR_WIDTH = 0.8  # of a day
SVG_STYLE = {"svg.fonttype": "none", "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"], "font.size": 9,
             "axes.spines.top": False, "axes.spines.right": False}
AUTOMATIC_ID = re.compile(r'<g id="([A-Za-z][\w.]*_\d+)"')  # matplotlib's own group ids: figure_1, xtick_3, ...


@dataclass
class Chart:
    """One drawn chart: its id in the page, a title for screen readers, the figure, and tooltips by element id."""

    chart_id: str
    title: str
    figure: Figure
    tooltips: dict[str, str] = field(default_factory=dict)

    def svg(self) -> Markup:
        """The chart as an <svg> element to inline in HTML: no XML prolog, no metadata, tooltips as <title>."""
        with matplotlib.rc_context({**SVG_STYLE, "svg.hashsalt": self.chart_id}):
            buffer = io.StringIO()
            self.figure.savefig(buffer, format="svg", bbox_inches="tight",
                                metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
        text = buffer.getvalue()
        text = AUTOMATIC_ID.sub(rf'<g id="{self.chart_id}-\1"', text[text.index("<svg"):])  # unique in the page
        for gid, tooltip in self.tooltips.items():
            opening = f'<g id="{gid}">'
            text = text.replace(opening, f"{opening}<title>{escape(shown(tooltip))}</title>", 1)
        return Markup(text)

    def write_png(self, path: Path) -> Path:
        with matplotlib.rc_context(SVG_STYLE):
            self.figure.savefig(path, format="png", dpi=PNG_DPI, bbox_inches="tight")
        return path


def _styled(draw):
    """Run a chart builder under the charts' matplotlib style (rc_context: nothing global is changed)."""
    @functools.wraps(draw)
    def styled(*args, **kwargs):
        with matplotlib.rc_context(SVG_STYLE):
            return draw(*args, **kwargs)
    return styled


def _figure(height_inches: float) -> tuple[Figure, object]:
    figure = Figure(figsize=(WIDTH_INCHES, height_inches))
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _empty(axes, message: str) -> None:
    axes.set_axis_off()
    axes.text(0.5, 0.5, message, transform=axes.transAxes, ha="center", va="center", color="#999", fontsize=11)


def _date_axis(axes) -> None:
    """Date ticks that always carry the year."""
    # evenly spaced from the first day: month-day multiples put the 29th next to the 1st, and their labels overprinted
    axes.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=8, interval_multiples=False))
    axes.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))


@_styled
def daily_figure(daily: pd.DataFrame) -> Chart:
    """Stacked bars of the three cases' daily mass; hatched full-height bars for days with no data."""
    figure, axes = _figure(3.2)
    chart = Chart("chart-daily", "Daily signals by case", figure)
    if daily.empty:
        _empty(axes, "no signals in this range")
        return chart
    wide = daily.pivot(index="day", columns="case", values="probability").reindex(columns=list(LABELS))
    covered = daily.groupby("day")["covered"].first().reindex(wide.index, fill_value=False).astype(bool)
    totals = wide[list(CASES)].sum(axis=1, min_count=1)
    peak = float(totals.max()) if totals.notna().any() and totals.max() > 0 else 1.0
    days = pd.DatetimeIndex(wide.index)
    bottom = pd.Series(0.0, index=days)
    for case in CASES:
        values = wide[case].where(covered, 0.0).fillna(0.0)
        drawn = values > 0  # a bar only where the case has mass
        bars = axes.bar(days[drawn], values[drawn], bottom=bottom[drawn], width=BAR_WIDTH, color=COLORS[case], label=case)
        for day, bar, value in zip(days[drawn], bars, values[drawn]):
            bar.set_gid(f"bar-{case}-{day:%Y-%m-%d}")
            chart.tooltips[f"bar-{case}-{day:%Y-%m-%d}"] = (
                f"{day:%Y-%m-%d} {case}: {value:.2f} (none: {float(wide.at[day, 'none']):.2f})")
        bottom += values
    missing = days[~covered.to_numpy()]
    # only with a missing day: an empty bar container still makes a legend entry, drawn as a solid swatch
    gaps = axes.bar(missing, [peak] * len(missing), width=BAR_WIDTH, fill=False, hatch="///", edgecolor="#ccc",
                    linewidth=0, label="no data") if len(missing) else []
    for day, bar in zip(missing, gaps):
        bar.set_gid(f"nodata-{day:%Y-%m-%d}")
        chart.tooltips[f"nodata-{day:%Y-%m-%d}"] = f"{day:%Y-%m-%d}: no data"
    axes.set_ylim(0, peak * 1.05)
    axes.set_ylabel("probability mass (articles)")
    _date_axis(axes)
    axes.legend(loc="upper left", ncol=4, fontsize=8, frameon=False, bbox_to_anchor=(0, 1.15))
    return chart


@_styled
def odds_figure(odds: pd.DataFrame, priors: dict[str, float]) -> Chart:
    """Each case's odds per day (0-100%) with its interval band where it has one; priors dashed."""
    figure, axes = _figure(3.0)
    chart = Chart("chart-odds", "Scenario odds over time", figure)
    if odds.empty:
        _empty(axes, "no odds in this range")
        return chart
    days = pd.DatetimeIndex(odds["day"])
    for case in CASES:
        color = COLORS[case]
        low, high = odds.get(f"{case}_low"), odds.get(f"{case}_high")
        if low is not None and high is not None and low.notna().all():
            axes.fill_between(days, low, high, color=color, alpha=0.15, linewidth=0, gid=f"band-{case}")
        axes.axhline(priors[case], color=color, linestyle="--", linewidth=0.8, gid=f"prior-{case}")
        axes.plot(days, odds[case], color=color, linewidth=2, label=case, gid=f"odds-line-{case}")
        chart.tooltips[f"odds-line-{case}"] = f"{case}: {odds[case].iloc[-1]:.1%} on {days[-1]:%Y-%m-%d}"
    axes.set_ylim(0, 1)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes.grid(axis="y", color="#eee")
    _date_axis(axes)
    handles, labels = axes.get_legend_handles_labels()
    handles += [Line2D([], [], color="#999", linestyle="--"), Patch(color="#ddd")]
    labels += ["prior (dashed)", f"{INTERVAL:.0%} interval (band)"]
    axes.legend(handles, labels, loc="upper left", ncol=5, fontsize=8, frameon=False, bbox_to_anchor=(0, 1.15))
    return chart


@_styled
def indicators_figure(report: AlertReport, scenario: Scenario, since: date | None, until: date | None) -> Chart:
    """One row per indicator, labelled with its status: its deadline window, dots on firing days (larger:
    more stories), and a dotted line on the as-of day."""
    indicators = scenario.indicators
    figure, axes = _figure(0.6 + 0.3 * max(len(indicators), 1))
    chart = Chart("chart-indicators", "Indicator timeline", figure)
    if not indicators or since is None or until is None:
        _empty(axes, "no indicators or no days to show")
        return chart
    first, last = pd.Timestamp(since), pd.Timestamp(until)
    rows = {ind.id: i for i, ind in enumerate(indicators)}
    statuses = {s.indicator: s for s in report.statuses}
    for indicator in indicators:
        status = statuses.get(indicator.id)
        if status and status.window_start and status.deadline:
            start = max(pd.Timestamp(status.window_start), first - pd.Timedelta(days=1))
            end = min(pd.Timestamp(status.deadline) + pd.Timedelta(days=1), last + pd.Timedelta(days=1))
            if end > start:
                axes.barh(rows[indicator.id], end - start, left=start, height=0.6, color="#f28e2b", alpha=0.18,
                          gid=f"window-{indicator.id}")
                chart.tooltips[f"window-{indicator.id}"] = f"{indicator.id}: window {status.window_start} to {status.deadline}"
    for firing in report.firings:
        if firing.indicator not in rows or not first <= pd.Timestamp(firing.day) <= last or firing.outside:
            continue  # a firing outside the indicator's window does not count (its row says the status)
        gid = f"firing-{firing.indicator}-{firing.day:%Y-%m-%d}"
        stories = firing.stories or firing.articles
        axes.plot(pd.Timestamp(firing.day) + pd.Timedelta(hours=12), rows[firing.indicator], "o", color="#e15759",
                  markersize=min(4 + stories, 9), gid=gid)
        titles = "; ".join(ev.title for ev in firing.evidence[:3])
        chart.tooltips[gid] = f"{firing.indicator} fired {firing.day} ({count_words(firing)}): {titles}"
    if report.as_of and first <= pd.Timestamp(report.as_of) <= last:
        axes.axvline(pd.Timestamp(report.as_of) + pd.Timedelta(days=1), color="#333", linestyle=":", linewidth=1, gid="asof")
    labels = [f"{ind.id} ({statuses[ind.id].status})" if ind.id in statuses else ind.id for ind in indicators]
    axes.set_yticks(range(len(indicators)), labels, fontsize=8)
    for tick, indicator in zip(axes.get_yticklabels(), indicators):
        status = statuses.get(indicator.id)
        tick.set_color(STATUS_COLORS.get(status.status if status else "", "#333"))
    axes.set_ylim(len(indicators) - 0.5, -0.5)
    axes.set_xlim(first, last + pd.Timedelta(days=1))
    axes.grid(axis="y", color="#eee")
    _date_axis(axes)
    return chart
