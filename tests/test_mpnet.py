"""The case head's encoder (all-mpnet-base-v2 from its pinned PyPI slices) and its vector cache."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from pipeline import classify, mpnet
from pipeline.errors import ModelError

TEXTS = [
    "Pakistan and Iran agree to reopen border markets and raise trade",
    "Islamabad and Tehran sign a deal to expand cross-border trade",
    "Local team wins the football cup after a penalty shoot-out",
]


@pytest.fixture(scope="module")
def encoder():
    return mpnet.Encoder()


def test_vectors_are_unit_length_and_a_paraphrase_is_nearer_than_sport(encoder):
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (3, mpnet.DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    assert mpnet.model_dir().name == mpnet.NAME and (mpnet.model_dir() / "model.safetensors").exists()


def test_the_cache_encodes_each_text_once_and_returns_the_same_vectors(encoder, tmp_path):
    cache = mpnet.VectorCache(encoder, tmp_path / "vectors.duckdb")
    first = cache.vectors(TEXTS + [TEXTS[0]])  # a repeat inside one call is encoded once
    assert cache.encoded == 3
    again = mpnet.VectorCache(encoder, tmp_path / "vectors.duckdb")  # another process, later
    second = again.vectors(list(reversed(TEXTS)))
    assert again.encoded == 0
    assert np.allclose(second[::-1], first[:3], atol=1e-6) and np.allclose(first[3], first[0])
    edited = again.vectors([TEXTS[0] + "!"])  # an edited text is a new key: encoded, never a stale vector
    assert again.encoded == 1 and not np.allclose(edited[0], first[0])


def test_the_cache_keeps_vectors_of_another_token_cap_apart(encoder, tmp_path):
    """The cache was keyed on the weights alone: an encoder cutting texts at 8 tokens got the 128-token vectors
    of the same texts back (and a change of `MAX_TOKENS` would have gone on reading the old ones)."""
    long_text = TEXTS[0] + ", after weeks of talks in Islamabad and Tehran on tariffs, visas and the border crossings"
    path = tmp_path / "vectors.duckdb"
    full = mpnet.VectorCache(encoder, path)
    at_128 = full.vectors([long_text])
    short = mpnet.VectorCache(mpnet.Encoder(max_tokens=8), path)
    at_8 = short.vectors([long_text])
    assert short.encoded == 1 and not np.allclose(at_8, at_128, atol=1e-3)
    assert np.allclose(at_8, mpnet.Encoder(max_tokens=8).encode([long_text]), atol=1e-5)
    again = mpnet.VectorCache(encoder, path)  # the 128-token vector is still the one filed under the weights' hash
    assert np.allclose(again.vectors([long_text]), at_128, atol=1e-6) and again.encoded == 0
    assert encoder.vector_key == mpnet.ZIP_SHA256


def test_a_cache_file_held_by_another_writer_is_skipped_not_waited_on(encoder, tmp_path):
    path = tmp_path / "vectors.duckdb"
    # a second process takes the file (DuckDB: one writing process) and keeps it while this one reads through the cache
    script = f"import duckdb, time; con = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(60)"
    other = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "held"
        cache = mpnet.VectorCache(encoder, path)
        vectors = cache.vectors(TEXTS[:1])
        assert vectors.shape == (1, mpnet.DIM) and cache.encoded == 1
    finally:
        other.kill()
        other.wait()


def test_a_head_trained_on_other_vectors_is_refused():
    head = classify.VectorHead(LogisticRegression(), mpnet.NAME, "0" * 64)
    with pytest.raises(ModelError, match="retrain with 'signals train'"):
        head.predict_proba(TEXTS)
    cut_shorter = classify.VectorHead(LogisticRegression(), mpnet.NAME, mpnet.ZIP_SHA256, max_tokens=64)
    with pytest.raises(ModelError, match="64 tokens"):
        cut_shorter.predict_proba(TEXTS)


def test_unpacking_leaves_a_folder_another_process_finished_meanwhile(tmp_path):
    """Two test workers (or two commands) on a cold cache unpack the same model at once: the one that finishes
    second must not delete the folder the first has renamed into place, which the first may be reading."""
    folder = tmp_path / "cache" / "model-abc"

    def fill_while_another_finishes(into):
        (into / "weights").write_text("mine")
        folder.mkdir(parents=True)  # the other process renames its finished folder into place meanwhile
        (folder / "weights").write_text("theirs")

    assert mpnet.unpack_once(folder, "weights", fill_while_another_finishes) == folder
    assert (folder / "weights").read_text() == "theirs"
    assert [p.name for p in folder.parent.iterdir()] == ["model-abc"]  # no half-made folder left beside it
    # a folder without its marker file (left half-made) is replaced
    (folder / "weights").unlink()
    mpnet.unpack_once(folder, "weights", lambda into: (into / "weights").write_text("fresh"))
    assert (folder / "weights").read_text() == "fresh"
