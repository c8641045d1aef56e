"""A pack's written examples (labels/<scenario>/examples/*.jsonl): loaded with their labels, refused by line
when malformed, trained on by the classifier, and kept apart from the probe suite they must not imitate."""

import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline import classify
from pipeline.encoder import load_encoder
from pipeline.errors import InputError
from pipeline.jobs import load_examples, load_probes
from pipeline.records import Article
from pipeline.scenario import load_scenario
from pipeline.settings import PROJECT_ROOT, load_settings

PACK = load_scenario(PROJECT_ROOT / "labels" / "iran-pakistan-2026")


def write_pack(tmp_path, lines: list[str]):
    """A copy of the shipped pack's scenario.toml with one examples file holding `lines`."""
    folder = tmp_path / "pack"
    (folder / "examples").mkdir(parents=True)
    (folder / "scenario.toml").write_text((PACK.folder / "scenario.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "examples" / "written.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_scenario(folder)


def example(n: int, label: str, title: str) -> str:
    return json.dumps({"id": f"ex-{n}", "label": label, "rule": "test", "title": title, "text": ""})


def test_examples_load_with_their_labels_in_file_order(tmp_path):
    pack = write_pack(tmp_path, [example(1, "accelerated", "Pipeline work resumes"), example(2, "none", "Cricket final")])
    articles, labels = load_examples(pack)
    assert [a.id for a in articles] == ["ex-1", "ex-2"] and labels == ["accelerated", "none"]
    assert articles[0].title == "Pipeline work resumes"


def test_an_unknown_label_names_the_file_and_line(tmp_path):
    pack = write_pack(tmp_path, [example(1, "base", "Talks go on"), example(2, "escalation", "Strikes")])
    with pytest.raises(InputError, match=r"written\.jsonl:2: label 'escalation' is not one of"):
        load_examples(pack)


def test_a_pack_without_examples_has_none(tmp_path):
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "scenario.toml").write_text((PACK.folder / "scenario.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_examples(load_scenario(tmp_path / "bare")) == ([], [])


def test_the_regression_learns_from_the_examples():
    """A word that only the examples use enters the model's vocabulary, and an article using it leans to their case."""
    encoder = load_encoder(load_settings(environ={}).encoders_dir)
    featurizer = classify.Featurizer.from_texts(encoder, PACK.prototypes())
    filler = ("Taftan", "Quetta", "Gwadar", "Chabahar", "Turbat", "Mand")
    articles = [Article(f"a{i}-{c}", "t", "", f"{c} story number {i} from {place}", "", "", None, "")
                for i, place in enumerate(filler) for c in ("base", "contraction", "none")]
    labels = [a.id.split("-")[1] for a in articles]
    written = [Article(f"w{i}", "examples", "", f"Zorbanite accord signed in {place}", "", "", None, "") for i, place in enumerate(filler)]
    kwargs = dict(reader_weight=0.0)
    plain = classify.fit(articles, labels, [True] * len(articles), featurizer, PACK.prototypes(), **kwargs)
    taught = classify.fit(articles, labels, [True] * len(articles), featurizer, PACK.prototypes(), **kwargs,
                          examples=(written, ["accelerated"] * len(written)))
    vocabulary = lambda m: m.estimator.named_steps["features"].named_transformers_["words"].vocabulary_  # noqa: E731
    assert "zorbanite" in vocabulary(taught) and "zorbanite" not in vocabulary(plain)
    probe = [Article("p", "t", "", "Zorbanite accord signed in Zahedan", "", "", None, "")]
    accelerated = classify.LABELS.index("accelerated")
    assert taught.predict_proba(probe, [True], encoder)[0, accelerated] > plain.predict_proba(probe, [True], encoder)[0, accelerated]


def test_the_shipped_examples_cover_every_case_and_copy_no_probe():
    """The examples are the brief written out, not the probe suite: none is close to a probe (TF-IDF cosine under
    0.45), so the probes still check what the model learned rather than what it memorised."""
    articles, labels = load_examples(PACK)
    for label in classify.LABELS:
        assert labels.count(label) >= 40, label
    probes, _ = load_probes(PACK)
    text = lambda items: [f"{a.title} {a.text}" for a in items]  # noqa: E731
    vectors = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(text(articles) + text(probes))
    similarity = (vectors.transform(text(articles)) @ vectors.transform(text(probes)).T).toarray()
    closest = np.unravel_index(similarity.argmax(), similarity.shape)
    assert similarity.max() < 0.45, (articles[closest[0]].id, probes[closest[1]].id)
    assert not {a.id for a in articles} & {p.id for p in probes}
