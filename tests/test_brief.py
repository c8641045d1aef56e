"""`signals scenario init` drafts a pack from a brief; `scenario check` names the lines; zero-shot scores a pack."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.brief import init_pack
from pipeline.classify import predict
from pipeline.cli import main
from pipeline.encoder import load_encoder
from pipeline.errors import ScenarioError
from pipeline.records import LABELS, Article, NlpResult
from pipeline.scenario import load_scenario, pack_problems
from pipeline.settings import PROJECT_ROOT, load_settings
from pipeline.zeroshot import RECIPE, zero_shot_model, zero_shot_proba

# the seed briefs sit beside the shared data (SIGNALS_SHARED_DATA moves both, as in conftest)
SEEDS = Path(os.environ.get("SIGNALS_SHARED_DATA") or PROJECT_ROOT.parent / "shared" / "data").parent / "seeds"
WATCHLIST = {"imf-funding-review", "sistan-baluchestan-border-activity", "state-department-press-briefings",
             "brent-crude-price-volatility", "chinese-foreign-ministry-statements"}
# What an analyst writes in place of each kind of TODO: valid values, nothing else changed.
FILLED = {"title": '"A title"', "assumption": '"An assumption."', "indicator": '"An indicator."',
          "implication": '"An implication."', "definition": '"A definition."', "signals": '["A signal."]',
          "patterns": "['border']", "cases": '["base"]', "start": '"2026-04-08"'}


@pytest.fixture(scope="module")
def seeds() -> Path:
    if not (SEEDS / "000_140ff33cafa71c1f.txt").exists():
        pytest.skip(f"needs the seed briefs at {SEEDS}")
    return SEEDS


def fill_todos(text: str) -> str:
    """Replace each `key = ...TODO...` value with a valid one (priors 0.5, 0.3, 0.2 in turn); the drafted relevance
    actors are confirmed as they are (their TODO item deleted)."""
    priors = iter(("0.5", "0.3", "0.2"))

    def value(match: re.Match) -> str:
        key = match.group(1)
        if key == "relevance_actors":
            return re.sub(r', "TODO: [^"]*"', "", match.group(0))
        return f"{key} = {next(priors) if key == 'prior' else FILLED[key]}"

    return re.sub(r"^(\w+) = .*TODO.*$", value, text, flags=re.M)


def write_pack(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(text, encoding="utf-8")
    return folder


def test_first_seed_gives_cases_watchlist_tripwire_and_passes_after_its_todos(seeds, tmp_path):
    text = init_pack(seeds / "000_140ff33cafa71c1f.txt", "iran-pakistan-draft")
    assert init_pack(seeds / "000_140ff33cafa71c1f.txt", "iran-pakistan-draft") == text  # deterministic
    raw = tomllib.loads(text)
    assert [(c["name"], c["prior"]) for c in raw["cases"]] == [("base", 0.5), ("accelerated", 0.3), ("contraction", 0.2)]
    assert raw["cases"][1]["indicator"].startswith("Resumption of construction on the Iran-Pakistan gas pipeline")
    indicators = {i["id"]: i for i in raw["indicators"]}
    assert WATCHLIST <= set(indicators)
    assert indicators["imf-funding-review"]["source"] == "International Monetary Fund"
    tripwires = [i for i in raw["indicators"] if "deadline_days" in i]
    assert [t["deadline_days"] for t in tripwires] == [60, 30]
    assert "communiqu" in tripwires[1]["meaning"]  # "Watch the official joint communiqué ... next month": dated too
    assert "formal condemnation" in tripwires[0]["meaning"] and tripwires[0]["actors"] == [["United States"], ["Pakistan"], ["Iran"]]
    assert {"Iran", "Pakistan", "United States", "China", "IMF"} <= {a["name"] for a in raw["actors"]}

    pack = write_pack(tmp_path / "iran-pakistan-draft", text)
    problems = pack_problems(pack)
    assert problems and all(": TODO left: " in p for p in problems)  # the TODOs are all that is wrong
    with pytest.raises(ScenarioError, match="still has a TODO"):
        load_scenario(pack)
    write_pack(pack, fill_todos(text))
    assert pack_problems(pack) == []
    assert load_scenario(pack).priors == {"base": 0.5, "accelerated": 0.3, "contraction": 0.2}


def test_second_seed_has_indicators_and_tripwire_but_todo_cases(seeds, tmp_path, capsys):
    text = init_pack(seeds / "001_f18aca838c4d2e48.txt", "second")
    raw = tomllib.loads(text)
    assert [c["name"] for c in raw["cases"]] == ["base", "accelerated", "contraction"]
    assert all(str(c["prior"]).startswith("TODO") for c in raw["cases"])
    tripwire = next(i for i in raw["indicators"] if "deadline_days" in i)
    assert tripwire["deadline_days"] == 30 and "Joint Border Management Office" in tripwire["meaning"]
    assert any("technical committees" in i["name"] for i in raw["indicators"])

    pack = write_pack(tmp_path / "second", text)
    assert main(["scenario", "check", str(pack)]) == 1
    err = capsys.readouterr().err.splitlines()
    prior_lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.startswith("prior = ")]
    assert all(any(line.startswith(f"{pack / 'scenario.toml'}:{n}: TODO left: prior") for line in err) for n in prior_lines)
    write_pack(pack, fill_todos(text))
    assert main(["scenario", "check", str(pack)]) == 0


def test_check_names_the_line_of_broken_toml_and_of_schema_errors(tmp_path, capsys):
    shipped = (PROJECT_ROOT / "labels" / "iran-pakistan-2026" / "scenario.toml").read_text(encoding="utf-8")
    lines = shipped.splitlines()
    broken_at = next(n for n, line in enumerate(lines, start=1) if line.startswith("prior = 0.3"))
    lines[broken_at - 1] = "prior = = 0.3"
    pack = write_pack(tmp_path / "iran-pakistan-2026", "\n".join(lines) + "\n")
    assert main(["scenario", "check", str(pack)]) == 1
    assert capsys.readouterr().err.startswith(f"{pack / 'scenario.toml'}:{broken_at}: not valid TOML")

    second_pattern = next(n for n, line in enumerate(shipped.splitlines(), start=1) if line.startswith("patterns") and n > broken_at)
    bad = shipped.splitlines()
    bad[second_pattern - 1] = "patterns = ['(unclosed']"
    write_pack(pack, "\n".join(bad) + "\n")
    assert pack_problems(pack) == [f"{pack / 'scenario.toml'}:{second_pattern}: indicator #1 has a bad pattern: "
                                   "missing ), unterminated subpattern at position 0"]


def test_init_writes_a_pack_once_and_never_overwrites(seeds, tmp_path, capsys):
    assert main(["scenario", "init", str(seeds / "000_140ff33cafa71c1f.txt"), "--id", "draft", "--out", str(tmp_path)]) == 0
    written = (tmp_path / "draft" / "scenario.toml").read_text(encoding="utf-8")
    assert "TODO" in capsys.readouterr().err
    (tmp_path / "draft" / "scenario.toml").write_text(written + "# the analyst's edit\n", encoding="utf-8")
    assert main(["scenario", "init", str(seeds / "000_140ff33cafa71c1f.txt"), "--id", "draft", "--out", str(tmp_path)]) == 1
    assert "already here" in capsys.readouterr().err
    assert (tmp_path / "draft" / "scenario.toml").read_text(encoding="utf-8").endswith("# the analyst's edit\n")


KP_BRIEF = ("Pakistan faces a hard year in Khyber Pakhtunkhwa, where militant attacks rose after talks stalled.\n\n"
            "Watchlist\n- Corps commanders meeting: ISPR — A statement on operations signals a new offensive.\n")


def test_init_copies_the_brief_it_names_as_the_seed_into_the_pack(tmp_path, capsys):
    """The drafted pack said `seeds = ["kp-brief.txt"]` and the folder held no such file: the seed it names was
    missing. It is copied beside the pack, never over another file of its name."""
    brief = tmp_path / "kp-brief.txt"
    brief.write_text(KP_BRIEF, encoding="utf-8")
    labels = tmp_path / "labels"
    labels.mkdir()
    assert main(["scenario", "init", str(brief), "--id", "kp", "--out", str(labels)]) == 0
    assert tomllib.loads((labels / "kp" / "scenario.toml").read_text(encoding="utf-8"))["scenario"]["seeds"] == ["kp-brief.txt"]
    assert (labels / "kp" / "kp-brief.txt").read_text(encoding="utf-8") == KP_BRIEF
    assert capsys.readouterr().err.startswith(f"{labels / 'kp' / 'scenario.toml'}: drafted, its brief beside it as kp-brief.txt;")
    # another file of the brief's name already in the folder: refused, nothing written, that file kept
    (labels / "other").mkdir()
    (labels / "other" / "kp-brief.txt").write_text("the analyst's notes\n", encoding="utf-8")
    assert main(["scenario", "init", str(brief), "--id", "other", "--out", str(labels)]) == 1
    assert "another file of the brief's name is already here" in capsys.readouterr().err
    assert sorted(p.name for p in (labels / "other").iterdir()) == ["kp-brief.txt"]
    assert (labels / "other" / "kp-brief.txt").read_text(encoding="utf-8") == "the analyst's notes\n"
    # the brief already in the pack's folder (written there first) is its own copy
    (labels / "third").mkdir()
    (labels / "third" / "kp-brief.txt").write_text(KP_BRIEF, encoding="utf-8")
    assert main(["scenario", "init", str(labels / "third" / "kp-brief.txt"), "--id", "third", "--out", str(labels)]) == 0
    assert (labels / "third" / "kp-brief.txt").read_text(encoding="utf-8") == KP_BRIEF


def test_a_brief_with_a_bom_drafts_the_same_pack_and_one_not_in_utf8_is_refused_in_one_line(tmp_path, capsys):
    """A brief saved with a BOM (Notepad) drafted a description starting with an invisible U+FEFF; one saved as
    Windows-1252 stopped `scenario init` with a UnicodeDecodeError traceback."""
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "kp-brief.txt").write_text(KP_BRIEF, encoding="utf-8")
    (tmp_path / "bom").mkdir()
    (tmp_path / "bom" / "kp-brief.txt").write_text(KP_BRIEF, encoding="utf-8-sig")
    drafted = init_pack(tmp_path / "bom" / "kp-brief.txt", "kp")
    assert drafted == init_pack(tmp_path / "plain" / "kp-brief.txt", "kp")
    assert tomllib.loads(drafted)["scenario"]["description"].startswith("Pakistan faces")

    brief = tmp_path / "cp1252-brief.txt"
    brief.write_bytes(KP_BRIEF.encode("cp1252"))  # the em dash of line 4 is byte 0x97
    labels = tmp_path / "labels"
    labels.mkdir()
    assert main(["scenario", "init", str(brief), "--id", "kp", "--out", str(labels)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"signals: error: {brief}:4: not UTF-8 text (byte 0x97); save the file as UTF-8 and try again"]
    assert list(labels.iterdir()) == []


@pytest.mark.parametrize("scenario_id, problem", [
    ("../evil", "it holds the path separator '/'"),
    ("Pak Afghan/x", "it holds the path separator '/'"),
    ("..", "it starts with '.' (a hidden folder, or a step up like '..')"),
    (".kp", "it starts with '.' (a hidden folder, or a step up like '..')"),
    ("", "it is empty"),
    ("kp ", "it starts or ends with a space"),
])
def test_init_refuses_an_id_that_is_not_a_plain_folder_name_before_writing_anything(tmp_path, capsys, scenario_id, problem):
    """`--id ../evil --out labels` drafted a pack beside labels/, outside --out, that could never load (its id is not
    its folder's name); `--id "Pak Afghan/x"` failed with a bare "No such file or directory"."""
    brief = tmp_path / "kp-brief.txt"
    brief.write_text(KP_BRIEF, encoding="utf-8")
    labels = tmp_path / "labels"
    labels.mkdir()
    assert main(["scenario", "init", str(brief), "--id", scenario_id, "--out", str(labels)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"signals: error: --id {scenario_id!r} is not a plain folder name: {problem}; the id is the name of the pack's "
        "folder (DIR/NAME), e.g. 'pak-afghan-2026' (nothing was written)"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kp-brief.txt", "labels"]
    assert main(["scenario", "init", str(brief), "--id", scenario_id]) == 1  # printing a draft that could never load
    assert main(["scenario", "init", str(brief), "--id", "Pak Afghan", "--out", str(labels)]) == 0  # a space is a name
    assert load_scenario(write_pack(tmp_path / "Pak Afghan", fill_todos(init_pack(brief, "Pak Afghan")))).id == "Pak Afghan"


def test_the_drafted_relevance_actors_are_a_suggestion_to_confirm(tmp_path):
    """The gate was drafted from the opening paragraph ("Pakistan", "Khyber Pakhtunkhwa") with no TODO, so `check`
    passed it unread; it decides which articles are classified at all, and a country named in most of the news
    keeps little out. The names stay as the suggestion, with a TODO item that `check` lists and load refuses."""
    brief = tmp_path / "kp-brief.txt"
    brief.write_text(KP_BRIEF, encoding="utf-8")
    text = init_pack(brief, "kp")
    gate = tomllib.loads(text)["scenario"]["relevance_actors"]
    assert gate[:2] == ["Pakistan", "Khyber Pakhtunkhwa"] and gate[-1].startswith("TODO: confirm the gate")
    pack = write_pack(tmp_path / "kp", text)
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if row.startswith("relevance_actors = "))
    assert any(p.startswith(f"{pack / 'scenario.toml'}:{line}: TODO left: relevance_actors = [\"Pakistan\", "
                            '"Khyber Pakhtunkhwa", ') for p in pack_problems(pack))
    confirmed = write_pack(pack, fill_todos(text))  # the author keeps the suggestion: the TODO item deleted
    assert load_scenario(confirmed).relevance_actors == tuple(gate[:-1])


def test_a_drafted_gate_with_no_actor_is_a_todo_and_left_empty_it_is_refused(tmp_path):
    """A brief whose opening names no actor drafts the gate as one TODO item, which `check` lists like any other;
    deleting it leaves `relevance_actors = []`, a gate that passes no article, which `check` had called ok."""
    brief = tmp_path / "brief.txt"
    brief.write_text("A hard year lies ahead for the region.\n\n" + KP_BRIEF.split("\n\n", 1)[1], encoding="utf-8")
    text = init_pack(brief, "ng")
    pack = write_pack(tmp_path / "ng", text)
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if row.startswith("relevance_actors = "))
    gate_problems = [p for p in pack_problems(pack) if p.startswith(f"{pack / 'scenario.toml'}:{line}: ")]
    assert gate_problems == [f"{pack / 'scenario.toml'}:{line}: TODO left: relevance_actors = "
                             '["TODO: the actors an article must name to matter"]']
    write_pack(pack, text.replace('relevance_actors = ["TODO: the actors an article must name to matter"]',
                                  "relevance_actors = []"))
    assert f"{pack / 'scenario.toml'}:{line}: relevance_actors is empty; name the actors (declared in [[actors]]) an " \
           "article must mention to be classified: with none, no article passes the relevance gate and every one is " \
           "`none`" in pack_problems(pack)


def article(id_: str, title: str, text: str) -> Article:
    return Article(id_, "test", "Test", title, "", text, datetime(2026, 4, 20), f"https://example.test/{id_}")


def test_zero_shot_puts_a_plain_accelerated_story_on_accelerated():
    """Sentences written from brief 000's accelerated case, and an unrelated story the gate keeps out."""
    pack = load_scenario(PROJECT_ROOT / "labels" / "iran-pakistan-2026")
    settings = load_settings(environ={}, config=None)
    encoder = load_encoder(settings.encoders_dir, settings.encoder)
    accelerated = article(
        "acc", "Iran and Pakistan sign security pact, agree to restart gas pipeline",
        "Iran and Pakistan signed a formal security pact on Tuesday to protect their energy corridors. "
        "The two governments agreed to resume construction on the Iran-Pakistan gas pipeline despite warnings "
        "of US sanctions, and set up a joint committee to finance the work.")
    unrelated = article("none", "Lahore hosts a national squash championship",
                        "Players from across Punjab competed in the national squash championship in Lahore this week.")
    probs = zero_shot_proba(pack, [accelerated, unrelated], encoder)
    assert LABELS[int(probs[0].argmax())] == "accelerated"
    assert LABELS[int(probs[1].argmax())] == "none"
    model, entry = zero_shot_model(pack, encoder)
    predictions = predict(model, entry.version, pack.id, [accelerated], [NlpResult("acc", True)], encoder)
    assert predictions[0].model_version == entry.version and entry.version.startswith(RECIPE + "-")
    assert predictions[0].label == "accelerated"
    assert predictions[0].evidence and abs(sum(predictions[0].probabilities.values()) - 1) < 1e-3
