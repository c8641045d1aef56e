"""Reading the signals back: daily trend rows, a per-day frame for analysis, exports.

`trend(store, scenario, since, until)` returns a pandas DataFrame with one row
per day and case: day, scenario, case, articles, probability (the table the
`signals trend` command prints).

`daily_frame(store, scenario, since, until)` is the analysis API: one row per
calendar day x case over the whole range, with

    day          pandas Timestamp (midnight), every calendar day in the range
    scenario     the scenario id
    case         base, accelerated, contraction, none (in that order within a day)
    ingested     articles in the store published that day (any scenario, classified or not)
    classified   articles of that day with a prediction from the scenario's current model
    covered      True when classified > 0; a day with no classified articles is missing
    articles     articles whose predicted label is this case         (NaN when not covered)
    probability  the case's summed probability mass over the day's articles (NaN when not covered)
    share        probability / the day's total mass over all four labels (NaN when not covered)
    articles_7d, probability_7d
                 mean over the 7 calendar days ending that day, missing days left out
                 (NaN only when all 7 days are missing)
    share_7d     the case's mass / all mass over the same 7 days

A day with nothing ingested is missing data, not a quiet day: its values are
NaN, never 0, so averages and charts do not read an outage as calm.

`outlet_breakdown(...)` splits the same mass by outlet; `article_predictions(...)`
is the per-article query the odds, alerts and report modules build on.
`write_frame` / `emit_frame` export any of these frames as CSV, JSON or Parquet.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from collections.abc import Iterable
from typing import TextIO

import numpy as np
import pandas as pd

from .errors import SignalsError
from .records import LABELS, is_zero_shot
from .scenario import Scenario
from .store import Store

TREND_COLUMNS = ["day", "scenario", "case", "articles", "probability", "stories", "model"]  # model: the model version or zero-shot recipe
DAILY_COLUMNS = [
    "day", "scenario", "case", "ingested", "classified", "covered", "articles", "probability", "share",
    "articles_7d", "probability_7d", "share_7d",
]
ARTICLE_COLUMNS = [
    "id", "day", "published", "title", "summary", "text", "outlet", "link", "label",
    "p_base", "p_accelerated", "p_contraction", "p_none", "evidence", "story",
]
EXPORT_FORMATS = ("csv", "json", "parquet")
ROLLING_DAYS = 7


def scenario_id(scenario) -> str:
    """The id of a scenario given as an id string or a loaded `Scenario` pack."""
    return scenario if isinstance(scenario, str) else scenario.id


def trend(store: Store, scenario: str, since: date | None = None, until: date | None = None,
          digits: int | None = 3) -> pd.DataFrame:
    """Daily signal rows, oldest first, cases in a fixed order (base, accelerated, contraction, none); the mass
    (probability) rounded to `digits` (None: unrounded, for `trend_by_week`, which rounds the week's sum)."""
    frame = store.daily_signals(scenario_id(scenario), since, until, digits=digits).rename(columns={"model_version": "model"})
    frame["day"] = pd.to_datetime(frame["day"]).dt.strftime("%Y-%m-%d")
    return frame[TREND_COLUMNS]


TREND_LEGEND = (
    "each cell: stories/articles (mass): distinct stories and articles the model labelled that case, and the "
    "summed probability it gave the case over all the day's articles; '-' = no data that day (nothing classified: "
    "missing, not quiet); leading = the scenario case with the most articles"
)
WEEK_LEGEND = (
    "each cell: stories/articles (mass) summed over the ISO week's days (a story running over several days counts "
    "once a day); days = how many of the week's 7 days have data; '-' = no data that week; weeks are whole: "
    "--since and --until are widened to their week's Monday and Sunday; leading = the scenario case with the most articles"
)
WEEK_COLUMNS = ["week", "scenario", "case", "articles", "probability", "stories", "days", "model"]


def whole_weeks(since: date | None, until: date | None) -> tuple[date | None, date | None]:
    """Pure: `since` moved back to its ISO week's Monday and `until` forward to its Sunday (None stays None), so
    a week row always describes the whole week, not the part of it a range happens to cut."""
    monday = since - timedelta(days=since.weekday()) if since else None
    sunday = until + timedelta(days=6 - until.weekday()) if until else None
    return monday, sunday


def iso_week(day: date | pd.Timestamp) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def trend_by_week(frame: pd.DataFrame) -> pd.DataFrame:
    """Pure: `trend` rows summed per ISO week (week 'YYYY-Www'); `days` counts the days with data.

    Stories are summed over the week's days, so a story running over several days counts once per day. The mass is
    rounded to 3 digits after summing: give it `trend(..., digits=None)` rows, or it sums values already rounded."""
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in WEEK_COLUMNS})
    out = frame.assign(week=[iso_week(d) for d in pd.to_datetime(frame["day"])])
    grouped = out.groupby(["week", "scenario", "case"], sort=False)
    weekly = grouped.agg(articles=("articles", "sum"), probability=("probability", "sum"), stories=("stories", "sum"),
                         days=("day", "nunique"), model=("model", "last")).reset_index()
    weekly["probability"] = weekly["probability"].round(3)
    order = {c: i for i, c in enumerate(("base", "accelerated", "contraction", "none"))}
    weekly = weekly.sort_values(["week", "case"], key=lambda col: col.map(order) if col.name == "case" else col)
    return weekly[WEEK_COLUMNS].reset_index(drop=True)


def trend_table(frame: pd.DataFrame, since: date | None = None, until: date | None = None) -> pd.DataFrame:
    """One row a day (or a week, for `trend_by_week` rows), a column per case: 'stories/articles (mass)',
    plus the leading case. Days from since (or the first row) to until (or the last) with no row are
    shown as '-' (missing), not left out."""
    if frame.empty:
        return frame
    key = "week" if "week" in frame.columns else "day"
    wide = frame.pivot(index=key, columns="case", values="articles").fillna(0).astype(int)
    mass = frame.pivot(index=key, columns="case", values="probability").fillna(0.0)
    stories = frame.pivot(index=key, columns="case", values="stories").fillna(0).astype(int) if "stories" in frame else wide
    cases = [c for c in ("base", "accelerated", "contraction", "none") if c in wide.columns]
    out = pd.DataFrame(
        {c: [f"{stories.at[d, c]}/{wide.at[d, c]} ({mass.at[d, c]:.1f})" for d in wide.index] for c in cases}, index=wide.index
    )
    scenario_cases = [c for c in cases if c != "none"]
    out["leading"] = [
        max(scenario_cases, key=lambda c: (wide.at[d, c], mass.at[d, c])) if wide.loc[d, scenario_cases].sum() else "-"
        for d in wide.index
    ]
    if key == "week":
        days = frame.groupby("week")["days"].max()
        out.insert(0, "days", [f"{int(days[w])}/7" for w in out.index])
        if since and until:  # a week of the range with no data at all is shown as missing, as a day is
            every_week = list(dict.fromkeys(iso_week(d) for d in calendar(since, until)))
            out = out.reindex(sorted(set(every_week) | set(out.index)), fill_value="-")
            out.loc[out["days"] == "-", "days"] = "0/7"
            out.index.name = "week"
        return out
    first = pd.Timestamp(since) if since else pd.Timestamp(min(out.index))
    last = pd.Timestamp(until) if until else pd.Timestamp(max(out.index))
    every_day = [d.strftime("%Y-%m-%d") for d in calendar(first, last)]
    out = out.reindex(every_day, fill_value="-")
    out.index.name = "day"
    return out


# ---------------------------------------------------------------- store queries


def current_model_version(store: Store, scenario) -> str | None:
    """The model whose predictions the scenario's daily signals were built from, else the newest predicting one."""
    sid = scenario_id(scenario)
    version = store.signals_model_version(sid)
    return version if version is not None else store.newest_model_version(sid)


def gate_note(store: Store, pack: Scenario) -> str:
    """The line a read says when none of the pack's stored predictions (of `current_model_version`) passed its
    relevance gate, '' otherwise: every one of them is then `none` by the gate alone, and its trend, odds and brief
    would read as quiet news. A gated-out article gets the model's fixed gate probabilities, the same for each, and
    is `none`; so more than one prediction, every one `none` with the same probabilities, is a gate that passed
    nothing (`Store.gated_out_only`: it stops at the first other call, where reading every stored text through the
    gate would cost each read a scan of the store)."""
    version = current_model_version(store, pack)
    scored = store.gated_out_only(pack.id, version) if version is not None else 0
    return pack.gate_count(scored=scored).note() if scored > 1 else ""


def within_data(store: Store, until: date | None, command: str, option: str = "--until",
                scored: date | None = None) -> tuple[date | None, str]:
    """`until` brought back to the newest day with articles, and a one-line note when it moved. Past the data the
    odds would only decay toward the priors and a deadline would pass "without firing": days the store cannot see
    read as quiet days, which they are not (a day with nothing ingested is missing). An `until` before the first
    article is refused (the error names `option`, the flag that gave it): nothing up to it was read, and the priors
    with every indicator "not fired" would read as news. `scored` is the pack's newest scored day where its data
    ends before the store's (a pack the settings no longer watch, `scored_until`): the day brought back to."""
    newest = scored or store.last_published_day()
    if until is not None and newest is not None and until < (first := store.first_published_day()):
        raise SignalsError(f"{command}: the last day {until} is before the first data ({first}, the oldest article); "
                           f"give a later {option}")
    if until is None or newest is None or until <= newest:
        return until, ""
    what = "the pack's newest scored day" if scored else "the newest article"
    return newest, f"{command}: no data after {newest} ({what}); shown as of {newest}, not {until}"


def ingested_per_day(store: Store, since: date | None = None, until: date | None = None) -> pd.Series:
    """Articles in the store per publication day (a Series indexed by Timestamp)."""
    frame = store.ingested_per_day(since, until)
    return pd.Series(frame["n"].to_numpy(), index=pd.to_datetime(frame["day"]), dtype="int64", name="ingested")


def daily_rows(store: Store, scenario, since: date | None = None, until: date | None = None) -> pd.DataFrame:
    """The stored daily_signals rows (day as Timestamp, case, articles, probability), unrounded."""
    frame = store.daily_signals(scenario_id(scenario), since, until)
    frame["day"] = pd.to_datetime(frame["day"])
    return frame[["day", "case", "articles", "probability"]]


def scored_until(store: Store, scenario, version: str | None = None) -> date | None:
    """The newest day with an article the scenario's current model (or `version`, when the caller has it) scored:
    where `odds` ends when no day is given (its path runs to the last of `article_predictions`), and where a pack no
    longer watched stops having data."""
    version = version or current_model_version(store, scenario)
    return store.last_predicted_day(scenario_id(scenario), version) if version is not None else None


def article_predictions(
    store: Store, scenario, since: date | None = None, until: date | None = None, model_version: str | None = None,
    text: bool = False,
) -> pd.DataFrame:
    """One row per dated article with a prediction from the scenario's model (default: its current model).

    Columns: id, day (Timestamp), published, title, summary, text ('' unless text=True), outlet,
    link, label, p_base, p_accelerated, p_contraction, p_none, evidence (a list of sentences),
    story (the article's story id, or its own id when it has none). Oldest first.
    """
    version = model_version or current_model_version(store, scenario)
    if version is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ARTICLE_COLUMNS})
    frame = store.article_predictions(scenario_id(scenario), version, since, until, text)
    frame["day"] = pd.to_datetime(frame["day"])
    frame["evidence"] = [json.loads(e) if e else [] for e in frame["evidence"]]
    return frame[ARTICLE_COLUMNS]


# ---------------------------------------------------------------- the daily frame


def calendar(since: date | pd.Timestamp, until: date | pd.Timestamp) -> pd.DatetimeIndex:
    """Every calendar day from since to until inclusive (empty when until < since)."""
    return pd.date_range(pd.Timestamp(since).normalize(), pd.Timestamp(until).normalize(), freq="D", name="day")


def build_daily_frame(
    rows: pd.DataFrame, ingested: pd.Series, scenario: str, since: date | None = None, until: date | None = None,
    window: int = ROLLING_DAYS,
) -> pd.DataFrame:
    """Pure: the daily frame (see the module docstring) from daily_signals rows and ingested counts.

    `rows` has day (Timestamp), case, articles, probability; `ingested` is a Series of article
    counts indexed by day. since/until default to the first and last day seen in either.
    """
    seen = pd.DatetimeIndex(rows["day"]).append(pd.DatetimeIndex(ingested.index))
    if since is None and until is None and seen.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in DAILY_COLUMNS})
    first = pd.Timestamp(since) if since is not None else seen.min()
    last = pd.Timestamp(until) if until is not None else seen.max()
    if pd.isna(first):
        first = last
    if pd.isna(last):
        last = first
    days = calendar(first, last)
    labels = list(LABELS)

    articles = rows.pivot_table(index="day", columns="case", values="articles", aggfunc="sum")
    mass = rows.pivot_table(index="day", columns="case", values="probability", aggfunc="sum")
    articles = articles.reindex(index=days, columns=labels).astype("float64")
    mass = mass.reindex(index=days, columns=labels).astype("float64")
    classified = articles.sum(axis=1, min_count=1).fillna(0.0)
    covered = classified > 0
    # Inside a covered day a case with no row is a true zero; a day with no coverage stays NaN.
    articles = articles.where(~covered, articles.fillna(0.0), axis=0).where(covered, np.nan, axis=0)
    mass = mass.where(~covered, mass.fillna(0.0), axis=0).where(covered, np.nan, axis=0)
    day_mass = mass.sum(axis=1, min_count=1)
    share = mass.div(day_mass.where(day_mass > 0), axis=0)

    roll = dict(window=window, min_periods=1)
    articles_7d = articles.rolling(**roll).mean()
    mass_7d = mass.rolling(**roll).mean()
    mass_7d_sum = mass.rolling(**roll).sum()
    total_7d = mass_7d_sum.sum(axis=1, min_count=1)
    share_7d = mass_7d_sum.div(total_7d.where(total_7d > 0), axis=0)

    def long(wide: pd.DataFrame, name: str) -> pd.Series:
        return wide.stack(future_stack=True).rename(name)

    out = pd.concat(
        [long(articles, "articles"), long(mass, "probability"), long(share, "share"),
         long(articles_7d, "articles_7d"), long(mass_7d, "probability_7d"), long(share_7d, "share_7d")],
        axis=1,
    )
    out.index = out.index.set_names(["day", "case"])
    out = out.reset_index()
    out["scenario"] = scenario
    out["ingested"] = out["day"].map(ingested.reindex(days).fillna(0).astype("int64")).astype("int64")
    out["classified"] = out["day"].map(classified.astype("int64")).astype("int64")
    out["covered"] = out["day"].map(covered).astype(bool)
    return out[DAILY_COLUMNS]


def daily_frame(
    store: Store, scenario, since: date | None = None, until: date | None = None, window: int = ROLLING_DAYS
) -> pd.DataFrame:
    """The daily frame over every calendar day from since to until (see the module docstring).

    Without since/until the range runs from the first to the last day with articles or signals. The rolling
    values of the first days of the range read the `window - 1` stored days before `since` too, so they do not
    depend on where the range starts.
    """
    lead = since - timedelta(days=window - 1) if since is not None else None
    rows = daily_rows(store, scenario, lead, until)
    ingested = ingested_per_day(store, lead, until)
    frame = build_daily_frame(rows, ingested, scenario_id(scenario), lead, until, window)
    if since is None or frame.empty:
        return frame
    return frame[frame["day"] >= pd.Timestamp(since)].reset_index(drop=True)


def outlet_breakdown(store: Store, scenario, since: date | None = None, until: date | None = None) -> pd.DataFrame:
    """Per outlet and case: articles labelled that case, probability mass, share of the outlet's mass.

    Columns: outlet, case, articles, probability, share, outlet_articles. Outlets with the most
    classified articles first; cases in the fixed order.
    """
    return build_outlet_breakdown(article_predictions(store, scenario, since, until))


def build_outlet_breakdown(predictions: pd.DataFrame) -> pd.DataFrame:
    """Pure: the outlet breakdown from an `article_predictions` frame."""
    columns = ["outlet", "case", "articles", "probability", "share", "outlet_articles"]
    if predictions.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    frames = []
    for case in LABELS:
        grouped = predictions.groupby("outlet")
        frames.append(pd.DataFrame({
            "outlet": grouped.size().index,
            "case": case,
            "articles": grouped["label"].apply(lambda s, c=case: int((s == c).sum())).to_numpy(),
            "probability": grouped[f"p_{case}"].sum().to_numpy(),
            "outlet_articles": grouped.size().to_numpy(),
        }))
    out = pd.concat(frames, ignore_index=True)
    totals = out.groupby("outlet")["probability"].transform("sum")
    out["share"] = out["probability"] / totals.where(totals > 0)
    out["_case"] = out["case"].map({c: i for i, c in enumerate(LABELS)})
    out = out.sort_values(["outlet_articles", "outlet", "_case"], ascending=[False, True, True])
    return out[columns].reset_index(drop=True)


# ---------------------------------------------------------------- export


def jsonable(frame: pd.DataFrame) -> list[dict]:
    """Records with ISO dates and NaN as null, ready for json.dumps."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d").where(out[column].notna(), None)
    out = out.astype(object).where(out.notna(), None)
    records = out.to_dict(orient="records")
    for record in records:
        for key, value in record.items():
            if isinstance(value, (np.floating, float)):
                record[key] = None if np.isnan(value) else float(value)
            elif isinstance(value, np.integer):
                record[key] = int(value)
            elif isinstance(value, np.bool_):
                record[key] = bool(value)
            elif isinstance(value, (date, datetime)):
                record[key] = value.isoformat()
            elif isinstance(value, np.ndarray):
                record[key] = value.tolist()
    return records


def frame_to_text(frame: pd.DataFrame, fmt: str) -> str:
    """CSV or JSON text of a frame (JSON: a list of records, NaN as null, dates as YYYY-MM-DD)."""
    if fmt == "csv":
        return frame.to_csv(index=False, date_format="%Y-%m-%d")
    if fmt == "json":
        return json.dumps(jsonable(frame), ensure_ascii=False)
    raise SignalsError(f"cannot write a frame as text in format '{fmt}'; use csv or json")


def write_frame(frame: pd.DataFrame, path: Path | str, fmt: str | None = None) -> Path:
    """Write a frame to `path` as csv, json or parquet (fmt defaults to the file's suffix). Returns the path."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt not in EXPORT_FORMATS:
        raise SignalsError(f"{path}: cannot tell the export format; use a .csv, .json or .parquet name or say --format")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        path.write_text(frame_to_text(frame, fmt) + ("" if fmt == "csv" else "\n"), encoding="utf-8")
    return path


def emit_frame(frame: pd.DataFrame, fmt: str, output: Path | str | None = None, stream: TextIO | None = None) -> None:
    """Write a frame in fmt (csv, json, parquet) to `output`, or print it (csv, json) to `stream`.

    Parquet is binary and needs an output file.
    """
    if output is not None:
        write_frame(frame, output, fmt)
        return
    if fmt == "parquet":
        raise SignalsError("--format parquet writes a binary file: give it one with --output FILE.parquet")
    text = frame_to_text(frame, fmt)
    (stream or sys.stdout).write(text if text.endswith("\n") else text + "\n")


def model_note(models: Iterable[str], scenario: str = "NAME", trained: str | None = None) -> str:
    """The line every output shows while its signals do not come from the pack's active model ('' otherwise): some
    come from the zero-shot recipe, or, between `signals train` and the next import, from the model it replaced (a
    trial's analyst read the replaced model's odds after a promotion, with nothing said). `trained`, the pack's active
    model in the registry when there is one: while the store still holds zero-shot calls, telling the analyst to
    train again would send them in a circle."""
    models = [str(m) for m in dict.fromkeys(models) if m]
    rescore = "re-scores them at the next 'signals run' or 'signals import' that watches the pack (in 'scenarios')"
    if any(is_zero_shot(m) for m in models):
        if trained:
            return ("zero-shot: these signals are scored against the brief's prototypes, not calibrated on its news; "
                    f"model {trained} is trained and {rescore}")
        return ("zero-shot: this scenario has no trained model yet; its cases are scored against the brief's prototypes "
                f"and the probabilities are not calibrated on its news (label 50 items, then 'signals train --scenario {scenario}')")
    if trained and models and trained not in models:
        return f"these signals come from model {', '.join(models)}; the active model, {trained}, {rescore}"
    return ""
