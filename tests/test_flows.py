"""Both Prefect flows, run once each against real local inputs."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from feedserver import FeedServer
from flows.ingest import ingest_flow
from flows.retrain import retrain_flow
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


def test_retrain_flow_trains_registers_and_rescores(prefect_harness, tmp_path, shared_data):
    labels = tmp_path / "labels" / "iran-pakistan-2026"
    (labels / "labels").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "labels" / "iran-pakistan-2026" / "scenario.toml", labels)
    # a small but real slice of the label set: every non-none label of one batch file plus its none labels
    source = PROJECT_ROOT / "labels" / "iran-pakistan-2026" / "labels" / "round1-batch01.jsonl"
    (labels / "labels" / "slice.jsonl").write_text(source.read_text())
    config = tmp_path / "signals.toml"
    config.write_text(
        f'[signals]\nlabels_dir = "{tmp_path / "labels"}"\nmodels_dir = "{tmp_path / "models"}"\n'
        f'shared_data = "{shared_data}"\nnlp_processes = 1\n'
    )
    db = tmp_path / "s.duckdb"
    first = retrain_flow(config=str(config), db=str(db))
    assert first["status"] == "active" and 0 <= first["metrics"]["holdout"] <= 1
    registry = json.loads((tmp_path / "models" / "registry.json").read_text())
    assert [m["status"] for m in registry["models"]] == ["active"]
    assert registry["models"][0]["label_hash"] and registry["models"][0]["libraries"]["scikit-learn"]

    second = retrain_flow(config=str(config), db=str(db))  # same labels: the features come from the task cache
    assert second["status"] == "rejected"  # the same model again is not better beyond the bootstrap noise
    assert features_task_states() == ["Completed", "Cached"]


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
