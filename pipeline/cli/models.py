"""`signals train`, `signals predict` and `signals events`: fit the classifier, and apply the models to files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .app import PATH, SignalsCommand, scenario_option, settings

FEW_ITEMS = 30  # a held-out figure on fewer items says little: `train` says so beside it


@click.command("train", cls=SignalsCommand, help="train and evaluate the classifier on the labels; promote only if better beyond the noise, then refit on every label")
@click.option("--scenario", help="the pack to train (default: the first watched one)")
def train_command(scenario: str | None) -> int:
    from ..classify import MIN_RECALL_SUPPORT
    from ..jobs import Runtime, Unchanged, no_probe_suite, retrain
    from ..records import CASES

    rt = Runtime(settings(scenario))
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status("training: encoding the labeled articles, fitting, evaluating…"):
            entry = retrain(rt)
    else:
        entry = retrain(rt)
    if isinstance(entry, Unchanged):  # nothing is fit or saved: there is nothing new to decide
        print(f"model {entry.active.version}: unchanged ({entry.reason})")
        return 0
    m = entry.metrics
    print(f"model {entry.version}: {entry.status} ({entry.reason})")
    for name in ("holdout", "time_split"):
        if name in m:
            figures = m[name]
            per_class = figures.get("per_class", {})
            labels = list(dict.fromkeys([*figures.get("macro_over", []), *per_class]))  # the averaged ones first, even with 0 items
            support = ", ".join(f"{c} {per_class.get(c, {}).get('support', 0)}" for c in labels)
            few = "; too few items for the figures to mean much" if figures["n"] < FEW_ITEMS else ""
            print(f"  {name}: macro-F1 {figures['macro_f1']:.3f} on {figures['n']} items (ECE {figures.get('ece', float('nan')):.3f})"
                  + (f"; items per label: {support} (a label with none scores 0 in the macro average)" if support else "") + few)
    if m.get("probes"):
        print(f"  probes (of the model above): {m['probes']['accuracy']:.3f} right; per label right/total {m['probes']['per_label']}")
    elif (no_suite := no_probe_suite(rt.scenario)) and no_suite not in entry.reason:  # said once: the reason may hold it
        print(f"  probes: none run, {no_suite}: nothing checks the model on written articles of each case")
    if m.get("class_recall"):
        print("  measured recall: " + ", ".join(f"{c} {'not measurable' if r is None else f'{r:.2f}'}" for c, r in m["class_recall"].items())
              + (f" (from {m['class_recall_source']})" if m.get("class_recall_source") else ""))
    unlabeled = [c for c in CASES if (m.get("class_counts") or {}).get(c, 1) == 0]
    if unlabeled:  # the prototypes are its only examples: say so before anyone reads the odds
        print(f"  no labeled {' or '.join(unlabeled)} article: the model knows {'it' if len(unlabeled) == 1 else 'them'} "
              "from the pack's prototypes alone")
    unmeasured = [c for c in CASES if (m.get("class_recall") or {}).get(c) is None]
    if entry.status == "active" and unmeasured:  # the odds hold such a case at its prior: say what it takes
        print(f"  the odds hold {', '.join(unmeasured)} at {'its prior' if len(unmeasured) == 1 else 'their priors'} until "
              f"the model's recall on {'it' if len(unmeasured) == 1 else 'each'} is measured: that takes "
              f"{MIN_RECALL_SUPPORT} labeled items of a case among those a model is scored on (labels it did not train "
              f"on; a pack's first model holds out its latest 15%); label more of them "
              f"(signals label{scenario_option(rt.scenario.id)}), "
              "then train")
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
