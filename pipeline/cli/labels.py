"""`signals label`: label the articles the model is least sure of, in the terminal or through a JSONL file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..labeling import DEFAULT_SIZE
from .app import AT_LEAST_ONE, PATH, SignalsCommand, scenario_option, settings


@click.command("label", cls=SignalsCommand, exclusive=("export", "import_file"),
               short_help="label the articles the model is least sure of (interactively, or via a JSONL file)",
               help="Without --export or --import, asks for labels in the terminal; each answer is saved at once.")
@click.option("--scenario", help="the pack to label for (default: the first watched one)")
@click.option("--size", type=AT_LEAST_ONE, default=DEFAULT_SIZE, help=f"items in the queue (default {DEFAULT_SIZE})")
@click.option("--export", type=PATH, metavar="FILE", help="write the queue to FILE to fill in 'label' and 'note'")
@click.option("--import", "import_file", type=PATH, metavar="FILE", help="validate a filled FILE and add its labels")
@click.option("--annotator", metavar="NAME", help="who is labeling; names the label file (default: `annotator` in the settings)")
@click.option("--relabel", is_flag=True, help="with --import: let the file change labels already given (recorded with who and when)")
@click.option("--second-pass", is_flag=True,
              help="with --export: a random sample of labeled articles, blind (no label, no model call), for a second "
                   "analyst; scripts/agreement.py --second FILE then gives Cohen's kappa")
def label_command(scenario: str | None, size: int, export: Path | None, import_file: Path | None,
                  annotator: str | None, relabel: bool, second_pass: bool) -> int:
    """--import a filled file, --export the queue, or label in the terminal."""
    # Registry and scenario pack built directly, as Runtime.registry / Runtime.scenario do:
    # importing pipeline.jobs loads spaCy and scikit-learn, seconds an analyst would wait for nothing.
    from ..errors import ConfigError, ModelError
    from ..labeling import ImportSummary, analyst_file, build_queue, export_queue, import_label_file, label_interactively
    from ..labels import known_ids, labeled_aside, load_labels
    from ..records import LABELS
    from ..registry import Registry
    from ..scenario import Relevance, load_scenario
    from ..signals import current_model_version, gate_note
    from ..store import Store

    if relabel and not import_file:
        raise click.UsageError("--relabel changes labels from a filled file: use it with --import FILE")
    if second_pass and not export:
        raise click.UsageError("--second-pass writes a file for a second analyst: use it with --export FILE")
    if import_file:  # an export names its pack: its labels go there, never to the default pack
        from ..errors import InputError
        from ..labeling import exported_for

        exported, line = exported_for(import_file)
        root = settings().labels_dir
        if exported and not (root / exported / "scenario.toml").is_file():  # said before any pack is read by that name
            packs = sorted(p.parent.name for p in root.glob("*/scenario.toml"))
            raise InputError(import_file, line, f"this row was exported for pack '{exported}', and {root} holds no "
                             f"pack of that name (it holds {', '.join(packs) or 'none'}); correct its 'scenario' field")
        if exported and scenario and scenario != exported:
            raise InputError(import_file, line, f"exported for pack '{exported}', not '{scenario}'; import it with "
                             f"--scenario {exported}, or leave --scenario out")
        watched = settings().scenario_ids
        if not exported and not scenario and len(watched) > 1:  # a hand-written file: which pack is not ours to guess
            raise InputError(import_file, None, f"no row names its pack (no 'scenario' field) and {len(watched)} packs "
                             f"are watched ({', '.join(watched)}); name the pack its labels are for: --scenario NAME")
        scenario = scenario or exported
    current = settings(scenario)
    pack = load_scenario(current.scenario_dir)
    scenario_id, labels_dir = pack.id, pack.labels_dir
    annotator = annotator or current.annotator
    if not export:  # importing and labeling need to know who; a bad name fails before any work
        if not annotator:
            raise ConfigError("say who is labeling: --annotator NAME, or annotator = \"NAME\" in signals.toml "
                              "(or SIGNALS_ANNOTATOR)")
        target = analyst_file(labels_dir, annotator)

    if import_file:
        summary = import_label_file(import_file, labels_dir, known_ids(current.shared_data, current.db), annotator,
                                    relabel=relabel, scenario_id=scenario_id)
        if summary == ImportSummary(blank=summary.blank):
            print(f"{import_file}: no line has a label yet ({summary.blank} blank); fill in 'label' "
                  f"({'|'.join(LABELS)}) and import again", file=sys.stderr)
        else:
            where = [f"new labels of pack {scenario_id} in {target}"] if summary.added else []
            if summary.relabeled:
                where.append("each changed label rewritten where it was, the earlier judgment under 'previous'")
            retrain = [next_step(labels_dir, scenario_id)] if summary.added or summary.relabeled else []
            print("; ".join([f"{import_file}: {summary.describe()}", *where, *retrain]))
        return 0

    if second_pass:
        from ..labeling import agreement_command, export_second_pass, second_pass_items

        with Store(current.db, read_only=True) as store:
            articles = second_pass_items(store, labels_dir, size=size)
        if not articles:
            raise ModelError(f"no labeled article of {scenario_id} is in the store {current.db}; a second pass shows the "
                             "articles from the store")
        n = export_second_pass(articles, export, scenario_id, labels_dir)
        measure = agreement_command(labels_dir, export)
        print(f"{n} labeled items written to {export}, blind, for a second analyst to fill in 'label' and 'note' "
              f"(a measurement, not labels: do not --import it); then the agreement: {measure}")
        return 0

    entry = Registry(current.models_dir).active(scenario_id)
    labeled = {r.id for r in load_labels(labels_dir)} if any(Path(labels_dir).glob("*.jsonl")) else set()
    labeled |= labeled_aside(pack.folder)  # read already, kept out of training (held-out-round6/): not to be read again
    with Store(current.db, read_only=True) as store:  # closed before any prompt: never hold the store while waiting
        # the predictions the store's signals use: the active model's, or (a new pack) the zero-shot recipe's
        version = current_model_version(store, scenario_id) or (entry.version if entry is not None else None)
        if version is None:
            watched = "" if scenario_id in settings().scenario_ids else (  # the settings' own, before --scenario
                f"add {scenario_id!r} to 'scenarios' in the settings (the packs a run scores), then ")
            raise ModelError(f"no predictions for scenario {scenario_id} in the store yet; {watched}run 'signals import' or "
                             "'signals run' first (a new pack is scored zero-shot from its brief until it has a model)")
        items = build_queue(store, scenario_id, version, labeled, size=size, gate=Relevance(pack))
        note = gate_note(store, pack)  # a line when no scored article passed the gate: then every pick is random
    if note:
        print(f"signals: {note}", file=sys.stderr)
    if not items:
        print(f"nothing to label: no unlabeled article has a prediction from model {version}; "
              "run 'signals import' or 'signals run' to add articles", file=sys.stderr)
        return 0
    if export:
        n = export_queue(items, export, scenario_id, labels_dir)
        print(f"{n} items written to {export}; fill in 'label' ({'|'.join(LABELS)}) and 'note', "
              f"then run 'signals label --import {export}'")
        return 0
    if label_interactively(items, labels_dir, annotator):  # the labels count once the model is trained on them
        print(next_step(labels_dir, scenario_id))
    return 0


def next_step(labels_dir: Path, scenario_id: str) -> str:
    """What to do with a pack's labels after adding some: train refuses a pack with too few, so say how many are
    missing, or to retrain (an interactive session had ended on the count alone)."""
    from ..labels import MIN_CASE_LABELS, MIN_LABELS, load_labels

    labels = load_labels(labels_dir)
    n, cases = len(labels), sum(r.label != "none" for r in labels)
    train = f"'signals train{scenario_option(scenario_id)}'"
    if n < MIN_LABELS:
        return f"{n} labels in pack {scenario_id}: label {MIN_LABELS - n} more, then run {train} (it trains from {MIN_LABELS})"
    if cases < MIN_CASE_LABELS:
        return (f"{cases} of the {n} labels in pack {scenario_id} are articles of its cases: label "
                f"{MIN_CASE_LABELS - cases} more of them, then run {train} (it trains from {MIN_CASE_LABELS})")
    return f"run {train} to retrain"
