"""Both Prefect flows, run once each against real local inputs."""

import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from feedserver import FeedServer
from flows.ingest import ingest_flow
from flows.retrain import retrain_flow
from pipeline.labels import load_shared_articles
from pipeline.settings import PROJECT_ROOT

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.slow


def test_ingest_flow_records_a_broken_feed_and_goes_on(prefect_harness, tmp_path):
    db = tmp_path / "s.duckdb"
    with FeedServer() as server:
        sources = [server.url("/500"), server.url("/404"), server.url("/feed.rss"), str(FIXTURES / "feeds" / "energy.atom")]
        summary = ingest_flow(db=str(db), sources=sources)
        assert server.hits["/500"] == 3  # retried twice: 5xx is transient
    assert summary.feeds_ok == 2 and summary.feeds_failed == 2
    assert sorted(f.error for f in summary.failures) == ["HTTP 404", "HTTP 500"]
    assert summary.articles_new == 5 and summary.predictions == 5
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM daily_signals").fetchone()[0] > 0
        assert con.execute("SELECT consecutive_failures FROM feeds WHERE name LIKE '%/404'").fetchone()[0] == 1
        assert con.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()[0] == 5


def test_an_ingest_without_sources_polls_the_feeds_registered_from_opml(prefect_harness, tmp_path):
    """What a served (scheduled) ingest runs: no sources given, so the configured feeds and the registered ones,
    as `signals run` polls them (it used to poll the configured ones only)."""
    from pipeline.opml import import_opml
    from pipeline.store import Store

    db, config = tmp_path / "s.duckdb", tmp_path / "signals.toml"
    config.write_text("[signals]\nfeeds = []\n")
    with FeedServer() as server:
        opml = tmp_path / "feeds.opml"
        opml.write_text(f'<opml version="2.0"><body><outline type="rss" text="t" xmlUrl="{server.url("/feed.rss")}"/></body></opml>')
        with Store(db) as store:
            assert import_opml(store, opml) == (1, 1)  # one feed in the file, new to the registry
        summary = ingest_flow(config=str(config), db=str(db))
    assert summary.feeds_ok == 1 and summary.articles_new == 3


def test_retrain_flow_trains_registers_and_rescores(prefect_harness, tmp_path, shared_data):
    labels = tmp_path / "labels" / "iran-pakistan-2026"
    (labels / "labels").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "labels" / "iran-pakistan-2026" / "scenario.toml", labels)
    # a small but real slice of the label set: one batch file, its items published before March 2026 first
    earlier, later = batch_before(PROJECT_ROOT / "labels" / "iran-pakistan-2026" / "labels" / "round1-batch01.jsonl",
                                  shared_data, datetime(2026, 3, 1))
    (labels / "labels" / "slice.jsonl").write_text("".join(earlier))
    # a second watched pack, with no labels yet: the daily retrain had trained the first pack alone, silently
    (tmp_path / "labels" / "india-pakistan-2025").mkdir()
    shutil.copy(PROJECT_ROOT / "labels" / "india-pakistan-2025" / "scenario.toml", tmp_path / "labels" / "india-pakistan-2025")
    config = tmp_path / "signals.toml"
    config.write_text(
        f'[signals]\nlabels_dir = "{tmp_path / "labels"}"\nmodels_dir = "{tmp_path / "models"}"\n'
        f'shared_data = "{shared_data}"\nnlp_processes = 1\nscenarios = ["iran-pakistan-2026", "india-pakistan-2025"]\n'
    )
    db = tmp_path / "s.duckdb"
    both = retrain_flow(config=str(config), db=str(db))
    assert list(both) == ["iran-pakistan-2026", "india-pakistan-2025"]
    assert both["india-pakistan-2025"]["status"] == "zero-shot" and "no label files yet" in both["india-pakistan-2025"]["reason"]
    first = both["iran-pakistan-2026"]
    assert first["status"] == "active" and 0 <= first["metrics"]["holdout"] <= 1
    registry = json.loads((tmp_path / "models" / "registry.json").read_text())
    assert [m["status"] for m in registry["models"]] == ["active"]
    assert registry["models"][0]["label_hash"] and registry["models"][0]["libraries"]["scikit-learn"]
    # its recall was measured on the candidate; the model shipped is refit on every label, those items included
    source = registry["models"][0]["metrics"]["class_recall_source"]
    assert "held out from the candidate before its refit on every label" in source and "did not train on" not in source

    # Same labels: the active model has read them all, so nothing is encoded, fit or saved (it had fit and kept a
    # rejected model on every daily run with no new label).
    second = retrain_flow(config=str(config), db=str(db))["iran-pakistan-2026"]
    assert second["status"] == "unchanged" and second["version"] == first["version"]
    assert "no labeled item the active model has not trained on" in second["reason"]
    assert features_task_states() == ["Completed"]
    assert len(list((tmp_path / "models" / "iran-pakistan-2026").iterdir())) == 1

    (labels / "labels" / "later.jsonl").write_text("".join(later))  # analysts label the newer articles
    third = retrain_flow(config=str(config), db=str(db))["iran-pakistan-2026"]
    assert third["status"] == "active" and third["reason"].startswith(f"refresh: the active recipe refit with {len(later)} ")
    registry = json.loads((tmp_path / "models" / "registry.json").read_text())
    assert [m["status"] for m in registry["models"]] == ["retired", "active"]
    through = [m["metrics"]["trained_through"] for m in registry["models"]]
    assert through[0] < "2026-03-01" <= through[1]  # the refresh learned the newer labels

    # Analysts label older articles from the queue (the archive ends where the model's training does): the
    # model never saw them, so they are judged and learned too. They were refused as "not published after the
    # active model's training data", so a store's labeling queue could never change its model.
    older, _ = batch_before(PROJECT_ROOT / "labels" / "iran-pakistan-2026" / "labels" / "round1-batch02.jsonl",
                            shared_data, datetime(2026, 3, 1))
    (labels / "labels" / "older.jsonl").write_text("".join(older[:12]))
    fourth = retrain_flow(config=str(config), db=str(db))["iran-pakistan-2026"]
    assert fourth["status"] == "active" and fourth["reason"].startswith("refresh: the active recipe refit with 12 ")
    from pipeline.registry import Registry

    registry = Registry(tmp_path / "models")
    trained = registry.trained_labels(registry.active("iran-pakistan-2026"))
    assert {(r["id"], r["label"]) for r in map(json.loads, earlier + later + older[:12])} == set(trained.items())

    # An analyst takes those 12 labels out again: the model unlearns them (it had said "unchanged", and the
    # removed judgments stayed in the shipped model for good).
    (labels / "labels" / "older.jsonl").unlink()
    fifth = retrain_flow(config=str(config), db=str(db))["iran-pakistan-2026"]
    assert fifth["status"] == "active" and fifth["reason"].startswith("refresh: the active recipe refit without the 12 labels removed")
    trained = Registry(tmp_path / "models").trained_labels(Registry(tmp_path / "models").active("iran-pakistan-2026"))
    assert {(r["id"], r["label"]) for r in map(json.loads, earlier + later)} == set(trained.items())

    # the second pack's first labels, too few to train: it stays zero-shot and says why; the first pack is untouched
    india = sorted((PROJECT_ROOT / "labels" / "india-pakistan-2025" / "labels").glob("*.jsonl"))[0]
    (tmp_path / "labels" / "india-pakistan-2025" / "labels").mkdir()
    (tmp_path / "labels" / "india-pakistan-2025" / "labels" / "first.jsonl").write_text("".join(india.read_text().splitlines(keepends=True)[:3]))
    sixth = retrain_flow(config=str(config), db=str(db))
    assert sixth["iran-pakistan-2026"]["status"] == "unchanged"
    assert sixth["india-pakistan-2025"]["status"] == "zero-shot" and "it needs 50 to train" in sixth["india-pakistan-2025"]["reason"]


def batch_before(path: Path, shared_data: Path, cut: datetime) -> tuple[list[str], list[str]]:
    """A label file's lines split by their article's published date (read from the shared items)."""
    lines = path.read_text().splitlines(keepends=True)
    records = [json.loads(line) for line in lines]
    wanted: dict[str, set[str]] = {}
    for r in records:
        wanted.setdefault(r["source"], set()).add(r["id"])
    articles = load_shared_articles(shared_data, wanted)
    early = [articles[r["id"]].published < cut for r in records]
    return [line for line, e in zip(lines, early) if e], [line for line, e in zip(lines, early) if not e]


def features_task_states() -> list[str]:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName
    from prefect.client.schemas.sorting import TaskRunSort

    async def read():
        async with get_client() as client:
            runs = await client.read_task_runs(
                task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="features_task")),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=10,
            )
            return [run.state.name for run in runs]

    return asyncio.run(read())


def test_the_training_features_cache_key_follows_the_articles_order_and_text():
    """The cached frame's rows follow the articles: the key was the sorted label set, so renaming a label file
    (the same labels read in another order) reused a frame whose every row encoded another article, and an
    article edited in the store kept its old features."""
    from dataclasses import replace

    from pipeline.jobs import Runtime, fingerprint
    from pipeline.records import Article
    from pipeline.settings import load_settings

    rt = Runtime(load_settings(environ={}))
    a = Article("a", "test", "Outlet", "Talks resume in Islamabad", "", "Envoys met.", datetime(2026, 3, 1), "")
    b = Article("b", "test", "Outlet", "Border crossing closes", "", "Trucks wait.", datetime(2026, 3, 2), "")
    key = fingerprint(rt, [a, b])
    assert fingerprint(rt, [a, b]) == key
    assert fingerprint(rt, [b, a]) != key
    assert fingerprint(rt, [replace(a, text="Envoys walked out."), b]) != key
