"""The NLP stage on a local Dask cluster gives the same stored results as the in-process pipeline."""

from __future__ import annotations

import json

import pytest

from pipeline import classify
from pipeline.encoder import load_encoder
from pipeline.jobs import Runtime, ingest
from pipeline.records import Article
from pipeline.registry import Registry
from pipeline.scenario import load_scenario
from pipeline.settings import PROJECT_ROOT, load_settings
from pipeline.store import Store

ITEMS = 40
TINY_TEXTS = {
    "base": "Iran and Pakistan hold routine talks on border trade and {} in Quetta",
    "accelerated": "Pakistan and Iran exchange missile strikes across the border near {}",
    "contraction": "Iran and Pakistan agree to withdraw troops and reopen the {} crossing",
    "none": "A cricket match in Lahore drew large crowds to watch {} play",
}
FILLERS = ("Taftan", "Panjgur", "Gwadar", "Chabahar", "Turbat", "Mand", "Zahedan", "Saravan", "Kech", "Mashkel")


def train_tiny_model(models_dir, scenario: str) -> str:
    """Register a small real model (the project's regression on 40 hand-written texts); returns its version.
    Without the fine-tuned reader or the case head: the tests using it are about running flows; tests/test_reader.py
    and tests/test_mpnet.py test those."""
    articles, labels = [], []
    for label, template in TINY_TEXTS.items():
        for n, filler in enumerate(FILLERS):
            articles.append(Article(f"{label}-{n}", "test", "Test", template.format(filler), "", "", None, ""))
            labels.append(label)
    pack = load_scenario(PROJECT_ROOT / "labels" / scenario)
    featurizer = classify.Featurizer.from_texts(load_encoder(load_settings(environ={}).encoders_dir), pack.prototypes())
    model = classify.fit(articles, labels, [True] * len(articles), featurizer, pack.prototypes(), reader_weight=0.0, head_weight=0.0)
    registry = Registry(models_dir)
    entry = registry.save_candidate(model, scenario, "tiny-test-labels", classify.RECIPE, {})
    return registry.register(entry, 0.0, None, "test").version


@pytest.fixture(scope="module")
def iran_items(shared_data, tmp_path_factory):
    """A JSONL file of the first ITEMS spnn_dawn_geo items with text that mention Iran (a temp copy)."""
    path = tmp_path_factory.mktemp("dask") / "iran.jsonl"
    kept = []
    with (shared_data / "spnn_dawn_geo" / "items.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("text") and "Iran" in record["text"]:
                kept.append(line)
                if len(kept) == ITEMS:
                    break
    path.write_text("".join(kept), encoding="utf-8")
    return path


def stored_rows(db) -> dict[str, list[tuple]]:
    """Every derived row, without timestamps, in a fixed order."""
    queries = {
        "nlp": "SELECT article_id, relevant, actors, actor_sentences FROM nlp ORDER BY 1",
        "entities": "SELECT * FROM entities ORDER BY article_id, start_char, end_char, label",
        "events": "SELECT * FROM events ORDER BY article_id, sentence_index, type, source, target, trigger",
        "predictions": "SELECT article_id, label, p_base, p_accelerated, p_contraction, p_none, evidence FROM predictions ORDER BY 1",
        "daily_signals": 'SELECT day, "case", articles, probability FROM daily_signals ORDER BY 1, 2',
    }
    with Store(db, read_only=True) as store:
        return {name: store.con.execute(sql).fetchall() for name, sql in queries.items()}


@pytest.mark.slow
@pytest.mark.shared_data
def test_dask_flow_stores_what_the_in_process_pipeline_stores(iran_items, settings, tmp_path, prefect_harness):
    from flows.dask_runner import ingest_dask_flow

    models = tmp_path / "models"
    settings = settings.replace(models_dir=models, nlp_processes=1)
    train_tiny_model(models, settings.scenario)
    config = tmp_path / "signals.toml"
    config.write_text(f'models_dir = "{models}"\nnlp_processes = 1\n', encoding="utf-8")

    in_process_db = tmp_path / "in_process.duckdb"
    expected = ingest(Runtime(settings.replace(db=in_process_db)), [str(iran_items)], force=True)

    dask_db = tmp_path / "dask.duckdb"
    summary = ingest_dask_flow(str(config), str(dask_db), [str(iran_items)], True, dask_address=None, dask_workers=2)

    assert summary.articles_new == expected.articles_new == ITEMS
    assert summary.predictions == expected.predictions == ITEMS
    got, want = stored_rows(dask_db), stored_rows(in_process_db)
    assert sum(r[1] for r in want["nlp"]) > ITEMS // 2, "most items should pass the relevance gate and be parsed"
    assert want["events"] or want["entities"], "the batch should give entities or events to compare"
    for table in want:
        assert got[table] == want[table], f"{table} differs between Dask and in-process NLP"

    # After a promotion the next run re-scores the store. It had sent every article to the workers to be parsed
    # again; now it classifies from the stored parses (the same `processed` times) to the same predictions.
    def parses_and_predictions() -> tuple[list, list]:
        with Store(dask_db, read_only=True) as store:
            return (store.con.execute("SELECT article_id, relevant, actor_sentences, processed FROM nlp ORDER BY 1").fetchall(),
                    store.con.execute("SELECT article_id, label, p_base, p_contraction, p_none, evidence FROM predictions "
                                      "WHERE model_version <> 'retired' ORDER BY 1").fetchall())

    before = parses_and_predictions()
    with Store(dask_db) as store:
        store.con.execute("UPDATE predictions SET model_version = 'retired'")
        store.con.execute("UPDATE daily_signals SET model_version = 'retired'")
    rescore = ingest_dask_flow(str(config), str(dask_db), [str(iran_items)], True, dask_address=None, dask_workers=2)
    assert rescore.articles_new == 0 and rescore.predictions == ITEMS
    assert parses_and_predictions() == before
    with Store(dask_db, read_only=True) as store:  # and the daily signals follow the active model again
        assert {v for (v,) in store.con.execute("SELECT DISTINCT model_version FROM daily_signals").fetchall()} == {
            v for (v,) in store.con.execute("SELECT DISTINCT model_version FROM predictions WHERE model_version <> 'retired'").fetchall()}
    assert stored_rows(dask_db)["daily_signals"] == got["daily_signals"]


def test_worker_runtime_is_loaded_once_per_settings(settings):
    from flows.dask_runner import worker_runtime

    assert worker_runtime(settings) is worker_runtime(settings)
    assert worker_runtime(settings) is not worker_runtime(settings.replace(nlp_batch_size=7))


def test_no_address_means_a_local_cluster_of_single_threaded_workers():
    from flows.dask_runner import dask_task_runner

    local = dask_task_runner(None, workers=3)
    assert local.address is None
    assert local.cluster_kwargs["n_workers"] == 3 and local.cluster_kwargs["threads_per_worker"] == 1
    assert dask_task_runner("tcp://127.0.0.1:8786").address == "tcp://127.0.0.1:8786"

