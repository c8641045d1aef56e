"""Promotion trains the candidate on what the active model trained on, compares both on the items neither
trained on, and promotes only beyond the bootstrap noise."""

import dataclasses
from datetime import datetime, timedelta

import pytest

from pipeline import classify, odds
from pipeline.errors import InputError
from pipeline.jobs import (carry_recall, check_enough_labels, first_model_decision, held_out_for, lost_probe_floors,
                           no_probe_suite, promotion_decision, refresh_decision, unseen_by)
from pipeline.labels import LabelRecord
from pipeline.records import Article
from pipeline.registry import ModelEntry
from pipeline.scenario import load_scenario
from pipeline.settings import PROJECT_ROOT
from storekit import PACK

DAY0 = datetime(2026, 1, 1)


def article(n: int, day: int | None) -> Article:
    return Article(f"a{n}", "t", "", f"title {n}", "", "text", None if day is None else DAY0 + timedelta(days=day, hours=n % 24), "")


def entry(holdout: dict) -> ModelEntry:
    return ModelEntry("v", "sc", "f", "sha", "now", "lh", "", {}, classify.RECIPE, metrics={"holdout": holdout})


def test_holdout_is_the_most_recent_share_in_whole_days():
    published = [DAY0 + timedelta(days=d, hours=h) for d in range(100) for h in (1, 9)] + [None, None]
    start = classify.holdout_start(published)
    assert start == datetime(2026, 1, 1) + timedelta(days=85)  # 15% of 100 days of two items each
    held = [p for p in published if p is not None and p >= start]
    assert len(held) == 30 and all(p.date() >= start.date() for p in held)
    assert classify.holdout_start([None, DAY0]) is None


def test_a_candidate_holds_out_exactly_what_the_active_model_never_saw():
    articles = [article(n, n) for n in range(40)] + [article(99, None)]
    first = held_out_for(articles, None)  # no active model: the latest labeled period
    assert [i for i, h in enumerate(first) if h] == list(range(34, 40))
    time_held = entry({"from": (DAY0 + timedelta(days=30)).date().isoformat()})
    assert [i for i, h in enumerate(held_out_for(articles, time_held)) if h] == list(range(30, 40))
    legacy = entry({"macro_f1": 0.6})  # random holdout: it never saw its hashed fifth
    picked = [i for i, h in enumerate(held_out_for(articles, legacy)) if h]
    assert picked == [i for i in range(41) if classify.in_holdout(articles[i].id)] and picked
    assert all(unseen_by(legacy, articles[i]) for i in picked)
    shipped = entry({"from": "2026-01-20"})
    shipped.metrics["trained_through"] = (DAY0 + timedelta(days=35)).date().isoformat()  # refit on every label
    assert [i for i, h in enumerate(held_out_for(articles, shipped)) if h] == list(range(36, 40))
    shipped.metrics["trained_through"] = (DAY0 + timedelta(days=39)).date().isoformat()
    assert not any(held_out_for(articles, shipped))  # by date, nothing newer: nothing to judge a candidate on
    # with the labels it was fit on, a label added since on an older article is unseen, so is an undated one, and
    # so is a label corrected since (a5: fit as base, now contraction)
    trained = {f"a{n}": "base" for n in range(40) if n not in (3, 17)}
    labels = ["contraction" if n == 5 else "base" for n in range(41)]
    assert [i for i, h in enumerate(held_out_for(articles, shipped, trained, labels)) if h] == [3, 5, 17, 40]


def test_a_clearly_better_candidate_is_promoted_and_noise_is_not():
    y = ["base", "contraction", "none"] * 60
    better = list(y)
    worse = ["none"] * len(y)
    promote, reason = promotion_decision(y, better, worse, 0.9, 0.8)
    assert promote and "95% CI" in reason
    flip = list(y)
    flip[0] = "none"  # one item apart: inside the noise
    promote, reason = promotion_decision(y, y, flip, 0.9, 0.9)
    assert not promote and "not better beyond bootstrap noise" in reason


def test_worse_probes_block_promotion_and_no_items_cannot_promote():
    y = ["base", "contraction", "none"] * 60
    promote, reason = promotion_decision(y, y, ["none"] * len(y), 0.7, 0.8)
    assert not promote and "probes 0.7 < active 0.8" in reason
    assert promotion_decision([], [], [], 1.0, 0.0)[0] is False


def test_a_refresh_is_promoted_unless_its_probes_are_worse():
    promote, reason = refresh_decision("refresh: the active recipe refit with 12 labeled items it never saw",
                                       {"accuracy": 0.8}, {"accuracy": 0.8})
    assert promote and reason.endswith("probes 0.8 >= active 0.8")
    promote, reason = refresh_decision("refresh: ...", {"accuracy": 0.7}, {"accuracy": 0.8})
    assert not promote and "probes 0.7 < active 0.8: not promoted" in reason


def test_a_pack_without_a_probe_suite_says_so_where_the_probe_scores_would_stand():
    """A trial pack with no probes/probes.jsonl was refreshed with the reason '...; probes 0.0 >= active 0.0' (kept in
    the registry), which reads as every probe wrong, when no probe was run."""
    no_suite = no_probe_suite(load_scenario(PROJECT_ROOT / "labels" / "india-pakistan-2025"))  # a pack with no probes
    assert no_suite == "no probe suite (labels/india-pakistan-2025/probes/probes.jsonl)"
    assert no_probe_suite(load_scenario(PROJECT_ROOT / "labels" / "iran-pakistan-2026")) == ""
    promote, reason = refresh_decision("refresh: the active recipe refit with 12 labeled items it never saw", {}, {}, no_suite)
    assert promote and reason == f"refresh: the active recipe refit with 12 labeled items it never saw; {no_suite}"
    y = ["base", "contraction", "none"] * 60
    promote, reason = promotion_decision(y, y, ["none"] * len(y), 0.0, 0.0, no_suite)
    assert promote and reason.endswith(f"; {no_suite}") and "probes 0.0" not in reason


def test_a_refresh_on_a_few_new_labels_keeps_the_measured_recall_it_cannot_measure():
    """Four new labels cannot measure any class's recall (None under 10 items); without the active model's
    measured recall every case would become 'not measurable' and the odds would freeze at the priors."""
    active = dataclasses.replace(entry({}), version="v1", metrics={
        "class_recall": {"base": 0.86, "accelerated": None, "contraction": 0.83, "none": 0.9},
        "class_recall_source": "1248 held-out labeled items the model did not train on; unknown where fewer than 10"})
    metrics = {"class_recall": {"base": None, "accelerated": None, "contraction": 0.7, "none": None},
               "class_recall_source": "4 held-out labeled items the model did not train on; unknown where fewer than 10"}
    carry_recall(metrics, active)
    assert metrics["class_recall"] == {"base": 0.86, "accelerated": None, "contraction": 0.7, "none": None}
    assert metrics["class_recall_source"].endswith(
        "; base carried over from v1 (measured on 1248 held-out labeled items the model did not train on)")
    assert odds.measurable_cases(odds.case_recall(metrics)) == {"base", "contraction"}
    # an active model refit on every label after its recall was measured: its items were held out from the candidate
    refit = dataclasses.replace(active, metrics={**active.metrics, "candidate_probes": {"accuracy": 0.8}})
    metrics = {"class_recall": {"base": None, "accelerated": None, "contraction": 0.7, "none": None},
               "class_recall_source": "4 labeled items held out from the candidate before its refit on every label"}
    carry_recall(metrics, refit)
    assert metrics["class_recall_source"].endswith("; base carried over from v1 (measured on 1248 labeled items held "
                                                   "out from the candidate before its refit on every label)")


def test_a_model_may_not_lose_a_case_probe_floor_the_active_model_keeps():
    active = {"per_label": {"accelerated": [10, 25], "base": [20, 25], "contraction": [21, 25], "none": [26, 30]}}
    candidate = {"per_label": {"accelerated": [24, 25], "base": [25, 25], "contraction": [14, 25], "none": [23, 30]}}
    assert lost_probe_floors(candidate, active) == "contraction 14/25 < 80%"
    # exactly at the floor (20/25) is no loss, and neither is a case the active model itself misses
    assert lost_probe_floors({"per_label": {**candidate["per_label"], "contraction": [20, 25]}}, active) == ""
    assert lost_probe_floors(active, {"per_label": {"accelerated": [15, 25]}}) == ""
    # `none` has no floor of its own: the overall probe accuracy and the real items hold it
    assert lost_probe_floors({"per_label": {**active["per_label"], "none": [20, 30]}}, active) == ""


def test_a_first_model_replaces_the_zero_shot_recipe_unless_it_is_worse_beyond_the_noise():
    """A trial found a pack's first model made active with no comparison: trained on 90 `none` labels, it called
    265 of 266 articles `none` in place of the zero-shot calls."""
    y = ["base"] * 20 + ["contraction"] * 20 + ["none"] * 40
    promote, why = first_model_decision(y, ["none"] * 80, y)
    assert not promote and why.endswith("worse than the zero-shot recipe beyond the bootstrap noise")
    assert why.startswith("first model: macro-F1 difference -0.") and "on the 80 latest labeled items" in why
    level = y[:-2] + ["base", "base"]  # the zero-shot recipe two items better: noise, and the model is the pack's own
    assert first_model_decision(y, level, y)[0]


def test_labels_with_fewer_than_ten_case_articles_train_no_model():
    def labels(*names):
        return [LabelRecord(f"a{k}", "t", name, "read") for k, name in enumerate(names)]

    refused = (r"{} of the 60 usable labels for scenario 'iran-pakistan-2026' are articles of its cases \(base, "
               r"accelerated, contraction\); it needs 10 to train: with fewer, a model learns to call every article `none`")
    with pytest.raises(InputError, match=refused.format(0)):
        check_enough_labels(PACK, labels(*["none"] * 60))
    # one case article is not enough either: on the few latest labels, mostly `none`, a model that never calls a case
    # is not worse than the zero-shot recipe (a review found 1 contraction among 60 passing)
    with pytest.raises(InputError, match=refused.format(9)):
        check_enough_labels(PACK, labels(*["contraction"] * 9, *["none"] * 51))
    with pytest.raises(InputError, match="49 usable labels .* it needs 50"):
        check_enough_labels(PACK, labels(*["base"] * 49))
    check_enough_labels(PACK, labels(*["base"] * 4, *["contraction"] * 6, *["none"] * 50))
