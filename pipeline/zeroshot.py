"""Zero-shot classification: a pack with no trained model scores articles against its own prototypes.

A fresh pack (`signals scenario init`, then the analyst's edits) has case definitions,
assumptions, indicators and typical signals but no labels. Recipe `zero-shot-prototypes.v1`
uses exactly the classifier's prototype features (`classify.Featurizer`: per case, the
similarity of the article's best sentence, lead and title to the case's closest prototype
text) with no learned weights:

1. the relevance gate: an article naming none of the pack's `relevance_actors` is `none`;
2. each case's score is the mean of its three similarities; `none` competes with the fixed
   score NONE_SIMILARITY (an article must resemble a case more than that to count for it);
3. a softmax at TEMPERATURE turns the four scores into probabilities.

NONE_SIMILARITY and TEMPERATURE were set once on the 6,466 iran-pakistan-2026 labels (best macro-F1 of the grid)
(`scripts/measure_scenario.py --calibrate`), never on the pack they are evaluated on.
The outputs carry the recipe name in place of a model version, so every view can say
"zero-shot".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .classify import LEAD_CHARS, MAX_SENTENCES, SENTENCE_CHARS, Featurizer, sentences
from .encoder import SentenceEncoder
from .records import CASES, LABELS, Article, Prediction
from .scenario import Scenario

RECIPE = "zero-shot-prototypes.v1"
NONE_SIMILARITY = 0.55
TEMPERATURE = 0.05
EVIDENCE_SENTENCES = 3
VIEWS = 3  # Featurizer.dense gives, per case, best-sentence, lead and title similarity


def relevance_gate(scenario: Scenario):
    """The pack's relevance test (`nlp.Relevance`); a pack without relevance actors lets everything in."""
    if not scenario.relevance_actors:
        return lambda article: True
    from .nlp import Relevance

    return Relevance(scenario)


def case_scores(featurizer: Featurizer, articles: Sequence[Article]) -> np.ndarray:
    """(articles x CASES): the mean of each case's best-sentence, lead and title similarity, read from the
    per-case block that `Featurizer.dense` puts after the title and lead vectors."""
    bodies = [a.body() for a in articles]
    dense = featurizer.dense([a.title for a in articles], [b[:LEAD_CHARS] for b in bodies], bodies)
    start = 2 * featurizer.encoder.dim
    block = dense[:, start:start + VIEWS * len(CASES)].reshape(len(articles), len(CASES), VIEWS)
    return block.mean(axis=2)


def zero_shot_proba(scenario: Scenario, articles: Sequence[Article], encoder: SentenceEncoder,
                    none_similarity: float = NONE_SIMILARITY, temperature: float = TEMPERATURE) -> np.ndarray:
    """Probabilities in `LABELS` order (base, accelerated, contraction, none) for each article."""
    probs = np.tile([0.0] * len(CASES) + [1.0], (len(articles), 1))
    gate = relevance_gate(scenario)
    idx = [i for i, a in enumerate(articles) if gate(a)]
    if idx:
        featurizer = Featurizer.from_texts(encoder, scenario.prototypes())
        scores = case_scores(featurizer, [articles[i] for i in idx])
        logits = np.hstack([scores, np.full((len(idx), 1), none_similarity)]) / temperature
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        probs[idx] = weights / weights.sum(axis=1, keepdims=True)
    return probs


def evidence(featurizer: Featurizer, article: Article, case: str) -> list[str]:
    """The article's sentences (headline first in the pool) closest to the case's prototypes."""
    pool = list(dict.fromkeys([article.title, *sentences(article.body()[:SENTENCE_CHARS])[:MAX_SENTENCES]]))
    pool = [s for s in pool if len(s) >= 20]
    if not pool or case not in featurizer.prototypes:
        return []
    similarity = (featurizer.encoder.encode(pool) @ featurizer.prototypes[case].T).max(axis=1)
    return [pool[i] for i in np.argsort(-similarity, kind="stable")[:EVIDENCE_SENTENCES]]


def zero_shot_predict(scenario: Scenario, articles: Sequence[Article], encoder: SentenceEncoder) -> list[Prediction]:
    """`Prediction`s whose model_version is the recipe name, with evidence sentences for each case call."""
    probs = zero_shot_proba(scenario, articles, encoder)
    featurizer = Featurizer.from_texts(encoder, scenario.prototypes())
    out = []
    for n, article in enumerate(articles):
        label = LABELS[int(probs[n].argmax())]
        out.append(Prediction(
            article_id=article.id, scenario=scenario.id, model_version=RECIPE, label=label,
            probabilities={c: round(float(probs[n, j]), 4) for j, c in enumerate(LABELS)},
            evidence=evidence(featurizer, article, label) if label != "none" else [],
        ))
    return out
