"""The learned half of the event coder: a sentence-level PLOVER type classifier, NONE a class.

In: a parsed sentence (a spaCy `Span`) and the events the rules found in it.
Out: a probability for each PLOVER type and NONE. `events.EventCoder` combines
it with the rules (the rules are precise, the model gives recall).

Features are our own, cheap and CPU-only (no encoder): the sentence's words
and word bigrams, content-word lemmas, dependency triples (`d:dobj:strike:target`,
entities by label), the root verb with its auxiliaries, negation and objects,
markers of the clause's kind (`syntactic_features`: modal, reporting root, whether
an actor is the root's subject), and the rule coder's own answer (`rule:FIGHT`, every rule trigger's type). Two
TF-IDF blocks (the sentence's tokens; the rules' answer, scaled down) feed a
LogisticRegression.

A model may also read the sentence's all-mpnet-base-v2 vector (`mpnet`, frozen), as a dense block beside the
two TF-IDF blocks: its manifest then names the encoder under `sentence_vectors` (issue 16's tenth round,
`docs/event-coder-experiments.md`). Such a model costs an mpnet pass per candidate sentence. A cascade
(`CascadeModel`, the eleventh round) leaves the sentences a words-only model is sure of to that model and
encodes only the rest; its manifest names its two members instead of holding a model file.

The model file lives at `models/events/<version>/model.joblib` beside a
`manifest.json` (its sha256, training-data fingerprint, library versions,
decision thresholds and per-type precision/recall); `load_event_model` refuses
a file whose bytes or scikit-learn version do not match, as `registry` does for
the scenario model. `bench/train_event_model.py` writes both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from spacy.tokens import Span

from .errors import ModelError, ModelIntegrityError
from .records import Event
from .registry import MUST_MATCH, file_sha256, library_versions

MODEL_ROOT = Path(__file__).resolve().parents[1] / "models" / "events"
DEFAULT_VERSION = "plover-model-v7"
NONE = "NONE"
MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
ROOT_CHILD_DEPS = {"neg", "aux", "auxpass", "dobj", "xcomp", "ccomp", "prep", "prt", "attr", "acomp"}
ARGUMENT_DEPS = {"dobj", "nsubj", "nsubjpass", "pobj", "attr", "xcomp", "ccomp"}
RULE_PREFIXES = ("rule:", "rtrig:", "rany:", "rsource", "rtarget")
RULE_WEIGHT = 0.1  # the rules' answer's TF-IDF block against the sentence's own (1.0)
MODALS = {"will", "would", "could", "may", "might", "should", "can", "shall", "must"}
REPORTING = {"say", "tell", "add", "note", "state", "stress", "emphasise", "emphasize", "urge", "call", "hope",
             "welcome", "express", "reiterate", "warn", "claim", "insist", "announce", "report", "believe"}


def _lemma(token) -> str:
    """An entity token stands for its label ('GPE'), so the model learns roles, not names."""
    return token.ent_type_ if token.ent_type_ else token.lemma_.lower()


def sentence_features(sentence: Span, rule_events: Sequence[Event]) -> str:
    """One sentence -> a space-separated string of feature tokens (see the module docstring).

    `rule_events` are the rule coder's events of this sentence, main event first.
    """
    out = []
    words = [t.lower_ for t in sentence if t.is_alpha]
    out += ["w:" + w for w in words]
    out += [f"b:{a}_{b}" for a, b in zip(words, words[1:])]
    for token in sentence:
        if token.pos_ in ("VERB", "NOUN", "ADJ"):
            out.append("l:" + token.lemma_.lower())
        if token.dep_ in ARGUMENT_DEPS and token.head.pos_ in ("VERB", "NOUN", "AUX"):
            out.append(f"d:{token.dep_}:{token.head.lemma_.lower()}:{_lemma(token)}")
    root = sentence.root
    out.append("root:" + root.lemma_.lower())
    out += [f"rc:{c.dep_}:{_lemma(c)}" for c in root.children if c.dep_ in ROOT_CHILD_DEPS]
    out += syntactic_features(sentence)
    if rule_events:
        main = rule_events[0]
        out.append("rule:" + ("REJECT" if main.negated else main.type))
        out.append("rtrig:" + main.trigger.lower())
        out += ["rany:" + e.type for e in rule_events]
        if main.source:
            out.append("rsource")
        if main.target:
            out.append("rtarget")
    else:
        out.append("rule:NONE")
    return " ".join(out)


def syntactic_features(sentence: Span) -> list[str]:
    """Markers of what kind of clause the sentence is, from its parse, each token prefixed `x:`.

    `rd:` the root verb with its object's lemma; `modal:` a modal on the root or its
    reported clause ("would retaliate": an intention, not a deed); `report:` a reporting
    root ("said", "urged", "called for": a statement, whose reported clause `rep:` is
    named too); `neg` a negation on the root's clause; `subj:` the root (and reported)
    verb's lemma crossed with whether an actor is its subject ("Pakistan struck" against
    "strikes hit"); `question` a question; `multi` a span across paragraphs (a headline run into
    its photo caption or dateline, which the parser leaves as one sentence: mostly no event, or
    the headline's). The fourth round added `subj:` and kept the markers: on two fold splits they
    raised CAMEO quad accuracy and the in-domain pool's (nested) accuracy a little; the fifth
    added `multi`, which raised the pool's by 0.007-0.010 on two fold splits (`docs/event-coder-experiments.md`).
    """
    root = sentence.root
    out = []
    objects = [c for c in root.children if c.dep_ in ("dobj", "attr")]
    out += [f"x:rd:{root.lemma_.lower()}:{_lemma(o)}" for o in objects]
    reported = [c for c in root.children if c.dep_ in ("ccomp", "xcomp")]
    for verb in [root] + reported:
        out += ["x:modal:" + c.lower_ for c in verb.children if c.dep_ == "aux" and c.lower_ in MODALS]
        if any(c.dep_ == "neg" for c in verb.children):
            out.append("x:neg")
    if root.lemma_.lower() in REPORTING:
        out.append("x:report:" + root.lemma_.lower())
        out += ["x:rep:" + v.lemma_.lower() for v in reported]
    out += [f"x:subj:{verb.lemma_.lower()}:{_subject_kind(verb)}" for verb in [root] + reported]
    if sentence.text.rstrip().endswith("?"):
        out.append("x:question")
    if "\n" in sentence.text.strip():
        out.append("x:multi")
    return out


def _subject_kind(verb) -> str:
    """'actor' when the verb's subject is a named state, body or person (or a pronoun for one), 'other' for
    any other subject ('prices rose'), 'none' without one: 'Pakistan struck' and 'strikes hit' differ."""
    subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if subject is None:
        return "none"
    if subject.ent_type_ in ("GPE", "ORG", "NORP", "PERSON") or subject.lower_ in ("he", "she", "they", "it", "we"):
        return "actor"
    return "other"


def rule_tokens(features: str) -> list[str]:
    """The feature tokens that carry the rule coder's answer."""
    return [t for t in features.split() if t.startswith(RULE_PREFIXES)]


def text_tokens(features: str) -> list[str]:
    """Every other feature token: what the sentence and its parse say."""
    return [t for t in features.split() if not t.startswith(RULE_PREFIXES)]


def build_estimator(seed: int = 0, rule_weight: float = RULE_WEIGHT) -> Pipeline:
    """Two TF-IDF blocks (the sentence's own tokens; the rules' answer scaled by `rule_weight`), then a
    class-balanced multinomial LogisticRegression.

    The rules were tuned on the CAMEO train split, so their answer looks more reliable in training
    than it is on new text; scaled down, the model needs more of the sentence's own evidence before
    it sides with them. `rule_weight` and C=10 were chosen on the training folds' in-domain sentences
    (see `bench/event_model_experiments.py` and `docs/event-coder-experiments.md`)."""
    blocks = [("text", TfidfVectorizer(analyzer=text_tokens, sublinear_tf=True, min_df=2)),
              ("rules", TfidfVectorizer(analyzer=rule_tokens, sublinear_tf=True, min_df=2))]
    return Pipeline([
        ("features", FeatureUnion(blocks, transformer_weights={"text": 1.0, "rules": rule_weight})),
        ("classifier", LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000, random_state=seed)),
    ])


def fit_estimator(estimator: Pipeline, features: Sequence[str], y, sample_weight, vectors: np.ndarray | None = None,
                  vector_weight: float = 0.0) -> Pipeline:
    """Fit `build_estimator`'s pipeline on feature strings and, when `vectors` are given, the sentences' vectors
    times `vector_weight` as a dense block after the TF-IDF blocks (the classifier's last columns)."""
    if vectors is None:
        return estimator.fit(list(features), y, classifier__sample_weight=sample_weight)
    union, classifier = estimator.named_steps["features"], estimator.named_steps["classifier"]
    classifier.fit(_with_vectors(union.fit_transform(list(features)), vectors, vector_weight), y, sample_weight=sample_weight)
    return estimator


def estimator_probabilities(estimator: Pipeline, features: Sequence[str], vectors: np.ndarray | None = None,
                            vector_weight: float = 0.0) -> np.ndarray:
    """`predict_proba` of an estimator fitted by `fit_estimator` (columns in `estimator.classes_` order)."""
    if vectors is None:
        return estimator.predict_proba(list(features))
    union, classifier = estimator.named_steps["features"], estimator.named_steps["classifier"]
    return classifier.predict_proba(_with_vectors(union.transform(list(features)), vectors, vector_weight))


def _with_vectors(sparse_block, vectors: np.ndarray, weight: float):
    from scipy import sparse

    return sparse.hstack([sparse_block, sparse.csr_matrix(weight * np.asarray(vectors, dtype=np.float64))]).tocsr()


@dataclass
class EventTypeModel:
    """A trained estimator and the thresholds `events.EventCoder` applies to its probabilities.

    add_threshold       a sentence without a rule event gets the model's type when its probability is at least this
    override_threshold  the model replaces the rules' main type (NONE included) when its own is at least this
    """

    version: str
    estimator: Pipeline
    add_threshold: float
    override_threshold: float
    manifest: dict
    encode: Callable[[Sequence[str]], np.ndarray] | None = None  # sentence texts -> vectors, for a model that reads them

    @property
    def classes(self) -> list[str]:
        return list(self.estimator.classes_)

    @property
    def vector_weight(self) -> float:
        """The dense block's weight; 0 for a model without sentence vectors."""
        return float(self.manifest.get("sentence_vectors", {}).get("weight", 0.0))

    def probabilities(self, features: Sequence[str], texts: Sequence[str] = ()) -> np.ndarray:
        """Class probabilities (columns in `classes` order), one row per feature string (and, for a model
        that reads sentence vectors, per sentence text: `texts` in the same order).

        The same numbers as `estimator_probabilities` (a softmax over the multinomial
        LogisticRegression's scores), computed directly: one call per document is
        common, and sklearn's per-call checks would cost more than the arithmetic.
        """
        vectorizer, classifier = self.estimator.named_steps["features"], self.estimator.named_steps["classifier"]
        sparse_block = vectorizer.transform(list(features))
        n_sparse = sparse_block.shape[1]
        scores = np.asarray(sparse_block @ classifier.coef_[:, :n_sparse].T) + classifier.intercept_
        if self.vector_weight:
            if self.encode is None or len(texts) != len(features):
                raise ModelError(f"event model {self.version} reads sentence vectors: give one text per feature string")
            scores += self.vector_weight * self.encode(list(texts)) @ classifier.coef_[:, n_sparse:].T
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def best(self, features: Sequence[str], texts: Sequence[str] = ()) -> list[tuple[str, float]]:
        """(most probable type or NONE, its probability) per feature string (and sentence text, see `probabilities`)."""
        if not features:
            return []
        probabilities = self.probabilities(features, texts)
        classes = self.classes
        top = probabilities.argmax(axis=1)
        return [(str(classes[i]), float(p[i])) for i, p in zip(top, probabilities)]

    def decide(self, rule_types: Sequence[str], features: Sequence[str], texts: Sequence[str] = ()) -> list[str]:
        """Each sentence's main type: `combine` of the rules' main type and this model's best guess."""
        return self.combined(rule_types, self.best(features, texts))

    def combined(self, rule_types: Sequence[str], guesses: Sequence[tuple[str, float]]) -> list[str]:
        """`combine` of each rules' main type with this model's guess (from `best`), at this model's thresholds."""
        return [combine(rule, model_type, probability, self.add_threshold, self.override_threshold)
                for rule, (model_type, probability) in zip(rule_types, guesses)]


@dataclass
class CascadeModel:
    """A words-only model where it is sure, a vector model where it is not (issue 16's eleventh round).

    A sentence whose best type under `words` is at least `encode_below` probable is decided by `words` with its
    own thresholds; only the others are encoded and decided by `vectors`. On the validation folds this keeps most
    of the vector model's gain for an mpnet pass over about half the candidate sentences
    (`docs/event-coder-experiments.md`). Its manifest names both members and their sha256; `load_event_model`
    refuses it when either member has been retrained since.
    """

    version: str
    words: EventTypeModel
    vectors: EventTypeModel
    encode_below: float
    manifest: dict

    @property
    def vector_weight(self) -> float:
        return self.vectors.vector_weight

    def unsure(self, features: Sequence[str]) -> tuple[list[tuple[str, float]], list[int]]:
        """(`words`' guesses, the positions of those below `encode_below`: the sentences to encode)."""
        guesses = self.words.best(features)
        return guesses, [k for k, (_, probability) in enumerate(guesses) if probability < self.encode_below]

    def decide(self, rule_types: Sequence[str], features: Sequence[str], texts: Sequence[str] = ()) -> list[str]:
        if not features:
            return []
        if len(texts) != len(features):
            raise ModelError(f"event model {self.version} reads sentence vectors: give one text per feature string")
        guesses, unsure = self.unsure(features)
        decided = self.words.combined(rule_types, guesses)
        if unsure:
            again = self.vectors.decide([rule_types[k] for k in unsure], [features[k] for k in unsure], [texts[k] for k in unsure])
            for k, decision in zip(unsure, again):
                decided[k] = decision
        return decided


def combine(rule_type: str, model_type: str, probability: float, add_threshold: float, override_threshold: float) -> str:
    """The sentence's main type from the rules' answer and the model's best guess.

    Rules first: they stand unless the model is at least `override_threshold` sure of
    something else (NONE included). Where the rules found nothing, the model's type
    counts once it is at least `add_threshold` sure.
    """
    if rule_type != NONE:
        return model_type if model_type != rule_type and probability >= override_threshold else rule_type
    return model_type if model_type != NONE and probability >= add_threshold else NONE


def save_event_model(estimator: Pipeline, version: str, manifest: dict, root: Path = MODEL_ROOT) -> Path:
    """Write `<root>/<version>/model.joblib` and its manifest (sha256 and library versions added). Returns the folder."""
    folder = root / version
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    joblib.dump(estimator, path, compress=3)
    full = {"version": version, "file": MODEL_FILE, "sha256": file_sha256(path), "libraries": library_versions(), **manifest}
    return write_manifest(version, full, root)


def write_manifest(version: str, manifest: dict, root: Path = MODEL_ROOT) -> Path:
    """Write `<root>/<version>/manifest.json` as given (a model's, or a cascade's from `cascade_manifest`). Returns the folder."""
    folder = root / version
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return folder


def read_manifest(version: str = DEFAULT_VERSION, root: Path = MODEL_ROOT) -> dict:
    """The manifest of a saved event model; ModelError when it is missing or unreadable."""
    path = root / version / MANIFEST_FILE
    if not path.exists():
        raise ModelError(f"{path}: no event model '{version}'; train one with 'python bench/train_event_model.py'")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not a valid manifest ({exc})") from None


def load_event_model(version: str = DEFAULT_VERSION, root: Path = MODEL_ROOT) -> EventTypeModel | CascadeModel:
    """Load a saved event model after checking its sha256 and scikit-learn version against the manifest (a
    cascade: both members, each checked, and each the very file the cascade was written for)."""
    manifest = read_manifest(version, root)
    if "cascade" in manifest:
        return _load_cascade(version, manifest, root)
    path = root / version / manifest.get("file", MODEL_FILE)
    if not path.exists():
        raise ModelError(f"{path}: event model file is missing; retrain with 'python bench/train_event_model.py'")
    actual = file_sha256(path)
    if actual != manifest.get("sha256"):
        raise ModelIntegrityError(
            f"{path}: sha256 {actual[:12]}… does not match its manifest ({str(manifest.get('sha256'))[:12]}…); "
            "the file was changed or replaced, refusing to load it"
        )
    here = library_versions()
    for lib in MUST_MATCH:
        trained = manifest.get("libraries", {}).get(lib)
        if trained and trained != here.get(lib):
            raise ModelError(f"{path}: trained with {lib} {trained}, this environment has {here.get(lib) or 'none'}; "
                             f"install {lib}=={trained} or retrain with 'python bench/train_event_model.py'")
    try:
        estimator = joblib.load(path)
    except Exception as exc:
        raise ModelIntegrityError(f"{path}: cannot be loaded ({type(exc).__name__}: {exc})") from None
    thresholds = manifest.get("thresholds", {})
    return EventTypeModel(version, estimator, float(thresholds.get("add", 0.5)), float(thresholds.get("override", 0.9)), manifest,
                          _sentence_encoder(manifest, path))


def cascade_manifest(version: str, words: str, vectors: str, encode_below: float, root: Path = MODEL_ROOT) -> dict:
    """The manifest of a cascade over two saved models: their versions and sha256, the threshold, and a sha256 of
    all of it (what the events table's coder version shows)."""
    spec = {"words": words, "words_sha256": read_manifest(words, root)["sha256"],
            "vectors": vectors, "vectors_sha256": read_manifest(vectors, root)["sha256"], "encode_below": encode_below}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode("utf-8")).hexdigest()
    return {"version": version, "cascade": spec, "sha256": digest}


def _load_cascade(version: str, manifest: dict, root: Path) -> CascadeModel:
    spec = manifest["cascade"]
    path = root / version / MANIFEST_FILE
    if cascade_manifest(version, spec["words"], spec["vectors"], spec["encode_below"], root) != manifest:
        raise ModelIntegrityError(f"{path}: its members {spec['words']} and {spec['vectors']} are not the files it was "
                                  "written for (one was retrained); rewrite it with 'python bench/train_event_model.py "
                                  f"--version {version}'")
    return CascadeModel(version, load_event_model(spec["words"], root), load_event_model(spec["vectors"], root),
                        float(spec["encode_below"]), manifest)


def _sentence_encoder(manifest: dict, path: Path) -> Callable[[Sequence[str]], np.ndarray] | None:
    """The vectors a model was trained on (all-mpnet-base-v2, the process's one loaded copy); None for a model
    without them. Encoded each time, not kept in the vector cache: an article's sentences are coded once, and
    keeping every sentence's vector would grow the cache by about 3 KB a sentence."""
    wanted = manifest.get("sentence_vectors")
    if not wanted:
        return None
    from . import mpnet

    if wanted.get("encoder") != mpnet.NAME or wanted.get("fingerprint") != mpnet.ZIP_SHA256:
        raise ModelError(f"{path}: trained on sentence vectors of {wanted.get('encoder')} "
                         f"({str(wanted.get('fingerprint'))[:12]}…), which this installation does not have")
    return lambda texts: mpnet.shared_cache().encoder.encode(texts)


def best_thresholds(rule_types: Sequence[str], probabilities: np.ndarray, classes: Sequence[str],
                    gold: Sequence[str], weights: Sequence[float]) -> tuple[float, float, float]:
    """(add, override, weighted accuracy) maximising accuracy of `combine` over out-of-fold probabilities."""
    top = probabilities.argmax(axis=1)
    model_types = [classes[i] for i in top]
    model_p = probabilities[np.arange(len(top)), top]
    best = (0.5, 0.9, -1.0)
    grid = [round(x, 2) for x in np.arange(0.2, 1.0, 0.05)]
    total = float(sum(weights))
    for add in grid:
        for override in grid + [1.01]:
            hits = sum(w for r, m, p, g, w in zip(rule_types, model_types, model_p, gold, weights)
                       if combine(r, m, p, add, override) == g)
            if hits / total > best[2]:
                best = (add, override, hits / total)
    return best
