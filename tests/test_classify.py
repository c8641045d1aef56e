"""The classifier on real labeled articles (text features only, to stay fast)."""

import random
from collections import defaultdict

import pytest

from pipeline import classify
from pipeline.labels import load_labels, load_shared_articles
from pipeline.records import LABELS, Article
from pipeline.settings import PROJECT_ROOT

LABEL_DIR = PROJECT_ROOT / "labels" / "iran-pakistan-2026" / "labels"


@pytest.fixture(scope="module")
def sample(shared_data):
    """About 500 labeled items: every base, accelerated and contraction label from a random half, plus none."""
    records = load_labels(LABEL_DIR)
    rng = random.Random(3)
    by_label = defaultdict(list)
    for r in records:
        by_label[r.label].append(r)
    chosen = [r for label in ("base", "accelerated", "contraction") for r in by_label[label]]
    chosen += rng.sample(by_label["none"], 240)
    wanted = defaultdict(set)
    for r in chosen:
        wanted[r.source].add(r.id)
    found = load_shared_articles(shared_data, wanted)
    chosen = [r for r in chosen if r.id in found]
    return [found[r.id] for r in chosen], [r.label for r in chosen]


@pytest.mark.slow
def test_train_evaluate_and_predict_with_evidence(sample):
    articles, labels = sample
    model, metrics = classify.train_and_evaluate(articles, [None] * len(articles), labels, cv_folds=3)
    for split in ("holdout", "time_split", "cross_validation"):
        assert set(metrics[split]["per_class"]) <= set(LABELS)
        assert 0.0 <= metrics[split]["macro_f1"] <= 1.0
    assert metrics["cross_validation"]["macro_f1"] > 0.4  # far above chance (0.25) on four classes
    unseen = [
        Article("u1", "t", "", "US and Iran agree to extend ceasefire after talks hosted by Pakistan", "",
                "Pakistan hosted another round of talks. The ceasefire between Washington and Tehran was extended by two weeks. "
                "Officials said the negotiations were making progress.", None, ""),
        Article("u2", "t", "", "Local team wins the football cup", "", "The home side won 2-0 in the final on Sunday.", None, ""),
    ]
    predictions = classify.predict(model, "v-test", "sc", unseen, [None, None])
    assert [p.article_id for p in predictions] == ["u1", "u2"]
    for p in predictions:
        assert abs(sum(p.probabilities.values()) - 1.0) < 0.02
        assert p.label == max(p.probabilities, key=p.probabilities.get)
        for sentence in p.evidence:
            assert sentence in " ".join(unseen[0].body().split()) + " ".join(unseen[1].body().split())
    assert predictions[0].label == "base" and predictions[0].evidence
    assert predictions[1].label == "none"


def test_holdout_membership_is_stable():
    ids = [f"id-{i}" for i in range(1000)]
    first = [classify.in_holdout(i) for i in ids]
    assert first == [classify.in_holdout(i) for i in ids]
    assert 150 < sum(first) < 250  # one in five


def test_scores_per_class():
    s = classify.scores(["base", "none", "none", "contraction"], ["base", "none", "base", "none"])
    assert s["per_class"]["base"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert s["per_class"]["contraction"]["recall"] == 0.0
    assert s["accuracy"] == 0.5
