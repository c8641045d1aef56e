from pathlib import Path

import pytest

from pipeline.errors import ConfigError, ScenarioError
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
    with pytest.raises(ConfigError, match=r"signals.toml: setting 'nlp_processes'"):
        load_settings(config, environ={})
    config.write_text("[signals]\nbogus = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'bogus'"):
        load_settings(config, environ={})
    config.write_text("[signals\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config, environ={})


def test_shipped_pack_has_cases_priors_watchlist_and_actors():
    pack = load_scenario(PACK)
    assert pack.priors == {"base": 0.5, "accelerated": 0.3, "contraction": 0.2}
    assert {"imf-review", "joint-border-office", "ip-pipeline-committees", "us-condemnation"} <= {i.id for i in pack.indicators}
    kinds = {a.kind for a in pack.actors}
    assert {"state", "leader", "militant_group", "place", "organisation"} <= kinds
    assert next(i for i in pack.indicators if i.id == "us-condemnation").deadline_days == 60


def test_pack_with_a_missing_field_is_refused(tmp_path):
    text = (PACK / "scenario.toml").read_text().replace('name = "accelerated"\n', "", 1)
    (tmp_path / "scenario.toml").write_text(text)
    with pytest.raises(ScenarioError, match=r"scenario.toml: case #2 is missing the field 'name'"):
        load_scenario(tmp_path)


def test_priors_must_sum_to_one(tmp_path):
    text = (PACK / "scenario.toml").read_text().replace("prior = 0.5", "prior = 0.6", 1)
    (tmp_path / "scenario.toml").write_text(text)
    with pytest.raises(ScenarioError, match="sum to 1.1"):
        load_scenario(tmp_path)
