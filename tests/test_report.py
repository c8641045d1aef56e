"""The HTML report on a small real store: charts present, article text escaped, renders safely in Chromium."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest

from pipeline import report
from pipeline.errors import SignalsError
from pipeline.records import Article, Prediction
from pipeline.scenario import load_scenario
from pipeline.settings import PROJECT_ROOT
from pipeline.store import Store
from signals_app import invoke
from storekit import MODEL, PACK, classified_store, probs

HOSTILE_TITLE = "Border clash near Taftan <script>document.title='pwned'</script>"
HOSTILE_SENTENCE = "Officials said <img src=x onerror=\"document.title='pwned-img'\"> nothing."
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DATE_LABEL = re.compile(r">([^<>]*\d{2}[^<>]*)</text>")  # chart text with a number in it: dates and values

@pytest.fixture
def store_path(tmp_path) -> Path:
    """April 1-6 with April 3 and 4 missing; one hostile article on April 5 that fires border-activity."""
    rows = [
        ("a1", 1, "base", "Talks continue in Islamabad", "Dawn", "https://example.org/a1", ["Talks went on."]),
        ("a2", 2, "accelerated", "IP gas pipeline survey resumes", "Geo", "https://example.org/a2", ["Surveyors returned."]),
        ("evil", 5, "contraction", HOSTILE_TITLE, "<b>Evil Outlet</b>", "javascript:alert(1)", [HOSTILE_SENTENCE]),
        ("a6", 6, "none", "Cricket: Pakistan win the series", "Geo", "https://example.org/a6", []),
    ]
    articles = [Article(i, "test", outlet, title, "", f"Text of {i}.", datetime(2026, 4, d, 12), link) for i, d, _, title, outlet, link, _ in rows]
    predictions = [Prediction(i, PACK.id, MODEL, label, probs(label), evidence) for i, _, label, _, _, _, evidence in rows]
    path = tmp_path / "s.duckdb"
    return classified_store(path, articles, predictions)


@pytest.fixture
def page(store_path, tmp_path) -> Path:
    with Store(store_path, read_only=True) as store:
        return report.write_report(store, PACK, tmp_path / "out" / "report.html")


def test_article_text_is_escaped_and_the_page_has_no_script(page):
    text = page.read_text(encoding="utf-8")
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in text
    assert "<script" not in text.lower()
    assert "<img" not in text and "&lt;img src=x onerror=" in text
    assert "<b>Evil Outlet</b>" not in text and "&lt;b&gt;Evil Outlet&lt;/b&gt;" in text
    assert "javascript:" not in text  # the hostile link is dropped, its title stays as text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text


def test_the_page_has_every_chart_and_section(page):
    text = page.read_text(encoding="utf-8")
    for chart in ("chart-daily", "chart-odds", "chart-indicators"):
        assert re.search(f'<figure id="{chart}" class="chart" role="img" aria-label="[^"]+"><svg ', text)
    # the default range is the 8 weeks up to the newest data (February 10 to April 6): only April 1, 2, 5, 6 have data
    assert "2026-02-10 to 2026-04-06 · 56 days (UTC calendar days), 52 without data" in text
    assert len(re.findall(r'<g id="nodata-2026-\d\d-\d\d"><title>2026-\d\d-\d\d: no data</title>', text)) == 52  # missing, not zero
    assert 'id="bar-none-' not in text  # none is left out of the bars
    dates = [t for t in DATE_LABEL.findall(text) if "-" in t and "%" not in t]
    assert dates and all(re.fullmatch(r"2026-\d\d-\d\d", t) for t in dates)  # every date label carries its year
    assert re.search(r'<g id="bar-contraction-2026-04-05"><title>2026-04-05 contraction: 0\.\d\d \(none: 0\.\d\d\)</title>', text)
    assert not re.search(r'id="bar-\w+-2026-04-0[34]"', text)  # no bar on a day without data
    assert len(re.findall(r'<g id="odds-line-\w+"><title>', text)) == 3
    assert '<g id="firing-border-activity-2026-04-05"><title>' in text
    assert 'id="indicator-status"' in text and 'id="top-evidence"' in text and 'id="current-odds"' in text
    assert 'id="outlet-mix"' in text and 'id="toc"' in text and 'id="band-contraction"' in text
    assert text.index('id="summary"') < text.index('id="current-odds"') < text.index('id="chart-daily"')
    ids = re.findall(r' id="([^"]+)"', text)
    assert len(ids) == len(set(ids))  # three inline SVGs, no id used twice in the page
    assert "deadline passed without firing" not in text  # as of April 6 the pack's deadlines are pending
    assert "pending" in text
    assert 'href="https://example.org/a1"' in text
    assert not re.search(r"https?://(?!example\.org|www\.w3\.org)", text)  # self-contained: nothing fetched


def test_a_range_narrows_the_page(store_path, tmp_path):
    with Store(store_path, read_only=True) as store:
        data = report.gather(store, PACK, date(2026, 4, 5), date(2026, 4, 6))
    assert data.daily["day"].nunique() == 2 and len(data.odds) == 2
    assert set(data.evidence["id"]) == {"evil"}  # a6 is labelled none: it moves nothing worth showing
    assert data.odds["contraction"].iloc[0] > PACK.priors["contraction"]


def test_a_first_day_after_the_newest_data_is_refused_not_an_empty_page(store_path, tmp_path):
    with Store(store_path, read_only=True) as store, pytest.raises(SignalsError, match="the first day 2026-05-01 is after the last day 2026-04-06"):
        report.write_report(store, PACK, tmp_path / "late.html", since=date(2026, 5, 1))
    assert not (tmp_path / "late.html").exists()


def test_an_empty_store_still_gives_a_page(tmp_path):
    with Store(tmp_path / "empty.duckdb") as store:
        page = report.write_report(store, PACK, tmp_path / "empty.html")
    text = page.read_text(encoding="utf-8")
    assert "no signals in this range" in text and "no news yet: the priors" in text


def test_png_charts_are_the_page_charts(store_path, tmp_path):
    """Each PNG is drawn from the figure inlined as SVG: the same picture, so the same shape."""
    from PIL import Image  # matplotlib's dependency

    with Store(store_path, read_only=True) as store:
        page = report.write_report(store, PACK, tmp_path / "r.html", png_dir=tmp_path / "png")
    text = page.read_text(encoding="utf-8")
    for chart, name in zip(("chart-daily", "chart-odds", "chart-indicators"), report.PNG_NAMES):
        png = tmp_path / "png" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = re.search(f'<figure id="{chart}"[^>]*><svg[^>]* viewBox="0 0 ([\\d.]+) ([\\d.]+)"', text).groups()
        with Image.open(png) as image:
            assert image.width / image.height == pytest.approx(float(width) / float(height), rel=0.02)


def test_titles_and_outlets_with_markup_and_ampersands_stay_text(tmp_path):
    title = "Border clash near Taftan: <script>alert('x')</script> & more"
    outlet = "Dawn & <i>Geo</i>"
    articles = [Article("amp", "test", outlet, title, "", "Text.", datetime(2026, 4, 5, 12), "https://example.org/a?x=1&y=2")]
    predictions = [Prediction("amp", PACK.id, MODEL, "contraction", probs("contraction"), ["Shots & <b>smoke</b> at the border."])]
    with Store(classified_store(tmp_path / "s.duckdb", articles, predictions), read_only=True) as store:
        text = report.write_report(store, PACK, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script" not in text and "<i>Geo</i>" not in text and "<b>smoke</b>" not in text
    escaped = "Border clash near Taftan: &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"
    assert text.count(escaped) >= 3  # the week's movers, the firings table and the evidence table
    assert "Dawn &amp; &lt;i&gt;Geo&lt;/i&gt;" in text and "Shots &amp; &lt;b&gt;smoke&lt;/b&gt; at the border." in text
    assert 'href="https://example.org/a?x=1&amp;y=2"' in text
    tooltip = re.search(r'<g id="firing-border-activity-2026-04-05"><title>([^<]*)</title>', text).group(1)
    assert escaped in tooltip  # the chart's tooltip is escaped too


BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def test_bidi_controls_in_article_text_cannot_reorder_the_page_or_the_brief(tmp_path, monkeypatch):
    """A U+202E (right-to-left override) in a title displayed the report's own "(Geo News, 2026-04-05; ...)" reversed,
    and the brief carried the unclosed override into any note it was pasted into."""
    title = "\u202e Border clash near Taftan, Pakistan and Iran say"
    articles = [Article("rlo", "test", "Geo\u2066 News", title, "", "Text.", datetime(2026, 4, 5, 12), "https://example.org/rlo")]
    predictions = [Prediction("rlo", PACK.id, MODEL, "contraction", probs("contraction"), ["Border \u202dshots\u202c heard."])]
    store = classified_store(tmp_path / "s.duckdb", articles, predictions)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(models_dir(tmp_path)))
    assert invoke("--db", store, "report", "--out", tmp_path / "r.html").return_value == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert not BIDI.search(page)
    assert page.count("Border clash near Taftan, Pakistan and Iran say") >= 4  # movers, firings and their tooltip, evidence
    assert "Geo News, 2026-04-05" in page and "Border shots heard." in page
    brief = invoke("--db", store, "brief").stdout
    assert not BIDI.search(brief) and "(Geo News, 2026-04-05" in brief and "> Border shots heard." in brief
    with Store(store, read_only=True) as opened:  # the store keeps the text as it came
        assert next(a.title for a in opened.articles()) == title


def test_the_brief_shows_article_text_literally_in_markdown(tmp_path, monkeypatch):
    """An outlet with newlines injected a heading and a table into the brief and broke its numbered list; a title's
    `**`, backticks, `_` and `~~` rendered as Markdown; `">` in a title was printed as `"&gt;`; a bare URL in a title
    was a link once pasted where GitHub's Markdown renders it."""
    from markdown_it import MarkdownIt

    outlet = "Dawn\n\n# INJECTED OUTLET HEADING\n\n| a | b |\n|---|---|\n| c | d |\n\n"
    title = "US strikes **bold** `code` _it_ ~~gone~~ ![img](http://evil.example/t.png) <b>tag</b> Q&amp;A Islamabad \">"
    sentence = "# Not a heading: Border clash near Taftan | a | b | [x](http://evil.example/p) www.evil.example tip@evil.example @ForeignOfficePk #123"
    articles = [Article("md", "test", outlet, title, "", "Text.", datetime(2026, 4, 5, 12), "https://example.org/md")]
    predictions = [Prediction("md", PACK.id, MODEL, "contraction", probs("contraction"), [sentence])]
    store = classified_store(tmp_path / "s.duckdb", articles, predictions)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(models_dir(tmp_path)))
    text = invoke("--db", store, "brief").stdout
    mover = next(line for line in text.splitlines() if line.startswith("1. "))
    assert "(Dawn # INJECTED OUTLET HEADING \\| a \\| b \\| \\|---\\|---\\| \\| c \\| d \\|, 2026-04-05" in mover  # one line
    assert "&gt;" not in text and "&amp;" not in text and 'Q&A Islamabad ">' in mover
    page = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)
    for element in ("<h1", "<h3", "<table", "<code>", "<img", "<del>", "<b>"):
        assert element not in page, element
    assert page.count("<strong>") == 4 and page.count("<em>") == 1  # the brief's own: its four labels, the note on points
    assert page.count("<h2>") == 1 and page.count("<ol>") == 1 and page.count("<blockquote>") == 1
    assert '<a href="https://example.org/md">US strikes **bold** `code` _it_ ~~gone~~ ![img](http://evil.example/t.png) ' \
           "&lt;b&gt;tag&lt;/b&gt; Q&amp;A Islamabad &quot;&gt;</a> (Dawn # INJECTED OUTLET HEADING | a | b |" in page
    assert "<p># Not a heading: Border clash near Taftan | a | b | [x](http://evil.example/p) www.evil.example tip@evil.example @ForeignOfficePk #123</p>" in page
    assert page.count("<a href=") == 1  # the brief's own link to the article, and no other
    # GitHub's Markdown links a bare URL, `www.` name or address with no brackets (its extended autolinks; CommonMark
    # above does not): the character that starts each match is escaped, which breaks it and shows as itself
    assert "(http\\://evil.example/t.png)" in mover and "(http\\://evil.example/p) www\\.evil.example tip\\@evil.example \\@ForeignOfficePk \\#123" in text


def test_report_command(store_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("--db", store_path, "report", "--out", tmp_path / "cli.html", "--since", "2026-04-02")
    assert result.return_value == 0
    assert "report written to" in result.stderr
    assert '<figure id="chart-odds"' in (tmp_path / "cli.html").read_text(encoding="utf-8")
    result = invoke("--db", store_path, "report", "--out", tmp_path / "late.html", "--since", "2026-04-02", "--until", "2026-05-31")
    assert "report: no data after 2026-04-06 (the newest article); shown as of 2026-04-06, not 2026-05-31" in result.stderr
    assert "2026-04-02 to 2026-04-06 · 5 days" in (tmp_path / "late.html").read_text(encoding="utf-8")


def test_a_pack_the_store_never_read_is_refused_under_default_settings(store_path, tmp_path, monkeypatch):
    """With no `scenarios` list (no settings file, or only `scenario = ...`), --scenario replaced the one watched pack
    before the check, so an unread pack passed: its priors were shown as odds and its indicators as "not fired"."""
    monkeypatch.chdir(tmp_path)
    for var in ("SIGNALS_CONFIG", "SIGNALS_SCENARIO", "SIGNALS_SCENARIOS"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "only-scenario.toml").write_text(f'[signals]\nscenario = "{PACK.id}"\n', encoding="utf-8")
    unread = "india-pakistan-2025"
    for config in ([], ["--config", tmp_path / "only-scenario.toml"]):
        for command in (["report", "--out", tmp_path / "ip.html"], ["brief"], ["odds"], ["alerts"], ["trend"]):
            with pytest.raises(SignalsError) as refused:
                invoke(*config, "--db", store_path, *command, "--scenario", unread)
            assert str(refused.value) == (f"scenario {unread} is not watched (scenarios = ['{PACK.id}'] in the settings) and "
                                          "the store holds no prediction for it; add it to 'scenarios', then run 'signals run'")
        assert invoke(*config, "--db", store_path, "odds", "--scenario", PACK.id).return_value == 0  # the watched one reads
    assert not (tmp_path / "ip.html").exists()


def test_a_pack_no_longer_watched_is_read_up_to_its_newest_scored_day(tmp_path, monkeypatch):
    """A pack dropped from the watched ones keeps its predictions, but the articles stored since were never scored
    for it: `brief` and `report` took the store's newest day (`brief` said "7 of the week's 7 days have no classified
    articles", a quiet-looking week), while `odds` stopped at the pack's newest scored day (found by a trial user)."""
    monkeypatch.chdir(tmp_path)
    for var in ("SIGNALS_CONFIG", "SIGNALS_SCENARIO", "SIGNALS_SCENARIOS"):
        monkeypatch.delenv(var, raising=False)
    dropped = load_scenario(PROJECT_ROOT / "labels" / "india-pakistan-2025")  # once watched; now only PACK is
    days = (8, 9, 14, 20, 21, 22)  # the dropped pack scored April 8 to 14; the import of April 20 to 22 did not
    articles = [Article(f"d{d}", "test", "Dawn", f"Story of April {d}", "", "Text.", datetime(2026, 4, d, 12), "")
                for d in days]
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.add_articles(articles)
        store.save_analysis([], [Prediction(f"d{d}", PACK.id, MODEL, "base", probs("base"), []) for d in days]
                            + [Prediction(f"d{d}", dropped.id, "india-v1", "contraction", probs("contraction"), [])
                               for d in days if d <= 14])
        store.refresh_daily_signals(PACK.id, MODEL)
        store.refresh_daily_signals(dropped.id, "india-v1")
    note = (f"signals: scenario {dropped.id} is not watched by these settings (scenarios = ['{PACK.id}']), so the "
            "articles after 2026-04-14, its newest scored day, were not scored for it; shown up to 2026-04-14 (add it "
            "to 'scenarios', then run 'signals run', to score them)\n")
    brief = invoke("--db", db, "brief", "--scenario", dropped.id)
    assert brief.stdout.startswith(f"## {dropped.title}: week 2026-04-08 to 2026-04-14") and brief.stderr == note
    assert "4 of the week's 7 days have no classified articles" in brief.stdout  # April 10 to 13, not the whole week
    result = invoke("--db", db, "report", "--scenario", dropped.id, "--out", tmp_path / "r.html")
    assert result.stderr.startswith(note)
    assert "2026-02-18 to 2026-04-14 · 56 days" in (tmp_path / "r.html").read_text(encoding="utf-8")
    result = invoke("--db", db, "report", "--scenario", dropped.id, "--out", tmp_path / "r.html", "--until", "2026-04-21")
    assert result.stderr.startswith(note + "report: no data after 2026-04-14 (the pack's newest scored day); shown as "
                                    "of 2026-04-14, not 2026-04-21\n")
    assert invoke("--db", db, "alerts", "--scenario", dropped.id).stdout.startswith(f"indicators for {dropped.id} as of 2026-04-14:")
    odds = invoke("--db", db, "odds", "--scenario", dropped.id)
    assert f"odds for {dropped.id} as of 2026-04-14 " in odds.stdout and odds.stderr == note  # as it was, now said
    assert invoke("--db", db, "trend", "--scenario", dropped.id).stderr == note
    with pytest.raises(SignalsError, match="the week 2026-04-20 to 2026-04-26 starts after the newest data \\(2026-04-14\\)"):
        invoke("--db", db, "brief", "--scenario", dropped.id, "--week", "2026-W17")
    watched = invoke("--db", db, "brief")  # the watched pack reads up to the store's newest article, as before
    assert watched.stdout.startswith(f"## {PACK.title}: week 2026-04-16 to 2026-04-22") and watched.stderr == ""


def models_dir(tmp_path: Path, probes: dict | None = None) -> Path:
    """A registry that knows model v1: base and contraction measured, accelerated not (no test support); with
    `probes`, its probe record."""
    folder = tmp_path / "models"
    folder.mkdir(exist_ok=True)
    entry = {"version": MODEL, "scenario": PACK.id, "file": "x", "sha256": "", "created": "", "label_hash": "",
             "git_commit": "", "libraries": {}, "recipe": "", "status": "active",
             "metrics": {"class_recall": {"base": 0.7, "accelerated": None, "contraction": 0.6, "none": 0.9},
                         "class_recall_source": "test split", **({"probes": probes} if probes else {})}}
    (folder / "registry.json").write_text(json.dumps({"models": [entry]}), encoding="utf-8")
    return folder


def test_the_week_summary_answers_the_weekly_question(store_path, tmp_path):
    with Store(store_path, read_only=True) as store:
        summary = report.weekly_brief(store, PACK, date(2026, 4, 5), models_dir(tmp_path))
    assert (summary.week_start, summary.week_end) == (date(2026, 3, 30), date(2026, 4, 5))
    assert summary.odds["accelerated"] == pytest.approx(0.3) and math.isnan(summary.low["accelerated"])
    assert summary.odds["contraction"] > summary.odds_week_before["contraction"] == pytest.approx(0.2)
    assert summary.low["contraction"] < summary.odds["contraction"] < summary.high["contraction"]
    assert [m.article_id for m in summary.movers] == ["evil", "a1"]  # a2 is accelerated, which the model cannot see
    assert summary.movers[0].toward == "contraction" and summary.movers[0].sentence == HOSTILE_SENTENCE
    assert [(name, day) for name, day, *_ in summary.fired] == [
        ("IP pipeline technical committees revived", date(2026, 4, 2)), ("Sistan-Baluchestan border activity", date(2026, 4, 5))]
    assert summary.no_data_days == 4  # of March 30 to April 5 only April 1, 2 and 5 have classified articles
    assert any("accelerated: not measurable yet" in line for line in summary.blind)


def test_the_brief_names_the_plain_signals_a_measurable_case_misses(store_path, tmp_path, monkeypatch):
    """A trial found the shipped model calling "Iran suspends talks with US" base (0.97) and US sanctions on Pakistani
    firms `none`, while the report gave contraction only its measured recall (0.83): nothing told the analyst that a
    plain rupture of that kind would not move the odds. The registry records which probe articles the model misses."""
    monkeypatch.chdir(tmp_path)
    signals = PACK.probe_signals()
    assert signals["probe-contraction-11"] == ("contraction", "talks suspended")  # the shipped pack's suite
    probes = {"per_label": {"base": [24, 25], "contraction": [14, 25], "none": [20, 30]},
              "missed": {"probe-contraction-07": "base", "probe-contraction-11": "base", "probe-contraction-14": "none",
                         "probe-base-01": "none", "probe-none-03": "accelerated"}}
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(models_dir(tmp_path, probes)))
    text = invoke("--db", store_path, "brief", "--week", "2026-W14").stdout
    line = next(line for line in text.splitlines() if "plain probe articles" in line)
    assert line == ("- contraction: finds 14 of the pack's 25 plain probe articles; it misses diplomats withdrawn, "
                    "talks suspended, US sanctions on Pakistan over Iran ties")
    assert text.count("plain probe articles") == 1  # base finds 24 of 25, above the floor; `none` is no case
    (tmp_path / "plain").mkdir()
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(models_dir(tmp_path / "plain")))  # no probe record: no line
    assert "plain probe articles" not in invoke("--db", store_path, "brief", "--week", "2026-W14").stdout


def test_brief_command_writes_the_summary_as_markdown(store_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(models_dir(tmp_path)))
    result = invoke("--db", store_path, "brief", "--week", "2026-W14")
    assert result.return_value == 0
    text = result.stdout
    assert text.startswith(f"## {PACK.title}: week 2026-03-30 to 2026-04-05")
    assert "- accelerated 30% (not measurable yet), held at its prior" in text
    assert "1. " in text and "toward contraction" in text and "\\<script>document.title" in text and "&lt;" not in text
    assert "- fired: Sistan-Baluchestan border activity, this week first on 2026-04-05 (1 story)\n" in text
    assert "accelerated: not measurable yet (recall unknown)" in text
    assert "*pts: what each day's stories still add to that case's odds on 2026-04-05, after fading" in text
    # April 6 to 12 runs past the newest article (April 6): shown as of April 6, as `report` and `odds` show it
    result = invoke("--db", store_path, "brief", "--week", "2026-W15")
    assert result.stdout.startswith(f"## {PACK.title}: week 2026-03-31 to 2026-04-06")
    assert result.stderr == "brief: no data after 2026-04-06 (the newest article); shown as of 2026-04-06, not 2026-04-12\n"
    # April 13 to 19 lies wholly after the newest article (April 6): a quiet-looking week the store cannot see
    with pytest.raises(SignalsError, match="starts after the newest data \\(2026-04-06\\)"):
        invoke("--db", store_path, "brief", "--week", "2026-W16")
    with pytest.raises(SignalsError, match="2026 has no week 99"):
        invoke("--db", store_path, "brief", "--week", "2026-W99")


def test_the_change_since_last_week_is_the_difference_of_the_odds_as_shown():
    # base 39.4% after 52.85% shows as 39% after 53%: the change is -14 pts (rounded from the unrounded -13.45 it
    # said -13, so the shown odds and change did not add up); contraction 30.6% after 17.15%: 31% - 17% = +14, not +13
    odds = {"base": 0.394, "accelerated": 0.3, "contraction": 0.306}
    before = {"base": 0.5285, "accelerated": 0.3, "contraction": 0.1715}
    summary = report.WeekSummary(PACK.id, PACK.title, date(2026, 2, 23), date(2026, 3, 1), odds,
                                 {c: 0.1 for c in odds}, {c: 0.6 for c in odds}, before, PACK.priors, 10.0,
                                 (), (), (), (), 0)
    lines = report.summary_lines(summary)["odds"]
    assert lines[0].startswith("base 39% (10%–60%), -14 pts since 2026-02-22")
    assert "no change since" in lines[1]
    assert lines[2].startswith("contraction 31% (10%–60%), +14 pts since 2026-02-22")
    assert report._change(0.104, 0.0951) == "no change"  # 10% after 10% (unrounded +0.89 said "+1 pt")
    assert report._change(0.114, 0.104) == "+1 pt"


def test_the_summary_counts_what_it_does_not_show_and_says_when_an_indicator_first_fired():
    """A trial found "the rest of the week's change is older news fading" under three developments in a week of
    fourteen (the other eleven moved base by about 7 of its 11 points), and "fired: China MFA, first on 04-08" for an
    indicator that had fired on ten days since March 12."""
    odds = {"base": 0.48, "accelerated": 0.3, "contraction": 0.22}
    before = {"base": 0.37, "accelerated": 0.3, "contraction": 0.33}
    mover = report.WeekMover(date(2026, 4, 11), "Talks go on", "Dawn", "", "a1", 1, "base", 1.3, "")
    fired = (("China MFA", date(2026, 4, 8), 1, date(2026, 3, 12)), ("Joint office", date(2026, 4, 9), 2, date(2026, 4, 9)))

    def lines(others):
        return report.summary_lines(report.WeekSummary(
            PACK.id, PACK.title, date(2026, 4, 8), date(2026, 4, 14), odds, {c: 0.1 for c in odds}, {c: 0.6 for c in odds},
            before, PACK.priors, 10.0, (mover,), fired, (), (), 0, others))

    assert lines(11)["movers_note"].endswith("the rest of the week's change is the week's 11 other developments and older news fading")
    assert lines(1)["movers_note"].endswith("is the week's 1 other development and older news fading")
    assert lines(0)["movers_note"].endswith("the rest of the week's change is older news fading")
    first = report.summary_lines(report.WeekSummary(  # the data starts in the week: there is no older news to fade
        PACK.id, PACK.title, date(2026, 4, 8), date(2026, 4, 14), odds, {c: 0.1 for c in odds}, {c: 0.6 for c in odds},
        before, PACK.priors, 10.0, (mover,), fired, (), (), 0, 2, date(2026, 4, 9)))["movers_note"]
    assert first.endswith("not the day's own move; the rest of the week's change is the week's 2 other developments")
    assert lines(0)["odds"][0] == "base 48% (10%–60%), +11 pts since 2026-04-07"
    first_week = report.summary_lines(report.WeekSummary(
        PACK.id, PACK.title, date(2026, 4, 8), date(2026, 4, 14), odds, {c: 0.1 for c in odds}, {c: 0.6 for c in odds},
        before, PACK.priors, 10.0, (mover,), fired, (), (), 0, 0, date(2026, 4, 10)))
    assert first_week["odds"][0] == "base 48% (10%–60%), +11 pts since the priors (the first data is from 2026-04-10)"
    assert lines(0)["indicators"] == ["fired: China MFA, this week first on 2026-04-08 (1 story); it first fired on 2026-03-12",
                                      "fired: Joint office, this week first on 2026-04-09 (2 stories)"]


def test_a_brief_for_a_week_with_no_mover_says_the_change_is_older_news_fading(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(models_dir(tmp_path)))
    rows = [("c1", 1, "contraction"), ("n12", 12, "none")]  # April 6 to 12: only a `none` article
    store = classified_store(tmp_path / "s.duckdb", [Article(i, "test", "Dawn", f"Story {i}", "", "Text.", datetime(2026, 4, d, 12), "")
                                                     for i, d, _ in rows],
                             [Prediction(i, PACK.id, MODEL, label, probs(label), []) for i, _, label in rows])
    result = invoke("--db", store, "brief", "--week", "2026-W15")
    assert result.stdout.startswith(f"## {PACK.title}: week 2026-04-06 to 2026-04-12") and result.stderr == ""
    assert "- no story this week moved the odds" in result.stdout and "older news fading toward the priors" in result.stdout


def test_a_brief_for_a_week_past_the_newest_data_is_as_of_the_newest_data(store_path, tmp_path, monkeypatch):
    """`brief --week` for a week running past the newest article reported the odds of its last day, faded over days
    without data ("+1 pts since ..." on fewer stories' worth), where `report` and `odds` stop at the newest data."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(models_dir(tmp_path)))
    past = invoke("--db", store_path, "brief", "--week", "2026-W15")  # April 6 to 12; the newest article is from April 6
    assert past.stderr == "brief: no data after 2026-04-06 (the newest article); shown as of 2026-04-06, not 2026-04-12\n"
    assert past.stdout == invoke("--db", store_path, "brief").stdout  # the 7 days up to the newest data
    invoke("--db", store_path, "report", "--out", tmp_path / "r.html", "--until", "2026-04-12")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    odds = re.search(r'<ul id="summary-odds">(.*?)</ul>', page).group(1).replace("</li><li>", "\n- ").replace("<li>", "- ")
    assert odds.replace("</li>", "").replace("&#39;", "'") in past.stdout  # the same odds as the report's for that --until


def test_a_week_or_range_wholly_before_the_first_article_is_refused_not_shown_as_quiet(store_path, tmp_path, monkeypatch):
    """`brief --week 2024-W05` and `report --since 2024-01-01 --until 2024-01-31` on a store starting later read as a
    quiet week: "no story this week moved the odds", the priors as odds, every indicator "not fired"."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SignalsError) as refused:
        invoke("--db", store_path, "brief", "--week", "2026-W13")  # March 23 to 29; the first article is from April 1
    assert str(refused.value) == ("brief: the week 2026-03-23 to 2026-03-29 ends before the first data (2026-04-01, the oldest "
                                  "article); give a later --week")
    for command in (["report", "--out", tmp_path / "r.html", "--since", "2026-01-01", "--until", "2026-01-31"],
                    ["report", "--out", tmp_path / "r.html", "--until", "2026-03-31"], ["odds", "--until", "2026-03-31"]):
        with pytest.raises(SignalsError) as refused:
            invoke("--db", store_path, *command)
        last = command[command.index("--until") + 1]
        assert str(refused.value) == (f"{command[0]}: the last day {last} is before the first data (2026-04-01, the oldest "
                                      "article); give a later --until")
    assert not (tmp_path / "r.html").exists()
    # a week or range that reaches the first article is shown
    assert invoke("--db", store_path, "brief", "--week", "2026-W14").stdout.startswith(f"## {PACK.title}: week 2026-03-30")
    assert invoke("--db", store_path, "odds", "--until", "2026-04-01").return_value == 0


def test_the_wording_says_one_pt_one_day_utc_and_what_held_at_its_prior_means(tmp_path, monkeypatch):
    """The brief and the page said "+1 pts", "1 days", a generated time without its zone on a page of UTC days, and
    "held at its prior since 2026-04-07" (the day compared with, which a case held at its prior has no change from)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGNALS_MODELS_DIR", str(models_dir(tmp_path)))
    # March 1 has faded a shown point by March 15 to 22 (49% to 50%, 21% to 20%; from 8 to 15 it fades 0.7 of a
    # point, 49% to 49%: no change as shown)
    rows = [("c1", 1, "contraction"), ("n22", 22, "none")]
    store = classified_store(tmp_path / "s.duckdb", [Article(i, "test", "Dawn", f"Story {i}", "", "Text.", datetime(2026, 3, d, 12), "")
                                                     for i, d, _ in rows],
                             [Prediction(i, PACK.id, MODEL, label, probs(label, 0.5), []) for i, _, label in rows])
    brief = invoke("--db", store, "brief", "--week", "2026-W12").stdout
    assert "- base 50% (29%–65%), +1 pt since 2026-03-15" in brief and "- contraction 20% (5%–41%), -1 pt since 2026-03-15" in brief
    assert "- accelerated 30% (not measurable yet), held at its prior: the news does not move it\n" in brief
    invoke("--db", store, "report", "--out", tmp_path / "r.html", "--since", "2026-03-22", "--until", "2026-03-22")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "2026-03-22 to 2026-03-22 · 1 day (UTC calendar days), 0 without data" in page
    generated = datetime.strptime(re.search(r"generated (\d{4}-\d\d-\d\d \d\d:\d\d) UTC</p>", page).group(1), "%Y-%m-%d %H:%M")
    assert abs(generated - datetime.utcnow()).total_seconds() < 180
    assert "+1 pt since" in page and "pts since" not in page and "held at its prior since" not in page


def dump_dom(html_file: Path, profile: Path) -> str:
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--dump-dom", html_file.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium at /usr/bin/chromium: run make browser")
def test_chromium_renders_the_charts_and_runs_no_injected_script(page, tmp_path):
    # The page forbids scripts by CSP; render it also with the CSP removed, so escaping alone is tested.
    no_csp = tmp_path / "no_csp.html"
    no_csp.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text(encoding="utf-8")), encoding="utf-8")
    for html_file in (page, no_csp):
        dom = dump_dom(html_file, tmp_path / f"profile-{html_file.stem}")
        title = re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
        assert title.startswith(PACK.title) and "pwned" not in title
        for chart in ("chart-daily", "chart-odds", "chart-indicators"):
            assert f'id="{chart}"' in dom
        assert 'id="odds-line-contraction"' in dom and 'id="bar-contraction-2026-04-05"' in dom
        assert "<script" not in dom.lower() and "<img" not in dom.lower()
        assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom  # shown as text


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
def test_chromium_screenshot_shows_the_summary_and_odds_on_the_first_screen(store_path, tmp_path):
    from PIL import Image  # matplotlib's dependency

    with Store(store_path, read_only=True) as store:
        page = report.write_report(store, PACK, tmp_path / "r.html", models_dir=models_dir(tmp_path))
    dom = dump_dom(page, tmp_path / "profile-dom")
    summary = re.search(r'<section id="summary">(.*?)</section>', dom, re.S).group(1)
    assert "The week 2026-03-31 to 2026-04-06" in summary and "accelerated 30% (not measurable yet)" in summary
    dates = [t for t in DATE_LABEL.findall(dom) if "-" in t and "%" not in t]
    assert dates and all(re.fullmatch(r"2026-\d\d-\d\d", t) for t in dates)
    shot = tmp_path / "first-screen.png"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path / 'profile-shot'}",
         "--hide-scrollbars", "--window-size=1280,1000", f"--screenshot={shot}", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    pixels = {colour for _, colour in Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 24)}
    # the summary box's background and each odds box's colour are painted within the first 1000 px
    assert (0xFA, 0xFA, 0xFA) in pixels
    for colour in (report.COLORS["base"], report.COLORS["contraction"]):
        assert tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5)) in pixels


def test_the_daily_chart_has_a_no_data_legend_only_with_a_missing_day_and_its_dates_never_overprint():
    """The reader's trial: with every day covered, the legend still showed "no data" as a solid base-blue swatch;
    on a 26-day range the ticks 2025-04-29 and 2025-05-01 overprinted each other."""
    import matplotlib.dates as mdates
    import pandas as pd

    from pipeline.charts import daily_figure
    from pipeline.records import LABELS

    days = pd.date_range("2025-04-10", "2025-05-05")
    daily = pd.DataFrame([{"day": d, "case": c, "probability": 1.0, "covered": True} for d in days for c in LABELS])
    legend = [t.get_text() for t in daily_figure(daily).figure.axes[0].get_legend().get_texts()]
    assert legend == ["base", "accelerated", "contraction"]
    gappy = daily.assign(covered=daily["day"] != days[3])
    axes = daily_figure(gappy).figure.axes[0]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["base", "accelerated", "contraction", "no data"]
    ticks = sorted(axes.get_xticks())
    assert len(ticks) >= 3 and min(b - a for a, b in zip(ticks, ticks[1:])) >= 3  # days apart: labels have room
    assert all(mdates.num2date(t).year == 2025 for t in ticks)
