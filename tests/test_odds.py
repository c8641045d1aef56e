"""Odds, movers and the daily frame, on small real stores built in tmp_path (no spaCy, no model)."""

from __future__ import annotations

import io
import json
import math
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from pipeline import odds, signals
from pipeline.cli.read import emit_trend
from pipeline.errors import SignalsError
from pipeline.records import CASES, Article, Prediction
from pipeline.store import Store
from signals_app import invoke
from storekit import MODEL, PACK, classified_store, probs




def build_store(path: Path, rows: list[tuple]) -> Path:
    """rows: (id, day of April 2026, label, probabilities[, title, outlet]); builds and refreshes a real store."""
    articles, predictions = [], []
    for row in rows:
        article_id, day, label, p = row[:4]
        title = row[4] if len(row) > 4 else f"Title {article_id}"
        outlet = row[5] if len(row) > 5 else "Outlet A"
        articles.append(Article(article_id, "test", outlet, title, "", f"Body of {article_id}.", datetime(2026, 4, day, 12), f"https://example.org/{article_id}"))
        predictions.append(Prediction(article_id, PACK.id, MODEL, label, p, [f"Evidence sentence for {article_id}."]))
    return classified_store(path, articles, predictions)


@pytest.fixture
def contraction_store(tmp_path):
    """News on April 5-7 only, all of it pointing to contraction."""
    rows = [(f"c{d}-{k}", d, "contraction", probs("contraction", 0.85)) for d in (5, 6, 7) for k in range(3)]
    return build_store(tmp_path / "s.duckdb", rows)


# ---------------------------------------------------------------- odds


def test_odds_start_at_the_priors(contraction_store):
    with Store(contraction_store, read_only=True) as store:
        path = odds.odds_path(store, PACK, date(2026, 4, 1), date(2026, 4, 7))
    assert list(path.columns[:4]) == ["day", "base", "accelerated", "contraction"]
    assert len(path) == 7
    before = path[path["day"] < "2026-04-05"]
    for case, prior in PACK.priors.items():
        assert before[case].tolist() == pytest.approx([prior] * 4)
    assert before["evidence"].tolist() == pytest.approx([0.0] * 4)


def test_one_day_of_evidence_matches_the_model_by_hand(tmp_path):
    path = build_store(tmp_path / "s.duckdb", [("a", 3, "contraction", {"base": 0.1, "accelerated": 0.1, "contraction": 0.7, "none": 0.1})])
    with Store(path, read_only=True) as store:
        row = odds.odds_path(store, PACK, strength=10).iloc[-1]
    # one story of mass M = 0.9 (`none` ignored), saturated: w = 5 (1 - e^(-0.9/5)) / 0.9
    w = 5 * (1 - math.exp(-0.9 / 5)) / 0.9
    alpha = {"base": 5 + 0.1 * w, "accelerated": 3 + 0.1 * w, "contraction": 2 + 0.7 * w}
    total = sum(alpha.values())
    for case, value in alpha.items():
        assert row[case] == pytest.approx(value / total)
    assert row["evidence"] == pytest.approx(0.9 * w)
    assert row["contraction_low"] < row["contraction"] < row["contraction_high"]


def test_a_heavy_day_counts_at_most_the_daily_cap(tmp_path):
    heavy = [(f"h{k}", 3, "contraction", probs("contraction", 0.9)) for k in range(60)]
    path = build_store(tmp_path / "s.duckdb", heavy)
    with Store(path, read_only=True) as store:
        row = odds.odds_path(store, PACK).iloc[-1]
    assert row["evidence"] < odds.DEFAULT_DAILY_CAP  # sixty stories, at most five stories' worth
    assert row["evidence"] > 0.99 * odds.DEFAULT_DAILY_CAP * (1 - math.exp(-60 * 0.9 / 5))


def test_copies_of_one_story_count_once(tmp_path):
    rows = [(f"copy{k}", 3, "contraction", probs("contraction", 0.9)) for k in range(5)]
    path = build_store(tmp_path / "s.duckdb", rows)
    single = build_store(tmp_path / "one.duckdb", rows[:1])
    with Store(path) as store:
        store.save_story_ids({f"copy{k}": "story-x" for k in range(5)})
    with Store(path, read_only=True) as store:
        copies = odds.odds_path(store, PACK).iloc[-1]
        top = odds.movers(store, PACK, date(2026, 4, 3))
    with Store(single, read_only=True) as store:
        one = odds.odds_path(store, PACK).iloc[-1]
    for case in ("base", "accelerated", "contraction", "evidence"):
        assert copies[case] == pytest.approx(one[case])
    assert len(top) == 1 and top.iloc[0]["articles"] == 5 and top.iloc[0]["id"] == "copy0"


def test_a_case_the_model_cannot_see_stays_at_its_prior(contraction_store):
    blind = odds.OddsModel.for_scenario(PACK, measurable=frozenset({"base", "contraction"}))
    with Store(contraction_store, read_only=True) as store:
        path = odds.odds_path(store, PACK, date(2026, 4, 1), date(2026, 4, 7), model=blind)
        seeing = odds.odds_path(store, PACK, date(2026, 4, 1), date(2026, 4, 7))
    assert path["accelerated"].tolist() == pytest.approx([0.3] * 7)  # not pushed down by contraction news
    assert path["accelerated_low"].isna().all() and path["accelerated_high"].isna().all()
    assert seeing["accelerated"].iloc[-1] < 0.25  # the same news does push a visible case down
    assert path["contraction"].iloc[-1] > 0.2 + 0.2 and path[["base", "accelerated", "contraction"]].sum(axis=1).tolist() == pytest.approx([1.0] * 7)
    assert (path["contraction_low"] <= path["contraction"]).all() and (path["contraction"] <= path["contraction_high"]).all()


def test_recall_comes_from_class_recall_else_the_time_split():
    recorded = {"class_recall": {"base": 0.7, "accelerated": None, "contraction": 0.2, "none": 0.9},
                "time_split": {"per_class": {"base": {"recall": 0.1}}}}
    assert odds.case_recall(recorded) == {"base": 0.7, "accelerated": None, "contraction": 0.2}
    assert odds.measurable_cases(odds.case_recall(recorded)) == set()  # base alone: a lone case cannot move
    assert odds.measurable_cases(odds.case_recall(recorded), min_recall=0.2) == {"base", "contraction"}
    fallback = {"time_split": {"per_class": {"base": {"recall": 0.41}, "contraction": {"recall": 0.34}}}}
    assert odds.case_recall(fallback) == {"base": 0.41, "accelerated": None, "contraction": 0.34}
    assert odds.measurable_cases(odds.case_recall(fallback)) == {"base", "contraction"}
    assert odds.measurable_cases(odds.case_recall(fallback), min_recall=0.5) == set()
    assert odds.measurable_cases(odds.case_recall(None)) == set()
    lone = odds.Visibility("v", odds.case_recall(recorded), "test", 0.3, odds.measurable_cases(odds.case_recall(recorded)))
    assert "recall 0.70, but no other case reaches 0.3" in lone.describe("base")
    assert "(recall 0.20, below 0.3)" in lone.describe("contraction")
    # a recall just under the threshold shows the digits that put it under (it read "recall 0.86, below 0.86")
    close = odds.Visibility("v", {"base": 0.8559, "accelerated": None, "contraction": 0.8295}, "test", 0.86, frozenset())
    assert "(recall 0.856, below 0.86)" in close.describe("base")
    assert "(recall 0.83, below 0.86)" in close.describe("contraction")
    hair = odds.Visibility("v", {"base": 0.29999, "accelerated": None, "contraction": None}, "test", 0.3, frozenset())
    assert "(recall 0.29999, below 0.3)" in hair.describe("base")


def test_the_shipped_model_cannot_see_accelerated(contraction_store):
    from pipeline.registry import Registry
    from pipeline.settings import PROJECT_ROOT

    entry = Registry(PROJECT_ROOT / "models").active(PACK.id)
    assert "accelerated" not in odds.measurable_cases(odds.case_recall(entry.metrics))


def test_a_refit_models_recall_is_said_to_come_from_items_held_out_from_the_candidate_only():
    # the recall is measured on items held out from the candidate; the model shipped is then refit on every label,
    # those items included, so "the model did not train on" them is false of it (and of the committed registry)
    legacy = {"class_recall": {"base": 0.86, "accelerated": None, "contraction": 0.83, "none": 0.85},
              "class_recall_source": "1248 held-out labeled items the model did not train on; unknown where fewer than 10"}
    assert odds.recall_source(legacy) == legacy["class_recall_source"]  # a candidate that was not refit: true of it
    refit = {**legacy, "candidate_probes": {"accuracy": 0.8}}
    said = ("1248 labeled items held out from the candidate before its refit on every label; unknown where fewer than 10")
    assert odds.recall_source(refit) == said
    assert odds.recall_source({**refit, "class_recall_source": said}) == said
    assert odds.refit_recall_source("40 labeled items held out from the fit; unknown where fewer than 10").startswith(
        "40 labeled items held out from the candidate before its refit")
    from pipeline.registry import Registry
    from pipeline.settings import PROJECT_ROOT

    shipped = odds.recall_source(Registry(PROJECT_ROOT / "models").active(PACK.id).metrics)
    assert "did not train on" not in shipped


def test_odds_move_toward_the_case_with_evidence(contraction_store):
    with Store(contraction_store, read_only=True) as store:
        path = odds.odds_path(store, PACK, date(2026, 4, 4), date(2026, 4, 7)).set_index("day")
    contraction = path["contraction"].tolist()
    assert contraction[0] == pytest.approx(0.2)
    assert contraction == sorted(contraction) and contraction[-1] > 0.4  # 3 stories a day, squashed by the daily cap
    assert path["base"].iloc[-1] < 0.5 and path["accelerated"].iloc[-1] < 0.3
    assert path[["base", "accelerated", "contraction"]].sum(axis=1).tolist() == pytest.approx([1.0] * 4)


def test_without_news_decay_pulls_the_odds_back_to_the_priors(contraction_store):
    # Chosen behaviour: only the news decays, never the priors; a silent stretch (here April 8-30,
    # not even ingested) halves the evidence every half-life and the odds return to the priors.
    with Store(contraction_store, read_only=True) as store:
        path = odds.odds_path(store, PACK, date(2026, 4, 7), date(2026, 4, 30), half_life=7).set_index("day")
    contraction = path["contraction"]
    assert contraction.is_monotonic_decreasing
    assert path.at[pd.Timestamp("2026-04-14"), "evidence"] == pytest.approx(path.at[pd.Timestamp("2026-04-07"), "evidence"] / 2)
    assert contraction.iloc[-1] - 0.2 < 0.25 * (contraction.iloc[0] - 0.2)
    with Store(contraction_store, read_only=True) as store:
        later = odds.odds_path(store, PACK, date(2026, 4, 30), date(2026, 6, 30)).iloc[-1]
    for case, prior in PACK.priors.items():
        assert later[case] == pytest.approx(prior, abs=1e-3)


def test_a_shorter_half_life_forgets_faster(contraction_store):
    with Store(contraction_store, read_only=True) as store:
        slow = odds.odds_path(store, PACK, date(2026, 4, 20), date(2026, 4, 20), half_life=14).iloc[0]
        fast = odds.odds_path(store, PACK, date(2026, 4, 20), date(2026, 4, 20), half_life=2).iloc[0]
    assert 0.2 < fast["contraction"] < slow["contraction"]


def test_bad_model_parameters_are_refused():
    with pytest.raises(SignalsError, match="half-life"):
        odds.OddsModel(PACK.priors, half_life=0)
    with pytest.raises(SignalsError, match="strength"):
        odds.OddsModel(PACK.priors, strength=-1)


def test_an_empty_store_has_no_path_and_no_movers(tmp_path):
    with Store(tmp_path / "empty.duckdb") as store:
        assert odds.odds_path(store, PACK).empty
        assert odds.movers(store, PACK).empty


# ---------------------------------------------------------------- movers


@pytest.fixture
def mixed_store(tmp_path):
    rows = [
        ("quiet", 10, "none", probs("none", 0.9), "Local weather report"),
        ("strike", 10, "contraction", probs("contraction", 0.95), "Border clash near Taftan", "Outlet B"),
        ("talks", 10, "base", probs("base", 0.6), "Talks continue in Islamabad"),
        ("older", 8, "accelerated", probs("accelerated", 0.9), "Pipeline survey resumes"),
    ]
    return build_store(tmp_path / "s.duckdb", rows)


def test_movers_rank_the_biggest_contributor_first(mixed_store):
    with Store(mixed_store, read_only=True) as store:
        top = odds.movers(store, PACK, date(2026, 4, 10), n=3)
    assert top["id"].tolist() == ["strike", "talks"]  # "quiet" is labelled none: not shown as moving anything
    first = top.iloc[0]
    assert first["toward"] == "contraction" and first["d_contraction"] > 0
    assert first["title"] == "Border clash near Taftan" and first["outlet"] == "Outlet B" and first["label"] == "contraction"
    assert first["evidence"] == ["Evidence sentence for strike."]
    assert top["contribution"].is_monotonic_decreasing
    day_mass = (0.95 + 0.1 / 3) + (0.6 + 0.8 / 3)  # April 10's case mass; "quiet" is labelled none: not evidence
    assert first["weight"] == pytest.approx(float(odds.saturation(day_mass, 5)))


def test_a_movers_delta_is_what_the_odds_lose_without_it(mixed_store, tmp_path):
    # with the saturation held off (a huge cap), leave-one-out is exactly the odds without the story
    uncapped = odds.OddsModel.for_scenario(PACK, daily_cap=1e9)
    with Store(mixed_store, read_only=True) as store:
        top = odds.movers(store, PACK, date(2026, 4, 10), n=1, model=uncapped).iloc[0]
        with_it = odds.odds_path(store, PACK, until=date(2026, 4, 10), model=uncapped).iloc[-1]
    rows = [
        ("quiet", 10, "none", probs("none", 0.9)),
        ("talks", 10, "base", probs("base", 0.6)),
        ("older", 8, "accelerated", probs("accelerated", 0.9)),
    ]
    with Store(build_store(tmp_path / "without.duckdb", rows), read_only=True) as store:
        without = odds.odds_path(store, PACK, until=date(2026, 4, 10), model=uncapped).iloc[-1]
    for case in ("base", "accelerated", "contraction"):
        assert top[f"d_{case}"] == pytest.approx(with_it[case] - without[case])


def test_movers_over_a_range_weigh_older_articles_less(mixed_store):
    with Store(mixed_store, read_only=True) as store:
        ranged = odds.movers(store, PACK, since=date(2026, 4, 8), until=date(2026, 4, 10), n=None)
    older = ranged.set_index("id").loc["older"]
    day_mass = 0.9 + 2 * 0.1 / 3  # its day's case mass (none left out), squashed by the daily cap
    assert older["weight"] == pytest.approx(2 ** (-2 / 7) * 5 * (1 - math.exp(-day_mass / 5)) / day_mass)
    assert set(ranged["id"]) == {"strike", "talks", "older"}


def test_daily_movers_give_each_day_its_own_top_articles(mixed_store):
    with Store(mixed_store, read_only=True) as store:
        history = signals.article_predictions(store, PACK)
    top = odds.daily_movers(history, odds.OddsModel.for_scenario(PACK), n=2)
    assert top["id"].tolist() == ["strike", "talks", "older"]


# ---------------------------------------------------------------- the daily frame (pipeline/signals.py)


def test_missing_days_are_nan_not_zero(tmp_path):
    rows = [("a", 1, "base", probs("base", 0.7)), ("b", 1, "contraction", probs("contraction", 0.6)), ("c", 4, "base", probs("base", 0.8))]
    path = build_store(tmp_path / "s.duckdb", rows)
    with Store(path) as store:
        # an ingested but not yet classified article on April 6: ingested, but still no data
        store.add_articles([Article("late", "test", "Outlet A", "Unclassified", "", "", datetime(2026, 4, 6, 9), "")])
    with Store(path, read_only=True) as store:
        frame = signals.daily_frame(store, PACK.id, date(2026, 4, 1), date(2026, 4, 7))
    assert frame["day"].nunique() == 7 and len(frame) == 28
    by_day = frame.groupby(frame["day"].dt.day)
    for day in (2, 3, 5, 6, 7):
        group = by_day.get_group(day)
        assert not group["covered"].any()
        assert group[["articles", "probability", "share"]].isna().all().all()
    assert by_day.get_group(6)["ingested"].iloc[0] == 1 and by_day.get_group(6)["classified"].iloc[0] == 0
    day1 = by_day.get_group(1).set_index("case")
    assert day1.at["accelerated", "articles"] == 0  # a covered day's empty case is a real zero
    assert day1.at["base", "articles"] == 1 and day1["classified"].iloc[0] == 2
    assert day1["share"].sum() == pytest.approx(1.0)
    assert day1.at["base", "probability"] == pytest.approx(0.7 + 0.4 / 3)
    # the rolling mean leaves missing days out instead of averaging in zeros
    day4 = by_day.get_group(4).set_index("case")
    assert day4.at["base", "articles_7d"] == pytest.approx(1.0)
    assert day4.at["base", "probability_7d"] == pytest.approx(((0.7 + 0.4 / 3) + 0.8) / 2)
    day7 = by_day.get_group(7).set_index("case")
    assert not math.isnan(day7.at["base", "share_7d"])


def test_trend_keeps_its_columns(contraction_store):
    with Store(contraction_store, read_only=True) as store:
        frame = signals.trend(store, PACK.id)
    assert list(frame.columns) == ["day", "scenario", "case", "articles", "probability", "stories", "model"]
    assert frame["day"].iloc[0] == "2026-04-05"


def test_outlet_breakdown(mixed_store):
    with Store(mixed_store, read_only=True) as store:
        frame = signals.outlet_breakdown(store, PACK.id)
    a = frame[frame["outlet"] == "Outlet A"].set_index("case")
    assert frame["outlet"].iloc[0] == "Outlet A" and a["outlet_articles"].iloc[0] == 3
    assert a.at["base", "articles"] == 1 and a.at["none", "articles"] == 1 and a["share"].sum() == pytest.approx(1.0)
    b = frame[frame["outlet"] == "Outlet B"].set_index("case")
    assert b.at["contraction", "probability"] == pytest.approx(0.95)


def test_exports_round_trip(mixed_store, tmp_path):
    with Store(mixed_store, read_only=True) as store:
        frame = signals.daily_frame(store, PACK.id)
    back = pd.read_parquet(signals.write_frame(frame, tmp_path / "daily.parquet"))
    assert len(back) == len(frame) and back["articles"].isna().sum() == frame["articles"].isna().sum()
    records = json.loads((signals.write_frame(frame, tmp_path / "daily.json")).read_text())
    assert records[0]["day"] == "2026-04-08" and any(r["articles"] is None for r in records)
    assert pd.read_csv(signals.write_frame(frame, tmp_path / "daily.csv"))["day"].iloc[0] == "2026-04-08"
    with pytest.raises(SignalsError, match="format"):
        signals.write_frame(frame, tmp_path / "daily.xlsx")


def test_emit_trend_formats(mixed_store, tmp_path, capsys):
    with Store(mixed_store, read_only=True) as store:
        frame = signals.trend(store, PACK.id)
    out = io.StringIO()
    emit_trend(frame, "table", stream=out)
    assert "leading" in out.getvalue()
    emit_trend(frame, "parquet", tmp_path / "t.parquet")
    assert pd.read_parquet(tmp_path / "t.parquet").columns.tolist() == signals.TREND_COLUMNS
    with pytest.raises(SignalsError, match="--output"):
        emit_trend(frame, "parquet")
    out = io.StringIO()
    emit_trend(frame, "json", stream=out)
    assert json.loads(out.getvalue())[0]["day"] == "2026-04-08"


def test_trend_table_has_a_legend_shows_missing_days_and_sums_weeks(tmp_path):
    rows = [("a", 1, "base", probs("base", 0.7)), ("b", 1, "contraction", probs("contraction", 0.6)),
            ("c", 4, "base", probs("base", 0.8)), ("d", 7, "contraction", probs("contraction", 0.9))]
    with Store(build_store(tmp_path / "s.duckdb", rows), read_only=True) as store:
        frame = signals.trend(store, PACK.id)
    out = io.StringIO()
    emit_trend(frame, "table", stream=out, until=date(2026, 4, 8))
    legend, header, *lines = out.getvalue().splitlines()
    assert legend.startswith("each cell: stories/articles (mass)") and "no data" in legend
    by_day = {line.split()[0]: line for line in lines if line.startswith("2026")}
    assert list(by_day) == [f"2026-04-{d:02d}" for d in range(1, 9)]  # April 2, 3, 5, 6 and 8 shown, as missing
    assert by_day["2026-04-02"].split()[1:] == ["-"] * 5
    assert by_day["2026-04-01"].split()[1] == "1/1"
    weekly = signals.trend_by_week(frame)
    # April 1-5 2026 are ISO week 14 (Wed-Sun), April 6-7 week 15
    assert weekly["week"].unique().tolist() == ["2026-W14", "2026-W15"]
    w14 = weekly[weekly["week"] == "2026-W14"].set_index("case")
    assert w14.at["base", "articles"] == 2 and w14.at["contraction", "articles"] == 1 and w14.at["base", "days"] == 2
    out = io.StringIO()
    emit_trend(weekly, "table", stream=out)
    assert "2026-W15" in out.getvalue() and "1/7" in out.getvalue()


def test_trend_by_week_reads_whole_weeks_and_shows_a_week_without_data(tmp_path, monkeypatch):
    # April 2026: the 6th is a Monday. Week 15 has data on the 6th, 8th and 10th; week 16 has none; week 17 on the 22nd.
    rows = [("a", 6, "base", probs("base", 0.7)), ("b", 8, "base", probs("base", 0.8)),
            ("c", 10, "contraction", probs("contraction", 0.9)), ("d", 22, "none", probs("none", 0.9))]
    store = build_store(tmp_path / "s.duckdb", rows)
    monkeypatch.chdir(tmp_path)
    # a range that cuts week 15 on a Wednesday still counts, and sums, the whole week
    result = invoke("--db", store, "trend", "--since", "2026-04-08", "--until", "2026-04-08", "--by", "week", "--format", "json")
    w15 = {row["case"]: row for row in json.loads(result.stdout)}
    assert w15["base"]["week"] == "2026-W15" and w15["base"]["days"] == 3 and w15["base"]["articles"] == 2
    assert w15["contraction"]["articles"] == 1
    result = invoke("--db", store, "trend", "--since", "2026-04-07", "--until", "2026-04-22", "--by", "week")
    note, legend, header, *lines = result.stdout.splitlines()
    assert note.startswith(f"these signals come from model {MODEL};")  # the registry's active model is another
    assert "weeks are whole" in legend and "no data that week" in legend
    by_week = {line.split()[0]: line.split()[1:] for line in lines if line.startswith("2026")}
    assert list(by_week) == ["2026-W15", "2026-W16", "2026-W17"]
    assert by_week["2026-W15"][0] == "3/7" and by_week["2026-W15"][1] == "2/2"
    assert by_week["2026-W16"] == ["0/7"] + ["-"] * 5  # inside the range, no data: shown as missing, not left out
    assert by_week["2026-W17"][0] == "1/7"


def test_a_range_with_no_data_shows_its_days_as_missing_not_nothing(tmp_path, monkeypatch):
    # the README: the table "shows every day of the range (a day without data as '-')"; a range wholly without
    # data printed only "no signals in that range"
    store = build_store(tmp_path / "s.duckdb", [("a", 6, "base", probs("base", 0.7))])
    monkeypatch.chdir(tmp_path)
    result = invoke("--db", store, "trend", "--since", "2026-04-15", "--until", "2026-04-17")
    legend, header, _, *lines = result.stdout.splitlines()
    assert legend.startswith("each cell: stories/articles (mass)") and header.split() == ["base", "accelerated", "contraction", "none", "leading"]
    assert [line.split() for line in lines] == [[f"2026-04-{d}"] + ["-"] * 5 for d in (15, 16, 17)]
    assert "no signals in that range" in result.stderr
    weekly = invoke("--db", store, "trend", "--since", "2026-05-01", "--until", "2026-05-10", "--by", "week")
    legend, header, _, *lines = weekly.stdout.splitlines()
    assert "weeks are whole" in legend and header.split()[0] == "days"
    assert [line.split() for line in lines] == [["2026-W18", "0/7"] + ["-"] * 5, ["2026-W19", "0/7"] + ["-"] * 5]
    # csv and json hold the data's rows only (the README says so): none here
    assert json.loads(invoke("--db", store, "trend", "--since", "2026-04-15", "--until", "2026-04-17", "--format", "json").stdout) == []


def test_a_weeks_mass_is_the_rounded_sum_not_the_sum_of_rounded_days(tmp_path, monkeypatch):
    # six days of week 15 with one base article at 0.8: each day's accelerated mass is 0.0667 (0.067 shown), the
    # week's 0.4; summing the days' rounded values gave 0.402
    rows = [(f"a{d}", d, "base", probs("base", 0.8)) for d in range(6, 12)]
    store = build_store(tmp_path / "s.duckdb", rows)
    monkeypatch.chdir(tmp_path)
    week = {r["case"]: r for r in json.loads(invoke("--db", store, "trend", "--by", "week", "--format", "json").stdout)}
    assert week["accelerated"]["probability"] == pytest.approx(0.4, abs=1e-9)
    assert week["base"]["probability"] == pytest.approx(4.8, abs=1e-9) and week["base"]["days"] == 6
    day = json.loads(invoke("--db", store, "trend", "--format", "json").stdout)  # a day's mass is still shown to 3 digits
    assert {r["probability"] for r in day if r["case"] == "accelerated"} == {0.067}


# ---------------------------------------------------------------- the command


def write_registry(folder: Path, recall: dict) -> Path:
    """A models folder whose registry knows model v1 (the stores' model) with the given class recall."""
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"version": MODEL, "scenario": PACK.id, "file": "x", "sha256": "", "created": "", "label_hash": "",
             "git_commit": "", "libraries": {}, "recipe": "", "status": "active",
             "metrics": {"class_recall": recall, "class_recall_source": "test"}}
    (folder / "registry.json").write_text(json.dumps({"models": [entry]}), encoding="utf-8")
    return folder


def test_odds_command_json_and_table(mixed_store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no signals.toml from the working directory
    models = write_registry(tmp_path / "models", {"base": 0.7, "accelerated": None, "contraction": 0.6, "none": 0.9})
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(models))
    result = invoke("--db", mixed_store, "odds", "--format", "json", "--since", "2026-04-09")
    assert result.return_value == 0
    doc = json.loads(result.stdout)
    assert doc["as_of"] == "2026-04-10" and doc["priors"] == PACK.priors
    assert [p["day"] for p in doc["path"]] == ["2026-04-09", "2026-04-10"]
    assert doc["movers"][0]["id"] == "strike"
    assert sum(doc["odds"].values()) == pytest.approx(1.0)
    result = invoke("--db", mixed_store, "odds")
    assert result.return_value == 0
    text = result.stdout
    assert "as of 2026-04-10" in text and "top movers" in text and "Border clash near Taftan" in text
    assert "accelerated 30% (not measurable yet)" in text and "(recall unknown); held at its prior" in text
    # past the newest article (April 10) the odds would only fade: they are shown as of the data's last day
    result = invoke("--db", mixed_store, "odds", "--format", "json", "--until", "2026-05-01")
    assert json.loads(result.stdout)["as_of"] == "2026-04-10"
    assert "odds: no data after 2026-04-10 (the newest article); shown as of 2026-04-10, not 2026-05-01" in result.stderr
    # before the first article (April 8) nothing was read: the priors would read as a quiet day
    for before_any_news in (["--until", "2026-03-01"], ["--since", "2026-02-01", "--until", "2026-02-03"]):
        with pytest.raises(SignalsError, match=r"odds: the last day 2026-0\d-0\d is before the first data \(2026-04-08, the oldest"):
            invoke("--db", mixed_store, "odds", *before_any_news)
    with pytest.raises(SignalsError, match="the first day 2026-04-20 is after the newest data"):
        invoke("--db", mixed_store, "odds", "--since", "2026-04-20", "--until", "2026-05-01")


def test_a_first_day_after_the_newest_data_is_refused_without_until_too(mixed_store, tmp_path, monkeypatch):
    # with no --until the odds are as of the newest data (April 10); a --since after it had printed the priors
    # as today's odds ("no predictions in that range"), exit 0, and in JSON "as_of": null with the priors
    monkeypatch.chdir(tmp_path)
    for fmt in ("table", "json"):
        with pytest.raises(SignalsError, match=r"odds: the first day 2026-04-20 is after the newest data \(2026-04-10\)"):
            invoke("--db", mixed_store, "odds", "--since", "2026-04-20", "--format", fmt)
    result = invoke("--db", mixed_store, "odds", "--since", "2026-04-10", "--format", "json")  # the last day itself is fine
    assert json.loads(result.stdout)["as_of"] == "2026-04-10"


def test_odds_command_holds_every_case_at_its_prior_for_a_model_the_registry_does_not_know(mixed_store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(tmp_path / "no-models"))
    result = invoke("--db", mixed_store, "odds", "--format", "json")
    assert result.return_value == 0
    doc = json.loads(result.stdout)
    assert doc["odds"] == pytest.approx(PACK.priors) and doc["not_measurable"] == ["base", "accelerated", "contraction"]
    assert doc["movers"] == [] and "not in the registry" in doc["recall_source"]


def test_a_story_labelled_none_is_not_evidence(tmp_path):
    # an off-topic article (a farm-costs story) with a little leftover contraction probability moves nothing
    rows = [("farm", 3, "none", {"base": 0.02, "accelerated": 0.01, "contraction": 0.27, "none": 0.70})]
    with Store(build_store(tmp_path / "s.duckdb", rows), read_only=True) as store:
        row = odds.odds_path(store, PACK).iloc[-1]
        assert odds.movers(store, PACK, date(2026, 4, 3)).empty
    assert row["contraction"] == pytest.approx(0.2) and row["evidence"] == pytest.approx(0.0)


def test_a_heavy_days_stories_move_little_alone_but_together_are_the_biggest_development(tmp_path):
    rows = [(f"talks{k}", 8, "base", probs("base", 0.9)) for k in range(12)] + [("clash", 9, "contraction", probs("contraction", 0.9))]
    with Store(build_store(tmp_path / "s.duckdb", rows), read_only=True) as store:
        history = signals.article_predictions(store, PACK)
    model = odds.OddsModel.for_scenario(PACK)
    single = odds.movers_as_of(history, model, date(2026, 4, 9), date(2026, 4, 8), n=None)
    assert single.iloc[0]["id"] == "clash"  # one story of a quiet day outweighs any one of twelve
    top = odds.developments(history, model, date(2026, 4, 9), date(2026, 4, 8))
    assert top.iloc[0]["toward"] == "base" and top.iloc[0]["others"] == 11
    assert top.iloc[0]["contribution"] == pytest.approx(single[single["toward"] == "base"]["contribution"].sum())
    assert top["toward"].tolist() == ["base", "contraction"]


def test_the_odds_command_gives_the_developments_beside_the_movers(tmp_path, monkeypatch):
    """A trial found all five top movers pointing toward contraction in a week base rose 11 points: the command
    listed them with no word on the daily cap, and its JSON held the movers without the developments."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(write_registry(tmp_path / "models", {c: 0.8 for c in CASES + ("none",)})))
    rows = [(f"talks{k}", 8, "base", probs("base", 0.9)) for k in range(12)] + [("clash", 9, "contraction", probs("contraction", 0.9))]
    store = build_store(tmp_path / "s.duckdb", rows)
    doc = json.loads(invoke("--db", store, "odds", "--format", "json").stdout)
    assert doc["movers"][0]["id"] == "clash"
    assert [(d["toward"], d["others"]) for d in doc["developments"]] == [("base", 11), ("contraction", 0)]
    table = invoke("--db", store, "odds").stdout
    assert "shares its weight among its stories" in table and table.index("biggest developments") < table.index("top movers")
    assert "no classified articles" not in table  # the data starts on the 8th: before it the odds are the priors
    # with an article on April 1, April 3 to 9 holds data on the 8th and 9th only: the odds fade over the other five
    # as over quiet days
    earlier = build_store(tmp_path / "e.duckdb", rows + [("early", 1, "none", probs("none", 0.9))])
    assert "5 of the 7 days up to 2026-04-09 have no classified articles: missing, not quiet" in invoke("--db", earlier, "odds").stdout


def test_a_past_days_odds_do_not_change_when_a_storys_later_copies_arrive(tmp_path):
    """A story begins on April 1 (base) and is copied on April 3 with contraction calls: the story's weight on
    April 1 took the mean of all its copies, so April 1's odds read 52% as of that day and 47% two days later."""
    rows = [("s-1", 1, "base", probs("base", 0.9)), ("s-3a", 3, "contraction", probs("contraction", 0.9)),
            ("s-3b", 3, "contraction", probs("contraction", 0.9))]
    path = build_store(tmp_path / "s.duckdb", rows)
    with Store(path) as store:
        store.save_story_ids({"s-1": "s", "s-3a": "s", "s-3b": "s"})
    with Store(path, read_only=True) as store:
        then = odds.odds_path(store, PACK, until=date(2026, 4, 1)).iloc[-1]
        later = odds.odds_path(store, PACK, until=date(2026, 4, 3)).set_index("day").loc[pd.Timestamp(2026, 4, 1)]
        top = odds.movers(store, PACK, since=date(2026, 4, 1), until=date(2026, 4, 3))
    for case in ("base", "accelerated", "contraction", "evidence"):
        assert later[case] == pytest.approx(then[case])
    assert then["base"] > 0.5  # the story counts as base, its first day's call
    assert len(top) == 1 and top.iloc[0]["articles"] == 3  # its copies are still counted for the analyst


def test_rolling_values_do_not_depend_on_where_the_range_starts(tmp_path):
    """The 7-day columns of a range's first days read the stored days before it: with since=April 5 they had
    averaged April 5 alone, base articles_7d 1.0 where the data of April 1 to 5 give 1.2."""
    rows = [(f"a{d}", d, "base", probs("base", 0.7)) for d in (1, 2, 3, 4, 5, 6)] + [("b2", 2, "base", probs("base", 0.7))]
    path = build_store(tmp_path / "s.duckdb", rows)
    with Store(path, read_only=True) as store:
        whole = signals.daily_frame(store, PACK.id, date(2026, 4, 1), date(2026, 4, 8))
        part = signals.daily_frame(store, PACK.id, date(2026, 4, 5), date(2026, 4, 8))
    assert part["day"].min() == pd.Timestamp(2026, 4, 5) and part["day"].nunique() == 4
    columns = ["day", "case", "articles_7d", "probability_7d", "share_7d"]
    expected = whole[whole["day"] >= pd.Timestamp(2026, 4, 5)][columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(part[columns].reset_index(drop=True), expected)
    base5 = part[(part["day"] == pd.Timestamp(2026, 4, 5)) & (part["case"] == "base")].iloc[0]
    assert base5["articles_7d"] == pytest.approx(6 / 5)  # April 1..5: six base articles over five covered days
