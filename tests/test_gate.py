"""A watched pack whose relevance gate passes none of the articles (trial F6: `relevance_actors = ["Atlantis"]`,
0 of 180 articles passed, and neither the import nor a read nor the labeling queue said so). Real imports of
tests/fixtures/two_packs.jsonl, with the India test pack (its gate passes the two India articles) and a copy of it
whose gate names an actor no article names."""

import json
import shutil
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

from pipeline.cli import main
from test_cli import run  # (capsys, *argv) -> (exit code, stdout, stderr)

FIXTURES = Path(__file__).parent / "fixtures"
INDIA, NOMATCH = "india-pakistan-test", "nomatch"
pytestmark = pytest.mark.slow


def nomatch_pack(labels: Path) -> Path:
    """labels/nomatch: the India test pack with its gate on an actor the fixture articles never name."""
    text = (FIXTURES / "packs" / INDIA / "scenario.toml").read_text(encoding="utf-8")
    edited = text.replace(f'id = "{INDIA}"', f'id = "{NOMATCH}"').replace('relevance_actors = ["India"]', 'relevance_actors = ["Atlantis"]')
    assert edited.count(NOMATCH) == 1 and "Atlantis" in edited
    (labels / NOMATCH).mkdir(parents=True)
    (labels / NOMATCH / "scenario.toml").write_text(edited + '\n[[actors]]\nname = "Atlantis"\nkind = "state"\n', encoding="utf-8")
    return labels / NOMATCH / "scenario.toml"


def note(pack_file: Path, scored: int = 5) -> str:
    return (f"signals: pack '{NOMATCH}': none of the {scored} articles scored named a relevance actor (Atlantis); "
            f"check relevance_actors in {pack_file}")


@pytest.fixture(scope="module")
def two_packs(tmp_path_factory):
    """Both packs watched (zero-shot, no model), after one import: (config, db, nomatch's scenario.toml, the
    import's exit code, stdout and stderr)."""
    root = tmp_path_factory.mktemp("gate")
    labels = root / "labels"
    shutil.copytree(FIXTURES / "packs" / INDIA, labels / INDIA)
    pack_file = nomatch_pack(labels)
    config, db = root / "signals.toml", root / "s.duckdb"
    config.write_text(f'[signals]\nlabels_dir = "{labels}"\nscenarios = ["{INDIA}", "{NOMATCH}"]\nnlp_processes = 1\n')
    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--config", str(config), "--db", str(db), "import", str(FIXTURES / "two_packs.jsonl")])
    return config, db, pack_file, code, out.getvalue(), err.getvalue()


def test_the_import_says_how_many_articles_passed_each_packs_gate_and_names_a_gate_that_passed_none(two_packs):
    _, _, pack_file, code, out, err = two_packs
    assert code == 0, err
    table = dict(line.rsplit(None, 1) for line in out.splitlines())
    assert table["predictions"] == "5"
    assert (table[f"relevant to {INDIA}"], table[f"relevant to {NOMATCH}"]) == ("2/5", "0/5")
    assert [line for line in err.splitlines() if "relevance actor" in line] == [note(pack_file)]  # one line, the pack's


def test_the_import_json_counts_every_watched_pack(tmp_path, capsys):
    """One pack watched, whose gate passes nothing: no article is parsed, every one is `none` by the gate."""
    pack_file = nomatch_pack(tmp_path / "labels")
    config = tmp_path / "signals.toml"
    config.write_text(f'[signals]\nlabels_dir = "{tmp_path / "labels"}"\nscenarios = ["{NOMATCH}"]\nnlp_processes = 1\n')
    db = tmp_path / "s.duckdb"
    code, out, err = run(capsys, "--config", config, "--db", db, "import", FIXTURES / "two_packs.jsonl", "--json")
    assert code == 0, err
    assert json.loads(out)["relevant"] == {NOMATCH: {"passed": 0, "scored": 5}}
    assert note(pack_file) in err.splitlines()
    code, out, err = run(capsys, "--config", config, "--db", db, "import", FIXTURES / "two_packs.jsonl", "--json")
    assert json.loads(out)["relevant"] == {NOMATCH: {"passed": 0, "scored": 0}}  # nothing new scored: no line
    assert "relevance actor" not in err


def test_an_off_topic_import_into_a_store_the_gate_passes_is_not_blamed_on_the_pack(tmp_path, capsys):
    """One cricket result imported into a store whose other articles passed the India pack's gate said "check
    relevance_actors in .../scenario.toml": the store shows the gate works, so the line says that instead."""
    shutil.copytree(FIXTURES / "packs" / INDIA, tmp_path / "labels" / INDIA)
    config, db = tmp_path / "signals.toml", tmp_path / "s.duckdb"
    config.write_text(f'[signals]\nlabels_dir = "{tmp_path / "labels"}"\nscenarios = ["{INDIA}"]\nnlp_processes = 1\n')
    code, out, err = run(capsys, "--config", config, "--db", db, "import", FIXTURES / "two_packs.jsonl", "--json")
    assert code == 0 and json.loads(out)["relevant"] == {INDIA: {"passed": 2, "scored": 5}}, err
    cricket = tmp_path / "cricket.jsonl"
    cricket.write_text(json.dumps({"id": "cricket-1", "source": "test", "outlet": "Test Wire",
                                   "title": "Lahore Qalandars win the final by six wickets", "summary": "",
                                   "text": "Lahore Qalandars chased 181 with two overs to spare in the final on Sunday.",
                                   "published": "2026-04-12T18:00:00Z", "link": "https://example.org/cricket-1"}) + "\n")
    code, out, err = run(capsys, "--config", config, "--db", db, "import", cricket, "--json")
    assert code == 0 and json.loads(out)["relevant"] == {INDIA: {"passed": 0, "scored": 1}}, err
    assert [line for line in err.splitlines() if "relevance actor" in line] == [
        f"signals: pack '{INDIA}': the one article scored named no relevance actor (India): `none` by the gate, "
        "which has passed other articles in the store"]


@pytest.mark.parametrize("command", [["trend"], ["odds"], ["alerts"], ["brief"]])
def test_the_reads_say_it_on_stderr_and_still_work(two_packs, capsys, command):
    config, db, pack_file, *_ = two_packs
    code, _, err = run(capsys, "--config", config, "--db", db, *command, "--scenario", NOMATCH)
    assert code == 0, err  # a note, not an error: the read is shown as it stands
    assert note(pack_file) in err.splitlines()
    code, _, err = run(capsys, "--config", config, "--db", db, *command, "--scenario", INDIA)
    assert code == 0 and "relevance actor" not in err  # a gate that passed some: nothing to say


def test_the_brief_and_the_report_say_it_under_what_the_model_cant_see(two_packs, capsys, tmp_path):
    """A reader of the report, or of a brief pasted into a note, never sees the terminal's stderr: the line opens
    the week's "What the model can't see" there too, and only for the pack whose gate passed nothing."""
    config, db, pack_file, *_ = two_packs
    line = note(pack_file).removeprefix("signals: ")
    code, out, err = run(capsys, "--config", config, "--db", db, "brief", "--scenario", NOMATCH)
    assert code == 0, err
    blind = out.split("**What the model can't see:**", 1)[1]
    assert blind.lstrip("\n").startswith(f"- {line[:60]}")
    page = tmp_path / "nomatch.html"
    assert run(capsys, "--config", config, "--db", db, "report", "--scenario", NOMATCH, "--out", page)[0] == 0
    assert "none of the 5 articles scored named a relevance actor (Atlantis)" in page.read_text(encoding="utf-8")
    code, out, err = run(capsys, "--config", config, "--db", db, "brief", "--scenario", INDIA)
    assert code == 0 and "relevance actor" not in out


def test_the_queue_calls_no_gated_out_article_uncertain(two_packs, capsys, tmp_path):
    config, db, pack_file, *_ = two_packs
    queue = tmp_path / "nomatch.jsonl"
    code, out, err = run(capsys, "--config", config, "--db", db, "label", "--scenario", NOMATCH, "--size", "3", "--export", queue)
    assert code == 0, err
    rows = [json.loads(line) for line in queue.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3 and {r["picked"] for r in rows} == {"random"}
    assert len({json.dumps(r["probabilities"], sort_keys=True) for r in rows}) == 1  # the gate's one call, row after row
    assert note(pack_file) in err.splitlines()


def test_the_queue_still_ranks_the_articles_that_passed_the_gate_by_margin(two_packs, capsys, tmp_path):
    """The India pack's gate passed the two India articles: they are the uncertain picks, least sure first (the
    first item the least sure), and the three its gate kept out are random picks."""
    config, db, *_ = two_packs
    queue = tmp_path / "india.jsonl"
    code, _, err = run(capsys, "--config", config, "--db", db, "label", "--scenario", INDIA, "--size", "5", "--export", queue)
    assert code == 0 and "relevance actor" not in err, err
    rows = [json.loads(line) for line in queue.read_text(encoding="utf-8").splitlines()]
    assert [r["picked"] for r in rows] == ["uncertain", "random", "random", "uncertain", "random"]
    uncertain = [r for r in rows if r["picked"] == "uncertain"]
    assert {r["id"] for r in uncertain} == {"tp-india-1", "tp-india-2"}
    margins = [sorted(r["probabilities"].values())[-1] - sorted(r["probabilities"].values())[-2] for r in uncertain]
    assert margins == sorted(margins)


def test_an_analyst_labeling_is_told_which_random_picks_the_gate_kept_out(two_packs):
    """The interactive queue said "a random pick, to check the model where it is sure" of an article the gate kept
    out, which the model never read: it now says so."""
    from pipeline.labeling import build_queue, describe
    from pipeline.scenario import Relevance, load_scenario
    from pipeline.signals import current_model_version
    from pipeline.store import Store

    _, db, pack_file, *_ = two_packs
    india = load_scenario(pack_file.parent.parent / INDIA)
    with Store(db, read_only=True) as store:
        items = build_queue(store, INDIA, current_model_version(store, india), set(), size=5, gate=Relevance(india))
    outside = {i.article.id for i in items if i.gated_out}
    assert outside == {i.article.id for i in items if i.picked == "random"} and len(outside) == 3
    for item in items:
        shown = describe(item, 1, len(items))
        assert ("outside the pack's relevance gate" in shown) == (item.article.id in outside)
