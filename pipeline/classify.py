"""The scenario classifier: article -> base | accelerated | contraction | none, with probabilities and evidence.

Recipe `gate-tfidf-m2v-protos-lr+mpnet-head.v5`, in two steps:

1. **Is the article about the scenario?** The relevance gate (`scenario.Relevance`: does it
   name one of the pack's core actors?) decides. Articles that fail it are `none`, with
   the probabilities measured on the gated-out training articles (of 1,125 labeled
   articles that fail the gate, one is not `none`).
2. **Which way does it point?** For gated-in articles, two readers, averaged:
   - a logistic regression over TF-IDF of the words (title and text) and, apart, of the
     headline (guide rule 1: the headline development decides); sentence-encoder vectors of the
     title and of the lead (`pipeline.encoder`); and the article's similarity to each case's
     prototype texts (the pack's definition, assumption, indicator and typical signals:
     `Scenario.prototypes`): per case, the best sentence, the lead and the title; per prototype,
     the best sentence and the title. The prototype texts are also training examples of their
     case, which is how the brief teaches `accelerated` where the pool holds only a handful of
     real examples;
   - the **case head** (`VectorHead`): a logistic regression over the frozen all-mpnet-base-v2 vector of
     the headline and lead (`pipeline.mpnet`), trained on the same labels and prototypes. It weighs
     `HEAD_WEIGHT` in the average. It replaced recipe v4's fine-tuned MiniLM reader (`pipeline.reader`),
     which it beat on both splits while training in seconds and the same way every time (round 7 in
     `docs/classifier-experiments.md`).

`predict` is pure: articles and NLP results in, `Prediction`s out, each with the
sentences that most support the call. `train_and_evaluate` reports the fixed holdout,
the time split (train on the past, test on a later period), calibration (ECE) and each
class's measured recall, which the odds and the report use to say what the model can see.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.pipeline import Pipeline

from . import mpnet
from .encoder import SentenceEncoder
from .nlp import split_sentences
from .reader import SEEDS, Reader, Readers, reader_text
from .records import CASES, LABELS, Article, NlpResult, Prediction

# Written examples: articles written from the guide and their labels (`files.written_articles`). Tried as
# training data beside the prototypes (bench/classifier.py --examples); they cost macro-F1 on real news.
WrittenExamples = tuple[Sequence[Article], Sequence[str]]
RECIPE = "gate-tfidf-m2v-protos-lr+mpnet-head.v5"
TEXT_CHARS = 6000
LEAD_CHARS = 500
SENTENCE_CHARS = 3000  # prototype similarity looks at the sentences of the article's first part
MAX_SENTENCES = 25
EVIDENCE_SENTENCES = 3
PROTOTYPE_WEIGHT = 1.0  # how many articles one prototype text weighs in training
# Gated-in articles: the averaged `none` probability is divided by this, then renormalised (v3: 2, the
# regression alone; v4: 1, no shift). Chosen on the inner validation split (train < 2026-01-15, validate 2026-01-15..2026-02-28) by
# scripts/select_classifier.py; the test period played no part in the choice.
NONE_SHIFT = 1.0
# Gated-in articles: the share of the fine-tuned reader (v4) and of the case head (v5) in the averaged
# probabilities. Chosen on the same inner validation split (scripts/select_classifier.py).
READER_WEIGHT = 0.0  # recipe v4 had 0.7; v5 trains no reader (the case head took its place)
HEAD_WEIGHT = 0.7  # the case head's share of the average, the weight v4 gave its reader (round 7)
HEAD_C = 1.0  # the case head's inverse regularisation, fixed beforehand (the regression's own C)
# Gated-in articles: the averaged probabilities are raised to 1 / TEMPERATURE and renormalised. Two readers that
# disagree average to an underconfident row (v5 on the inner split: mean confidence 0.66, accuracy 0.78); the
# temperature with the lowest log-loss there, 0.7 of (0.5, 0.6, 0.7, 0.8, 1.0), was chosen. It moves no argmax.
TEMPERATURE = 0.7
SCORED_LABELS = ("base", "contraction", "none")  # the time split's macro-F1 (the pool has 6 accelerated items)
HOLDOUT_SHARE = 0.15  # the promotion holdout: the most recent 15% of labeled items by published date
MIN_RECALL_SUPPORT = 10  # a class with fewer test items has no measured recall
TIME_SPLIT = (datetime(2026, 3, 1), datetime(2026, 3, 1), datetime(2026, 4, 15))
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“'‘(])|\n+")


def sentences(text: str) -> list[str]:
    """Sentences of at least 20 characters, whitespace collapsed."""
    out = []
    for s in SENTENCE_SPLIT.split(text):
        s = " ".join(s.split())
        if len(s) >= 20:
            out.append(s)
    return out


# ---------------------------------------------------------------- features

@dataclass
class Featurizer:
    """Dense features: title and lead vectors, and similarity to each case's prototypes."""

    encoder: SentenceEncoder
    prototypes: dict[str, np.ndarray]  # case -> unit vectors of its prototype texts

    @classmethod
    def from_texts(cls, encoder: SentenceEncoder, prototype_texts: dict[str, list[str]]) -> "Featurizer":
        return cls(encoder, {c: encoder.encode(prototype_texts[c]) for c in CASES if prototype_texts.get(c)})

    def dense(self, titles: Sequence[str], leads: Sequence[str], bodies: Sequence[str]) -> np.ndarray:
        """One row per article: [title vector, lead vector, per case: best-sentence, lead and title similarity
        to its closest prototype, then per prototype: best-sentence and title similarity]."""
        t, lead = self.encoder.encode(titles), self.encoder.encode(leads)
        per_article = [sentences(b[:SENTENCE_CHARS])[:MAX_SENTENCES] or [title] for b, title in zip(bodies, titles)]
        flat = self.encoder.encode([s for group in per_article for s in group])
        bounds = np.cumsum([0] + [len(g) for g in per_article])
        every = np.vstack([self.prototypes[c] for c in CASES if c in self.prototypes] or [np.zeros((0, t.shape[1]))])
        sentence_best = np.vstack([(flat[bounds[i]:bounds[i + 1]] @ every.T).max(axis=0) for i in range(len(titles))]) \
            if len(every) else np.zeros((len(titles), 0))
        title_sim = t @ every.T
        sims, start = [], 0
        for case in CASES:
            n = len(self.prototypes.get(case, ()))
            if not n:
                sims += [np.zeros(len(titles))] * 3
                continue
            sims += [sentence_best[:, start:start + n].max(axis=1), (lead @ self.prototypes[case].T).max(axis=1),
                     title_sim[:, start:start + n].max(axis=1)]
            start += n
        return np.hstack([t, lead, np.vstack(sims).T, sentence_best, title_sim]).astype(np.float32)


def article_frame(articles: Sequence[Article], featurizer: Featurizer) -> pd.DataFrame:
    """The frame the estimator reads: `text` (title and text), `title`, and the dense columns d0..dN."""
    bodies = [a.body() for a in articles]
    dense = featurizer.dense([a.title for a in articles], [b[:LEAD_CHARS] for b in bodies], bodies)
    frame = pd.DataFrame(dense, columns=[f"d{i}" for i in range(dense.shape[1])])
    frame.insert(0, "text", [f"{a.title}\n{b[:TEXT_CHARS]}" for a, b in zip(articles, bodies)])
    frame.insert(1, "title", [a.title for a in articles])
    return frame


def text_frame(texts: Sequence[str], featurizer: Featurizer) -> pd.DataFrame:
    """Short texts (prototypes, evidence sentences) as articles whose title, lead and body are the text."""
    dense = featurizer.dense(list(texts), list(texts), list(texts))
    frame = pd.DataFrame(dense, columns=[f"d{i}" for i in range(dense.shape[1])])
    frame.insert(0, "text", list(texts))
    frame.insert(1, "title", list(texts))
    return frame


def build_estimator(n_dense: int, seed: int = 0) -> Pipeline:
    features = ColumnTransformer([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.8, sublinear_tf=True,
                                  max_features=60_000, strip_accents="unicode"), "text"),
        ("title", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode"), "title"),
        ("dense", "passthrough", [f"d{i}" for i in range(n_dense)]),
    ])
    classifier = LogisticRegression(C=1.0, class_weight="balanced", max_iter=4000, random_state=seed)
    return Pipeline([("features", features), ("classifier", classifier)])


# ---------------------------------------------------------------- the case head


@dataclass
class VectorHead:
    """A class-balanced logistic regression over the frozen all-mpnet-base-v2 vector of an article's headline
    and lead (`reader_text`). The vectors come through `mpnet.shared_cache()`, so a text is encoded once."""

    estimator: LogisticRegression
    encoder_name: str
    encoder_fingerprint: str
    max_tokens: int = 128  # the texts' token cap; heads saved before it was recorded were all trained at 128

    @property
    def classes(self) -> list[str]:
        return list(self.estimator.classes_)

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], seed: int = 0) -> "VectorHead":
        cache = mpnet.shared_cache()
        estimator = LogisticRegression(C=HEAD_C, class_weight="balanced", max_iter=4000, random_state=seed)
        estimator.fit(cache.vectors(texts), list(labels))
        return cls(estimator, cache.encoder.name, cache.encoder.fingerprint, cache.encoder.max_tokens)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        cache = mpnet.shared_cache()
        encoder = cache.encoder
        if (encoder.fingerprint, encoder.max_tokens) != (self.encoder_fingerprint, self.max_tokens):
            from .errors import ModelError

            raise ModelError(f"this model's case head was trained on {self.encoder_name} vectors "
                             f"({self.encoder_fingerprint[:12]}…, {self.max_tokens} tokens), not {encoder.fingerprint[:12]}…, "
                             f"{encoder.max_tokens} tokens; retrain with 'signals train'")
        return self.estimator.predict_proba(cache.vectors(texts))


# ---------------------------------------------------------------- the model

@dataclass
class ScenarioModel:
    """What `signals train` saves: the estimator, the prototype vectors, the gate's probabilities
    and the encoder it was trained with (name and fingerprint, checked when it is used)."""

    estimator: Pipeline
    prototypes: dict[str, np.ndarray]
    irrelevant_probs: dict[str, float]
    encoder_name: str
    encoder_fingerprint: str
    recipe: str = RECIPE
    extra: dict = field(default_factory=dict)
    none_shift: float = 1.0  # models pickled before the shift existed keep their plain argmax
    reader: Readers | Reader | None = None  # the fine-tuned readers (a `Reader` in models before `Readers`); None before v4
    reader_weight: float = 0.0
    head: VectorHead | None = None  # the case head (recipe v5); None before v5
    head_weight: float = 0.0
    temperature: float = 1.0  # see TEMPERATURE; 1 (none) in models before v5

    def shifted(self, p: np.ndarray) -> np.ndarray:
        """Divide the `none` column of gated-in probabilities (LABELS order) by `none_shift`, renormalise; then
        sharpen them by the `temperature` (raised to 1 / temperature, renormalised)."""
        if self.none_shift == 1.0 and self.temperature == 1.0:
            return p
        out = p.copy()
        out[:, LABELS.index("none")] /= self.none_shift
        out = np.power(out / out.sum(axis=1, keepdims=True), 1.0 / self.temperature)
        return out / out.sum(axis=1, keepdims=True)

    @property
    def classes_(self) -> list[str]:
        return list(self.estimator.classes_)

    def featurizer(self, encoder: SentenceEncoder) -> Featurizer:
        if encoder.fingerprint != self.encoder_fingerprint:
            from .errors import ModelError

            raise ModelError(f"this model was trained with encoder {self.encoder_name} ({self.encoder_fingerprint[:12]}…), "
                             f"not {encoder.name} ({encoder.fingerprint[:12]}…); retrain with 'signals train'")
        return Featurizer(encoder, self.prototypes)

    def predict_proba(self, articles: Sequence[Article], relevant: Sequence[bool], encoder: SentenceEncoder,
                      frame: pd.DataFrame | None = None) -> np.ndarray:
        """Probabilities in `LABELS` order: the gate's for irrelevant articles, the estimator's for the rest.
        `frame`, when given, is the articles' `article_frame` made with this model's prototypes (no re-encoding)."""
        probs = np.tile([self.irrelevant_probs.get(c, 0.0) for c in LABELS], (len(articles), 1))
        idx = [i for i, r in enumerate(relevant) if r]
        if idx:
            rows = frame.iloc[idx] if frame is not None else article_frame([articles[i] for i in idx], self.featurizer(encoder))
            p = self._in_label_order(self.estimator.predict_proba(rows))
            second = [(m, w) for m, w in ((self.reader, self.reader_weight), (self.head, self.head_weight)) if m is not None and w]
            if second:  # the reader (v4) and the case head (v5) read the same headline and lead, averaged in turn
                texts = [reader_text(articles[i].title, articles[i].body()) for i in idx]
                for reader, weight in second:
                    p = (1 - weight) * p + weight * self._in_label_order(reader.predict_proba(texts), reader.classes)
            probs[idx] = self.shifted(p)
        return probs

    def text_proba(self, texts: Sequence[str], encoder: SentenceEncoder) -> np.ndarray:
        """Probabilities (LABELS order) of short texts, such as evidence sentences, read as whole articles.
        The regression alone: the reader would cost a transformer pass per candidate sentence."""
        return self.shifted(self._in_label_order(self.estimator.predict_proba(text_frame(texts, self.featurizer(encoder)))))

    def _in_label_order(self, p: np.ndarray, classes: Sequence[str] | None = None) -> np.ndarray:
        out = np.zeros((len(p), len(LABELS)))
        for j, c in enumerate(self.classes_ if classes is None else classes):
            out[:, LABELS.index(c)] = p[:, j]
        return out


def is_relevant(results: Sequence[NlpResult | None]) -> list[bool]:
    return [r is not None and r.relevant for r in results]


def fit(articles: Sequence[Article], labels: Sequence[str], relevant: Sequence[bool], featurizer: Featurizer,
        prototype_texts: dict[str, list[str]], frame: pd.DataFrame | None = None, seed: int = 0,
        prototype_weight: float = PROTOTYPE_WEIGHT, none_shift: float = NONE_SHIFT,
        reader_weight: float = READER_WEIGHT, examples: WrittenExamples = ((), ()),
        reader_seeds: Sequence[int] = SEEDS, head_weight: float = HEAD_WEIGHT,
        temperature: float = TEMPERATURE) -> ScenarioModel:
    """Train on the gated-in articles, the prototype texts (each weighing `prototype_weight` articles) and any
    written `examples` (`(articles, labels)`, each weighing one article; the shipped recipe uses none, see
    `docs/classifier-experiments.md`, rounds 4 and 12); the gate's probabilities come from the labeled articles it keeps out. The reader
    (when `reader_weight` > 0) fine-tunes on the same articles and texts, once per seed in `reader_seeds`
    (offset by `seed`), and the readers are averaged; the case head (when `head_weight` > 0) trains on the
    same texts. `none_shift` and `temperature`: see `ScenarioModel.shifted`."""
    relevant = np.asarray(relevant, dtype=bool)
    y = np.asarray(labels)
    frame = article_frame(articles, featurizer) if frame is None else frame
    protos = [(c, t) for c in CASES for t in prototype_texts.get(c, [])]
    written, written_labels = list(examples[0]), list(examples[1])
    parts = [frame[relevant], text_frame([t for _, t in protos], featurizer)]
    if written:
        parts.append(article_frame(written, featurizer))
    train = pd.concat(parts, ignore_index=True)
    y_train = np.concatenate([y[relevant], [c for c, _ in protos], written_labels])
    weights = np.concatenate([np.ones(int(relevant.sum())), np.full(len(protos), prototype_weight), np.ones(len(written))])
    estimator = build_estimator(train.shape[1] - 2, seed).fit(train, y_train, classifier__sample_weight=weights)
    # Laplace-smoothed label shares among the articles the gate keeps out.
    out = y[~relevant]
    irrelevant = {c: (float((out == c).sum()) + 0.5) / (len(out) + 0.5 * len(LABELS)) for c in LABELS}
    kept = [a for a, r in zip(articles, relevant) if r]
    texts = [reader_text(a.title, a.body()) for a in kept + written] + [t for _, t in protos]
    text_labels = list(y[relevant]) + written_labels + [c for c, _ in protos]
    reader = Readers.fit(texts, text_labels, seeds=[seed + s for s in reader_seeds]) if reader_weight else None
    head = VectorHead.fit(texts, text_labels, seed) if head_weight else None
    return ScenarioModel(estimator, featurizer.prototypes, irrelevant, featurizer.encoder.name,
                         featurizer.encoder.fingerprint, none_shift=none_shift, reader=reader, reader_weight=reader_weight,
                         head=head, head_weight=head_weight, temperature=temperature)


def predict(
    model: ScenarioModel,
    model_version: str,
    scenario: str,
    articles: Sequence[Article],
    results: Sequence[NlpResult | None],
    encoder: SentenceEncoder,
) -> list[Prediction]:
    """Label, calibrated probabilities and evidence sentences for each article, in input order."""
    if not articles:
        return []
    probs = model.predict_proba(articles, is_relevant(results), encoder)
    labels = [LABELS[i] for i in probs.argmax(axis=1)]
    evidence = pick_evidence(model, encoder, articles, results, labels)
    return [
        Prediction(
            article_id=a.id,
            scenario=scenario,
            model_version=model_version,
            label=labels[n],
            probabilities={c: round(float(probs[n, LABELS.index(c)]), 4) for c in LABELS},
            evidence=evidence.get(n, []),
        )
        for n, a in enumerate(articles)
    ]


CONTINUING = ",;:.!?)]}%"  # punctuation that closes or continues a clause: it never opens a sentence


def continues_a_sentence(text: str) -> bool:
    """True when `text` cannot open a sentence: it starts with a lowercase word or with punctuation that closes or
    continues a clause (', officials said, ...'; 'the latest round ...' after a colon)."""
    return bool(text) and (text[0].islower() or text[0] in CONTINUING)


def whole_sentences(text: str) -> list[str]:
    """The sentences of `text` as `split_sentences` splits it, line by line, each one that opens like a clause joined
    to the one before it on its line: the sentencizer ends a sentence at '?\u201d' in '\u201cIs it fair?\u201d they
    asked.', which is one sentence. A line that itself opens like a clause (a caption, an address) stays apart."""
    out = []
    for line in text.splitlines():
        joined: list[str] = []
        for sentence in split_sentences(line):
            if joined and continues_a_sentence(sentence):
                joined[-1] += " " + sentence
            else:
                joined.append(sentence)
        out += joined
    return out


def whole_sentence(piece: str, lines: Sequence[str]) -> str | None:
    """`piece`, a sentence of the parse (whitespace collapsed), as a whole sentence of the body, given the body's
    `lines` (whitespace collapsed); None when it is a clause found in none of them.

    en_core_web_sm's parser sometimes starts a sentence inside one, at a comma or after a colon, so that one
    sentence comes out as two clauses ('... on Monday' and ', officials said, as ...'). Such a piece has a cut
    where the text goes on with punctuation or a lowercase word, before or after it: the line's sentence that
    holds it (`whole_sentences`) replaces it. Only a line with a cut is split, so a clean parse costs a string
    search. The parse itself stays as it is: the event coder and the classifier read it."""
    for line in lines:
        start = line.find(piece)
        if start < 0:
            continue
        cut_before = start > 0 and continues_a_sentence(piece)
        if not cut_before and not continues_a_sentence(line[start + len(piece):].lstrip()):
            return piece
        return next((s for s in whole_sentences(line) if piece in s), None if continues_a_sentence(piece) else piece)
    return None if continues_a_sentence(piece) else piece


def candidate_sentences(article: Article, result: NlpResult | None, limit: int = 40) -> list[str]:
    """Sentences that could support a call: the headline, event sentences, actor sentences, else all the
    body's sentences as spaCy's sentencizer splits them (`whole_sentences`; the regex `sentences` stays the
    features' split: changing it would change what the trained models see). Each is a whole sentence: a clause
    the parser cut from one is replaced by that sentence (`whole_sentence`), so no evidence opens with
    ', officials said'."""
    seen, out = set(), []
    title = " ".join(article.title.split())
    parsed: list[str] = []
    if result is not None and result.relevant:
        parsed = [e.sentence for e in result.events] + result.actor_sentences
    lines = [" ".join(line.split()) for line in article.body().splitlines()]
    for sentence in [article.title, *(parsed or whole_sentences(article.body()))]:
        s = " ".join(sentence.split())
        if title and s != title and s.startswith(title):
            s = s[len(title):].strip()  # spaCy ran the headline into the line below it: the headline is its own candidate
        if parsed and s != title:
            s = whole_sentence(s, lines) or ""
        if len(s) >= 20 and s not in seen:
            seen.add(s)
            out.append(s)
    return out[:limit]


def pick_evidence(model: ScenarioModel, encoder: SentenceEncoder, articles: Sequence[Article],
                  results: Sequence[NlpResult | None], labels: Sequence[str]) -> dict[int, list[str]]:
    """For each article called a case: its candidate sentences the model scores highest for that case."""
    owners, texts = [], []
    for n, (article, result) in enumerate(zip(articles, results)):
        if labels[n] == "none":
            continue
        for s in candidate_sentences(article, result):
            owners.append(n)
            texts.append(s)
    evidence: dict[int, list[str]] = {}
    if not texts:
        return evidence
    p = model.text_proba(texts, encoder)
    ranked = sorted(range(len(texts)), key=lambda i: -p[i, LABELS.index(labels[owners[i]])])
    for i in ranked:
        picked = evidence.setdefault(owners[i], [])
        if len(picked) < EVIDENCE_SENTENCES:
            picked.append(texts[i])
    return evidence


# ---------------------------------------------------------------- evaluation

def scores(y_true: Sequence[str], y_pred: Sequence[str], macro_over: Sequence[str] | None = None) -> dict:
    """Macro-F1 (over `macro_over`, default every class present), accuracy and per-class precision/recall/F1/support."""
    labels = [c for c in LABELS if c in set(y_true) | set(y_pred)]
    macro = [c for c in (macro_over or labels)]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "n": len(y_true),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=macro, average="macro", zero_division=0)), 4),
        "macro_over": list(macro),
        "accuracy": round(float(np.mean(np.array(y_true) == np.array(y_pred))), 4),
        "per_class": {
            c: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, c in enumerate(labels)
        },
    }


def expected_calibration_error(probs: np.ndarray, y_true: Sequence[str], bins: int = 10) -> float:
    """Top-label ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins."""
    conf = probs.max(axis=1)
    correct = np.array([LABELS[i] == t for i, t in zip(probs.argmax(axis=1), y_true)])
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.mean() * abs(conf[inside].mean() - correct[inside].mean())
    return round(float(ece), 4)


def bootstrap_macro_f1_difference(y_true: Sequence[str], pred_a: Sequence[str], pred_b: Sequence[str],
                                  labels: Sequence[str] = SCORED_LABELS, rounds: int = 1000, seed: int = 0) -> dict:
    """Paired bootstrap of macro-F1(a) - macro-F1(b) on the same items: the difference and its 95% interval."""
    y, a, b = np.asarray(y_true), np.asarray(pred_a), np.asarray(pred_b)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(rounds):
        i = rng.integers(0, len(y), len(y))
        diffs.append(f1_score(y[i], a[i], labels=list(labels), average="macro", zero_division=0)
                     - f1_score(y[i], b[i], labels=list(labels), average="macro", zero_division=0))
    point = f1_score(y, a, labels=list(labels), average="macro", zero_division=0) - f1_score(
        y, b, labels=list(labels), average="macro", zero_division=0)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return {"difference": round(float(point), 4), "ci95": [round(float(low), 4), round(float(high), 4)], "rounds": rounds}


def in_holdout(article_id: str, share: int = 5) -> bool:
    """The random split models before v3 held out (one id in `share`, by hash): the items such a model never saw."""
    return int(hashlib.sha1(article_id.encode("utf-8")).hexdigest(), 16) % share == 0


def holdout_start(published: Sequence[datetime | None], share: float = HOLDOUT_SHARE) -> datetime | None:
    """The day from which the most recent `share` of the dated items run: the promotion holdout is the latest
    labeled period, the one most like the news a model will read next. Whole days, so a day is never split."""
    dated = sorted(p for p in published if p is not None)
    if len(dated) < 2:
        return None
    newest = dated[-max(1, int(round(len(dated) * share)))]
    return datetime(newest.year, newest.month, newest.day)


def class_recall(split_scores: dict) -> dict[str, float | None]:
    """Each label's recall on a split, or None where the split holds fewer than MIN_RECALL_SUPPORT items of it."""
    per = split_scores.get("per_class", {})
    return {c: (per[c]["recall"] if c in per and per[c]["support"] >= MIN_RECALL_SUPPORT else None) for c in LABELS}


def evaluate(model: ScenarioModel, articles: Sequence[Article], relevant: Sequence[bool], y: Sequence[str],
             encoder: SentenceEncoder, frame: pd.DataFrame | None = None) -> tuple[dict, np.ndarray]:
    """Scores (macro-F1 over SCORED_LABELS) and ECE of `model` on labeled articles; also returns the probabilities."""
    probs = model.predict_proba(articles, relevant, encoder, frame)
    pred = [LABELS[i] for i in probs.argmax(axis=1)]
    return {**scores(list(y), pred, SCORED_LABELS), "ece": expected_calibration_error(probs, y)}, probs


def train_and_evaluate(
    articles: Sequence[Article],
    labels: Sequence[str],
    relevant: Sequence[bool],
    featurizer: Featurizer,
    prototype_texts: dict[str, list[str]],
    time_split: tuple[datetime, datetime, datetime] | None = TIME_SPLIT,
    seed: int = 0,
    frame: pd.DataFrame | None = None,
    held_out: Sequence[bool] | None = None,
) -> tuple[ScenarioModel, dict]:
    """Fit on everything but the held-out items and score them; by default those are the latest HOLDOUT_SHARE
    of items by published date (undated items train). Also report the time split, unless `time_split` is None.

    time_split = (train before, test from, test before): by default train on items up to
    2026-02-28 and test on 2026-03-01 .. 2026-04-14. `class_recall` (from the time split, else from the
    held-out items) says how much of each case the model is measured to find.
    """
    import time

    y = np.asarray(labels)
    relevant = np.asarray(relevant, dtype=bool)
    frame = article_frame(articles, featurizer) if frame is None else frame
    published = [a.published for a in articles]
    hold_from = None
    if held_out is None:
        hold_from = holdout_start(published)
        held_out = [hold_from is not None and p is not None and p >= hold_from for p in published]
    hold = np.asarray(held_out, dtype=bool)
    metrics: dict = {"recipe": RECIPE, "encoder": featurizer.encoder.name, "encoder_fingerprint": featurizer.encoder.fingerprint,
                     "head_encoder": mpnet.NAME, "head_encoder_zip_sha256": mpnet.ZIP_SHA256,
                     "head_encoder_packages": [f"{p}=={mpnet.PART_VERSION}" for p in mpnet.PARTS],
                     "n_labels": len(y), "class_counts": {c: int((y == c).sum()) for c in LABELS}}

    def fit_on(mask):
        return fit([a for a, m in zip(articles, mask) if m], y[mask], relevant[mask], featurizer, prototype_texts,
                   frame=frame[mask].reset_index(drop=True), seed=seed)

    def score_on(model, mask):  # the frame is already encoded: no article is encoded twice
        return evaluate(model, [a for a, m in zip(articles, mask) if m], relevant[mask], y[mask], featurizer.encoder,
                        frame[mask].reset_index(drop=True))

    if time_split is not None:
        before, start, end = time_split
        train_mask = np.array([p is not None and p < before for p in published])
        test_mask = np.array([p is not None and start <= p < end for p in published])
        if train_mask.sum() and test_mask.sum():
            time_model = fit_on(train_mask)
            split_scores, _ = score_on(time_model, test_mask)
            metrics["time_split"] = {"train_until": before.date().isoformat(), "test_from": start.date().isoformat(),
                                     "test_until": end.date().isoformat(), "n_train": int(train_mask.sum()), **split_scores}
            metrics["class_recall"] = class_recall(split_scores)
            metrics["class_recall_source"] = (f"time split: trained before {before.date()}, tested {start.date()}.."
                                              f"{end.date()}; unknown where fewer than {MIN_RECALL_SUPPORT} test items")
    started = time.perf_counter()
    model = fit_on(~hold)
    metrics["train_seconds"] = round(time.perf_counter() - started, 1)
    if hold.any():
        metrics["holdout"], _ = score_on(model, hold)
        metrics["holdout"]["from"] = hold_from.date().isoformat() if hold_from else None
        if "class_recall" not in metrics:
            metrics["class_recall"] = class_recall(metrics["holdout"])
            # true of this fit; a model refit on every label afterwards says so (`odds.refit_recall_source`)
            metrics["class_recall_source"] = (f"{int(hold.sum())} labeled items held out from the fit; "
                                              f"unknown where fewer than {MIN_RECALL_SUPPORT}")
    return model, metrics
