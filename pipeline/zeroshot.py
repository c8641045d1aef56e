"""Zero-shot classification from the brief: a pack nobody has labeled yet still yields signals.

Each case's prototype texts (`Scenario.prototypes`: definition, assumption, indicator, typical signals)
are encoded once. An article on the pack's actors scores, for each case, the mean of its headline's, its
lead's and its best sentence's similarity to that case's closest prototype (the headline decides, guide
rule 1; the best sentence catches a development the headline only hints at). `none` competes as a fixed bar: an
article that resembles no case that closely is `none`. Probabilities are a softmax of the four scores at a
fixed temperature; articles the pack's gate keeps out are `none`.

`NONE_BAR` and `TEMPERATURE` were chosen once, on the iran-pakistan-2026 labels published before
2026-03-01 (`python scripts/zero_shot_constants.py`), and are the same for every pack: nothing is tuned on
the pack it is measured on (`python scripts/measure_scenario.py --scenario NAME`). These
probabilities are not calibrated on the pack's own news: every output made from them says "zero-shot".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .classify import LEAD_CHARS, MAX_SENTENCES, SENTENCE_CHARS, sentences
from .encoder import SentenceEncoder
from .records import CASES, LABELS, ZERO_SHOT, Article
from .registry import ModelEntry
from .scenario import Scenario

RECIPE = f"{ZERO_SHOT}-prototypes.v1"
NONE_BAR = 0.6
TEMPERATURE = 0.05
IRRELEVANT_PROBS = {"base": 0.01, "accelerated": 0.01, "contraction": 0.01, "none": 0.97}


@dataclass
class ZeroShotModel:
    """The prototypes of one pack, encoded; scores articles with no training."""

    prototypes: dict[str, np.ndarray]  # case -> unit vectors of its prototype texts
    none_bar: float = NONE_BAR
    temperature: float = TEMPERATURE
    recipe: str = RECIPE

    @classmethod
    def for_scenario(cls, scenario: Scenario, encoder: SentenceEncoder) -> "ZeroShotModel":
        texts = scenario.prototypes()
        return cls({c: encoder.encode(texts[c]) for c in CASES if texts.get(c)})

    def case_scores(self, titles: Sequence[str], bodies: Sequence[str], encoder: SentenceEncoder) -> np.ndarray:
        """One row per article, one column per case (CASES order): mean of headline, lead and best-sentence
        similarity to the case's closest prototype; a case without prototypes scores -1."""
        heads = encoder.encode(list(titles))
        leads = encoder.encode([b[:LEAD_CHARS] or t for b, t in zip(bodies, titles)])
        groups = [(sentences(b[:SENTENCE_CHARS])[:MAX_SENTENCES] or [b[:LEAD_CHARS] or t]) for b, t in zip(bodies, titles)]
        flat = encoder.encode([s for g in groups for s in g])
        bounds = np.cumsum([0] + [len(g) for g in groups])
        out = np.full((len(titles), len(CASES)), -1.0)
        for j, case in enumerate(CASES):
            protos = self.prototypes.get(case)
            if protos is None or not len(protos):
                continue
            title_sim = (heads @ protos.T).max(axis=1)
            sent_sim = flat @ protos.T
            best = np.array([sent_sim[bounds[i]:bounds[i + 1]].max() for i in range(len(titles))])
            lead_sim = (leads @ protos.T).max(axis=1)
            out[:, j] = (title_sim + lead_sim + best) / 3
        return out

    def _probs(self, scores: np.ndarray) -> np.ndarray:
        """Softmax over [case scores..., the none bar] in LABELS order."""
        logits = np.zeros((len(scores), len(LABELS)))
        for j, case in enumerate(CASES):
            logits[:, LABELS.index(case)] = scores[:, j]
        logits[:, LABELS.index("none")] = self.none_bar
        z = (logits - logits.max(axis=1, keepdims=True)) / self.temperature
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_proba(self, articles: Sequence[Article], relevant: Sequence[bool], encoder: SentenceEncoder) -> np.ndarray:
        """Probabilities in LABELS order; the fixed `IRRELEVANT_PROBS` for articles the gate keeps out."""
        probs = np.tile([IRRELEVANT_PROBS[c] for c in LABELS], (len(articles), 1))
        idx = [i for i, r in enumerate(relevant) if r]
        if idx:
            picked = [articles[i] for i in idx]
            probs[idx] = self._probs(self.case_scores([a.title for a in picked], [a.body() for a in picked], encoder))
        return probs

    def text_proba(self, texts: Sequence[str], encoder: SentenceEncoder) -> np.ndarray:
        """Probabilities of short texts (evidence sentences), each its own headline and body."""
        return self._probs(self.case_scores(list(texts), list(texts), encoder))


def zero_shot_version(scenario: Scenario, encoder: SentenceEncoder) -> str:
    """The model version a pack's zero-shot predictions are stored under: `RECIPE` and a short hash of what they
    depend on (the pack's prototype texts, its relevance gate, the encoder). An edited brief is then a new
    version, so the next import re-scores the stored articles with it; with `RECIPE` alone, every pack's
    predictions kept the first version of its brief for good while `predict` showed the new one."""
    gate = sorted((a.name, tuple(a.surface_forms())) for a in scenario.actors if a.name in set(scenario.relevance_actors))
    digest = hashlib.sha256(repr((scenario.prototypes(), gate, encoder.fingerprint)).encode("utf-8")).hexdigest()
    return f"{RECIPE}-{digest[:8]}"


def zero_shot_model(scenario: Scenario, encoder: SentenceEncoder) -> tuple[ZeroShotModel, ModelEntry]:
    """The model a pack uses until it has a trained one, with a registry-style entry naming the recipe
    (its predictions are stored under `zero_shot_version`)."""
    version = zero_shot_version(scenario, encoder)
    entry = ModelEntry(version=version, scenario=scenario.id, file="", sha256="", created="", label_hash="",
                       git_commit="", libraries={}, recipe=RECIPE, status="zero-shot",
                       reason="no trained model yet: scored against the brief's prototypes")
    return ZeroShotModel.for_scenario(scenario, encoder), entry


def zero_shot_proba(scenario: Scenario, articles: Sequence[Article], encoder: SentenceEncoder,
                    none_bar: float = NONE_BAR, temperature: float = TEMPERATURE) -> np.ndarray:
    """Probabilities in LABELS order for articles outside a pipeline run (scripts, tests): the pack's own
    relevance gate, then the zero-shot model, as `signals import` applies them."""
    from .scenario import Relevance

    gate = Relevance(scenario)
    model = ZeroShotModel(ZeroShotModel.for_scenario(scenario, encoder).prototypes, none_bar, temperature)
    return model.predict_proba(articles, [gate(a) for a in articles], encoder)
