"""Inter-annotator agreement between the label set and a blind second pass.

    python scripts/agreement.py [--labels labels/iran-pakistan-2026/labels] \
        [--second labels/iran-pakistan-2026/agreement/second_pass.jsonl] [--disagreements OUT.jsonl]

Prints overall Cohen's kappa, macro-F1 over base, contraction and none (the classifier's
figure, so the two compare), per-class (one-vs-rest) kappa and raw agreement,
as a Markdown table and, last, one JSON line. The first-pass labels are read
from `--first` if given (the labels as they were before reconciliation).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's pipeline from any folder (`signals label --second-pass` prints where)

from pipeline.classify import SCORED_LABELS, scores  # noqa: E402
from pipeline.labeling import count_blank_rows, read_filled_file  # noqa: E402
from pipeline.labels import load_labels, parse_label_file  # noqa: E402
from pipeline.records import LABELS  # noqa: E402

SCENARIO = ROOT / "labels" / "iran-pakistan-2026"


def figure(value: float) -> float | None:
    """A kappa rounded for the JSON line, or None where it is undefined (NaN: a class neither pass used, or one
    reader's labels all alike): NaN is not JSON, and a strict reader of the line refuses it."""
    return None if math.isnan(value) else round(float(value), 4)


def shown(value: float | None) -> str:
    """A kappa as the table shows it: 'n/a' where it is undefined."""
    return "n/a" if value is None else f"{value:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=Path, default=SCENARIO / "labels")
    ap.add_argument("--first", type=Path, help="a JSONL of first-pass labels (default: the label set)")
    ap.add_argument("--second", type=Path, default=SCENARIO / "agreement" / "second_pass.jsonl")
    ap.add_argument("--disagreements", type=Path)
    args = ap.parse_args()
    if args.first:
        first = {r.id: r for _, r in parse_label_file(args.first)}
    else:
        first = {r.id: r for r in load_labels(args.labels)}
    second = {r.id: r for _, r in read_filled_file(args.second)}  # rows left blank are not judged yet
    if not second:  # a second pass just exported: it had said "no labeled row names an item", as if the ids were wrong
        raise SystemExit(f"{args.second}: no row has a label yet ({count_blank_rows(args.second)} blank); fill in "
                         "'label' and 'note' first, then run this again")
    ids = sorted(i for i in second if i in first)
    if not ids:
        raise SystemExit(f"{args.second}: no labeled row names an item of the label set")
    a = [first[i].label for i in ids]
    b = [second[i].label for i in ids]
    result = {"n": len(ids), "agreement": round(sum(x == y for x, y in zip(a, b)) / len(ids), 4),
              "kappa": figure(cohen_kappa_score(a, b)),
              # the figure the classifier is held to (macro-F1 over base, contraction, none), one reader as the other's key
              "macro_f1": scores(a, b, SCORED_LABELS)["macro_f1"], "per_class": {}}
    print(f"{len(ids)} items labeled twice; raw agreement {result['agreement']:.3f}; Cohen's kappa {shown(result['kappa'])}; "
          f"macro-F1 {result['macro_f1']:.3f}\n")
    print("| class | first pass | second pass | both | kappa (one vs rest) |\n|---|---:|---:|---:|---:|")
    for label in LABELS:
        x = [v == label for v in a]
        y = [v == label for v in b]
        kappa = figure(cohen_kappa_score(x, y)) if any(x) or any(y) else None
        both = sum(p and q for p, q in zip(x, y))
        result["per_class"][label] = {"first": sum(x), "second": sum(y), "both": both, "kappa": kappa}
        print(f"| {label} | {sum(x)} | {sum(y)} | {both} | {shown(kappa)} |")
    if args.disagreements:
        with args.disagreements.open("w", encoding="utf-8") as out:
            for i in ids:
                if first[i].label != second[i].label:
                    out.write(json.dumps({"id": i, "source": first[i].source, "first": first[i].label, "first_note": first[i].note,
                                          "second": second[i].label, "second_note": second[i].note}) + "\n")
    print(json.dumps(result, allow_nan=False))


if __name__ == "__main__":
    main()
