import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import ConfigError, InputError, ScenarioError
from pipeline.scenario import load_scenario
from pipeline.settings import PROJECT_ROOT, load_settings

PACK = PROJECT_ROOT / "labels" / "iran-pakistan-2026"


def test_toml_then_environment_then_flags(tmp_path):
    config = tmp_path / "signals.toml"
    config.write_text('[signals]\ndb = "from-toml.duckdb"\nnlp_processes = 3\nfeeds = ["https://a.example/rss"]\n')
    s = load_settings(config, environ={})
    assert s.db == Path("from-toml.duckdb") and s.nlp_processes == 3 and s.feeds == ("https://a.example/rss",)
    s = load_settings(config, environ={"SIGNALS_DB": "from-env.duckdb"})
    assert s.db == Path("from-env.duckdb") and s.nlp_processes == 3
    s = load_settings(config, environ={"SIGNALS_DB": "from-env.duckdb"}, db=Path("from-flag.duckdb"))
    assert s.db == Path("from-flag.duckdb")


def test_bad_settings_name_the_file_and_key(tmp_path):
    config = tmp_path / "signals.toml"
    config.write_text("[signals]\nnlp_processes = 'many'\n")
    with pytest.raises(ConfigError, match=r"signals.toml: nlp_processes: must be a whole number \(got 'many'\)$"):
        load_settings(config, environ={})
    config.write_text("[signals]\nbogus = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'bogus'"):
        load_settings(config, environ={})
    config.write_text("[signals\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config, environ={})


@pytest.mark.parametrize("line, message", [
    ("nlp_processes = -3", "nlp_processes: must be >= 1 (got -3)"),
    ("process_chunk_size = 0", "process_chunk_size: must be >= 1 (got 0)"),
    ("http_timeout = 0", "http_timeout: must be > 0"),
    ("max_redirects = -1", "max_redirects: must be >= 0 (got -1)"),
    ("fetch_full_text = 'maybe'", "fetch_full_text: must be true or false (got 'maybe')"),
    ("duckdb_memory_limit = 'plenty'", "duckdb_memory_limit: must be a size like 128MB or 2GB (got 'plenty')"),
    ("retrain_cron = 'daily'", "retrain_cron: must be a cron line of five fields (got 'daily')"),
    ("scenario = ''", "scenario: must not be empty"),
    ("dask_address = 'tcp://x:8786'", "unknown setting 'dask_address'"),  # never read, so no longer a setting
])
def test_out_of_range_values_are_refused_in_one_line_naming_file_and_key(tmp_path, line, message):
    config = tmp_path / "signals.toml"
    config.write_text(f"[signals]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    text = str(caught.value)
    assert text.startswith(f"{config}: ") and message in text and "\n" not in text


def test_environment_values_are_validated_and_named_by_their_variable(tmp_path):
    absent = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match=r"^SIGNALS_NLP_PROCESSES: nlp_processes: must be >= 1 \(got '0'\)$"):
        load_settings(environ={"SIGNALS_CONFIG": str(absent), "SIGNALS_NLP_PROCESSES": "0"})
    s = load_settings(environ={"SIGNALS_CONFIG": str(absent), "SIGNALS_FEEDS": "https://a.example/rss, https://b.example/rss",
                               "SIGNALS_FETCH_FULL_TEXT": "yes", "SIGNALS_SHARED_DATA": str(tmp_path)})
    assert s.feeds == ("https://a.example/rss", "https://b.example/rss") and s.fetch_full_text is True
    assert s.shared_data == tmp_path
    assert s.replace(nlp_batch_size=7, db=None).nlp_batch_size == 7 and s.replace(db=None).db == s.db
    with pytest.raises(ConfigError, match="nlp_processes: must be >= 1"):
        s.replace(nlp_processes=0)


def test_an_installed_package_takes_no_defaults_from_the_source_tree(tmp_path):
    """Copied without the checkout around it (as pip installs it), the package has no shared-data default and
    its folders are relative to the working directory; from the checkout they point into it."""
    site = tmp_path / "site-packages"
    shutil.copytree(PROJECT_ROOT / "pipeline", site / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    probe = ("from pipeline.settings import load_settings; s = load_settings(environ={}); "
             "print(s.shared_data, s.labels_dir, s.models_dir, s.encoders_dir, sep='|')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNALS_")}
    installed = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={**env, "PYTHONPATH": str(site)},
                               capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stderr[-2000:]
    assert installed.stdout.strip() == "None|labels|models|models/encoders"
    checkout = load_settings(environ={"SIGNALS_CONFIG": str(tmp_path / "absent.toml")})
    assert checkout.labels_dir == PROJECT_ROOT / "labels" and checkout.shared_data == PROJECT_ROOT.parent / "shared" / "data"
    with_data = load_settings(environ={"SIGNALS_CONFIG": str(tmp_path / "absent.toml"), "SIGNALS_SHARED_DATA": str(tmp_path)})
    assert with_data.shared_data == tmp_path


def test_shipped_pack_has_cases_priors_watchlist_and_actors():
    pack = load_scenario(PACK)
    assert pack.priors == {"base": 0.5, "accelerated": 0.3, "contraction": 0.2}
    assert {"imf-review", "joint-border-office", "ip-pipeline-committees", "us-condemnation"} <= {i.id for i in pack.indicators}
    kinds = {a.kind for a in pack.actors}
    assert {"state", "leader", "militant_group", "place", "organisation"} <= kinds
    assert next(i for i in pack.indicators if i.id == "us-condemnation").deadline_days == 60


def shipped_copy(tmp_path: Path, text: str) -> Path:
    """`text` (the shipped pack, edited) as the pack file of a folder named for the shipped pack's id."""
    (tmp_path / PACK.name).mkdir()
    (tmp_path / PACK.name / "scenario.toml").write_text(text)
    return tmp_path / PACK.name


def test_pack_with_a_missing_field_is_refused(tmp_path):
    text = (PACK / "scenario.toml").read_text().replace('name = "accelerated"\n', "", 1)
    pack = shipped_copy(tmp_path, text)
    with pytest.raises(ScenarioError, match=r"scenario.toml: case #2 is missing the field 'name'"):
        load_scenario(pack)


def test_priors_must_sum_to_one(tmp_path):
    text = (PACK / "scenario.toml").read_text().replace("prior = 0.5", "prior = 0.6", 1)
    pack = shipped_copy(tmp_path, text)
    with pytest.raises(ScenarioError, match="sum to 1.1"):
        load_scenario(pack)


@pytest.mark.parametrize("old, new, refusal", [
    # a prior outside 0..1 that the others make sum to 1
    ("prior = 0.5", "prior = 1.2", r"case 'base' has prior 1.2; a prior lies between 0 and 1"),
    ("threshold = 2", "threshold = 0", r"indicator #4's threshold \(articles in a day\) is 0; expected a whole number of at least 1"),
    ("threshold = 2", "threshold = -1", r"indicator #4's threshold .* is -1"),
    ("deadline_days = 30", "deadline_days = -30", r"indicator #6's deadline_days is -30"),
    ('start = "2026-04-08"\ndeadline_days = 30', "deadline_days = 30", r"indicator #6 has deadline_days but no start"),
    ('id = "china-mfa"', 'id = "imf-review"', r"indicator #5 repeats the id 'imf-review' of indicator #1"),
    ("threshold = 2", "threshhold = 2", r"indicator #4 has unknown field\(s\) 'threshhold'"),
    ('id = "iran-pakistan-2026"', 'id = "iran-pakistan-2026"\nrelevance = []', r"\[scenario\] has unknown field\(s\) 'relevance'"),
])
def test_a_pack_that_cannot_mean_what_it_says_is_refused(tmp_path, old, new, refusal):
    text = (PACK / "scenario.toml").read_text()
    assert old in text
    text = text.replace(old, new, 1)
    if "prior = 1.2" in text:  # keep the sum at 1, so only the range is wrong
        text = text.replace("prior = 0.3", "prior = -0.4", 1)
    pack = shipped_copy(tmp_path, text)
    with pytest.raises(ScenarioError, match=refusal):
        load_scenario(pack)


# A small pack of every kind of field, for the pack checks below: written into tmp_path/<folder>/scenario.toml.
SMALL = """[scenario]
id = "small"
title = "A small pack"
relevance_actors = ["Pakistan"]

[[cases]]
name = "base"
prior = 0.5
definition = "Talks go on."
signals = ["Ministers meet."]

[[cases]]
name = "accelerated"
prior = 0.3
definition = "A deal is signed."
signals = ["A trade deal is signed."]

[[cases]]
name = "contraction"
prior = 0.2
definition = "Relations break down."
signals = ["An envoy is recalled."]

[[indicators]]
id = "talks"
name = "Talks with Qatar"
patterns = ['\\btalks\\b']
cases = ["base"]
threshold = 1
actors = [["Pakistan"], ["Qatar"]]

[[actors]]
name = "Pakistan"
kind = "state"
code = "PK"
aliases = ["Pakistan", "Islamabad"]

[[actors]]
name = "Qatar"
kind = "state"
code = "QA"
aliases = ["Qatar", "Doha"]
"""


def small_pack(tmp_path: Path, *edits: tuple[str, str], folder: str = "small") -> Path:
    """SMALL with each (old, new) replaced once (each old must be there), written as tmp_path/folder."""
    text = SMALL
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / folder / "scenario.toml").write_text(text, encoding="utf-8")
    return tmp_path / folder


def line_of(pack: Path, start: str, nth: int = 1) -> int:
    """The number of the `nth` line of the pack's file that starts with `start`."""
    lines = (pack / "scenario.toml").read_text(encoding="utf-8").splitlines()
    return [n for n, line in enumerate(lines, start=1) if line.startswith(start)][nth - 1]


def check(pack: Path, capsys) -> tuple[int, list[str]]:
    """`signals scenario check PACK`: its exit code and its stderr lines."""
    from pipeline.cli import main

    code = main(["scenario", "check", str(pack)])
    return code, capsys.readouterr().err.splitlines()


def test_the_small_pack_is_usable(tmp_path, capsys):
    pack = small_pack(tmp_path)
    assert check(pack, capsys) == (0, [])
    assert load_scenario(pack).indicators[0].requires[1].search("Officials flew to Doha.")


def test_check_reports_every_schema_problem_not_only_the_first(tmp_path, capsys):
    pack = small_pack(tmp_path, ("prior = 0.2", "prior = 0.3"), ("threshold = 1", "threshhold = 1"))
    file = pack / "scenario.toml"
    code, err = check(pack, capsys)
    assert code == 1
    assert err == [f"{file}:{line_of(pack, 'prior')}: case priors must sum to 1, they sum to 1.1",
                   f"{file}:{line_of(pack, '[[indicators]]')}: indicator #1 has unknown field(s) 'threshhold'; "
                   "expected some of actors, cases, deadline_days, id, meaning, name, patterns, source, start, threshold"]
    with pytest.raises(ScenarioError, match=r"sum to 1.1 \(1 more problem\(s\): run 'signals scenario check "):
        load_scenario(pack)

    # a drafted pack: every TODO, then the schema problems on the lines without one
    pack = small_pack(tmp_path, ('definition = "Talks go on."', 'definition = "TODO: the base case"'),
                      ("threshold = 1", "threshold = 0"))
    code, err = check(pack, capsys)
    assert code == 1
    assert err == [f"{file}:{line_of(pack, 'definition')}: TODO left: definition = \"TODO: the base case\"",
                   f"{file}:{line_of(pack, 'threshold')}: indicator #1's threshold (articles in a day) is 0; "
                   "expected a whole number of at least 1"]


def test_a_pack_whose_id_is_not_its_folder_is_refused(tmp_path, capsys):
    """Settings and --scenario find a pack by its folder, the store keeps its signals under its id: a pack
    whose id differed from its folder passed 'check', loaded, and its signals could then never be read."""
    pack = small_pack(tmp_path, folder="mism")
    code, err = check(pack, capsys)
    assert code == 1
    assert err == [f"{pack / 'scenario.toml'}:{line_of(pack, 'id = ')}: id 'small' is not the folder's name 'mism'; "
                   "a pack is found by its folder and its signals are stored under its id, so they must be the same "
                   "(rename one)"]
    with pytest.raises(ScenarioError, match=r"mism/scenario.toml: id 'small' is not the folder's name 'mism'"):
        load_scenario(pack / "scenario.toml")

    # a command watching it stops at once, with that one line
    from pipeline.cli import main

    config = tmp_path / "signals.toml"
    config.write_text(f'[signals]\ndb = "{tmp_path / "store.duckdb"}"\nlabels_dir = "{tmp_path}"\nscenarios = ["mism"]\n')
    assert main(["--config", str(config), "trend"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"signals: error: {pack / 'scenario.toml'}: id 'small' is not the folder's name 'mism'; a pack is found by "
        "its folder and its signals are stored under its id, so they must be the same (rename one)"]
    assert not (tmp_path / "store.duckdb").exists()

    (tmp_path / "mism").rename(tmp_path / "small")  # named for its id, the same pack is usable
    assert check(tmp_path / "small", capsys) == (0, [])


def test_a_pack_or_settings_file_not_in_utf8_is_refused_in_one_line_and_a_bom_is_no_part_of_it(tmp_path, capsys):
    """Saved as Latin-1 ('Türkiye' in a comment), a pack or the settings file stopped `scenario check`, and every
    command that read it, with a UnicodeDecodeError traceback; saved with a BOM (Notepad), each was "not valid TOML:
    Invalid statement" at line 1. Now a BOM is read past, and another encoding is one line naming the file and line."""
    from pipeline.cli import main

    comment = ('title = "A small pack"', 'title = "A small pack"\n# Türkiye watches the border too')
    pack = small_pack(tmp_path, comment)
    file = pack / "scenario.toml"
    file.write_bytes(file.read_text(encoding="utf-8").encode("latin-1"))
    refusal = f"{file}:4: not UTF-8 text (byte 0xfc); save the file as UTF-8 and try again"
    assert check(pack, capsys) == (1, [refusal])
    with pytest.raises(ScenarioError, match=f"^{re.escape(refusal)}$"):
        load_scenario(pack)
    # watched, it stops a read command in the same one line, before any store is made
    config = tmp_path / "signals.toml"
    config.write_text(f'[signals]\ndb = "{tmp_path / "store.duckdb"}"\nlabels_dir = "{tmp_path}"\nscenarios = ["small"]\n',
                      encoding="utf-8")
    assert main(["--config", str(config), "trend"]) == 1
    assert capsys.readouterr().err.splitlines() == [f"signals: error: {refusal}"]
    assert not (tmp_path / "store.duckdb").exists()

    file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes().decode("latin-1").encode("utf-8"))  # UTF-8 with a BOM
    assert check(pack, capsys) == (0, [])
    assert load_scenario(pack).title == "A small pack"

    settings_text = config.read_text(encoding="utf-8") + "# café\n"
    config.write_bytes(settings_text.encode("latin-1"))
    with pytest.raises(ConfigError, match=f"^{re.escape(str(config))}:5: not UTF-8 text \\(byte 0xe9\\); save the file"):
        load_settings(config, environ={})
    assert main(["--config", str(config), "trend"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"signals: error: {config}:5: not UTF-8 text (byte 0xe9); save the file as UTF-8 and try again"]
    config.write_bytes(b"\xef\xbb\xbf" + settings_text.encode("utf-8"))
    assert load_settings(config, environ={}).scenarios == ("small",)


def test_a_watched_pack_whose_folder_is_missing_is_named_as_watched_and_where(tmp_path, capsys, monkeypatch):
    """`predict --scenario india-pakistan-test` stopped on "labels/pak-afghan-2026: no scenario pack here", a pack
    the user never named: it is read because the settings watch it. The line says so, and where it is listed."""
    from pipeline.cli import main

    shutil.copytree(Path(__file__).parent / "fixtures" / "packs" / "india-pakistan-test", tmp_path / "india-pakistan-test")
    config = tmp_path / "signals.toml"
    config.write_text(f'[signals]\nlabels_dir = "{tmp_path}"\nscenarios = ["india-pakistan-test", "pak-afghan-2026"]\n'
                      "nlp_processes = 1\n", encoding="utf-8")
    articles, out = Path(__file__).parent / "fixtures" / "two_packs.jsonl", tmp_path / "out.jsonl"
    predict = ["predict", "--scenario", "india-pakistan-test", "--input", str(articles), "--output", str(out)]
    missing = f"{tmp_path / 'pak-afghan-2026'}: no scenario pack here; pack 'pak-afghan-2026' is watched (listed in "
    advice = "), and every command that parses news reads each watched pack: restore its folder, or remove it from there"
    assert main(["--config", str(config), *predict]) == 1
    assert capsys.readouterr().err.splitlines() == [f"signals: error: {missing}'scenarios' in {config}{advice}"]
    monkeypatch.setenv("SIGNALS_SCENARIOS", "india-pakistan-test, pak-afghan-2026")
    assert main(["--config", str(config), *predict]) == 1
    assert capsys.readouterr().err.splitlines() == [f"signals: error: {missing}SIGNALS_SCENARIOS{advice}"]
    assert not out.exists()


def test_check_reads_the_probe_suite_as_train_does(tmp_path, capsys):
    """`check` did not read probes/probes.jsonl, so a probe labeled 'nonee' passed it and stopped `signals train`.
    It reads the suite with train's reader now; a pack with none is still ok, and the ok line says which it is."""
    from pipeline.cli import main
    from pipeline.jobs import load_probes

    pack = small_pack(tmp_path)
    assert main(["scenario", "check", str(pack)]) == 0
    assert capsys.readouterr().out.endswith("1 indicators, 2 actors, no probe suite (probes/probes.jsonl)\n")

    (pack / "probes").mkdir()
    suite = pack / "probes" / "probes.jsonl"
    good = '{"id": "p1", "label": "base", "title": "Ministers meet in Doha"}\n'
    suite.write_text(good + "\n" + '{"id": "p2", "label": "nonee", "title": "A cricket final"}\n', encoding="utf-8")
    refusal = f"{suite}:3: label 'nonee' is not one of base, accelerated, contraction, none"
    assert check(pack, capsys) == (1, [refusal])
    with pytest.raises(InputError, match=f"^{re.escape(refusal)}$"):  # what `signals train` stops on
        load_probes(load_scenario(pack))
    # a probe with no id (the reader gives it one) had stopped both on a KeyError
    suite.write_text(good + '{"label": "none", "title": "A cricket final"}\n', encoding="utf-8")
    assert main(["scenario", "check", str(pack)]) == 0
    assert capsys.readouterr().out.endswith("2 actors, 2 probes\n")
    assert load_probes(load_scenario(pack))[1] == ["base", "none"]


QATAR_ALIASES = 'aliases = ["Qatar", "Doha"]\n'


@pytest.mark.parametrize("old, new, at, reason", [
    # a bare text where a list belongs was read letter by letter: Qatar's aliases 'Q', 'a', ... matched the word "a"
    (QATAR_ALIASES, 'aliases = "Qatar"\n', 'aliases = "Qatar"',
     "actor #2's aliases must be a list of texts, e.g. ['Qatar']; a bare text would be read letter by letter"),
    ("patterns = ['\\btalks\\b']", "patterns = 'suicide'", "patterns = 'suicide'",
     "indicator #1's patterns must be a list of texts, e.g. ['suicide']; a bare text would be read letter by letter"),
    ('signals = ["Ministers meet."]', 'signals = "Ministers meet."', 'signals = "Ministers meet."',
     "case #1's signals must be a list of texts, e.g. ['Ministers meet.']; a bare text would be read letter by letter"),
    ('relevance_actors = ["Pakistan"]', 'relevance_actors = "Pakistan"', "relevance_actors",
     "relevance_actors must be a list of texts, e.g. ['Pakistan']; a bare text would be read letter by letter"),
    ('actors = [["Pakistan"], ["Qatar"]]', 'actors = ["Pakistan", "Qatar"]', 'actors = ["Pakistan"',
     "indicator #1's actors must be a list of groups of actor names, e.g. [['Pakistan', 'Qatar']] (either of them "
     "in the sentence) or [['Pakistan'], ['Qatar']] (both)"),
    # patterns that match every sentence, and indicators that can never fire
    ("patterns = ['\\btalks\\b']", "patterns = ['']", "patterns",
     "indicator #1's patterns holds an empty pattern '', which matches every sentence"),
    ("patterns = ['\\btalks\\b']", "patterns = ['(talks)?']", "patterns",
     "indicator #1's pattern '(talks)?' matches an empty text, so it matches every sentence"),
    ("patterns = ['\\btalks\\b']", "patterns = []", "patterns",
     "indicator #1's patterns is empty; give at least one, or it can never fire"),
    ('cases = ["base"]', "cases = []", "cases = []",
     "indicator #1's cases is empty; name the cases a firing speaks for, or it can never fire"),
    ('name = "Talks with Qatar"', 'name = ""', 'name = ""', "indicator #1's name is empty"),
    # actors: one entry per name, a name or alias for one actor only, a kind the parser knows
    (QATAR_ALIASES, QATAR_ALIASES + '\n[[actors]]\nname = "Qatar"\nkind = "state"\n', ('name = "Qatar"', 2),
     "actor #3 repeats the name 'Qatar' of actor #2; give each actor one [[actors]] entry"),
    (QATAR_ALIASES, QATAR_ALIASES + '\n[[actors]]\nname = "Doha"\nkind = "place"\n', 'name = "Doha"',
     "actor #3 (Doha) has the name 'Doha', already the alias of actor #2 (Qatar); a name or alias belongs to one actor"),
    ('kind = "state"\ncode = "QA"', 'kind = "militant group"\ncode = "QA"', 'kind = "militant group"',
     "actor #2 (Qatar) has unknown kind 'militant group'; use one of state, place, leader, ministry, armed_force, "
     "organisation, militant_group, project"),
    # a case the classifier can never pick, a prior in quotes
    ('definition = "Talks go on."\nsignals = ["Ministers meet."]\n', "", "[[cases]]",
     "case #1 (base) has no prototype text: give it a definition, assumption, indicator or signals (zero-shot could "
     "never pick it, and training has no example of it)"),
    ("prior = 0.2", 'prior = "0.2"', 'prior = "0.2"', "case #3's prior is '0.2'; expected a number such as 0.3 (without quotes)"),
    # a relevance gate with no actor passes no article, ever: every one would be `none` (the check had said "ok")
    ('relevance_actors = ["Pakistan"]', "relevance_actors = []", "relevance_actors = []",
     "relevance_actors is empty; name the actors (declared in [[actors]]) an article must mention to be classified: "
     "with none, no article passes the relevance gate and every one is `none`"),
    ('relevance_actors = ["Pakistan"]\n', "", "[scenario]",
     "[scenario] has no relevance_actors; name the actors (declared in [[actors]]) an article must mention to be "
     "classified: with none, no article passes the relevance gate and every one is `none`"),
])
def test_check_and_load_refuse_values_that_would_silently_break_a_pack(tmp_path, capsys, old, new, at, reason):
    pack = small_pack(tmp_path, (old, new))
    line = line_of(pack, *at) if isinstance(at, tuple) else line_of(pack, at)
    assert check(pack, capsys) == (1, [f"{pack / 'scenario.toml'}:{line}: {reason}"])
    with pytest.raises(ScenarioError, match=re.escape(f"{pack / 'scenario.toml'}: {reason}")):
        load_scenario(pack)


def test_the_actor_kinds_a_pack_may_use_are_the_ones_the_parser_knows():
    from pipeline.nlp import KIND_TO_LABEL
    from pipeline.scenario import ACTOR_KINDS

    assert set(ACTOR_KINDS) == set(KIND_TO_LABEL)
    assert {a.kind for a in load_scenario(PACK).actors} <= set(ACTOR_KINDS)


@pytest.mark.parametrize("name, shown", [
    ("b\u0430se", "'b\\u0430se' (U+0430 CYRILLIC SMALL LETTER A)"),
    ("base\u00a0", "'base\\xa0' (U+00A0 NO-BREAK SPACE)"),
    ("ba\u200bse", "'ba\\u200bse' (U+200B ZERO WIDTH SPACE)"),
    ("\u202ebase", "'\\u202ebase' (U+202E RIGHT-TO-LEFT OVERRIDE)"),
    ("bas\u0065\u0301", "'base\\u0301' (U+0301 COMBINING ACUTE ACCENT)"),  # not NFC: e and a combining accent
])
def test_a_case_name_with_a_hidden_character_is_shown_with_it(tmp_path, capsys, name, shown):
    """The refusal had printed the name as it is (found bаse, with a Cyrillic а), which reads exactly like the right one."""
    pack = small_pack(tmp_path, ('name = "base"', f'name = "{name}"'))
    code, err = check(pack, capsys)
    assert code == 1
    assert err == [f"{pack / 'scenario.toml'}:{line_of(pack, 'name = ')}: cases must be exactly base, accelerated, "
                   f"contraction; found {shown}, 'accelerated', 'contraction'"]
    assert err[0].isascii()


def test_a_pack_folder_reached_through_a_link_is_named_as_linked(tmp_path):
    """Packs are found by the folder name the settings use; a link named for the id, to a folder named otherwise
    (a shared checkout of packs, say), was refused as "id is not the folder's name" (the check resolved the link)."""
    real = tmp_path / "checkout" / "pack-v2"
    shutil.copytree(Path(__file__).parent / "fixtures" / "packs" / "india-pakistan-test", real)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "india-pakistan-test").symlink_to(real, target_is_directory=True)
    assert load_scenario(tmp_path / "labels" / "india-pakistan-test").id == "india-pakistan-test"
