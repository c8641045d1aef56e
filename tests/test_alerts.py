"""Watchlist alerts on small real stores: thresholds, labels, evidence, deadlines."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from pipeline import alerts
from pipeline.errors import SignalsError
from pipeline.records import Article, Prediction
from pipeline.scenario import Indicator
from pipeline.store import Store
from signals_app import invoke
from storekit import MODEL, PACK, classified_store, probs




def build_store(path: Path, rows: list[tuple]) -> Path:
    """rows: (id, day of April 2026, label, title[, summary, text])."""
    articles, predictions = [], []
    for article_id, day, label, title, *rest in rows:
        summary = rest[0] if rest else ""
        text = rest[1] if len(rest) > 1 else ""
        articles.append(Article(article_id, "test", "Outlet", title, summary, text, datetime(2026, 4, day, 12), ""))
        predictions.append(Prediction(article_id, PACK.id, MODEL, label, probs(label), []))
    return classified_store(path, articles, predictions)


def indicator(id: str, patterns: list[str], cases: tuple[str, ...], threshold: int = 1, start: date | None = None, deadline_days: int | None = None) -> Indicator:
    return Indicator(id, id.replace("-", " "), tuple(re.compile(p, re.I) for p in patterns), cases, threshold, start, deadline_days)


def pack_with(*indicators: Indicator):
    return dataclasses.replace(PACK, indicators=tuple(indicators))


OIL = indicator("oil-spike", [r"\bBrent\b", r"oil prices? (surge|spike)"], ("contraction",), threshold=2)


def test_an_indicator_fires_at_its_threshold_and_not_below(tmp_path):
    rows = [
        ("d3-a", 3, "contraction", "Brent jumps on Hormuz fears"),
        ("d3-b", 3, "contraction", "Markets", "Oil prices surge as tankers wait"),       # matched in the summary
        ("d4-a", 4, "contraction", "Brent crude climbs again"),
        ("d4-b", 4, "base", "Brent steady as talks continue"),                             # matches, wrong label
        ("d4-c", 4, "contraction", "Tankers wait at Hormuz"),                              # right label, no match
        ("d5-a", 5, "contraction", "Brent crude at a six-month high"),
    ]
    with Store(build_store(tmp_path / "s.duckdb", rows), read_only=True) as store:
        report = alerts.check_alerts(store, pack_with(OIL))
    assert report.as_of == date(2026, 4, 5)  # the last ingested day
    assert [f.day for f in report.firings] == [date(2026, 4, 3)]
    firing = report.firings[0]
    assert firing.articles == 2
    assert {e.article_id for e in firing.evidence} == {"d3-a", "d3-b"}
    by_id = {e.article_id: e for e in firing.evidence}
    assert by_id["d3-b"].field == "summary" and "Oil prices surge" in by_id["d3-b"].snippet
    assert by_id["d3-a"].title == "Brent jumps on Hormuz fears"
    status = report.statuses[0]
    assert (status.status, status.first_fired, status.days_fired, status.matched) == ("fired", date(2026, 4, 3), 1, 5)


def test_threshold_one_fires_on_a_single_article(tmp_path):
    single = dataclasses.replace(OIL, threshold=1)
    rows = [("a", 5, "contraction", "Brent crude at a six-month high")]
    with Store(build_store(tmp_path / "s.duckdb", rows), read_only=True) as store:
        assert [f.day for f in alerts.check_alerts(store, pack_with(single)).firings] == [date(2026, 4, 5)]
        assert alerts.check_alerts(store, pack_with(OIL)).statuses[0].status == "not fired"


def test_the_shipped_pack_needs_two_brent_articles(tmp_path):
    rows = [("a", 6, "contraction", "Brent crude spikes"), ("b", 7, "contraction", "Brent up"), ("c", 7, "contraction", "Oil prices surge overnight")]
    with Store(build_store(tmp_path / "s.duckdb", rows), read_only=True) as store:
        report = alerts.check_alerts(store, PACK)
    brent = [f for f in report.firings if f.indicator == "brent-volatility"]
    assert [f.day for f in brent] == [date(2026, 4, 7)]


def test_snippets_are_short_and_show_the_match():
    long_text = "Background. " * 60 + "The IMF review of Pakistan's tranche was delayed." + " More words." * 60
    imf = PACK.indicators[0]
    field, snip = alerts.find_match(imf, {"title": "Economy", "summary": "", "text": long_text})
    assert field == "text" and len(snip) <= 200
    assert "IMF review" in snip and snip.startswith("…") and snip.endswith("…")
    huge_match = "IMF " + "x" * 500 + " review of Pakistan"
    assert len(alerts.find_match(imf, {"title": huge_match})[1]) <= 200
    assert alerts.find_match(imf, {"title": "Nothing to see"}) is None


def test_articles_after_as_of_are_not_seen(tmp_path):
    rows = [("a", 3, "contraction", "Brent spikes", "Brent again"), ("b", 3, "contraction", "Brent"), ("late", 9, "contraction", "Brent")]
    with Store(build_store(tmp_path / "s.duckdb", rows), read_only=True) as store:
        assert alerts.check_alerts(store, pack_with(OIL), as_of=date(2026, 4, 2)).firings == ()
        assert len(alerts.check_alerts(store, pack_with(OIL), as_of=date(2026, 4, 3)).firings) == 1


JOINT = indicator("joint-office", [r"joint border (management )?office"], ("base", "accelerated"), start=date(2026, 4, 1), deadline_days=10)


@pytest.fixture
def quiet_store(tmp_path):
    """Articles on every day from April 1 to 25 but the 6th, none about a joint border office."""
    rows = [(f"q{d}", d, "base", "Talks continue") for d in range(1, 26) if d != 6]
    return build_store(tmp_path / "quiet.duckdb", rows)


def test_deadline_pending_then_passed_without_firing(quiet_store):
    with Store(quiet_store, read_only=True) as store:
        early = alerts.check_alerts(store, pack_with(JOINT), as_of=date(2026, 4, 5)).statuses[0]
        on_the_day = alerts.check_alerts(store, pack_with(JOINT), as_of=date(2026, 4, 11)).statuses[0]
        late = alerts.check_alerts(store, pack_with(JOINT)).statuses[0]  # as of the last ingested day, April 25
    assert (early.status, early.deadline, early.days_left) == ("pending", date(2026, 4, 11), 6)
    assert (on_the_day.status, on_the_day.days_left) == ("pending", 0)
    assert late.status == "deadline passed without firing" and late.days_left is None and late.first_fired is None
    assert late.note == "10 of the window's 11 days have classified articles; 1 is missing"


def test_the_brief_lists_a_deadline_of_its_week_the_data_cannot_judge(tmp_path):
    """A review found the brief saying "no indicator fired or expired this week" where `alerts` showed a deadline of
    that week as unknown: the summary listed passed deadlines only."""
    from pipeline import report

    rows = [(f"q{d}", d, "base", "Talks continue") for d in (1, 2, 3, 13)]  # April 1-3, then the 13th
    with Store(build_store(tmp_path / "gap.duckdb", rows), read_only=True) as store:
        summary = report.weekly_brief(store, pack_with(JOINT), date(2026, 4, 13), tmp_path / "no-models")
    assert report.summary_lines(summary)["indicators"] == [
        "deadline passed, unknown: not enough data: joint office (2026-04-11; only 3 of the window's 11 days have "
        "classified articles)"]


def test_a_window_the_data_mostly_misses_is_unknown_not_passed(tmp_path, monkeypatch):
    # data on April 1-3, then nothing until one off-topic article on April 20: 3 of the window's 11 days are seen
    rows = [(f"q{d}", d, "base", "Talks continue") for d in (1, 2, 3)] + [("cricket", 20, "none", "Qalandars win the final")]
    store = build_store(tmp_path / "gap.duckdb", rows)
    with Store(store, read_only=True) as s:
        status = alerts.check_alerts(s, pack_with(JOINT)).statuses[0]  # as of April 20, past the deadline
    assert status.status == alerts.UNKNOWN and status.note == "only 3 of the window's 11 days have classified articles"
    # just above the line (9 of 11 days seen, 0.82 >= DEADLINE_COVERAGE) the verdict stands, with the gap counted
    rows = [(f"q{d}", d, "base", "Talks continue") for d in range(1, 12) if d not in (4, 7)] + rows[-1:]
    with Store(build_store(tmp_path / "gap2.duckdb", rows), read_only=True) as s:
        status = alerts.check_alerts(s, pack_with(JOINT)).statuses[0]
    assert status.status == alerts.PASSED and status.note == "9 of the window's 11 days have classified articles; 2 are missing"


def test_a_deadline_the_data_does_not_reach_is_unknown_not_passed(tmp_path, monkeypatch):
    # the store's newest article is from April 5; the window runs April 1 to 11
    store = build_store(tmp_path / "short.duckdb", [("q1", 1, "base", "Talks continue"), ("q5", 5, "base", "Talks go on")])
    with Store(store, read_only=True) as s:
        after = alerts.check_alerts(s, pack_with(JOINT), as_of=date(2026, 4, 20))
        during = alerts.check_alerts(s, pack_with(JOINT), as_of=date(2026, 4, 8)).statuses[0]
    status = after.statuses[0]
    assert after.data_until == date(2026, 4, 5)
    assert status.status == alerts.UNKNOWN and "2026-04-05" in status.note and status.days_left is None
    assert (during.status, during.days_left, during.note) == ("pending", 3, "no data after 2026-04-05")
    monkeypatch.chdir(tmp_path)  # the shipped pack: joint-border-office's window runs 2026-04-08 to 05-08
    result = invoke("--db", store, "alerts", "--as-of", "2026-06-01")
    assert "as of 2026-06-01 (the newest data is from 2026-04-05)" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "joint-border-office" in line)
    assert "unknown: not enough data" in row and "the newest data is from 2026-04-05" in row
    assert "without firing" not in result.stdout


def test_deadline_met_when_it_fires_inside_the_window(tmp_path):
    rows = [("a", 9, "accelerated", "Joint border management office staffed at Taftan"), ("b", 25, "base", "Talks")]
    with Store(build_store(tmp_path / "s.duckdb", rows), read_only=True) as store:
        status = alerts.check_alerts(store, pack_with(JOINT)).statuses[0]
    assert (status.status, status.first_fired, status.window_start) == ("fired", date(2026, 4, 9), date(2026, 4, 1))


def test_firing_after_the_deadline_does_not_meet_it(tmp_path):
    rows = [(f"q{d}", d, "base", "Talks continue") for d in range(1, 12)] + [("a", 20, "base", "Joint border office finally opens")]
    with Store(build_store(tmp_path / "s.duckdb", rows), read_only=True) as store:
        report = alerts.check_alerts(store, pack_with(JOINT))
    status = report.statuses[0]
    assert status.status == "deadline passed without firing"
    assert status.note == "fired after the deadline, first on 2026-04-20"
    assert [f.day for f in report.firings] == [date(2026, 4, 20)]


def test_alerts_command_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = [("a", 9, "contraction", "Border clash near Taftan leaves two dead")]
    db = build_store(tmp_path / "s.duckdb", rows)
    result = invoke("--db", db, "alerts", "--format", "json", "--as-of", "2026-04-10")
    assert result.return_value == 0
    doc = json.loads(result.stdout)
    assert doc["as_of"] == "2026-04-10"
    statuses = {s["indicator"]: s for s in doc["statuses"]}
    assert statuses["border-activity"]["status"] == "fired"
    assert statuses["joint-border-office"]["status"] == "pending" and statuses["joint-border-office"]["days_left"] == 28
    assert doc["firings"][0]["evidence"][0]["article_id"] == "a"
    result = invoke("--db", db, "alerts")
    assert result.return_value == 0
    assert "border-activity" in result.stdout


def test_an_as_of_before_the_first_article_is_refused_not_shown_as_quiet(tmp_path, monkeypatch):
    # nothing up to 2026-04-01 was read (the first article is from April 9): "not fired" and "pending" would be
    # judgments on no data; odds, report and brief refuse the same
    monkeypatch.chdir(tmp_path)
    db = build_store(tmp_path / "s.duckdb", [("a", 9, "contraction", "Border clash near Taftan leaves two dead")])
    for fmt in ("table", "json"):
        with pytest.raises(SignalsError) as refused:
            invoke("--db", db, "alerts", "--as-of", "2026-04-01", "--format", fmt)
        assert str(refused.value) == ("alerts: the last day 2026-04-01 is before the first data (2026-04-09, the oldest "
                                      "article); give a later --as-of")
    assert invoke("--db", db, "alerts", "--as-of", "2026-04-09").return_value == 0  # the first day itself is judged
    after = json.loads(invoke("--db", db, "alerts", "--as-of", "2026-06-30", "--format", "json").stdout)
    assert after["as_of"] == "2026-06-30"  # past the data stays as asked: its deadlines read "unknown"


def test_an_in_passing_mention_does_not_fire_but_the_meaning_does(tmp_path):
    passing = ("The State Department briefed reporters on Israel-Lebanon talks. Separately, Pakistan's cricket "
               "team arrived in Lahore.")  # both actors, but never in one sentence
    meant = "The State Department praised Pakistan's cooperation in the ceasefire talks."
    rows = [("passing", 3, "base", "Briefing", "", passing), ("meant", 4, "base", "Briefing", "", meant),
            ("lowercase-us", 5, "contraction", "Let us see", "", "Many of us condemned the attack in Pakistan.")]
    with Store(build_store(tmp_path / "s.duckdb", rows), read_only=True) as store:
        report = alerts.check_alerts(store, PACK)
    fired = {(f.indicator, f.day) for f in report.firings}
    assert ("state-dept-briefing", date(2026, 4, 4)) in fired
    assert ("state-dept-briefing", date(2026, 4, 3)) not in fired
    assert not any(f.indicator == "us-condemnation" for f in report.firings)  # "us" is not the United States
    evidence = next(f for f in report.firings if f.indicator == "state-dept-briefing").evidence[0]
    assert evidence.field == "text" and evidence.snippet == meant


def test_copies_of_one_story_fire_once_and_count_as_one(tmp_path):
    rows = [(f"copy{k}", 6, "contraction", "Brent crude spikes on Hormuz fears") for k in range(3)]
    path = build_store(tmp_path / "s.duckdb", rows)
    with Store(path) as store:
        store.save_story_ids({f"copy{k}": "story-brent" for k in range(3)})
    with Store(path, read_only=True) as store:
        report = alerts.check_alerts(store, PACK)
    # three copies of one story are one story: the shipped Brent indicator needs two
    assert not any(f.indicator == "brent-volatility" for f in report.firings)
    with Store(path, read_only=True) as store:
        firing = alerts.check_alerts(store, pack_with(dataclasses.replace(OIL, threshold=1))).firings[0]
    assert (firing.stories, firing.articles, len(firing.evidence)) == (1, 3, 1)
    assert firing.evidence[0].copies == 2 and alerts.count_words(firing) == "1 story, 3 articles"


def test_snippets_cut_at_word_boundaries():
    text = "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu " * 10 + "IMF review of Pakistan loan" + " nu xi omicron pi rho" * 20
    start = text.index("IMF")
    snip = alerts.snippet(text, start, start + 10, limit=80)
    words = set(text.split())
    assert len(snip) <= 80 and "IMF review" in snip
    assert all(word in words for word in snip.strip("…").split())  # no word cut in half


def test_a_story_counts_once_on_the_day_it_first_matches_and_a_past_firing_never_changes(tmp_path):
    """Two stories on April 1, each copied again on April 2: the indicator fired on April 2 as well, with the same
    two stories, and a brief over both days said 4 stories; and what fired on April 1 depended on the as-of day."""
    rows = [("s1-a", 1, "contraction", "Brent jumps on Hormuz fears"), ("s2-a", 1, "contraction", "Brent crude climbs"),
            ("s1-b", 2, "contraction", "Brent jumps on Hormuz fears"), ("s2-b", 2, "contraction", "Brent crude climbs")]
    path = build_store(tmp_path / "s.duckdb", rows)
    with Store(path) as store:
        store.save_story_ids({"s1-a": "s1", "s1-b": "s1", "s2-a": "s2", "s2-b": "s2"})
    with Store(path, read_only=True) as store:
        as_of_first = alerts.check_alerts(store, pack_with(OIL), date(2026, 4, 1))
        as_of_second = alerts.check_alerts(store, pack_with(OIL), date(2026, 4, 2))
    assert [(f.day, f.stories, f.articles) for f in as_of_second.firings] == [(date(2026, 4, 1), 2, 2)]
    assert as_of_second.firings == as_of_first.firings
    assert as_of_second.statuses[0].days_fired == 1


def test_a_firing_outside_its_window_is_marked_and_not_reported_as_fired(tmp_path, monkeypatch):
    """The shipped `us-condemnation` opens on April 8: a match on April 6 leaves it pending. The week's summary
    (brief and report) said "fired" all the same, and the firings lists showed it unmarked."""
    from pipeline import report

    monkeypatch.chdir(tmp_path)
    rows = [("c6", 6, "contraction", "Washington condemns Pakistan over its joint security statement with Iran"),
            ("q9", 9, "base", "Talks continue")]
    db = build_store(tmp_path / "s.duckdb", rows)
    with Store(db, read_only=True) as store:
        checked = alerts.check_alerts(store, PACK)
        summary = report.weekly_brief(store, PACK, date(2026, 4, 9), tmp_path / "no-models")
    status = next(s for s in checked.statuses if s.indicator == "us-condemnation")
    assert status.status == "pending" and status.first_fired is None
    outside = [f for f in checked.firings if f.indicator == "us-condemnation"]
    assert [(f.day, f.outside) for f in outside] == [(date(2026, 4, 6), "before its window opens on 2026-04-08")]
    assert not any(name == outside[0].name for name, *_ in summary.fired)
    listed = invoke("--db", db, "alerts").stdout
    assert "2026-04-06  us-condemnation  (1 story; does not count: before its window opens on 2026-04-08)" in listed
    from pipeline.charts import indicators_figure

    chart = indicators_figure(checked, PACK, date(2026, 4, 1), date(2026, 4, 9))  # the report's timeline: no dot
    assert "firing-us-condemnation-2026-04-06" not in chart.tooltips


def test_alerts_on_a_pack_still_classified_zero_shot_say_so(tmp_path, monkeypatch):
    """A new pack's firings rest on the zero-shot recipe's uncalibrated labels: trend and odds opened with the
    `zero-shot:` line and odds' JSON said `"zero_shot": true`, but alerts said nothing of it (trial 2)."""
    from pipeline.zeroshot import RECIPE

    monkeypatch.chdir(tmp_path)
    zero_shot = f"{RECIPE}-0123456789abcdef"
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.add_articles([Article("a", "test", "Outlet", "Border clash near Taftan leaves two dead", "", "",
                                    datetime(2026, 4, 9, 12), "")])
        store.save_analysis([], [Prediction("a", PACK.id, zero_shot, "contraction", probs("contraction"), [])])
        store.refresh_daily_signals(PACK.id, zero_shot)
    table = invoke("--db", db, "alerts", "--as-of", "2026-04-10").stdout
    # the shipped registry holds a trained model of the pack: the note says that model re-scores the store
    assert table.startswith("zero-shot: these signals are scored against the brief's prototypes") and "is trained" in table
    (tmp_path / "no-models").mkdir()
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(tmp_path / "no-models"))  # no model trained yet
    assert invoke("--db", db, "alerts", "--as-of", "2026-04-10").stdout.startswith("zero-shot: this scenario has no trained model yet;")
    monkeypatch.delenv("SIGNALS_MODELS_DIR")
    assert table.splitlines()[1] == f"indicators for {PACK.id} as of 2026-04-10 (the newest data is from 2026-04-09):"
    doc = json.loads(invoke("--db", db, "alerts", "--as-of", "2026-04-10", "--format", "json").stdout)
    assert doc["zero_shot"] is True and doc["model_version"] == zero_shot
    trained = json.loads(invoke("--db", build_store(tmp_path / "t.duckdb", [("a", 9, "contraction", "Border clash")]),
                                "alerts", "--format", "json").stdout)
    assert trained["zero_shot"] is False and trained["model_version"] == MODEL
    assert not invoke("--db", tmp_path / "t.duckdb", "alerts").stdout.startswith("zero-shot")


def test_every_read_says_when_its_signals_come_from_a_model_the_active_one_replaced(tmp_path, monkeypatch):
    """Trial: after 'signals train' promoted a model, odds, trend and the report still showed the replaced model's
    calls until an import re-scored the store, with nothing said; the zero-shot note covered only zero-shot calls."""
    from pipeline.registry import Registry
    from pipeline.settings import load_settings

    monkeypatch.chdir(tmp_path)
    active = Registry(load_settings(environ={}).models_dir).active(PACK.id).version
    db = build_store(tmp_path / "s.duckdb", [("a", 8, "contraction", "Border clash near Taftan"), ("b", 9, "base", "Talks go on")])
    note = (f"these signals come from model {MODEL}; the active model, {active}, re-scores them at the next "
            "'signals run' or 'signals import' that watches the pack (in 'scenarios')")
    for command in (["trend"], ["odds"], ["alerts", "--as-of", "2026-04-10"]):
        assert invoke("--db", db, *command).stdout.splitlines()[0] == note, command
    brief = invoke("--db", db, "brief", "--week", "2026-W15").stdout
    assert f"- {note}" in brief or note in brief
    invoke("--db", db, "report", "--out", tmp_path / "r.html")
    assert note in (tmp_path / "r.html").read_text(encoding="utf-8").replace("&#x27;", "'").replace("&#39;", "'")
    # the same store scored by the active model: no note
    rows = [("a", 8, "contraction", "Border clash near Taftan"), ("b", 9, "base", "Talks go on")]
    with Store(current := tmp_path / "c.duckdb") as store:
        store.add_articles([Article(i, "test", "Outlet", t, "", "", datetime(2026, 4, d, 12), "") for i, d, _, t in rows])
        store.save_analysis([], [Prediction(i, PACK.id, active, label, probs(label), []) for i, _, label, _ in rows])
        store.refresh_daily_signals(PACK.id, active)
    for command in (["trend"], ["odds"], ["alerts", "--as-of", "2026-04-10"]):
        assert "these signals come from" not in invoke("--db", current, *command).stdout, command



def test_articles_a_stopped_run_left_unscored_are_said_not_read_as_quiet_days(tmp_path, monkeypatch):
    """Trial: a served run stopped between storing and scoring left 250 articles inside the range with no prediction;
    trend said 'no day of it has data' for their days and odds counted them as quiet, with nothing said."""
    monkeypatch.chdir(tmp_path)
    db = build_store(tmp_path / "s.duckdb", [("a", 6, "contraction", "Border clash near Taftan"), ("c", 9, "base", "Talks go on")])
    with Store(db) as store:  # stored, never scored: days 7 and 8
        store.add_articles([Article(i, "test", "Outlet", "Iran and Pakistan talks", "", "", datetime(2026, 4, d, 12), "")
                            for i, d in (("b1", 7), ("b2", 8))])
    note = ("signals: scenario iran-pakistan-2026: 2 stored articles dated up to 2026-04-09 are not scored for it yet "
            "(a run was stopped before scoring them, or one is under way), so their days read quieter than they were; "
            "the run under way, or else the next 'signals run' or 'signals import', scores them")
    for command in (["trend"], ["odds"], ["alerts", "--as-of", "2026-04-10"]):
        assert note in invoke("--db", db, *command).stderr.splitlines(), command
    assert "not scored for it yet" not in invoke("--db", build_store(tmp_path / "t.duckdb", [("a", 6, "base", "Talks")]),
                                                 "trend").stderr
