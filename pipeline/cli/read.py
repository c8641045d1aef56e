"""`signals trend`, `odds`, `alerts`, `report` and `brief`: read the store and show what it says.

All of them open the store read-only, so they can run while an ingest is writing.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from ..errors import SignalsError
from .app import DAY, PATH, SignalsCommand, settings

SCENARIO_HELP = "the scenario pack (default: the first watched one)"


def odds_options(command):
    """The model options `signals odds`, `report` and `brief` share."""
    from ..odds import DEFAULT_DAILY_CAP, DEFAULT_HALF_LIFE, DEFAULT_STRENGTH, MIN_RECALL

    options = [
        click.option("--half-life", type=float, default=DEFAULT_HALF_LIFE,
                     help=f"days for news to lose half its weight (default {DEFAULT_HALF_LIFE:g})"),
        click.option("--strength", type=float, default=DEFAULT_STRENGTH, help=f"prior worth, in stories (default {DEFAULT_STRENGTH:g})"),
        click.option("--daily-cap", type=float, default=DEFAULT_DAILY_CAP,
                     help=f"most stories' worth one day can add (default {DEFAULT_DAILY_CAP:g})"),
        click.option("--min-recall", type=click.FloatRange(0, 1), default=MIN_RECALL,
                     help=f"a case below this measured recall is held at its prior (default {MIN_RECALL:g})"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def watched_pack(current):
    """The pack the command reads (--scenario, else the first watched), loaded, and the day its data ends when that is
    not the store's newest article. A pack that no ingest classifies for (not in `scenarios`) and of which the store
    holds no prediction is refused: its "quiet" trend, priors-only odds and empty brief would read as news, when
    nothing was ever read for it. One with predictions that stop before the store's newest article (no longer watched,
    or watched again after imports it missed) is read up to its newest scored day (`scored_until`, where `odds` ends),
    said on stderr: the articles stored after it were never scored for it, and days of them would read as a quiet
    week. A pack whose gate passed none of the articles it scored is said on
    stderr too (`signals.gate_note`), for the same reason. The watched packs are the settings' own: `current` has
    --scenario in place of `scenario`, which with no `scenarios` list is all an ingest reads. Returns (pack, that
    day or None)."""
    from ..scenario import load_scenario
    from ..signals import current_model_version, gate_note, scored_until
    from ..store import Store

    pack = load_scenario(current.scenario_dir)
    watched = settings().scenario_ids
    if Path(current.db).exists():
        with Store(current.db, read_only=True) as store:
            if store.newest_model_version(current.scenario) is not None:
                if note := gate_note(store, pack):  # said, not refused: the reads stand, every call `none` by the gate
                    print(f"signals: {note}", file=sys.stderr)
                version = current_model_version(store, pack)
                scored, newest = scored_until(store, pack, version), store.last_published_day()
                if scored is not None and current.scenario in watched and (
                        unscored := store.count_pending(current.scenario, version, scored)):
                    print(f"signals: scenario {current.scenario}: {unscored} stored article{'s' if unscored != 1 else ''}"
                          f" dated up to {scored} {'are' if unscored != 1 else 'is'} not scored for it yet (a run was "
                          "stopped before scoring them, or one is under way), so their days read quieter than they "
                          "were; the run under way, or else the next 'signals run' or 'signals import', scores them",
                          file=sys.stderr)
                if scored is None or newest is None or newest <= scored:
                    return pack, None
                if current.scenario in watched:  # watched again after imports it missed, or an import still running
                    print(f"signals: scenario {current.scenario}: the articles after {scored}, its newest scored day, "
                          f"are not scored for it yet; shown up to {scored} (the next 'signals run' or 'signals import' "
                          "scores them)", file=sys.stderr)
                else:
                    print(f"signals: scenario {current.scenario} is not watched by these settings (scenarios = "
                          f"{list(watched)}), so the articles after {scored}, its newest scored day, were not scored "
                          f"for it; shown up to {scored} (add it to 'scenarios', then run 'signals run', to score them)",
                          file=sys.stderr)
                return pack, scored
            if current.scenario not in watched:
                raise SignalsError(f"scenario {current.scenario} is not watched (scenarios = {list(watched)} "
                                   "in the settings) and the store holds no prediction for it; add it to 'scenarios', "
                                   "then run 'signals run'")
            if store.last_published_day() is not None:  # a pack just added (or a first import still running):
                # said, not refused, so that an empty trend does not read as quiet news and a reader can follow an import
                print(f"signals: scenario {current.scenario} has no predictions yet; the next 'signals run' or "
                      "'signals import' (of any source) scores the stored articles for it", file=sys.stderr)
    return pack, None


@click.command("trend", cls=SignalsCommand, help="daily signals for a scenario and date range")
@click.option("--scenario", help=SCENARIO_HELP)
@click.option("--since", type=DAY, help="first day, YYYY-MM-DD (default: the first with signals)")
@click.option("--until", type=DAY, help="last day, YYYY-MM-DD (default: the last with signals)")
@click.option("--format", "fmt", type=click.Choice(("table", "csv", "json", "parquet")), default="table",
              help="output format (default: table)")
@click.option("--output", type=PATH, help="write to this file instead of printing (needed for parquet)")
@click.option("--by", type=click.Choice(("day", "week")), default="day",
              help="one row per day (default) or per ISO week; weeks are whole: --since and --until widen to their Monday and Sunday")
def trend_command(scenario: str | None, since: date | None, until: date | None, fmt: str, output: Path | None, by: str) -> int:
    from ..signals import trend, trend_by_week, whole_weeks
    from ..store import Store

    current = settings(scenario)
    watched_pack(current)  # an unknown scenario is an error, not an empty range
    if by == "week":
        since, until = whole_weeks(since, until)
    with Store(current.db, read_only=True) as store:
        frame = trend(store, current.scenario, since, until, digits=None if by == "week" else 3)  # a week rounds its sum
    if by == "week":
        if not frame.empty:  # the weeks to show run from the first to the last week of the range or the data
            since, until = since or date.fromisoformat(frame["day"].min()), until or date.fromisoformat(frame["day"].max())
        frame = trend_by_week(frame)
    return emit_trend(frame, fmt, output, since=since, until=until, trained=trained_version(current, current.scenario))


def trained_version(current, scenario_id: str) -> str | None:
    """The pack's active model in the registry, if any: trained since the store's calls were made, it is what the
    model note names (`signals.model_note`)."""
    from ..registry import Registry

    active = Registry(Path(current.models_dir)).active(scenario_id)
    return active.version if active else None


def emit_trend(frame, fmt: str, output: Path | str | None = None, stream=None,
               since: date | None = None, until: date | None = None, trained: str | None = None) -> int:
    """What `signals trend` does with its frame for every --format: table, csv, json, parquet.

    table prints a legend line and the per-day (or per-week) table, missing days shown as '-' over
    since..until; a range with no data at all is every day (week) of it as '-', with a note on stderr (the note
    alone when the range is open at one end). The others go through `emit_frame`, to --output when given: their
    rows are the data's, so a day without data has none. Returns the exit code.
    """
    import pandas as pd

    from ..records import LABELS
    from ..signals import TREND_LEGEND, WEEK_LEGEND, calendar, emit_frame, iso_week, model_note, trend_table

    stream = stream or sys.stdout
    if fmt == "table":
        if output is not None:
            raise SignalsError("--format table prints to the terminal; use csv, json or parquet with --output")
        if frame.empty:
            weekly = "week" in frame.columns
            print(f"no signals in that range: no {'week' if weekly else 'day'} of it has data", file=sys.stderr)
            if since and until and since <= until:  # every day (week) of the range, missing: shown, not left out
                days = calendar(since, until)
                index = list(dict.fromkeys(iso_week(d) for d in days)) if weekly else [f"{d:%Y-%m-%d}" for d in days]
                table = pd.DataFrame("-", index=pd.Index(index, name="week" if weekly else "day"),
                                     columns=(["days"] if weekly else []) + list(LABELS) + ["leading"])
                if weekly:
                    table["days"] = "0/7"
                stream.write((WEEK_LEGEND if weekly else TREND_LEGEND) + "\n" + table.to_string() + "\n")
        else:
            pack = str(frame["scenario"].iloc[0]) if "scenario" in frame else "NAME"
            note = model_note(frame["model"], pack, trained) if "model" in frame else ""
            legend = WEEK_LEGEND if "week" in frame.columns else TREND_LEGEND
            stream.write((note + "\n" if note else "") + legend + "\n" + trend_table(frame, since, until).to_string() + "\n")
        return 0
    emit_frame(frame, fmt, output, stream)
    if output is not None:
        print(f"{len(frame)} rows written to {output}", file=sys.stderr)
    return 0


@click.command("odds", cls=SignalsCommand, help="scenario odds today with intervals, their path, and the stories that moved them")
@click.option("--scenario", help=SCENARIO_HELP)
@click.option("--since", type=DAY, help="first day of the path, YYYY-MM-DD")
@click.option("--until", type=DAY, help="the day the odds are for, YYYY-MM-DD (default: the newest data)")
@odds_options
@click.option("--top", type=click.IntRange(min=0), default=5, help="how many movers to list (default 5)")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", help="output format (default: table)")
def odds_command(scenario, since, until, half_life, strength, daily_cap, min_recall, top, fmt) -> int:
    import numpy as np
    import pandas as pd

    from ..odds import (
        INTERVAL, OddsModel, compute_path, developments, format_odds, movers_as_of, odds_summary, percent_path,
        rank_movers, shorten, visibility,
    )
    from ..records import CASES
    from ..signals import article_predictions, model_note, within_data
    from ..store import Store

    current = settings(scenario)
    pack, scored = watched_pack(current)
    with Store(current.db, read_only=True) as store:
        until, clipped = within_data(store, until, "odds", scored=scored)
        last = until if until is not None else (scored or store.last_published_day())  # no --until: the newest data
        if since and last and since > last:  # (a reversed --since/--until is refused before this)
            raise SignalsError(f"odds: the first day {since} is after the newest data ({last}); give an earlier --since")
        if clipped:
            print(clipped, file=sys.stderr)
        seen = visibility(store, pack, current.models_dir, min_recall)
        predictions = article_predictions(store, pack, None, until)
    model = OddsModel.for_scenario(pack, half_life, strength, daily_cap, seen.measurable)
    path = compute_path(predictions, model, since, until)
    # movers of the week up to the last day (or of --since..), so one heavy last day does not fill the list
    week = (path["day"].iloc[-1] - pd.Timedelta(days=6)) if not path.empty else None
    top_movers = (movers_as_of(predictions, model, path["day"].iloc[-1], since or week, top)
                  if not path.empty else rank_movers(predictions.iloc[0:0], np.zeros(3), np.zeros(0), model=model))
    biggest = developments(predictions, model, path["day"].iloc[-1], since or week, 3) if not path.empty else None
    if fmt == "json":
        print(json.dumps(odds_summary(path, top_movers, model, pack.id, seen, biggest), ensure_ascii=False))
        return 0
    if path.empty or predictions.empty:  # before any news the path would be the priors, day after day
        print("no predictions in that range; the odds are the priors: "
              + ", ".join(f"{c} {p:.0%}" for c, p in model.priors.items()), file=sys.stderr)
        return 0
    latest = path.iloc[-1]
    if note := model_note([seen.model_version], pack.id, seen.active_version):
        print(note)
    print(f"odds for {pack.id} as of {latest['day']:%Y-%m-%d} (half-life {model.half_life:g} days, prior strength "
          f"{model.strength:g}, at most {model.daily_cap:g} stories' worth a day; {INTERVAL:.0%} intervals):")
    print("  " + "   ".join(f"{c} {format_odds(latest[c], latest[f'{c}_low'], latest[f'{c}_high'])}" for c in CASES)
          + f"   (on {latest['evidence']:.1f} stories' worth of news)")
    for case in model.blind_cases():
        print(f"  {seen.describe(case)}; recall from {seen.source}")
    seen_days = pd.DatetimeIndex(predictions["day"]).normalize()  # before the first of them the odds are the priors
    last_week = pd.date_range(max(latest["day"] - pd.Timedelta(days=6), seen_days.min()), latest["day"], freq="D")
    unseen = int((~last_week.isin(seen_days)).sum())
    if unseen:  # the odds fade over a day without data as over a quiet day: say so (`signals.daily_frame`'s `covered`)
        print(f"  {unseen} of the {len(last_week)} days up to {latest['day']:%Y-%m-%d} {'has' if unseen == 1 else 'have'} no "
              "classified articles: missing, not quiet, though the odds fade over them as over quiet days")
    print()
    print(percent_path(path).to_string(index=False))
    if not biggest.empty:
        print()
        print("biggest developments (a day's stories pushing one way, led by its biggest story):")
        for row in biggest.itertuples():
            print(f"  {row.contribution * 100:5.2f} pts toward {row.toward:<11} {row.day:%Y-%m-%d} {row.others + 1:>3} stories, "
                  f"led by [{row.outlet}] {shorten(row.title, 80)}")
    if not top_movers.empty:
        print()
        print(f"top movers since {(pd.Timestamp(since) if since else week):%Y-%m-%d} (one row per story; a day of more "
              f"than {model.daily_cap:g} stories' worth shares its weight among its stories, so a story of a light day can "
              "rank above the stories that moved the odds: the developments above give each day's whole weight):")
        for row in top_movers.itertuples():
            copies = f" (+{row.articles - 1} more)" if row.articles > 1 else ""
            print(f"  {row.contribution * 100:5.2f} pts toward {row.toward:<11} {row.day:%Y-%m-%d} {row.id}  [{row.outlet}] "
                  f"{shorten(row.title, 90)}{copies}")
    return 0


@click.command("alerts", cls=SignalsCommand, help="which watchlist indicators fired, when, on what evidence; deadlines")
@click.option("--scenario", help=SCENARIO_HELP)
@click.option("--as-of", type=DAY, help="judge as of this day (default: the last day with articles; for a pack no longer watched, its newest scored day)")
@click.option("--limit", type=click.IntRange(min=0), default=20, help="firings to list in the table (default 20)")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", help="output format (default: table)")
def alerts_command(scenario: str | None, as_of: date | None, limit: int, fmt: str) -> int:
    from ..alerts import check_alerts, count_words, status_table
    from ..odds import shorten
    from ..signals import model_note, within_data
    from ..store import Store

    current = settings(scenario)
    pack, scored = watched_pack(current)
    with Store(current.db, read_only=True) as store:
        # an --as-of before the first article is refused: every indicator "not fired" would read as a quiet period;
        # one after the newest data is kept (a deadline the data does not reach reads "unknown", not passed)
        within_data(store, as_of, "alerts", "--as-of")
        report = check_alerts(store, pack, as_of or scored)
    if fmt == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return 0
    if not report.statuses:
        print(f"scenario {pack.id} has no indicators", file=sys.stderr)
        return 0
    newest = f" (the newest data is from {report.data_until})" if report.data_until and report.data_until != report.as_of else ""
    if note := model_note([report.model_version], pack.id, trained_version(current, pack.id)):  # the firings rest on these calls
        print(note)
    print(f"indicators for {pack.id} as of {report.as_of or 'no articles yet'}{newest}:")
    print(status_table(report).to_string(index=False))
    print("(matched: articles whose text matches the indicator, of any label and any day up to then; it fires on "
          "`threshold` stories a day labelled one of its cases, inside its window)")
    if report.firings and limit:
        print()
        print("firings, newest first:")
        for firing in report.firings[:limit]:
            outside = f"; does not count: {firing.outside}" if firing.outside else ""
            print(f"  {firing.day}  {firing.indicator}  ({count_words(firing)}{outside})")
            for ev in firing.evidence[:3]:
                copies = f" (+{ev.copies} {'copy' if ev.copies == 1 else 'copies'})" if ev.copies else ""
                print(f"      {ev.article_id}  [{ev.label}] {shorten(ev.title, 80)}{copies}")
                print(f"          {ev.field}: {ev.snippet}")
    return 0


def _default_weeks() -> int:
    from ..report import DEFAULT_WEEKS

    return DEFAULT_WEEKS


@click.command("report", cls=SignalsCommand,
               help="write one self-contained HTML report: the week's summary, signals, odds, evidence, indicators")
@click.option("--scenario", help=SCENARIO_HELP)
@click.option("--out", type=PATH, required=True, help="the HTML file to write")
@click.option("--png", type=PATH, help="also write the charts as PNG files here")
@click.option("--since", type=DAY, help=f"first day (default: {_default_weeks()} weeks before --until)")
@click.option("--until", type=DAY, help="last day (default: the newest data)")
@odds_options
def report_command(scenario, out, png, since, until, half_life, strength, daily_cap, min_recall) -> int:
    from ..report import write_report
    from ..signals import within_data
    from ..store import Store

    current = settings(scenario)
    pack, scored = watched_pack(current)
    with Store(current.db, read_only=True) as store:
        until, clipped = within_data(store, until, "report", scored=scored)
        if clipped:
            print(clipped, file=sys.stderr)
        path = write_report(store, pack, out, since, until or scored, png, half_life, strength,
                            current.models_dir, min_recall, daily_cap)
    print(f"report written to {path}" + (f"; PNG charts in {png}" if png else ""), file=sys.stderr)
    return 0


@click.command("brief", cls=SignalsCommand,
               help="the week's summary as Markdown: odds and their change, top movers, indicators, blind spots")
@click.option("--scenario", help=SCENARIO_HELP)
@click.option("--week", help="ISO week, e.g. 2026-W15 (default: the 7 days up to the newest data)")
@click.option("--out", type=PATH, help="write to this file instead of printing")
@odds_options
def brief_command(scenario, week, out, half_life, strength, daily_cap, min_recall) -> int:
    from ..report import brief_markdown, parse_week, weekly_brief
    from ..signals import within_data
    from ..store import Store

    current = settings(scenario)
    pack, scored = watched_pack(current)
    week_end = parse_week(week) if week else None
    with Store(current.db, read_only=True) as store:
        text = brief_markdown(weekly_brief(store, pack, week_end, current.models_dir, half_life, strength,
                                           min_recall, daily_cap, scored))
        _, clipped = within_data(store, week_end, "brief", scored=scored)  # the week was brought back to the newest data
    if clipped:
        print(clipped, file=sys.stderr)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        print(f"brief written to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
