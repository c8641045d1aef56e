"""The fine-tuned reader (pipeline/reader.py): real torch, real all-MiniLM-L6-v2 weights from the pinned package."""

import io

import joblib
import numpy as np
import pytest

from pipeline.reader import FROZEN_PREFIX, Reader, Readers, reader_text

CALM = ["Iran and Pakistan hold talks on border trade", "Ceasefire holds as mediators meet in Islamabad",
        "Taftan crossing reopens for traders", "Foreign ministers discuss cooperation by phone",
        "Talks between Washington and Tehran make progress", "Border markets reopen after a quiet month"]
BROKEN = ["Militants attack border guards, killing five", "Iran expels Pakistani diplomat after strike",
          "Talks collapse as envoys walk out", "Missile strike hits village near the frontier",
          "Ambassador recalled after cross-border shelling", "Bombing kills soldiers near the border post"]


@pytest.fixture(scope="module")
def reader():
    texts = CALM + BROKEN
    labels = ["base"] * len(CALM) + ["contraction"] * len(BROKEN)
    return Reader.fit(texts, labels, epochs=8)


def test_the_reader_learns_its_training_texts(reader):
    p = reader.predict_proba(CALM + BROKEN)
    assert reader.classes == ["base", "contraction"]
    assert p.shape == (12, 2) and np.allclose(p.sum(axis=1), 1.0)
    right = (p.argmax(axis=1) == np.array([0] * 6 + [1] * 6)).sum()
    assert right >= 11, f"{right}/12 training texts right"


def test_a_pickled_reader_keeps_only_tuned_weights_and_reads_the_same(reader):
    assert reader.weights and not any(k.startswith(f"encoder.{FROZEN_PREFIX}") for k in reader.weights)
    assert {v.dtype for v in reader.weights.values()} == {np.dtype(np.float16)}
    buffer = io.BytesIO()
    joblib.dump(reader, buffer)
    assert buffer.tell() < 40_000_000  # the word embeddings (30522 x 384) are not in the file
    buffer.seek(0)
    again = joblib.load(buffer)
    texts = ["Pakistan and Iran agree to reopen the border", "Gunmen kill border guards"]
    np.testing.assert_allclose(again.predict_proba(texts), reader.predict_proba(texts), atol=1e-6)


def test_reader_text_is_the_headline_then_the_lead_without_repeating_it():
    body = "Talks resume\n\nThe two sides met in Islamabad on Monday.   They agreed to meet again."
    assert reader_text("Talks resume", body) == "Talks resume . The two sides met in Islamabad on Monday. They agreed to meet again."
    assert reader_text("Headline only", "Headline only") == "Headline only"
    assert len(reader_text("T", "T " + "word " * 500)) <= len("T . ") + 400


def test_readers_average_their_members_which_differ_by_seed():
    texts = CALM + BROKEN
    labels = ["base"] * len(CALM) + ["contraction"] * len(BROKEN)
    readers = Readers.fit(texts, labels, seeds=(0, 1), epochs=2)
    probe = ["Envoys meet again in Islamabad", "Border post shelled overnight"]
    first, second = (m.predict_proba(probe) for m in readers.members)
    assert readers.classes == ["base", "contraction"] and len(readers.members) == 2
    assert not np.allclose(first, second)  # two seeds, two different readers
    np.testing.assert_allclose(readers.predict_proba(probe), (first + second) / 2)
