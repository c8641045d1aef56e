"""The `signals` command end to end on small real inputs, with the committed model and a temporary store."""

import json
from pathlib import Path

import pytest

from pipeline.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.slow


def run(capsys, *argv):
    """`signals ARGV` in this process: (exit code, stdout, stderr). test_cli_errors, test_gate and test_scenarios use it."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_import_twice_then_trend(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    code, out, _ = run(capsys, "--db", db, "import", FIXTURES / "feeds", FIXTURES / "articles.jsonl", "--json")
    assert code == 0
    first = json.loads(out.strip().splitlines()[-1])
    assert first == {"feeds_ok": 3, "feeds_failed": 0, "articles_new": 8, "articles_updated": 0, "articles_seen": 8,
                     "feeds_skipped": 0, "relevant": {"iran-pakistan-2026": {"passed": 6, "scored": 8}}}
    code, out, _ = run(capsys, "--db", db, "import", FIXTURES / "feeds", FIXTURES / "articles.jsonl", "--json")
    assert json.loads(out.strip().splitlines()[-1])["articles_new"] == 0
    edited = tmp_path / "edited.jsonl"  # an outlet edits one article's title and corrects another's date only
    lines = [json.loads(line) for line in (FIXTURES / "articles.jsonl").read_text().splitlines()]
    lines[0]["title"] += " (updated)"
    lines[1]["published"] = "2026-04-12T08:00:00Z"
    edited.write_text("".join(json.dumps(line) + "\n" for line in lines[:2]))
    code, out, _ = run(capsys, "--db", db, "import", edited, "--json")
    assert json.loads(out.strip().splitlines()[-1])["articles_updated"] == 2  # was not reported at all

    code, out, _ = run(capsys, "--db", db, "trend", "--since", "2026-04-08", "--until", "2026-04-13", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and rows
    assert set(rows[0]) >= {"day", "scenario", "case", "articles", "probability"}
    assert {r["day"] for r in rows} <= {f"2026-04-{d:02d}" for d in range(8, 14)}
    assert sum(r["articles"] for r in rows) == 8  # every article counted once, under its label
    code, out, _ = run(capsys, "--db", db, "trend", "--format", "csv")
    assert out.splitlines()[0] == "day,scenario,case,articles,probability,stories,model"


def test_bad_jsonl_line_is_reported_and_nothing_stored_is_lost(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    run(capsys, "--db", db, "import", FIXTURES / "articles.jsonl")
    code, out, err = run(capsys, "--db", db, "import", FIXTURES / "bad_line.jsonl", "--json")
    assert code == 1
    assert f"{FIXTURES / 'bad_line.jsonl'}:2: not valid JSON" in err
    assert json.loads(out.strip())["articles_new"] == 2  # the good lines of the bad file
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 5
        assert con.execute("SELECT count(*) FROM predictions").fetchone()[0] == 5


def test_predict_needs_no_store(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out_file = tmp_path / "out.jsonl"
    code, _, _ = run(capsys, "predict", "--input", FIXTURES / "articles.jsonl", "--output", out_file)
    lines = [json.loads(l) for l in out_file.read_text().splitlines()]
    assert code == 0 and [l["id"] for l in lines] == ["fx-1", "fx-2", "fx-3"]
    for line in lines:
        assert line["label"] in ("base", "accelerated", "contraction", "none")
        assert abs(sum(line["probabilities"].values()) - 1) < 0.02
    assert not (tmp_path / "var").exists()
    assert lines[2]["label"] == "none"  # the bakery


def test_errors_are_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "--db", tmp_path / "missing.duckdb", "trend")
    assert code == 1 and err.count("\n") == 1 and "no store here yet" in err
    code, _, err = run(capsys, "predict", "--input", FIXTURES / "bad_line.jsonl", "--output", tmp_path / "o.jsonl")
    assert code == 1 and err.count("\n") == 1 and "bad_line.jsonl:2: not valid JSON" in err
    assert not (tmp_path / "o.jsonl").exists()  # nothing written from a bad file


def test_events_command_main_event_first(tmp_path, capsys):
    source = tmp_path / "sentences.jsonl"
    source.write_text(
        '{"id": "s1", "text": "The United States imposed new sanctions on Iran."}\n'
        '{"id": "s2", "text": "Nothing much happened on a quiet Sunday."}\n'
        '{"id": "s3", "text": "<p>The United States <b>imposed</b> new sanctions on Iran.</p><script>x()</script>"}\n'
    )
    code, _, _ = run(capsys, "events", "--input", source, "--output", tmp_path / "events.jsonl")
    lines = [json.loads(l) for l in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert code == 0 and [l["id"] for l in lines] == ["s1", "s2", "s3"]
    main_event = lines[0]["events"][0]
    assert (main_event["type"], main_event["source"], main_event["target"]) == ("SANCTION", "United States", "Iran")
    assert lines[1]["events"] == []
    assert lines[2]["events"] == lines[0]["events"]  # feed markup is cleaned as for every stored text: the same event
