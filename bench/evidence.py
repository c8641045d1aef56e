"""How well the evidence sentences back the classifier's calls, from hand judgments.

    .venv/bin/python bench/evidence.py --draw 36 > /tmp/evidence_sheet.jsonl   # a sheet to judge (it holds article text:
                                                                              # keep it out of the project)
    .venv/bin/python bench/evidence.py                                        # score bench/data/evidence_judgments_v1.jsonl

The report and the brief show an article's first one or two evidence sentences beside its headline as the reason
for its call ("why"). `classify.pick_evidence` shows the three candidate sentences (`classify.candidate_sentences`:
the headline, the event and actor sentences, else the body's) the word regression scores highest for the case.

The sample: full-text labeled articles (labels/iran-pakistan-2026; at least five sentences, since a headline-only
item's evidence is its headline) that the shipped model calls right, so that a sentence can back the call at all:
`--draw N` takes N of each case, base and contraction from the bench's test period (2026-03-01..04-14) and
accelerated from any date (that period has none), at random (seed 11). Each article's pool to judge is its
headline, the six candidates the word regression ranks first, its first two event sentences and its first two body
sentences, so that other rankings of the same candidates can be scored from the same judgments.

A judge reads each pool sentence on its own (the headline beside it for context) against ../shared/LABELING.md and
says whether it reports the development, or states the fact, that makes the article the called case, with a reason.
The judgments file holds ids, sentence hashes, judgments and reasons only: no text. A blind second pass of 7
articles sits beside it; the first line printed gives the agreement and Cohen's kappa.

Scoring rebuilds each article's candidates and evidence with the code as it is, and prints one JSON line per model
and ranking: precision of the first sentence (what `report` shows for a mover), of the first two (the evidence by
story) and of all three, over judged sentences, with how many picks fell outside the judged pool (an unjudged first
pick counts as a miss in the interval); each half of the sample (by hashed id: `dev` for choosing, `test` for
confirming) apart; and a 95% bootstrap interval (over articles) of each other ranking's difference from the shipped
one on the first sentence. Two models: the shipped one, which trained on every judged article (in-sample), and the
shipped recipe fit on the labels before 2026-03-01, which never saw the 60 base and contraction articles (out of
sample: the figure that says what an analyst gets on new news). The rankings tried and not kept stay here, so that
the record can be rerun (docs/classifier-experiments.md, evidence).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import classify  # noqa: E402
from pipeline.classify import EVIDENCE_SENTENCES, LABELS, candidate_sentences, split_sentences  # noqa: E402
from pipeline.jobs import Runtime, training_set  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402

JUDGMENTS = ROOT / "bench" / "data" / "evidence_judgments_v1.jsonl"
SECOND_PASS = ROOT / "bench" / "data" / "evidence_second_pass_v1.jsonl"  # 7 of the articles, judged again blind
SEED = 11
PERIOD = (datetime(2026, 3, 1), datetime(2026, 4, 15))
POOL_TOP = 6
MIN_SENTENCES = 5  # full-text articles: a headline-only item's evidence is its headline, nothing to rank


def sentence_key(sentence: str) -> str:
    return hashlib.sha256(" ".join(sentence.split()).encode("utf-8")).hexdigest()[:16]


def half(article_id: str) -> str:
    return "dev" if int(hashlib.sha256(article_id.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"


def scored_candidates(rt: Runtime, model, articles, results, calls) -> list[tuple[list[str], np.ndarray]]:
    """Each article's candidate sentences and their probabilities (LABELS order) under the word regression."""
    out = []
    for article, result in zip(articles, results):
        candidates = candidate_sentences(article, result)
        out.append((candidates, model.text_proba(candidates, rt.encoder) if candidates else np.zeros((0, len(LABELS)))))
    return out


def regression_only(article, result, candidates: list[str], probs: np.ndarray, call: str) -> list[str]:
    """The evidence as `classify.pick_evidence` picks it, written out here so that other rankings can start from it:
    the candidates the word regression scores most probable for the call, in that order."""
    order = np.argsort(-probs[:, LABELS.index(call)], kind="stable")
    return [candidates[i] for i in order[:EVIDENCE_SENTENCES]]


def lead(article, result, candidates: list[str], probs: np.ndarray, call: str) -> list[str]:
    """A reader's order, whatever the model says: the headline, then the body's first sentences."""
    body = [" ".join(s.split()) for s in split_sentences(article.body())]
    return list(dict.fromkeys(s for s in [" ".join(article.title.split()), *body] if len(s) >= 20))[:EVIDENCE_SENTENCES]


def margin_over_none(article, result, candidates: list[str], probs: np.ndarray, call: str) -> list[str]:
    """The candidates whose call probability most exceeds their `none` probability."""
    order = np.argsort(-(probs[:, LABELS.index(call)] - probs[:, LABELS.index("none")]), kind="stable")
    return [candidates[i] for i in order[:EVIDENCE_SENTENCES]]


def margin_over_rest(article, result, candidates: list[str], probs: np.ndarray, call: str) -> list[str]:
    """The candidates whose call probability most exceeds the other cases' highest (none included)."""
    c = LABELS.index(call)
    others = np.delete(probs, c, axis=1).max(axis=1)
    order = np.argsort(-(probs[:, c] - others), kind="stable")
    return [candidates[i] for i in order[:EVIDENCE_SENTENCES]]


def head_order(rt: Runtime, model):
    """Tried, not kept: the regression's three in the order the whole model scores them, the regression averaged
    with the case head as articles are (an mpnet pass over each of the three sentences)."""
    def ranked(article, result, candidates, probs, call):
        three = regression_only(article, result, candidates, probs, call)
        if len(three) < 2 or getattr(model, "head", None) is None or not model.head_weight:
            return three
        p = model._in_label_order(model.estimator.predict_proba(classify.text_frame(three, model.featurizer(rt.encoder))))
        p = (1 - model.head_weight) * p + model.head_weight * model._in_label_order(model.head.predict_proba(three), model.head.classes)
        order = np.argsort(-model.shifted(p)[:, LABELS.index(call)], kind="stable")
        return [three[i] for i in order]
    return ranked


def reads_as_call(article, result, candidates: list[str], probs: np.ndarray, call: str) -> list[str]:
    """The candidates that read as the call on their own (the call is their most probable label) first, each group
    ranked by the call's probability."""
    c = LABELS.index(call)
    order = sorted(range(len(candidates)), key=lambda i: (probs[i].argmax() != c, -probs[i, c]))
    return [candidates[i] for i in order[:EVIDENCE_SENTENCES]]


def without_headline(rank):
    """`rank` over the candidates other than the headline, which the report and brief show anyway beside the
    evidence; the headline only when nothing else is a candidate (a headline-only item)."""
    def ranked(article, result, candidates, probs, call):
        title = " ".join(article.title.split())
        keep = [i for i, t in enumerate(candidates) if t != title]
        if not keep:
            return rank(article, result, candidates, probs, call)
        return rank(article, result, [candidates[i] for i in keep], probs[keep], call)
    return ranked


RANKINGS = {"lead": lead, "margin_over_none": margin_over_none, "margin_over_rest": margin_over_rest,
            "reads_as_call": reads_as_call, "regression_only_without_headline": without_headline(regression_only),
            "reads_as_call_without_headline": without_headline(reads_as_call)}


def pool(article, result, candidates: list[str], probs: np.ndarray, call: str) -> list[str]:
    """What the judges read for one article (see the module's docstring)."""
    order = np.argsort(-probs[:, LABELS.index(call)], kind="stable")
    events = [" ".join(e.sentence.split()) for e in (result.events if result is not None else [])]
    body = [" ".join(s.split()) for s in split_sentences(article.body())]
    wanted = [" ".join(article.title.split()), *(candidates[i] for i in order[:POOL_TOP]), *events[:2], *body[:2]]
    return list(dict.fromkeys(s for s in wanted if len(s) >= 20))


def sample(rt: Runtime, per_case: int):
    """The judged sample: (article, NlpResult, call) for labeled articles the shipped model calls right."""
    records, articles = training_set(rt)
    rng = random.Random(SEED)
    chosen = []
    model, entry = rt.active_model
    for case in ("base", "contraction", "accelerated"):
        pool_ = [(r, a) for r, a in zip(records, articles) if r.label == case and len(split_sentences(a.body())) >= MIN_SENTENCES
                 and (case == "accelerated" or (a.published is not None and PERIOD[0] <= a.published < PERIOD[1]))]
        rng.shuffle(pool_)
        kept = []
        for start in range(0, len(pool_), 40):  # parse and classify in small batches until N are right
            batch = [a for _, a in pool_[start:start + 40]]
            results = rt.analyse(batch)
            predictions = classify.predict(model, entry.version, rt.scenario.id, batch, results, rt.encoder)
            kept += [(a, res, p.label) for a, res, p in zip(batch, results, predictions) if p.label == case]
            if len(kept) >= per_case:
                break
        chosen += kept[:per_case]
    return model, chosen


def draw(rt: Runtime, per_case: int) -> None:
    model, chosen = sample(rt, per_case)
    scored = scored_candidates(rt, model, [a for a, _, _ in chosen], [r for _, r, _ in chosen], [c for _, _, c in chosen])
    for (article, result, call), (candidates, probs) in zip(chosen, scored):
        print(json.dumps({"id": article.id, "call": call, "half": half(article.id), "title": article.title,
                          "sentences": [{"sha": sentence_key(s), "text": s, "supports": None, "reason": ""}
                                        for s in pool(article, result, candidates, probs, call)]}, ensure_ascii=False))


def bootstrap_difference(a: list[float], b: list[float], rounds: int = 2000) -> list[float]:
    rng = np.random.default_rng(SEED)
    a, b = np.asarray(a), np.asarray(b)
    idx = rng.integers(0, len(a), size=(rounds, len(a)))
    diffs = (a[idx] - b[idx]).mean(axis=1)
    return [round(float(np.percentile(diffs, 2.5)), 3), round(float(np.percentile(diffs, 97.5)), 3)]


def agreement(first: dict[str, dict[str, bool]], path: Path) -> dict:
    """The blind second pass against the first judgments: share agreed and Cohen's kappa, over its sentences."""
    pairs = [(first[row["id"]][s["sha"]], bool(s["supports"]))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
             for row in [json.loads(line)] for s in row["sentences"] if s["sha"] in first.get(row["id"], {})]
    if not pairs:
        return {}
    agreed = sum(a == b for a, b in pairs) / len(pairs)
    p1, p2 = (sum(x[k] for x in pairs) / len(pairs) for k in (0, 1))
    chance = p1 * p2 + (1 - p1) * (1 - p2)
    return {"sentences": len(pairs), "agreement": round(agreed, 3),
            "cohen_kappa": round((agreed - chance) / (1 - chance), 3) if chance < 1 else None}


def time_split_model(rt: Runtime):
    """The shipped recipe fit on the labels published before the sample's period (as `bench/classifier.py` fits
    it): the shipped model trained on every judged article, and its case head on their headlines and leads."""
    records, articles = training_set(rt)
    train = [(r, a) for r, a in zip(records, articles) if a.published is not None and a.published < PERIOD[0]]
    kept = [a for _, a in train]
    return classify.fit(kept, np.array([r.label for r, _ in train]), np.array([rt.relevance(a) for a in kept]),
                        rt.featurizer, rt.scenario.prototypes())


def evaluate(rt: Runtime, model, which: str, batch, results, calls: list[str], verdicts, rankings: dict) -> dict:
    """One JSON line per ranking (`model` names which model picked and ordered): precision of the first, first two
    and all three sentences over judged ones, by half; returns each ranking's first-sentence hits (all halves)."""
    scored = scored_candidates(rt, model, batch, results, calls)
    picked = classify.pick_evidence(model, rt.encoder, batch, results, calls)
    by_article = {article.id: picked.get(n, []) for n, article in enumerate(batch)}
    firsts: dict[str, list[float]] = {}
    for name, rank in {"shipped": lambda article, *_: by_article[article.id], **rankings}.items():
        out = {"bench": "evidence", "model": which, "ranking": name, "articles": len(batch)}
        first = []
        for part in ("dev", "test", "all"):
            counts = {k: [0, 0] for k in ("first", "first_two", "all_three")}
            outside = headline_first = 0
            for article, result, call, (candidates, probs) in zip(batch, results, calls, scored):
                if part != "all" and half(article.id) != part:
                    continue
                judged = verdicts[article.id]
                picks = rank(article, result, candidates, probs, call)
                keys = [sentence_key(s) for s in picks]
                headline_first += bool(picks) and picks[0] == " ".join(article.title.split())
                outside += sum(k not in judged for k in keys)
                for label, n in (("first", 1), ("first_two", 2), ("all_three", 3)):
                    hits = [judged[k] for k in keys[:n] if k in judged]
                    counts[label][0] += sum(hits)
                    counts[label][1] += len(hits)
                if part == "all":
                    first.append(float(judged.get(keys[0], False)) if keys else 0.0)
            out[part] = {k: round(r / n, 3) if n else None for k, (r, n) in counts.items()}
            out[part]["picks_outside_the_judged_pool"] = outside
            out[part]["first_is_the_headline"] = headline_first
        firsts[name] = first
        if name != "shipped":
            out["first_vs_shipped_ci95"] = bootstrap_difference(first, firsts["shipped"])
        print(json.dumps(out))
    return firsts


def score(rt: Runtime, path: Path) -> None:
    judged = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    verdicts = {row["id"]: {s["sha"]: bool(s["supports"]) for s in row["sentences"] if s.get("supports") is not None}
                for row in judged}
    calls = {row["id"]: row["call"] for row in judged}
    _, articles = training_set(rt)
    by_id = {a.id: a for a in articles if a.id in calls}
    batch = [by_id[i] for i in calls if i in by_id]
    results = rt.analyse(batch)
    summary = {"bench": "evidence", "judgments": str(path.relative_to(ROOT)), "articles": len(batch),
               "sentences_judged": sum(len(v) for v in verdicts.values())}
    if SECOND_PASS.exists() and path == JUDGMENTS:
        summary["second_pass"] = agreement(verdicts, SECOND_PASS)
    print(json.dumps(summary))
    model, _ = rt.active_model
    evaluate(rt, model, "shipped (in-sample: it trained on every judged article)", batch, results,
             [calls[a.id] for a in batch], verdicts, {**RANKINGS, "head_order": head_order(rt, model)})
    # out of sample: the base and contraction articles are all from the period the time-split model never saw
    later = [(a, r) for a, r in zip(batch, results) if a.published is not None and a.published >= PERIOD[0]]
    before = time_split_model(rt)
    evaluate(rt, before, f"time-split (trained before {PERIOD[0]:%Y-%m-%d}; these articles are after it)",
             [a for a, _ in later], [r for _, r in later], [calls[a.id] for a, _ in later], verdicts,
             {"head_order": head_order(rt, before)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draw", type=int, metavar="N", help="print a sheet of N articles per case to judge")
    ap.add_argument("--judgments", type=Path, default=JUDGMENTS)
    args = ap.parse_args()
    rt = Runtime(load_settings())
    if args.draw:
        draw(rt, args.draw)
    else:
        score(rt, args.judgments)


if __name__ == "__main__":
    main()
