"""Validation figures for event-model variants, on the training data's 5-fold out-of-fold predictions only.

    .venv/bin/python bench/event_model_experiments.py                  # every variant, one JSON line each
    .venv/bin/python bench/event_model_experiments.py --cache /tmp/rows.pkl   # parse once, reuse after

In: the training rows of `bench/train_event_model.py` (CAMEO train, SATP, scenario sentences typed by
reading); never the CAMEO test split or the fresh samples (bench/data/event_gold_v2/v3.jsonl).
Out: per variant, with the add/override thresholds chosen on the same folds (as the train script does):
  weighted       weighted out-of-fold accuracy of the combined coder over all rows
  scenario       the combined coder's accuracy on the read pool sentences the rules were never tuned on
                 (event_train_v*; the honest in-domain figure)
  scenario_v1_v2 the same on the pool sentences read before this round (event_train_v1, v2)
  scenario_tuned the same on event_gold_v1, which the rules were tuned on
  cameo_quad     quad-class accuracy on CAMEO train (the rules were tuned on it: flattering to rule-heavy variants)
  rules_weight   how far the thresholds let the rules stand: the share of scenario rows where the combined answer
                 is the rules' own
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train_event_model import PACK, SEED, TRAIN_V3, cached_training_rows, scenario_rows  # noqa: E402

from pipeline.event_model import best_thresholds, build_estimator, combine, text_tokens  # noqa: E402
from pipeline.events import EventExtractor, load_event_rules, load_gazetteer, merge_actors, quad_class  # noqa: E402
from pipeline.nlp import ActorIndex, build_nlp  # noqa: E402
from pipeline.scenario import load_scenario  # noqa: E402


def single_block(seed: int) -> Pipeline:
    """The v2 recipe: one TF-IDF over every token, rules' answer included."""
    return Pipeline([
        ("features", TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True, min_df=2)),
        ("classifier", LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000, random_state=seed)),
    ])


def words_only(features: str) -> str:
    """The sentence's words again (the `w:` tokens), for character n-grams."""
    return " ".join(t[2:] for t in features.split() if t.startswith("w:"))


def blocks(seed: int, rule_weight: float = 1.0, char_ngrams: bool = False) -> Pipeline:
    """`event_model.build_estimator` (the rules' answer in its own block scaled by `rule_weight`),
    optionally with character 3-5-grams of the words as a third block."""
    pipeline = build_estimator(seed, rule_weight)
    if char_ngrams:
        pipeline.named_steps["features"].transformer_list.append(
            ("chars", TfidfVectorizer(preprocessor=words_only, analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=3)))
    return pipeline


def out_of_fold(make, features: list[str], gold: list[str], weights: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """5-fold out-of-fold class probabilities (the train script's folds) and the class order."""
    classes = sorted(set(gold))
    y = np.array(gold)
    oof = np.zeros((len(y), len(classes)))
    strata = [g if Counter(gold)[g] >= 5 else "rare" for g in gold]
    for train_idx, test_idx in StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED).split(features, strata):
        est = make()
        est.fit([features[i] for i in train_idx], y[train_idx], classifier__sample_weight=weights[train_idx])
        proba = est.predict_proba([features[i] for i in test_idx])
        for j, c in enumerate(est.classes_):
            oof[test_idx, classes.index(c)] = proba[:, j]
    return oof, classes


def figures(rows: list[dict], oof: np.ndarray, classes: list[str]) -> dict:
    """The combined coder's validation figures (see the module docstring)."""
    rule_types = [r["rule_type"] for r in rows]
    gold = [r["gold"] for r in rows]
    weights = [r["weight"] for r in rows]
    add, override, weighted = best_thresholds(rule_types, oof, classes, gold, weights)
    top = oof.argmax(axis=1)
    combined = [combine(rt, classes[i], float(oof[k, i]), add, override) for k, (rt, i) in enumerate(zip(rule_types, top))]

    def accuracy(origin: str, new_pool: bool | None = None) -> float:
        pairs = [(c, r["gold"]) for c, r in zip(combined, rows)
                 if r["origin"] == origin and new_pool in (None, r.get("file") == TRAIN_V3.name)]
        return round(sum(c == g for c, g in pairs) / len(pairs), 4)

    cameo = [(c, r["quad"]) for c, r in zip(combined, rows) if r["origin"] == "cameo"]
    scenario = [(c, r["rule_type"]) for c, r in zip(combined, rows) if r["origin"] == "scenario"]
    return {"weighted": round(weighted, 4), "scenario": accuracy("scenario"),
            "scenario_v1_v2": accuracy("scenario", new_pool=False),
            "scenario_tuned": accuracy("scenario_tuned"),
            "cameo_quad": round(sum((c == "NONE" and q == "neutral") or (c != "NONE" and quad_class(c) == q)
                                    for c, q in cameo) / len(cameo), 4),
            "rules_stand": round(sum(c == r for c, r in scenario) / len(scenario), 4),
            "thresholds": [add, override]}


# name: (add the syntactic features, learn the rule features from untuned rows only, estimator)
VARIANTS = {
    "v2 recipe (one block)": (False, False, lambda: single_block(SEED)),
    "two blocks, rule weight 1": (False, False, lambda: blocks(SEED, 1.0)),
    "rule weight 0.5": (False, False, lambda: blocks(SEED, 0.5)),
    "rule weight 0.25": (False, False, lambda: blocks(SEED, 0.25)),
    "rule weight 0.1": (False, False, lambda: blocks(SEED, 0.1)),
    "rule weight 0.05": (False, False, lambda: blocks(SEED, 0.05)),
    "rule features learned off CAMEO": (False, True, lambda: blocks(SEED, 1.0)),
    "+ syntax": (True, False, lambda: blocks(SEED, 1.0)),
    "+ syntax, rule weight 0.5": (True, False, lambda: blocks(SEED, 0.5)),
    "+ char n-grams": (False, False, lambda: blocks(SEED, 1.0, char_ngrams=True)),
    "one block + syntax": (True, False, lambda: single_block(SEED)),
    "one block, rule features learned off CAMEO": (False, True, lambda: single_block(SEED)),
    "one block + syntax, rule features off CAMEO": (True, True, lambda: single_block(SEED)),
}


def row_features(row: dict, syntax: bool, untuned_rules: bool) -> str:
    """A row's feature string for a variant: with the syntactic markers, and without the rules' answer
    on CAMEO rows (whose rules were tuned on them) when the rule features are to be learned elsewhere."""
    tokens = row["features"] + (" " + row["syntax"] if syntax else "")
    if untuned_rules and row["origin"] == "cameo":
        tokens = " ".join(text_tokens(tokens))
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="pickle of the parsed training rows (written when missing)")
    parser.add_argument("--only", nargs="*", help="variant names to run (default: all)")
    parser.add_argument("--without-v3", action="store_true", help="leave out the event_train_v3 sentences")
    args = parser.parse_args()
    rows = cached_training_rows(args.cache)
    if not any(r.get("file") == TRAIN_V3.name for r in rows) and not args.without_v3:
        actors = merge_actors(load_gazetteer(), load_scenario(PACK).actors)
        nlp = build_nlp(actors)
        rows += scenario_rows(nlp, EventExtractor(nlp, load_event_rules(), ActorIndex(actors)), [TRAIN_V3])
        if args.cache:
            args.cache.write_bytes(pickle.dumps(rows))
    if args.without_v3:
        rows = [r for r in rows if r.get("file") != TRAIN_V3.name]
    gold = [r["gold"] for r in rows]
    weights = np.array([r["weight"] for r in rows])
    for name, (syntax, untuned_rules, make) in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        features = [row_features(r, syntax, untuned_rules) for r in rows]
        oof, classes = out_of_fold(make, features, gold, weights)
        print(json.dumps({"variant": name, **figures(rows, oof, classes)}), flush=True)


if __name__ == "__main__":
    main()
