"""`signals train`, `signals predict` and `signals events`: fit the classifier, and apply the models to files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .app import PATH, SignalsCommand, settings


@click.command("train", cls=SignalsCommand, help="train and evaluate the classifier on the labels; promote only if better beyond the noise, then refit on every label")
@click.option("--scenario", help="the pack to train (default: the first watched one)")
def train_command(scenario: str | None) -> int:
    from ..jobs import Runtime, retrain

    rt = Runtime(settings(scenario))
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status("training: encoding the labeled articles, fitting, evaluating…"):
            entry = retrain(rt)
    else:
        entry = retrain(rt)
    m = entry.metrics
    print(f"model {entry.version}: {entry.status} ({entry.reason})")
    for name in ("holdout", "time_split"):
        if name in m:
            support = ", ".join(f"{c} {v.get('support', 0)}" for c, v in m[name].get("per_class", {}).items())
            print(f"  {name}: macro-F1 {m[name]['macro_f1']:.3f} on {m[name]['n']} items (ECE {m[name].get('ece', float('nan')):.3f})"
                  + (f"; items per label: {support} (a label with none scores 0 in the macro average)" if support else ""))
    if m.get("probes"):
        print(f"  probes: {m['probes']['accuracy']:.3f} right; per label right/total {m['probes']['per_label']}")
    if m.get("class_recall"):
        print("  measured recall: " + ", ".join(f"{c} {'not measurable' if r is None else f'{r:.2f}'}" for c, r in m["class_recall"].items()))
    if entry.status == "active":  # the store keeps the old model's (or the zero-shot) predictions until re-scored
        print(f"signals: the next 'signals run' or 'signals import' re-scores the stored articles with {entry.version}; "
              "until then the store's signals come from the model before it", file=sys.stderr)
    return 0


@click.command("predict", cls=SignalsCommand, help="classify a JSONL file of articles (no store needed)")
@click.option("--input", "input", type=PATH, required=True, help="JSONL articles: id, title, text (summary, published optional)")
@click.option("--output", type=PATH, required=True, help="JSONL predictions, one line per input line")
@click.option("--scenario", help="the pack whose model classifies (default: the first watched one)")
def predict_command(input: Path, output: Path, scenario: str | None) -> int:
    from ..jobs import Runtime, predict_file
    from ..scenario import load_scenario

    current = settings(scenario)
    load_scenario(current.scenario_dir)  # an unknown pack is an error before any work
    n = predict_file(Runtime(current), input, output)
    print(f"{n} predictions written to {output}", file=sys.stderr)
    return 0


@click.command("events", cls=SignalsCommand, help="who did what to whom: PLOVER events for a JSONL of {id, text}")
@click.option("--input", "input", type=PATH, required=True, help="JSONL lines of {id, text}")
@click.option("--output", type=PATH, required=True, help="JSONL lines of {id, events}")
def events_command(input: Path, output: Path) -> int:
    from ..jobs import Runtime, events_file

    n = events_file(Runtime(settings()), input, output)
    print(f"{n} lines written to {output}", file=sys.stderr)
    return 0
