"""Written articles (the probe suite; the written examples of bench/data, an experiment the recipe leaves out):
loaded with their labels, refused by line when malformed, trained on when `fit` is given them, and the examples
kept apart from the probe suite they must not imitate."""

import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline import classify
from pipeline.encoder import load_encoder
from pipeline.errors import InputError
from pipeline.jobs import load_probes, written_articles
from pipeline.records import Article
from pipeline.scenario import load_scenario
from pipeline.settings import PROJECT_ROOT, load_settings

PACK = load_scenario(PROJECT_ROOT / "labels" / "iran-pakistan-2026")
EXAMPLES = PROJECT_ROOT / "bench" / "data" / "guide_examples_v1.jsonl"


def example(n: int, label: str, title: str) -> str:
    return json.dumps({"id": f"ex-{n}", "label": label, "rule": "test", "title": title, "text": ""})


def test_written_articles_load_with_their_labels_in_file_order(tmp_path):
    path = tmp_path / "written.jsonl"
    path.write_text(example(1, "accelerated", "Pipeline work resumes") + "\n\n" + example(2, "none", "Cricket final") + "\n")
    articles, labels = written_articles(path)
    assert [a.id for a in articles] == ["ex-1", "ex-2"] and labels == ["accelerated", "none"]
    assert articles[0].title == "Pipeline work resumes"
    assert written_articles(tmp_path / "absent.jsonl") == ([], [])


def test_a_file_saved_with_a_byte_order_mark_reads_from_its_first_line(tmp_path):
    """Notepad and Excel start a UTF-8 file with a BOM: read as text it made line 1 "not valid JSON", so a probe
    suite, a JSONL import or an events file saved there failed on its first article."""
    from pipeline.files import read_jsonl

    path = tmp_path / "written.jsonl"
    path.write_text(example(1, "base", "Talks go on") + "\n" + example(2, "none", "Cricket final") + "\n", encoding="utf-8-sig")
    articles, labels = written_articles(path)
    assert [a.id for a in articles] == ["ex-1", "ex-2"] and labels == ["base", "none"]
    outcome = read_jsonl(path)
    assert outcome.ok and [a.title for a in outcome.articles] == ["Talks go on", "Cricket final"]
    pack = tmp_path / PACK.folder.name
    (pack / "probes").mkdir(parents=True)
    path.replace(pack / "probes" / "probes.jsonl")
    (pack / "scenario.toml").write_bytes((PACK.folder / "scenario.toml").read_bytes())
    assert load_scenario(pack).probe_signals() == {"ex-1": ("base", "test"), "ex-2": ("none", "test")}


def test_an_unknown_label_names_the_file_and_line(tmp_path):
    path = tmp_path / "written.jsonl"
    path.write_text(example(1, "base", "Talks go on") + "\n" + example(2, "escalation", "Strikes") + "\n")
    with pytest.raises(InputError, match=r"written\.jsonl:2: label 'escalation' is not one of"):
        written_articles(path)
    path.write_text(example(1, "base", "Talks go on") + "\n\n" + example(1, "none", "Cricket final") + "\n")
    with pytest.raises(InputError, match=r"written\.jsonl:3: id 'ex-1' is already on line 1$"):
        written_articles(path)


def test_the_regression_learns_from_the_examples():
    """A word that only the examples use enters the model's vocabulary, and an article using it leans to their case."""
    encoder = load_encoder(load_settings(environ={}).encoders_dir)
    featurizer = classify.Featurizer.from_texts(encoder, PACK.prototypes())
    filler = ("Taftan", "Quetta", "Gwadar", "Chabahar", "Turbat", "Mand")
    articles = [Article(f"a{i}-{c}", "t", "", f"{c} story number {i} from {place}", "", "", None, "")
                for i, place in enumerate(filler) for c in ("base", "contraction", "none")]
    labels = [a.id.split("-")[1] for a in articles]
    written = [Article(f"w{i}", "examples", "", f"Zorbanite accord signed in {place}", "", "", None, "") for i, place in enumerate(filler)]
    plain = classify.fit(articles, labels, [True] * len(articles), featurizer, PACK.prototypes(), reader_weight=0.0, head_weight=0.0)
    taught = classify.fit(articles, labels, [True] * len(articles), featurizer, PACK.prototypes(), reader_weight=0.0, head_weight=0.0,
                          examples=(written, ["accelerated"] * len(written)))
    vocabulary = lambda m: m.estimator.named_steps["features"].named_transformers_["words"].vocabulary_  # noqa: E731
    assert "zorbanite" in vocabulary(taught) and "zorbanite" not in vocabulary(plain)
    probe = [Article("p", "t", "", "Zorbanite accord signed in Zahedan", "", "", None, "")]
    accelerated = classify.LABELS.index("accelerated")
    assert taught.predict_proba(probe, [True], encoder)[0, accelerated] > plain.predict_proba(probe, [True], encoder)[0, accelerated]


def test_the_written_examples_cover_every_case_and_copy_no_probe():
    """The examples are the brief written out, not the probe suite: none is close to a probe (TF-IDF cosine under
    0.45), so a model trained on them is still checked by the probes rather than by what it memorised."""
    articles, labels = written_articles(EXAMPLES)
    for label in classify.LABELS:
        assert labels.count(label) >= 40, label
    probes, _ = load_probes(PACK)
    text = lambda items: [f"{a.title} {a.text}" for a in items]  # noqa: E731
    vectors = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(text(articles) + text(probes))
    similarity = (vectors.transform(text(articles)) @ vectors.transform(text(probes)).T).toarray()
    closest = np.unravel_index(similarity.argmax(), similarity.shape)
    assert similarity.max() < 0.45, (articles[closest[0]].id, probes[closest[1]].id)
    assert not {a.id for a in articles} & {p.id for p in probes}
