"""Validation figures for event-model variants, on the training data's 5-fold out-of-fold predictions only.

    .venv/bin/python bench/event_model_experiments.py                  # every variant, one JSON line each
    .venv/bin/python bench/event_model_experiments.py --cache /tmp/rows.pkl   # parse once, reuse after
    .venv/bin/python bench/event_model_experiments.py --cache /tmp/rows.pkl --only "v4 recipe" --errors
                                                                       # + where the combined coder errs (stderr)

In: the training rows of `bench/train_event_model.py` (CAMEO train, SATP, scenario sentences typed by
reading); never the CAMEO test split or the fresh samples (bench/data/event_gold_v2/v3.jsonl).
Out: per variant, with the add/override thresholds chosen on the same folds (as the train script does):
  weighted       weighted out-of-fold accuracy of the combined coder over all rows
  pool           the combined coder's accuracy on the read pool sentences the rules were never tuned on
                 (event_train_v*; the honest in-domain figure); `pool_v1_v3` on those read before the
                 fourth round (comparable with the third round's "pool"), `pool_v1_v5` on those read
                 before the fifth (comparable with the fourth round's "pool"), `pool_v1_v7` on those read
                 before the sixth (comparable with the fifth round's "pool"), `pool_v8` and `pool_v9` on the
                 sixth round's two files (the wider draw, confusable-zone sentences preferred)
  tuned          the same on event_gold_v1, which the rules were tuned on
  cameo_quad     quad-class accuracy on CAMEO train (the rules were tuned on it: flattering to rule-heavy variants)
  cameo_no_rules the same with the rules' answer taken out of each held-out CAMEO row (its rule features
                 dropped, the model alone deciding at the add threshold): how the model fares on text whose
                 rules were not tuned on it, the proxy for CAMEO test that in-sample rule answers cannot flatter
  pool_other     the pool figure against the other label set, with `--conventions` (bench/data/event_conventions_v1.jsonl:
                 the ninth round's re-typings under one convention table): trained on the re-typed types, scored
                 against the first readings; with `--score-conventions` the other way round (without either, the
                 same as `pool`)
  rules_stand    how far the thresholds let the rules stand: the share of pool rows where the combined answer
                 is the rules' own
  nested         weighted accuracy with the thresholds chosen on the other four folds' predictions and applied
                 to the fifth (honest when a recipe has many thresholds); `nested_pool` the same on the pool
With `--per-type`, each variant is also scored with one add and one override threshold per model type
(searched type by type from the global pair), nested the same way. With `--none-scale`, the model's NONE
probability is also multiplied by a factor (renormalised) before the coder decides, the factor searched with
the thresholds (`NONE_SCALES`), nested the same way: a shift of the line between NONE and the verbal types,
where most misses lie; `none_scale` is the factor chosen on all folds, `none_scale_pool` its pool figure.
With `--delete-threshold`, a third threshold is also tried (issue 16's seventh round): the model may turn a rule
event into NONE only when its NONE probability reaches `delete` (`DELETES`), searched with the other two,
nested the same way, plus the figures of each `delete` at the all-fold thresholds and how many pool rows it
changes (`changed_now_right`: wrong before, right after; `changed_was_right`: the reverse).
With `--vectors m2v|minilm|mpnet` (issue 16's tenth round), each sentence's unit vector from that encoder, times
`--vector-weight`, is a dense block beside the TF-IDF blocks (`event_model.fit_estimator`); `--vector-cache
FILE.npz` keeps the vectors between runs (the transformers take minutes here; one file per encoder: it is keyed
by text alone). `--vectors static --static-model DIR` reads any model2vec folder instead (issue 16's twelfth round:
mpnet distilled by `scripts/distill_encoder.py --teacher mpnet`).
Issue 16's eleventh round: with `--vectors mpnet --transfer FILE.pkl [--transfer-weight W]`, the vector model only
teaches: in each fold it types 4,886 unread candidate sentences of the read articles (`train_event_model.transfer_rows`,
parsed once into FILE.pkl) and a words-only model learns from them and the fold's training rows, and is scored.
With `--vectors mpnet --cascade FILE.pkl`, also the cascade (`cascade_figures`): the words-only model (v7's recipe)
decides where it is at least tau sure, the variant's vector model elsewhere, per tau with the share of sentences it
would encode.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train_event_model import (  # noqa: E402
    SEED, TRAIN_V4, TRAIN_V5, TRAIN_V6, TRAIN_V7, TRAIN_V8, TRAIN_V9, TRAIN_V10, TRAIN_V11, TRAIN_V12,
    apply_conventions, cached_training_rows, sqrt_balanced, transfer_rows,
)

from pipeline.event_model import (  # noqa: E402
    NONE, best_thresholds, build_estimator, combine, estimator_probabilities, fit_estimator, text_tokens,
)
from pipeline.events import quad_class  # noqa: E402

ROUND_4 = (TRAIN_V4.name, TRAIN_V5.name)  # the pool sentences read in the fourth round
ROUND_5 = (TRAIN_V6.name, TRAIN_V7.name)  # and in the fifth
ROUND_6_FILES = (TRAIN_V8, TRAIN_V9)  # and in the sixth
ROUND_8_FILES = (TRAIN_V10, TRAIN_V11, TRAIN_V12)  # and in the eighth
ROUND_6 = tuple(path.name for path in ROUND_6_FILES)
ROUND_8 = tuple(path.name for path in ROUND_8_FILES)
GRID = [round(x, 2) for x in np.arange(0.2, 1.0, 0.05)] + [1.01]
NONE_SCALES = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0]
DELETES = [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]  # 0: NONE needs only `override`, as in `event_model.combine`


def words_only(features: str) -> str:
    """The sentence's words again (the `w:` tokens), for character n-grams."""
    return " ".join(t[2:] for t in features.split() if t.startswith("w:"))


def recipe(rule_weight: float = 0.1, C: float = 10.0, class_weight: str = "balanced",
           char_ngrams: bool = False) -> Callable[[np.ndarray], Pipeline]:
    """A factory of `event_model.build_estimator` variants, given the fold's training labels:
    the rules' answer block scaled by `rule_weight`, LogisticRegression C, class weights
    ('balanced', 'sqrt' = the square root of balanced, 'none'), optionally character 3-5-grams
    of the words as a third block."""
    def make(y: np.ndarray) -> Pipeline:
        pipeline = build_estimator(SEED, rule_weight)
        classifier = pipeline.named_steps["classifier"]
        classifier.set_params(C=C)
        if class_weight == "none":
            classifier.set_params(class_weight=None)
        elif class_weight == "sqrt":
            classifier.set_params(class_weight=sqrt_balanced(y))
        if char_ngrams:
            pipeline.named_steps["features"].transformer_list.append(
                ("chars", TfidfVectorizer(preprocessor=words_only, analyzer="char_wb", ngram_range=(3, 5),
                                          sublinear_tf=True, min_df=3)))
        return pipeline
    return make


FOLD_SEED = [SEED]  # the train script's; `--fold-seed` draws other folds, to see which differences outlast the split


def folds(gold: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """5 stratified folds (rare types pooled into one stratum), the train script's unless `--fold-seed` says."""
    strata = [g if Counter(gold)[g] >= 5 else "rare" for g in gold]
    return list(StratifiedKFold(n_splits=5, shuffle=True, random_state=FOLD_SEED[0]).split(gold, strata))


def sentence_vectors(kind: str, texts: list[str], cache: Path | None) -> np.ndarray:
    """Unit vectors of the sentences (issue 16's tenth round): `m2v`, the classifier's static encoder (the
    shipped `encoder.DEFAULT_ENCODER`); `static`, the model2vec folder `--static-model` names; `minilm` and
    `mpnet`, frozen all-MiniLM-L6-v2 and all-mpnet-base-v2, mean-pooled over at most 128 tokens. Kept in `cache` (an .npz by text hash) when given, as the
    transformers take minutes here."""
    from pipeline.mpnet import text_key

    keys = [text_key(t) for t in texts]
    stored = dict(np.load(cache)) if cache and cache.exists() else {}
    missing = list(dict.fromkeys(k for k in keys if k not in stored))
    if missing:
        first = dict(zip(keys, texts))
        todo = [first[k] for k in missing]
        if kind == "m2v":
            from pipeline.encoder import load_encoder
            from pipeline.settings import load_settings
            fresh = load_encoder(load_settings().encoders_dir).encode(todo)
        elif kind == "static":
            from model2vec import StaticModel

            fresh = StaticModel.from_pretrained(str(STATIC_MODEL[0])).encode(todo)
            fresh = fresh / np.maximum(np.linalg.norm(fresh, axis=1, keepdims=True), 1e-12)
        else:
            from pipeline import mpnet, reader

            model, tokenizer = reader._base_encoder() if kind == "minilm" else mpnet.load_transformer(mpnet.model_dir())
            fresh = mpnet.unit_vectors(model.eval(), tokenizer, todo, 128)
        stored.update(zip(missing, fresh))
        if cache:
            np.savez(cache, **stored)
    return np.vstack([stored[k] for k in keys]).astype(np.float32)


STATIC_MODEL: list = [None]  # `--vectors static`: the model2vec folder (`--static-model`)
VECTORS: dict = {}  # `--vectors`: the rows' sentence vectors and the dense block's weight, else empty
TRANSFER: dict = {}  # `--transfer`: the unread sentences' rows, their vectors and their weight, else empty


def fit_and_score(make, y: np.ndarray, weights: np.ndarray, features: list[str], train_idx, test_inputs):
    """Fit `make(y_train)` on the training rows and return its class order and probabilities for each of
    `test_inputs` ((feature strings, row indices) pairs). With `--vectors`, the rows' sentence vectors,
    times their weight, are a dense block beside the TF-IDF blocks. With `--transfer` as well, that model is
    only the teacher: it types the unread sentences, and a words-only model (the student, the same recipe
    without the vectors) is fitted on the training rows and those sentences and is what gets scored."""
    vectors, weight = VECTORS.get("vectors"), VECTORS.get("weight", 0.0)
    take = (lambda idx: vectors[idx]) if vectors is not None else (lambda idx: None)  # noqa: E731
    est = fit_estimator(make(y[train_idx]), [features[i] for i in train_idx], y[train_idx], weights[train_idx],
                        take(train_idx), weight)
    if TRANSFER:
        extra = [r["features"] for r in TRANSFER["rows"]]
        typed = est.classes_[estimator_probabilities(est, extra, TRANSFER["vectors"], weight).argmax(axis=1)]
        y_all = np.concatenate([y[train_idx], typed])
        est = fit_estimator(make(y_all), [features[i] for i in train_idx] + extra, y_all,
                            np.concatenate([weights[train_idx], np.full(len(extra), TRANSFER["weight"])]))
        take = lambda idx: None  # noqa: E731
    return est.classes_, [estimator_probabilities(est, strings, take(idx), weight) for strings, idx in test_inputs]


def out_of_fold(make, rows: list[dict], features: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """5-fold out-of-fold class probabilities, the same for CAMEO rows with their rule features dropped
    (the other rows as they are), and the class order."""
    gold = [r["gold"] for r in rows]
    weights = np.array([r["weight"] for r in rows])
    classes = sorted(set(gold))
    y = np.array(gold)
    stripped = [" ".join(text_tokens(f)) if r["origin"] == "cameo" else f for f, r in zip(features, rows)]
    oof, oof_stripped = np.zeros((len(y), len(classes))), np.zeros((len(y), len(classes)))
    for train_idx, test_idx in folds(gold):
        fitted_classes, (probs, probs_stripped) = fit_and_score(
            make, y, weights, features, train_idx,
            [([features[i] for i in test_idx], test_idx), ([stripped[i] for i in test_idx], test_idx)])
        columns = [classes.index(c) for c in fitted_classes]
        oof[np.ix_(test_idx, columns)] = probs
        oof_stripped[np.ix_(test_idx, columns)] = probs_stripped
    return oof, oof_stripped, classes


class Decider:
    """`event_model.combine` over every row at once, with one (add, override) pair per model type."""

    def __init__(self, rows: list[dict], oof: np.ndarray, classes: list[str]):
        self.classes = classes
        code = {c: i for i, c in enumerate(classes)}
        self.none = code[NONE]
        self.rule = np.array([code.get(r["rule_type"], -1) for r in rows])
        self.model = oof.argmax(axis=1)
        self.p = oof[np.arange(len(rows)), self.model]
        self.gold = np.array([code[r["gold"]] for r in rows])
        self.weight = np.array([r["weight"] for r in rows])

    def decide(self, add: np.ndarray, override: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Class codes of the combined answer; `add` and `override` hold one threshold per class."""
        rule, model, p = self.rule, self.model, self.p
        if mask is not None:
            rule, model, p = rule[mask], model[mask], p[mask]
        with_rule = np.where((model != rule) & (p >= override[model]), model, rule)
        without = np.where((model != self.none) & (p >= add[model]), model, self.none)
        return np.where(rule != self.none, with_rule, without)

    def accuracy(self, add: np.ndarray, override: np.ndarray, mask: np.ndarray) -> float:
        hits = self.decide(add, override, mask) == self.gold[mask]
        return float((hits * self.weight[mask]).sum() / self.weight[mask].sum())

    def search(self, mask: np.ndarray, per_type: bool) -> tuple[np.ndarray, np.ndarray]:
        """Thresholds maximising weighted accuracy on `mask`: the best global pair, then (per_type) each
        type's pair searched in turn with the others held."""
        n = len(self.classes)
        best = max(((a, o) for a in GRID[:-1] for o in GRID),
                   key=lambda pair: self.accuracy(np.full(n, pair[0]), np.full(n, pair[1]), mask))
        add, override = np.full(n, best[0]), np.full(n, best[1])
        if per_type:
            for c in range(n):
                for table in (override, add):
                    scores = []
                    for value in GRID:
                        table[c] = value
                        scores.append(self.accuracy(add, override, mask))
                    table[c] = GRID[int(np.argmax(scores))]
        return add, override


def nested(decider: Decider, fold_list, per_type: bool, pool: np.ndarray) -> tuple[float, float]:
    """(weighted, pool) accuracy with each fold decided by thresholds searched on the other four."""
    decided = np.zeros(len(decider.gold), dtype=int)
    for train_idx, test_idx in fold_list:
        mask = np.zeros(len(decider.gold), dtype=bool)
        mask[train_idx] = True
        add, override = decider.search(mask, per_type)
        decided[test_idx] = decider.decide(add, override)[test_idx]
    hits = decided == decider.gold
    return (round(float((hits * decider.weight).sum() / decider.weight.sum()), 4), round(float(hits[pool].mean()), 4))


def none_scaled(oof: np.ndarray, classes: list[str], scale: float) -> np.ndarray:
    """The probabilities with NONE's multiplied by `scale`, each row renormalised."""
    scaled = oof.copy()
    scaled[:, classes.index(NONE)] *= scale
    return scaled / scaled.sum(axis=1, keepdims=True)


def none_scale_figures(rows: list[dict], oof: np.ndarray, classes: list[str], fold_list, pool: np.ndarray) -> dict:
    """The NONE factor and thresholds chosen together: on all folds (the factor and its pool accuracy) and
    nested (each fold decided by the factor and thresholds best on the other four)."""
    n = len(classes)
    deciders = {s: Decider(rows, none_scaled(oof, classes, s), classes) for s in NONE_SCALES}

    def best(mask: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        choices = [(s, *d.search(mask, False)) for s, d in deciders.items()]
        return max(choices, key=lambda c: deciders[c[0]].accuracy(c[1], c[2], mask))

    everything = np.ones(len(rows), dtype=bool)
    scale, add, override = best(everything)
    decided_all = deciders[scale].decide(add, override)
    gold = deciders[1.0].gold
    decided = np.zeros(len(rows), dtype=int)
    chosen = []
    for train_idx, test_idx in fold_list:
        mask = np.zeros(len(rows), dtype=bool)
        mask[train_idx] = True
        s, a, o = best(mask)
        chosen.append(s)
        decided[test_idx] = deciders[s].decide(a, o)[test_idx]
    weight = deciders[1.0].weight
    hits = decided == gold
    return {"none_scale": scale, "none_scale_thresholds": [float(add[0]), float(override[0])],
            "none_scale_pool": round(float((decided_all == gold)[pool].mean()), 4),
            "none_scale_nested": round(float((hits * weight).sum() / weight.sum()), 4),
            "none_scale_nested_pool": round(float(hits[pool].mean()), 4), "none_scale_per_fold": chosen}


def delete_threshold_figures(decider: Decider, fold_list, pool: np.ndarray) -> dict:
    """The coder with a separate threshold for deleting a rule event (a NONE over a rule's type), nested."""
    d = decider

    def decide(add: float, override: float, delete: float) -> np.ndarray:
        need = np.where(d.model == d.none, max(override, delete), override)
        with_rule = np.where((d.model != d.rule) & (d.p >= need), d.model, d.rule)
        without = np.where((d.model != d.none) & (d.p >= add), d.model, d.none)
        return np.where(d.rule != d.none, with_rule, without)

    def weighted(decided: np.ndarray, mask: np.ndarray) -> float:
        hits = decided[mask] == d.gold[mask]
        return float((hits * d.weight[mask]).sum() / d.weight[mask].sum())

    def search(mask: np.ndarray) -> tuple[float, float, float]:
        return max(((a, o, x) for a in GRID[:-1] for o in GRID for x in DELETES), key=lambda t: weighted(decide(*t), mask))

    decided, chosen = np.zeros(len(d.gold), dtype=int), []
    for train_idx, test_idx in fold_list:
        mask = np.zeros(len(d.gold), dtype=bool)
        mask[train_idx] = True
        chosen.append(search(mask))
        decided[test_idx] = decide(*chosen[-1])[test_idx]
    everything = np.ones(len(d.gold), dtype=bool)
    add, override, delete = search(everything)
    before = decide(add, override, 0.0)
    sweep = []
    for x in DELETES:
        after = decide(add, override, x)
        changed = (after != before) & pool
        sweep.append({"delete": x, "weighted": round(weighted(after, everything), 4), "pool": round(float((after == d.gold)[pool].mean()), 4),
                      "pool_rows_changed": int(changed.sum()), "changed_now_right": int((changed & (after == d.gold)).sum()),
                      "changed_was_right": int((changed & (before == d.gold)).sum())})
    return {"delete_nested": round(weighted(decided, everything), 4), "delete_nested_pool": round(float((decided == d.gold)[pool].mean()), 4),
            "delete_per_fold": chosen, "delete_all_folds": [add, override, delete], "delete_sweep": sweep}


def combined_answers(rows: list[dict], oof: np.ndarray, classes: list[str]) -> tuple[list[str], float, float, float]:
    """The combined coder's answer for each row at the thresholds best on all folds: (answers, add, override, the
    weighted accuracy they give)."""
    rule_types = [r["rule_type"] for r in rows]
    add, override, weighted = best_thresholds(rule_types, oof, classes, [r["gold"] for r in rows], [r["weight"] for r in rows])
    answers = [combine(rt, classes[i], float(oof[k, i]), add, override) for k, (rt, i) in enumerate(zip(rule_types, oof.argmax(axis=1)))]
    return answers, add, override, weighted


CASCADE_TAUS = (0.5, 0.6, 0.7, 0.8, 0.9)


def cascade_figures(words_make, make, rows: list[dict], features: list[str], candidates: list[dict]) -> dict:
    """Issue 16's eleventh round: the words-only model (`words_make`, v7's recipe) decides where its best type is at
    least tau sure, the variant's vector model (`make` with `--vectors`) elsewhere, each with its own all-fold
    thresholds, on the same folds. Per tau: pool accuracy, and the share encoded on the pool and on `candidates`
    (unread candidate sentences, scored by the words-only model fitted on every row: the share the coder would
    encode in on-topic news)."""
    saved = dict(VECTORS)
    VECTORS.clear()
    oof_words, _, classes = out_of_fold(words_make, rows, features)
    VECTORS.update(saved)
    oof_vectors, _, _ = out_of_fold(make, rows, features)
    gold = np.array([r["gold"] for r in rows])
    by_words, by_vectors = (np.array(combined_answers(rows, oof, classes)[0]) for oof in (oof_words, oof_vectors))
    pool = np.array([r["origin"] == "scenario" for r in rows])
    words_all = fit_estimator(words_make(gold), features, gold, np.array([r["weight"] for r in rows]))
    candidate_p = estimator_probabilities(words_all, [r["features"] for r in candidates]).max(axis=1)
    sure = oof_words.max(axis=1)
    out = {"words_pool": round(float((by_words == gold)[pool].mean()), 4),
           "vectors_pool": round(float((by_vectors == gold)[pool].mean()), 4)}
    for tau in CASCADE_TAUS:
        both = np.where(sure < tau, by_vectors, by_words)
        out[f"cascade_{tau}"] = {"pool": round(float((both == gold)[pool].mean()), 4),
                                 "pool_encoded": round(float((sure < tau)[pool].mean()), 3),
                                 "candidates_encoded": round(float((candidate_p < tau).mean()), 3)}
    return out


def quad_hit(coded: str, quad: str) -> bool:
    return (coded == NONE and quad == "neutral") or (coded != NONE and quad_class(coded) == quad)


def figures(rows: list[dict], oof: np.ndarray, oof_stripped: np.ndarray, classes: list[str], per_type: bool,
            none_scale: bool = False, delete_threshold: bool = False) -> dict:
    """The combined coder's validation figures (see the module docstring)."""
    combined, add, override, weighted = combined_answers(rows, oof, classes)
    top_stripped = oof_stripped.argmax(axis=1)

    def accuracy(keep) -> float | None:
        pairs = [(c, r["gold"]) for c, r in zip(combined, rows) if keep(r)]
        return round(sum(c == g for c, g in pairs) / len(pairs), 4) if pairs else None

    cameo = [k for k, r in enumerate(rows) if r["origin"] == "cameo"]
    no_rules = [combine(NONE, classes[top_stripped[k]], float(oof_stripped[k, top_stripped[k]]), add, override) for k in cameo]
    pool = np.array([r["origin"] == "scenario" for r in rows])
    out = {"weighted": round(weighted, 4), "pool": accuracy(lambda r: r["origin"] == "scenario"),
           "pool_v1_v3": accuracy(lambda r: r["origin"] == "scenario" and r.get("file") not in ROUND_4 + ROUND_5 + ROUND_6 + ROUND_8),
           "pool_v1_v5": accuracy(lambda r: r["origin"] == "scenario" and r.get("file") not in ROUND_5 + ROUND_6 + ROUND_8),
           "pool_v1_v7": accuracy(lambda r: r["origin"] == "scenario" and r.get("file") not in ROUND_6 + ROUND_8),
           **{f"pool_{path.stem.removeprefix('event_train_')}": accuracy(lambda r, name=path.name: r.get("file") == name)
              for path in ROUND_6_FILES + ROUND_8_FILES},  # each later file on its own: pool_v8 ... pool_v12
           "pool_other": round(float(np.mean([c == r["gold_other"] for c, r in zip(combined, rows) if r["origin"] == "scenario"])), 4),
           "tuned": accuracy(lambda r: r["origin"] == "scenario_tuned"),
           "cameo_quad": round(np.mean([quad_hit(combined[k], rows[k]["quad"]) for k in cameo]), 4),
           "cameo_no_rules": round(np.mean([quad_hit(c, rows[k]["quad"]) for c, k in zip(no_rules, cameo)]), 4),
           "rules_stand": round(np.mean([c == rows[k]["rule_type"] for k, c in enumerate(combined) if pool[k]]), 4),
           "thresholds": [add, override]}
    decider = Decider(rows, oof, classes)
    fold_list = folds([r["gold"] for r in rows])
    out["nested"], out["nested_pool"] = nested(decider, fold_list, False, pool)
    if per_type:
        out["per_type_nested"], out["per_type_nested_pool"] = nested(decider, fold_list, True, pool)
    if none_scale:
        out.update(none_scale_figures(rows, oof, classes, fold_list, pool))
    if delete_threshold:
        out.update(delete_threshold_figures(decider, fold_list, pool))
    return out


def errors(rows: list[dict], oof: np.ndarray, classes: list[str]) -> dict:
    """Where the combined coder errs: pool confusions (gold -> coded), the rules' and the model's share of
    them, and CAMEO quad confusions (gold quad -> coded quad), on the out-of-fold predictions."""
    answers = combined_answers(rows, oof, classes)[0]
    top = oof.argmax(axis=1)
    pool_confusions, cameo_confusions, who = Counter(), Counter(), Counter()
    for k, (r, coded) in enumerate(zip(rows, answers)):
        model = classes[top[k]]
        if r["origin"] == "scenario":
            if coded != r["gold"]:
                pool_confusions[f"{r['gold']}->{coded}"] += 1
            who[("rules right" if r["rule_type"] == r["gold"] else "rules wrong") + ", "
                + ("model right" if model == r["gold"] else "model wrong") + ", "
                + ("combined right" if coded == r["gold"] else "combined wrong")] += 1
        elif r["origin"] == "cameo" and not quad_hit(coded, r["quad"]):
            cameo_confusions[f"{r['quad']}->{'neutral' if coded == NONE else quad_class(coded)}"] += 1
    return {"pool_confusions": dict(pool_confusions.most_common(15)), "pool_rules_model": dict(who.most_common()),
            "cameo_quad_confusions": dict(cameo_confusions.most_common(10))}


# name: (drop the syntactic markers, weight of a read pool sentence, weight of a CAMEO sentence whose type is
# its quad's default, estimator factory)
VARIANTS = {
    "v4 recipe": (False, 3.0, 1.0, recipe()),
    "without the syntactic markers (v3 recipe)": (True, 3.0, 1.0, recipe()),
    "class weight none": (False, 3.0, 1.0, recipe(class_weight="none")),
    "class weight sqrt": (False, 3.0, 1.0, recipe(class_weight="sqrt")),
    "C=5": (False, 3.0, 1.0, recipe(C=5.0)),
    "C=20": (False, 3.0, 1.0, recipe(C=20.0)),
    "rule weight 0.15": (False, 3.0, 1.0, recipe(rule_weight=0.15)),
    "rule weight 0.07": (False, 3.0, 1.0, recipe(rule_weight=0.07)),
    "+ char n-grams": (False, 3.0, 1.0, recipe(char_ngrams=True)),
    "scenario weight 2": (False, 2.0, 1.0, recipe()),
    "scenario weight 4": (False, 4.0, 1.0, recipe()),
    "CAMEO default types weight 0.5": (False, 3.0, 0.5, recipe()),
    "CAMEO default types weight 0.25": (False, 3.0, 0.25, recipe()),
}


def typed_by_default(row: dict) -> bool:
    """Whether a CAMEO row's PLOVER type is its quad's default (the rules missed its quad), not the rules' own:
    a guess at the type, where the rules' agreeing answer is a reading of the sentence."""
    if row["origin"] != "cameo" or row["quad"] == "neutral":
        return False
    return row["rule_type"] == NONE or quad_class(row["rule_type"]) != row["quad"]


def reweighted(rows: list[dict], scenario_weight: float, default_weight: float = 1.0) -> list[dict]:
    """The rows with every read scenario sentence (pool and tuned) weighted `scenario_weight` and every CAMEO
    sentence typed by its quad's default `default_weight` (the other CAMEO and SATP rows keep weight 1)."""
    def weight(r: dict) -> float:
        if r["origin"].startswith("scenario"):
            return scenario_weight
        return default_weight if typed_by_default(r) else 1.0
    return [{**r, "weight": weight(r)} for r in rows]


def with_other_gold(row: dict, first_reading: bool) -> dict:
    """The row with `gold_other`, the type the other label set gives it (the first reading against the
    re-typing): the row is trained on its re-typed gold, or with `first_reading` on its first reading."""
    read = row.get("gold_read", row["gold"])
    if first_reading:
        return {**row, "gold": read, "gold_other": row["gold"]}
    return {**row, "gold_other": read}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="pickle of the parsed training rows (written when missing)")
    parser.add_argument("--only", nargs="*", help="variant names to run (default: all)")
    parser.add_argument("--without", nargs="*", default=[], help="leave out the sentences of these files "
                        "(e.g. event_train_v4.jsonl event_train_v5.jsonl: what the read data added)")
    parser.add_argument("--per-type", action="store_true", help="also score per-type thresholds (nested)")
    parser.add_argument("--none-scale", action="store_true", help="also score a searched factor on NONE's probability (nested)")
    parser.add_argument("--delete-threshold", action="store_true",
                        help="also score a separate threshold for deleting a rule event (nested)")
    parser.add_argument("--errors", action="store_true", help="print where each variant errs (stderr)")
    parser.add_argument("--fold-seed", type=int, default=SEED, help="seed of the 5 folds (default: the train script's)")
    parser.add_argument("--conventions", nargs="*", type=Path, default=[],
                        help="re-typing files applied over the read sentences (e.g. bench/data/event_conventions_v1.jsonl)")
    parser.add_argument("--score-conventions", action="store_true",
                        help="train on the first readings; the re-typings only give the `pool_other` figure")
    parser.add_argument("--vectors", choices=("m2v", "minilm", "mpnet", "static"),
                        help="add the sentence's vector from this encoder as a dense block (issue 16's tenth round)")
    parser.add_argument("--static-model", type=Path, help="with --vectors static: a model2vec folder")
    parser.add_argument("--vector-weight", type=float, default=1.0, help="the dense block's weight (default 1)")
    parser.add_argument("--vector-cache", type=Path, help="an .npz keeping the vectors between runs")
    parser.add_argument("--transfer", type=Path, metavar="FILE.pkl",
                        help="with --vectors: the vector model only teaches; it types unread sentences of the read "
                             "articles (`train_event_model.transfer_rows`, parsed once into FILE.pkl) and a words-only "
                             "model learns from them and the training rows (issue 16's eleventh round)")
    parser.add_argument("--transfer-weight", type=float, default=1.0, help="each unread sentence's weight (default 1)")
    parser.add_argument("--cascade", type=Path, metavar="FILE.pkl",
                        help="with --vectors: also score the cascade (the words-only model where it is sure, the vector "
                             "model elsewhere) at each of CASCADE_TAUS; FILE.pkl as for --transfer gives the share encoded")
    args = parser.parse_args()
    FOLD_SEED[0] = args.fold_seed
    if (args.vectors == "static") != (args.static_model is not None):
        parser.error("--static-model goes with --vectors static, and --vectors static needs it")
    if args.cascade and (not args.vectors or args.transfer):
        parser.error("--cascade needs --vectors (the vector model) and no --transfer")
    STATIC_MODEL[0] = args.static_model
    rows = cached_training_rows(args.cache)
    rows = [r for r in rows if r.get("file") not in args.without]
    if args.vectors:
        VECTORS.update(vectors=sentence_vectors(args.vectors, [r["text"] for r in rows], args.vector_cache),
                       weight=args.vector_weight)
    if args.transfer:
        if not args.vectors:
            parser.error("--transfer needs --vectors: the teacher is the model that reads them")
        extra = transfer_rows(args.transfer)
        TRANSFER.update(rows=extra, weight=args.transfer_weight,
                        vectors=sentence_vectors(args.vectors, [r["text"] for r in extra], args.vector_cache))
    rows = [with_other_gold(r, args.score_conventions) for r in apply_conventions(rows, args.conventions)]
    for name, (no_syntax, scenario_weight, default_weight, make) in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        rows = reweighted(rows, scenario_weight, default_weight)
        features = [" ".join(t for t in r["features"].split() if not (no_syntax and t.startswith("x:"))) for r in rows]
        oof, oof_stripped, classes = out_of_fold(make, rows, features)
        scores = figures(rows, oof, oof_stripped, classes, args.per_type, args.none_scale, args.delete_threshold)
        vectors = {"vectors": args.vectors, "vector_weight": args.vector_weight} if args.vectors else {}
        if args.transfer:
            vectors.update(transfer=len(TRANSFER["rows"]), transfer_weight=args.transfer_weight)
        if args.cascade:
            vectors.update(cascade_figures(VARIANTS["v4 recipe"][3], make, rows, features, transfer_rows(args.cascade)))
        print(json.dumps({"variant": name, "fold_seed": args.fold_seed, **vectors, **scores}), flush=True)
        if args.errors:
            print(json.dumps({"variant": name, **errors(rows, oof, classes)}), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
