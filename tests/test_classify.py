"""The classifier on real labeled articles, with the shipped sentence encoder."""

import random
from collections import defaultdict

import pytest

from pipeline import classify, mpnet
from pipeline.encoder import load_encoder
from pipeline.errors import ModelError
from pipeline.labels import load_labels, load_shared_articles
from pipeline.nlp import Relevance
from pipeline.records import LABELS, Article, NlpResult
from pipeline.scenario import load_scenario
from pipeline.settings import PROJECT_ROOT, load_settings

PACK = load_scenario(PROJECT_ROOT / "labels" / "iran-pakistan-2026")

LABEL_DIR = PROJECT_ROOT / "labels" / "iran-pakistan-2026" / "labels"


@pytest.fixture(scope="module")
def sample(shared_data):
    """About 500 labeled items: every base, accelerated and contraction label from a random half, plus none."""
    records = load_labels(LABEL_DIR)
    rng = random.Random(3)
    by_label = defaultdict(list)
    for r in records:
        by_label[r.label].append(r)
    chosen = [r for label in ("base", "contraction") for r in rng.sample(by_label[label], 200)] + by_label["accelerated"]
    chosen += rng.sample(by_label["none"], 400)
    wanted = defaultdict(set)
    for r in chosen:
        wanted[r.source].add(r.id)
    found = load_shared_articles(shared_data, wanted)
    chosen = [r for r in chosen if r.id in found]
    return [found[r.id] for r in chosen], [r.label for r in chosen]


@pytest.fixture(scope="module")
def encoder():
    return load_encoder(load_settings(environ={}).encoders_dir)


@pytest.mark.slow
def test_train_evaluate_and_predict_with_evidence(sample, encoder):
    articles, labels = sample
    relevant = [Relevance(PACK)(a) for a in articles]
    featurizer = classify.Featurizer.from_texts(encoder, PACK.prototypes())
    model, metrics = classify.train_and_evaluate(articles, labels, relevant, featurizer, PACK.prototypes())
    for split in ("holdout", "time_split"):
        assert set(metrics[split]["per_class"]) <= set(LABELS)
        assert 0.0 <= metrics[split]["ece"] <= 1.0
    assert metrics["holdout"]["macro_f1"] > 0.5  # far above chance (0.33) over base, contraction, none
    assert set(metrics["class_recall"]) == set(LABELS) and metrics["class_recall"]["accelerated"] is None
    assert metrics["encoder_fingerprint"] == encoder.fingerprint
    assert model.head is not None and metrics["head_encoder_zip_sha256"] == mpnet.ZIP_SHA256  # the manifest names it
    unseen = [
        Article("u1", "t", "", "US and Iran agree to extend ceasefire after talks hosted by Pakistan", "",
                "Pakistan hosted another round of talks between Iran and the United States. The ceasefire between "
                "Washington and Tehran was extended by two weeks. Officials said the negotiations were making progress.", None, ""),
        Article("u2", "t", "", "Local team wins the football cup", "", "The home side won 2-0 in the final on Sunday.", None, ""),
    ]
    results = [NlpResult(a.id, Relevance(PACK)(a)) for a in unseen]
    assert [r.relevant for r in results] == [True, False]
    predictions = classify.predict(model, "v-test", "sc", unseen, results, encoder)
    assert [p.article_id for p in predictions] == ["u1", "u2"]
    for p in predictions:
        assert abs(sum(p.probabilities.values()) - 1.0) < 0.02
        assert p.label == max(p.probabilities, key=p.probabilities.get)
        for sentence in p.evidence:
            assert sentence in " ".join(unseen[0].body().split()) + " ".join(unseen[1].body().split())
    assert predictions[0].label == "base" and predictions[0].evidence
    assert predictions[1].label == "none" and not predictions[1].evidence
    # the gate's probabilities for an off-topic article are the measured share of none among gated-out labels
    assert predictions[1].probabilities["none"] > 0.95


def test_prototypes_come_from_the_pack():
    prototypes = PACK.prototypes()
    assert set(prototypes) == {"base", "accelerated", "contraction"}
    accelerated = " ".join(prototypes["accelerated"]).lower()
    assert "pipeline" in accelerated and "barter" in accelerated and "swap" in accelerated


def test_encoder_vectors_are_unit_length_and_similar_texts_are_near(encoder):
    v = encoder.encode(["Iran and Pakistan sign a gas pipeline deal", "Pakistan and Iran agree on the gas pipeline",
                        "The home side won the football final", ""])
    assert v.shape == (4, encoder.dim)
    assert abs(float((v[0] ** 2).sum()) - 1.0) < 1e-3 and not v[3].any()
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2


def test_a_changed_encoder_file_is_refused(tmp_path):
    import shutil

    shipped = load_settings(environ={}).encoders_dir / "minilm-l6-m2v256-v1"
    copy = tmp_path / "minilm-l6-m2v256-v1"
    shutil.copytree(shipped, copy)
    with (copy / "tokenizer.json").open("a") as handle:
        handle.write(" ")
    with pytest.raises(ModelError, match="tokenizer.json: missing or changed"):
        load_encoder(tmp_path, "minilm-l6-m2v256-v1")


def test_a_model_refuses_another_encoder(encoder):
    model = classify.ScenarioModel(estimator=None, prototypes={}, irrelevant_probs={}, encoder_name="other",
                                   encoder_fingerprint="0" * 64)
    with pytest.raises(ModelError, match="trained with encoder other"):
        model.featurizer(encoder)


def test_bootstrap_interval_contains_zero_for_identical_predictions():
    y = ["base", "none", "contraction", "none"] * 25
    pred = ["base", "none", "none", "none"] * 25
    same = classify.bootstrap_macro_f1_difference(y, pred, pred, rounds=200)
    assert same["difference"] == 0 and same["ci95"] == [0.0, 0.0]
    better = classify.bootstrap_macro_f1_difference(y, y, pred, rounds=200)
    assert better["difference"] > 0 and better["ci95"][0] > 0


def test_calibration_error_of_a_perfect_and_an_overconfident_model():
    import numpy as np

    y = ["base", "none"] * 50
    perfect = np.array([[1.0, 0, 0, 0] if t == "base" else [0, 0, 0, 1.0] for t in y])
    assert classify.expected_calibration_error(perfect, y) == 0.0
    wrong = np.array([[0, 0, 0, 1.0] if t == "base" else [1.0, 0, 0, 0] for t in y])
    assert classify.expected_calibration_error(wrong, y) == 1.0


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


def test_evidence_is_the_three_candidates_the_regression_scores_highest_for_the_call(runtime_session):
    """The report shows an article's first evidence sentence beside its headline (bench/evidence.py measures how
    often it backs the call: 0.75 out of sample). Ordering the three by the case head too was tried and not kept
    (docs/classifier-experiments.md, evidence)."""
    rt = runtime_session
    model, entry = rt.active_model
    article = Article(
        "e1", "t", "", "Pakistan hosts a new round of US-Iran talks in Islamabad", "",
        "Pakistan hosts a new round of US-Iran talks in Islamabad. Delegations from Washington and Tehran met in "
        "Islamabad on Saturday for talks hosted by Pakistan. The ceasefire between the United States and Iran was "
        "extended by two weeks after the meeting. Officials thanked the hosts for their hospitality and security. "
        "Traffic in the capital was diverted around the Red Zone for the day.", None, "")
    result = rt.gate([article])
    (prediction,) = classify.predict(model, entry.version, rt.scenario.id, [article], result, rt.encoder)
    assert prediction.label == "base"
    candidates = classify.candidate_sentences(article, result[0])
    assert len(candidates) > classify.EVIDENCE_SENTENCES
    p_base = model.text_proba(candidates, rt.encoder)[:, LABELS.index("base")]
    best = sorted(range(len(candidates)), key=lambda i: -p_base[i])[: classify.EVIDENCE_SENTENCES]
    assert prediction.evidence == [candidates[i] for i in best]
    assert "Traffic in the capital was diverted around the Red Zone for the day." not in prediction.evidence
