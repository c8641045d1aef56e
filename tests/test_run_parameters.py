"""A served run may only ask for what its deployment was registered with (pipeline/run_parameters.py)."""

from __future__ import annotations

import pytest

from pipeline.errors import ParameterError
from pipeline.run_parameters import check_local_sources, check_pinned_parameters, check_sources, is_inside


@pytest.fixture
def layout(tmp_path, settings):
    """A registered config, store and feed folder, and files outside them."""
    feeds = tmp_path / "feeds"
    (feeds / "daily").mkdir(parents=True)
    (feeds / "daily" / "a.jsonl").write_text("{}\n", encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.jsonl").write_text("{}\n", encoding="utf-8")
    (feeds / "escape").symlink_to(outside)
    registered = {"config": str(tmp_path / "signals.toml"), "db": str(tmp_path / "signals.duckdb"),
                  "sources": [str(feeds), "https://news.example/rss"]}
    return registered, settings.replace(source_dirs=(str(feeds),), feeds=("https://news.example/rss",)), tmp_path


def test_the_registered_paths_pass_also_when_spelled_differently(layout):
    registered, _, tmp_path = layout
    check_pinned_parameters(dict(registered), registered)
    check_pinned_parameters({"config": str(tmp_path / "x" / ".." / "signals.toml"), "db": registered["db"]}, registered)


@pytest.mark.parametrize("name", ["db", "config"])
def test_another_db_or_config_is_refused_naming_the_parameter(layout, name):
    registered, _, tmp_path = layout
    asked = dict(registered, **{name: str(tmp_path / "other")})
    with pytest.raises(ParameterError, match=f"^parameter '{name}': '{tmp_path / 'other'}' is not the {name}") as caught:
        check_pinned_parameters(asked, registered)
    assert "\n" not in str(caught.value)
    with pytest.raises(ParameterError, match=f"parameter '{name}'"):  # None is the worker's default, not the registered one
        check_pinned_parameters(dict(registered, **{name: None}), registered)


def test_a_dask_cluster_other_than_the_registered_one_is_refused(layout):
    registered, _, _ = layout
    with pytest.raises(ParameterError, match="parameter 'dask_address'"):
        check_pinned_parameters(dict(registered, dask_address="tcp://attacker:8786"), registered)
    with pytest.raises(ParameterError, match="parameter 'dask_workers'"):
        check_pinned_parameters(dict(registered, dask_workers=500), registered)
    check_pinned_parameters(dict(registered, dask_address=None, dask_workers=2), registered)  # the defaults


def test_sources_within_the_registered_ones_pass(layout):
    registered, settings, tmp_path = layout
    check_sources(None, registered["sources"], settings)  # the configured feeds
    check_sources([str(tmp_path / "feeds" / "daily" / "a.jsonl"), "https://news.example/rss"], registered["sources"], settings)


@pytest.mark.parametrize("source, says", [
    ("https://attacker.example/rss", "a run cannot add feeds"),
    ("{tmp}/elsewhere/secret.jsonl", "a run cannot read other files"),
    ("{tmp}/feeds/escape/secret.jsonl", "a run cannot read other files"),  # a symlink out of the folder
    ("{tmp}/feeds/../elsewhere", "a run cannot read other files"),
    ("/etc/passwd", "a run cannot read other files"),
])
def test_a_source_outside_the_registered_ones_is_refused(layout, source, says):
    registered, settings, tmp_path = layout
    with pytest.raises(ParameterError, match=f"^parameter 'sources': .*{says}"):
        check_sources([str(tmp_path / "feeds"), source.format(tmp=tmp_path)], registered["sources"], settings)


def test_with_no_registered_sources_a_run_may_only_name_configured_feeds(layout):
    _, settings, tmp_path = layout
    check_sources(["https://news.example/rss"], None, settings)
    with pytest.raises(ParameterError, match="parameter 'sources'"):
        check_sources([str(tmp_path / "feeds")], None, settings)


def test_local_sources_must_be_inside_a_folder_the_settings_name(layout):
    registered, settings, tmp_path = layout
    unnamed = settings.replace(source_dirs=(str(tmp_path / "feeds" / "daily"),))
    check_local_sources([str(tmp_path / "feeds" / "daily" / "a.jsonl"), "https://x.example/rss"], unnamed)
    with pytest.raises(ParameterError, match=r"^parameter 'sources': '.*feeds' is not inside a folder the settings name"):
        check_sources([str(tmp_path / "feeds")], registered["sources"], unnamed)
    feeds_as_setting = settings.replace(source_dirs=(), feeds=(str(tmp_path / "feeds"),))  # a local feed is named too
    check_local_sources([str(tmp_path / "feeds" / "daily")], feeds_as_setting)


def test_is_inside_does_not_confuse_a_prefix_with_a_folder(tmp_path):
    assert is_inside(tmp_path / "feeds" / "a", tmp_path / "feeds")
    assert not is_inside(tmp_path / "feeds-other" / "a", tmp_path / "feeds")


# ---------------------------------------------------------------- each flow checks its own run (ephemeral Prefect server)


def deployment_run(flow, registered: dict, asked: dict):
    """Register `flow` as a deployment with `registered` parameters, create a run of it asking for `asked`,
    and execute that run here, as a runner or worker would. Returns the run's final state."""
    from prefect.client.orchestration import get_client
    from prefect.deployments.runner import EntrypointType
    from prefect.flow_engine import run_flow

    deployment_id = flow.to_deployment("pinning-test", parameters=registered,
                                       entrypoint_type=EntrypointType.MODULE_PATH).apply()
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(deployment_id, parameters=asked)
    return run_flow(flow, flow_run=run, parameters=run.parameters, return_type="state")


@pytest.mark.slow
@pytest.mark.parametrize("flow_name, asked, name", [
    ("ingest", {"db": "{tmp}/elsewhere/other.duckdb"}, "db"),
    ("ingest", {"config": "{tmp}/elsewhere/their.toml"}, "config"),
    ("ingest", {"sources": ["{tmp}/elsewhere"]}, "sources"),
    ("retrain", {"db": "{tmp}/elsewhere/other.duckdb"}, "db"),
    ("ingest-dask", {"dask_address": "tcp://127.0.0.1:1"}, "dask_address"),
])
def test_every_served_flow_refuses_a_run_pointed_elsewhere_before_touching_files(prefect_harness, tmp_path, flow_name, asked, name):
    from flows.dask_runner import ingest_dask_flow
    from flows.ingest import ingest_flow
    from flows.retrain import retrain_flow

    flow = {"ingest": ingest_flow, "retrain": retrain_flow, "ingest-dask": ingest_dask_flow}[flow_name]
    config = tmp_path / "signals.toml"
    config.write_text("nlp_processes = 1\nfeeds = []\n", encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "their.toml").write_text("nlp_processes = 1\n", encoding="utf-8")
    (tmp_path / "elsewhere" / "a.jsonl").write_text('{"id": "x", "title": "Iran"}\n', encoding="utf-8")
    registered = {"config": str(config), "db": str(tmp_path / "signals.duckdb")}
    asked = {k: [s.format(tmp=tmp_path) for s in v] if isinstance(v, list) else v.format(tmp=tmp_path) for k, v in asked.items()}
    state = deployment_run(flow, registered, asked)
    assert state.is_failed() and f"parameter '{name}'" in state.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "signals.toml"]  # no store opened anywhere
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["a.jsonl", "their.toml"]
