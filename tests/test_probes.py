"""The probe suite (labels/<scenario>/probes/probes.jsonl: written articles, never trained on)
against the shipped model, through the real NLP stage and classifier.

The targets are at least 90% right overall and 16 of 20 (80%) for each case. The shipped
model does not reach them yet (see the closing note of issue 11 and `signals train`'s
output); this test holds the figures the model's manifest records, so a model that does
worse on the probes than its registry entry says cannot ship, and the gap stays visible.
"""

import pytest

from pipeline.jobs import PROBE_FLOOR, load_probes, probe_check

TARGET_OVERALL, TARGET_PER_CASE = 0.90, PROBE_FLOOR


@pytest.fixture(scope="module")
def shipped(runtime_session):
    model, entry = runtime_session.active_model
    return runtime_session, model, entry


def test_probe_suite_is_balanced_and_plain():
    from pipeline.scenario import load_scenario
    from pipeline.settings import PROJECT_ROOT

    articles, labels = load_probes(load_scenario(PROJECT_ROOT / "labels" / "iran-pakistan-2026"))
    assert len(articles) >= 80
    for case in ("base", "accelerated", "contraction"):
        assert labels.count(case) >= 20
    assert all(a.title and len(a.text.split()) >= 30 for a in articles)


def test_shipped_model_scores_the_probes_as_its_manifest_records(shipped):
    rt, model, entry = shipped
    result = probe_check(rt, model)
    recorded = entry.metrics["probes"]
    assert (result["accuracy"], result["per_label"]) == (recorded["accuracy"], recorded["per_label"]), \
        "the shipped model's probe results differ from its registry entry"
    print(f"probes: {result['accuracy']:.3f} (target {TARGET_OVERALL}); per label {result['per_label']}")


def test_shipped_model_finds_most_plain_base_and_accelerated_probes(shipped):
    """The cases the shipped model reaches the per-case target on; `signals train` will not promote a model that
    loses one of them (`jobs.lost_probe_floors`). Its `none` near-misses are held by the overall accuracy."""
    rt, model, _ = shipped
    per_label = probe_check(rt, model)["per_label"]
    for label in ("base", "accelerated"):
        right, total = per_label[label]
        assert right / total >= TARGET_PER_CASE, f"{label}: {right}/{total} probes right"


def test_the_active_models_probe_figures_are_measured_again_when_the_suite_has_changed(shipped):
    """A refresh and the probe floors compared a refit's score on today's suite with the score the active model
    recorded on the suite of its day; after probes were added or rewritten the two were not the same test."""
    import dataclasses

    from pipeline.jobs import active_probes, probe_suite

    rt, _, entry = shipped
    recorded = entry.metrics["probes"]
    now = active_probes(rt, entry)  # the shipped entry was recorded before the suite's hash was: measured again
    assert now["suite"] == probe_suite(rt.scenario) != ""
    assert (now["accuracy"], now["per_label"]) == (recorded["accuracy"], recorded["per_label"])
    same_suite = dataclasses.replace(entry, metrics={**entry.metrics, "probes": {**now, "accuracy": 0.5}})
    assert active_probes(rt, same_suite)["accuracy"] == 0.5  # recorded on this suite: taken as recorded
    other_suite = dataclasses.replace(entry, metrics={**entry.metrics, "probes": {**now, "accuracy": 0.5, "suite": "0" * 16}})
    assert active_probes(rt, other_suite)["accuracy"] == recorded["accuracy"]


@pytest.mark.xfail(reason="issue 11: the shipped model is below the probe targets (overall 90%, contraction 16 of 20)", strict=True)
def test_shipped_model_meets_the_probe_targets(shipped):
    rt, model, _ = shipped
    result = probe_check(rt, model)
    assert result["accuracy"] >= TARGET_OVERALL
    assert all(right / total >= TARGET_PER_CASE for right, total in result["per_label"].values())


def test_blind_probes_are_balanced_plain_and_apart_from_everything_trained_on():
    """bench/data/blind_probes_v1.jsonl: written from the guide by writers who saw no other file of the project;
    a second check of the probe figures, so it shares no id with the probes, the written examples or the labels,
    and no run of 15 words with the probes' or examples' texts (plain wire phrasing converges at shorter runs: "the
    United States and Iran have agreed to extend their ceasefire by" opens a blind probe and a written example)."""
    from pipeline.jobs import BLIND_PROBES, written_articles
    from pipeline.labels import load_labels
    from pipeline.scenario import load_scenario
    from pipeline.settings import PROJECT_ROOT

    pack = load_scenario(PROJECT_ROOT / "labels" / "iran-pakistan-2026")
    articles, labels = written_articles(BLIND_PROBES)
    assert {c: labels.count(c) for c in set(labels)} == {"base": 16, "accelerated": 16, "contraction": 16, "none": 16}
    assert all(a.title and 40 <= len(a.text.split()) <= 130 for a in articles)
    others = [load_probes(pack)[0], written_articles(PROJECT_ROOT / "bench" / "data" / "guide_examples_v1.jsonl")[0]]
    seen_ids = {a.id for group in others for a in group}
    label_ids = {r.id for r in load_labels(pack.labels_dir)}
    assert not {a.id for a in articles} & (seen_ids | label_ids)

    def runs(text: str, n: int = 15) -> set[str]:
        words = text.casefold().split()
        return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}

    seen_runs = set().union(*(runs(a.text) for group in others for a in group))
    assert not [a.id for a in articles if runs(a.text) & seen_runs], "a blind probe shares a 15-word run with a probe or example"


def test_an_active_model_that_cannot_run_here_sets_no_probe_floors(shipped, tmp_path):
    """`active_probes` measures the active model again when the suite changed (every model registered before the
    suite's hash was recorded). A model that loads but cannot run with this pipeline (trained with another
    sentence encoder, or a case head cut at another token cap) raises `ModelError` when it classifies: the compare
    path calls it "not comparable" and promotes, then `signals train` stopped on that error in `active_probes`
    (the advice 'retrain it with signals train' could not be followed; found in review). Such a model has no probe
    figures here, so it sets no floor: figures recorded on another suite, by a model that cannot run, could
    otherwise keep the pack on it."""
    import dataclasses

    from pipeline import classify
    from pipeline.jobs import Runtime, active_probes
    from pipeline.registry import Registry

    rt, model, entry = shipped
    registry = Registry(tmp_path / "models")
    other_encoder = dataclasses.replace(model, encoder_fingerprint="0" * 64)  # loads; refused when it classifies
    recorded = {**entry.metrics["probes"], "suite": "0" * 16}
    saved = registry.save_candidate(other_encoder, rt.scenario.id, "labels", classify.RECIPE, {"probes": recorded})
    active = registry.register(saved, 0.0, None, "test")
    here = Runtime(rt.settings.replace(models_dir=tmp_path / "models"), shared=rt)
    assert active_probes(here, active) == {}
