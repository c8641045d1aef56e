"""The scenario classifier: article text plus NLP features -> base | accelerated | contraction | none.

One scikit-learn Pipeline: TF-IDF over the words, TF-IDF over NLP tokens
(actors, event types, actor pairs), and a linear SVM whose scores are
calibrated into probabilities with sigmoid scaling (`CalibratedClassifierCV`). `predict` is pure: articles and NLP
results in, `Prediction`s out, each with the sentences that most support the
call (the candidate sentences the model itself scores highest for the label).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from .records import LABELS, Article, NlpResult, Prediction

RECIPE = "tfidf-words-nlp-linearsvc-sigmoid.v1"
TEXT_CHARS = 6000
EVIDENCE_SENTENCES = 3
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“'‘(])|\n{2,}")


def _slug(name: str) -> str:
    return name.replace(" ", "_")


def nlp_tokens(result: NlpResult | None) -> str:
    """NLP features as tokens: relevance, actors, event types and who-did-what-to-whom."""
    if result is None or not result.relevant:
        return "irrelevant"
    tokens = ["relevant"] + [f"actor:{_slug(a)}" for a in result.actors]
    for event in result.events:
        kind = ("not_" if event.negated else "") + event.type
        tokens.append(f"event:{kind}")
        if event.source and event.target:
            tokens.append(f"dyad:{_slug(event.source)}>{kind}>{_slug(event.target)}")
    return " ".join(tokens)


def model_input(articles: Sequence[Article], results: Sequence[NlpResult | None]) -> pd.DataFrame:
    """The frame the estimator reads: `text` (title weighted twice) and `nlp` tokens."""
    return pd.DataFrame({
        "text": [f"{a.title}\n{a.body()[:TEXT_CHARS]}" for a in articles],
        "nlp": [nlp_tokens(r) for r in results],
    })


def build_estimator(seed: int = 0) -> Pipeline:
    features = ColumnTransformer([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.8, sublinear_tf=True,
                                  max_features=60_000, strip_accents="unicode"), "text"),
        ("nlp", TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True), "nlp"),
    ])
    base = LinearSVC(C=0.5, class_weight="balanced", random_state=seed)
    return Pipeline([("features", features), ("classifier", CalibratedClassifierCV(base, method="sigmoid", cv=3))])


def candidate_sentences(article: Article, result: NlpResult | None, limit: int = 40) -> list[str]:
    """Sentences that could support a call: event sentences, then actor sentences, else all sentences."""
    seen, out = set(), []
    pools = []
    if result is not None and result.relevant:
        pools = [[e.sentence for e in result.events], result.actor_sentences]
    if not any(pools):
        pools = [SENTENCE_SPLIT.split(article.body())]
    for pool in pools:
        for sentence in pool:
            s = " ".join(sentence.split())
            if len(s) >= 20 and s not in seen:
                seen.add(s)
                out.append(s)
    return out[:limit]


def predict(
    model: Pipeline,
    model_version: str,
    scenario: str,
    articles: Sequence[Article],
    results: Sequence[NlpResult | None],
) -> list[Prediction]:
    """Label, calibrated probabilities and evidence sentences for each article, in input order."""
    if not articles:
        return []
    classes = list(model.classes_)
    probs = model.predict_proba(model_input(articles, results))
    labels = [classes[i] for i in probs.argmax(axis=1)]
    # Score every candidate sentence of every article in one call.
    owners, sentences = [], []
    for n, (article, result) in enumerate(zip(articles, results)):
        if labels[n] == "none":
            continue
        for s in candidate_sentences(article, result):
            owners.append(n)
            sentences.append(s)
    evidence: dict[int, list[str]] = {}
    if sentences:
        sent_probs = model.predict_proba(pd.DataFrame({"text": sentences, "nlp": ["relevant"] * len(sentences)}))
        ranked = sorted(range(len(sentences)), key=lambda i: -sent_probs[i, classes.index(labels[owners[i]])])
        for i in ranked:
            picked = evidence.setdefault(owners[i], [])
            if len(picked) < EVIDENCE_SENTENCES:
                picked.append(sentences[i])
    return [
        Prediction(
            article_id=a.id,
            scenario=scenario,
            model_version=model_version,
            label=labels[n],
            probabilities={c: round(float(probs[n, classes.index(c)]), 4) for c in LABELS if c in classes},
            evidence=evidence.get(n, []),
        )
        for n, a in enumerate(articles)
    ]


# ---------------------------------------------------------------- evaluation

def scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict:
    """Macro-F1, accuracy and per-class precision/recall/F1/support."""
    labels = [c for c in LABELS if c in set(y_true) | set(y_pred)]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "n": len(y_true),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)), 4),
        "accuracy": round(float(np.mean(np.array(y_true) == np.array(y_pred))), 4),
        "per_class": {
            c: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, c in enumerate(labels)
        },
    }


def in_holdout(article_id: str, share: int = 5) -> bool:
    """The fixed evaluation split: one id in `share`, by hash, so membership never changes as labels grow."""
    return int(hashlib.sha1(article_id.encode("utf-8")).hexdigest(), 16) % share == 0


def evaluate_model(model: Pipeline, frame: pd.DataFrame, y: Sequence[str]) -> dict:
    return scores(list(y), list(model.predict(frame)))


def train_and_evaluate(
    articles: Sequence[Article],
    results: Sequence[NlpResult | None],
    labels: Sequence[str],
    time_split: tuple[datetime, datetime, datetime] = (datetime(2026, 3, 1), datetime(2026, 3, 1), datetime(2026, 4, 15)),
    cv_folds: int = 5,
    seed: int = 0,
) -> tuple[Pipeline, dict]:
    """Fit on everything outside the holdout; report holdout, time-split and cross-validation scores.

    time_split = (train before, test from, test before): by default train on items up to
    2026-02-28 and test on 2026-03-01 .. 2026-04-14.
    """
    frame = model_input(articles, results)
    y = np.array(labels)
    hold = np.array([in_holdout(a.id) for a in articles])
    metrics: dict = {"recipe": RECIPE, "n_labels": len(y), "class_counts": {c: int((y == c).sum()) for c in LABELS}}

    model = build_estimator(seed).fit(frame[~hold], y[~hold])
    metrics["holdout"] = evaluate_model(model, frame[hold], y[hold])

    published = [a.published for a in articles]
    before, start, end = time_split
    train_mask = np.array([p is not None and p < before for p in published])
    test_mask = np.array([p is not None and start <= p < end for p in published])
    if train_mask.sum() and test_mask.sum():
        time_model = build_estimator(seed).fit(frame[train_mask], y[train_mask])
        metrics["time_split"] = {
            "train_until": (before.date().isoformat()), "test_from": start.date().isoformat(), "test_until": end.date().isoformat(),
            "n_train": int(train_mask.sum()), **evaluate_model(time_model, frame[test_mask], y[test_mask]),
        }

    folds = StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=seed)
    cv_pred = cross_val_predict(build_estimator(seed), frame, y, cv=folds)
    metrics["cross_validation"] = {"folds": cv_folds, **scores(list(y), list(cv_pred))}
    return model, metrics
