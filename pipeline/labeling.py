"""The weekly labeling queue: pick articles for an analyst to label, show them, save the judgments.

    build_queue        store + model version -> the unlabeled articles the model is least sure of
                       (of those that passed the pack's gate), mixed with a random slice (QueueItem records)
    export_queue       QueueItems -> a JSONL file with empty `label` and `note` to fill in
    import_label_file  a filled JSONL file -> validated as a whole, then new labels appended to
                       `<labels_dir>/analyst-<annotator>.jsonl`; labels already there are skipped
                       (importing a file twice is a no-op), a changed label needs relabel=True
                       and is rewritten in place with who changed it, when, and what it was
    label_interactively  QueueItems -> prompts, one label appended (and flushed) per answer

`signals label` (pipeline/cli/labels.py) is the thin shell over these.
Label files and their validation are pipeline/labels.py's: this module only
adapts the exported format to it, so the rules (known labels and ids, no
duplicate or conflicting id across files) live in one place.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import shlex
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import date
from itertools import islice
from pathlib import Path

import numpy as np

from .errors import ConfigError, InputError, LabelError
from .labels import KnownIds, LabelRecord, check_records, json_rows, parse_label_file
from .records import LABELS, Article
from .scenario import id_problem
from .settings import PROJECT_ROOT

DEFAULT_SIZE = 20
DEFAULT_RANDOM_SHARE = 0.25
SUMMARY_CHARS = 300
ANNOTATOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
KEYS = {"b": "base", "a": "accelerated", "c": "contraction", "n": "none"}
PROMPT = "[b]ase [a]ccelerated [c]ontraction [n]one [s]kip [q]uit > "
REASON_PROMPT = "reason (one line; q to quit without saving this one) > "
TEXT_CHARS = 600  # of the article's text, shown beside a short summary: an op-ed cannot be judged from its standfirst
AGREEMENT_SCRIPT = PROJECT_ROOT / "scripts" / "agreement.py"
SECOND_PASS = "second_pass"  # the field that marks each row of a blind second pass, so that --import refuses it


@dataclass(frozen=True)
class QueueItem:
    """One article to label, with the model's call on it.

    `margin` is the top probability minus the second one (small = the model is unsure);
    `picked` says why it is in the queue: "uncertain" (it passed the pack's gate, and the margin is small)
    or "random"."""

    article: Article
    guess: str
    probabilities: dict[str, float]
    evidence: list[str]
    margin: float
    picked: str = "uncertain"
    gated_out: bool = False  # a random pick the pack's relevance gate kept out: `none` without the model reading it

    def to_export(self) -> dict:
        """The exported line: the article, the model's call, and empty `label` and `note` to fill in."""
        a = self.article
        return {
            "id": a.id, "source": a.source, "outlet": a.outlet,
            "published": a.published.isoformat() if a.published else None,
            "title": a.title, "summary": a.summary, "text": a.text, "link": a.link, "picked": self.picked,
            "guess": self.guess, "probabilities": self.probabilities, "evidence": self.evidence,
            "label": "", "note": "",
        }


# ---------------------------------------------------------------- the queue

def build_queue(
    store,
    scenario_id: str,
    model_version: str,
    labeled_ids: set[str],
    size: int = DEFAULT_SIZE,
    random_share: float = DEFAULT_RANDOM_SHARE,
    seed: int | None = None,
    gate: Callable[[Article], bool] | None = None,
) -> list[QueueItem]:
    """Up to `size` unlabeled stored articles scored by `model_version`.

    Most are the articles that passed the pack's relevance gate with the smallest margin between the model's
    top two probabilities, least sure first ("uncertain"). About `random_share` of the queue is drawn at random
    from the rest ("random"), so the analyst does not only see borderline items, and so is every place left when
    too few articles passed the gate. An article the gate kept out has the model's fixed gate probabilities, the
    same for every such article: its margin says nothing the model is unsure of, so it is only ever a random pick.
    The random items are spread evenly through the queue (the first item is always the least sure one, when one
    passed the gate), so stopping early still gives a mix. `seed` makes the draw repeatable.

    `gate` is the pack's `scenario.Relevance`; `Store.passed_gate` says how the store tells who passed."""
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    if not 0.0 <= random_share <= 1.0:
        raise ValueError(f"random_share must be between 0 and 1, got {random_share}")
    frame = store.prediction_probabilities(scenario_id, model_version)
    frame = frame[~frame["article_id"].isin(set(labeled_ids))]
    if frame.empty:
        return []
    probs = np.sort(frame[[f"p_{c}" for c in LABELS]].fillna(0.0).to_numpy(), axis=1)
    frame = frame.assign(margin=probs[:, -1] - probs[:, -2]).sort_values(["margin", "article_id"])
    ranked = list(frame["article_id"])
    margins = dict(zip(frame["article_id"], frame["margin"]))

    length = min(size, len(ranked))
    n_uncertain = length - (min(size, round(size * random_share)) if len(ranked) > size else 0)
    uncertain = list(islice(store.passed_gate(frame, gate), n_uncertain))
    chosen = set(uncertain)
    rest = [i for i in ranked if i not in chosen]
    randoms = random.Random(seed).sample(rest, length - len(uncertain))
    slots = {(k + 1) * length // len(randoms) - 1 for k in range(len(randoms))} if randoms else set()
    if uncertain and 0 in slots:  # more random places than uncertain ones (few passed the gate): the least sure leads
        slots = (slots - {0}) | {min(set(range(length)) - slots)}
    u, r = iter(uncertain), iter(randoms)
    picks = [(next(r), "random") if pos in slots else (next(u), "uncertain") for pos in range(length)]

    ids = [i for i, _ in picks]
    predictions = {p.article_id: p for p in store.predictions(scenario_id, model_version, ids)}
    articles = {a.id: a for a in store.articles(ids)}
    items = []
    for article_id, why in picks:
        prediction = predictions[article_id]
        items.append(QueueItem(
            article=articles[article_id],
            guess=prediction.label,
            probabilities={c: round(p, 4) for c, p in prediction.probabilities.items()},
            evidence=prediction.evidence,
            margin=round(float(margins[article_id]), 4),
            picked=why,
            gated_out=why == "random" and gate is not None and not gate(articles[article_id]),
        ))
    return items


def second_pass_items(store, labels_dir: Path, size: int = DEFAULT_SIZE, seed: int | None = None) -> list[Article]:
    """A random sample of up to `size` labeled articles the store holds, for a blind second pass: another analyst
    labels them without seeing the first label or the model's call, and `agreement_command` measures the
    agreement (Cohen's kappa). `seed` makes the draw repeatable."""
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    labeled = sorted(accepted_labels(labels_dir))
    stored = {a.id: a for a in store.articles(labeled)} if labeled else {}
    picked = random.Random(seed).sample(sorted(stored), min(size, len(stored)))
    return [stored[i] for i in picked]


def export_second_pass(articles: Sequence[Article], path: Path, scenario_id: str,
                       labels_dir: Path | None = None) -> int:
    """Write a blind second pass: each article with empty `label` and `note`, and nothing of the first judgment or
    the model's. Filled in, the file is a measurement for `agreement_command`, not labels: each row names its pack
    (`scenario`) and is marked `second_pass`, and `import_label_file` refuses it (imported with --relabel, the blind
    reading would overwrite the first reader's labels, and with them the agreement it measures).
    Returns lines written; refuses to overwrite a file with labels filled in, as `export_queue` does."""
    rows = [{"scenario": scenario_id, SECOND_PASS: True, "id": a.id, "source": a.source, "outlet": a.outlet,
             "published": a.published.isoformat() if a.published else None,
             "title": a.title, "summary": a.summary, "text": a.text, "link": a.link, "label": "", "note": ""} for a in articles]
    return _write_rows(path, rows, "keep it for scripts/agreement.py, or export to another file", labels_dir)


# ---------------------------------------------------------------- export and import

def agreement_command(labels_dir: Path, second: Path) -> str:
    """The command that measures a filled second pass against the labels, runnable from any folder: this
    interpreter (the project's, with scikit-learn) and the script's and files' absolute paths."""
    return shlex.join([sys.executable, str(AGREEMENT_SCRIPT), "--labels", str(Path(labels_dir).absolute()),
                       "--second", str(Path(second).absolute())])


def export_queue(items: Sequence[QueueItem], path: Path, scenario_id: str | None = None,
                 labels_dir: Path | None = None) -> int:
    """Write the queue as JSONL for an analyst to fill in `label` and `note`. Returns lines written.

    Each row names the pack (`scenario`) it was exported for, so that `--import` files it there
    (`exported_for`). Refuses to overwrite a file that already has labels filled in (import it first), and to
    write into `labels_dir` or any pack's labels folder (`read_as_labels`)."""
    rows = [({"scenario": scenario_id} if scenario_id else {}) | item.to_export() for item in items]
    return _write_rows(path, rows,
                       f"import it first with 'signals label --import {path}' (importing it again adds nothing), then "
                       "export to another file or delete this one", labels_dir)


def _write_rows(path: Path, rows: Sequence[dict], if_filled: str, labels_dir: Path | None = None) -> int:
    """Write `rows` as JSONL to `path` (whole or not at all: a temporary file renamed over it), unless `path` already
    has labels filled in: then an InputError ending with `if_filled`. Returns lines written.
    A path label files are read from is refused first: its blank rows, read as labels, stopped label and train."""
    path = Path(path)
    if folder := read_as_labels(path, labels_dir):
        raise InputError(path, None, f"is in the labels folder {folder}, where every *.jsonl is read as labels "
                         "(its blank rows would stop 'signals label' and 'train'); export to a file outside it")
    if path.exists() and _has_filled_labels(path):
        raise InputError(path, None, f"already has labels filled in; {if_filled}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return len(rows)


def read_as_labels(path: Path, labels_dir: Path | None = None) -> Path | None:
    """The labels folder that would read `path` as a label file, or None: a `*.jsonl` directly in `labels_dir`, or
    in any pack's `labels/` (a folder of that name beside a `scenario.toml`)."""
    path = Path(path)
    if path.suffix != ".jsonl":
        return None
    folder = path.resolve().parent
    if labels_dir is not None and folder == Path(labels_dir).resolve():
        return Path(labels_dir)
    return folder if folder.name == "labels" and (folder.parent / "scenario.toml").is_file() else None


def _has_filled_labels(path: Path) -> bool:
    """Whether a row of `path` has a label filled in, read as import reads it: as plain UTF-8, a BOM (Notepad, Excel)
    hid a filled first row, and the next export wrote over the analyst's work."""
    return any(isinstance(raw.get("label"), str) and raw["label"].strip() for _, raw in json_rows(path))


def analyst_file(labels_dir: Path, annotator: str) -> Path:
    """`<labels_dir>/analyst-<annotator>.jsonl` (`<annotator>.jsonl` when the name already starts with
    'analyst', so no file is called analyst-analyst); the name must be safe as part of a file name."""
    if not ANNOTATOR_NAME.match(annotator or ""):
        raise ConfigError(f"annotator name {annotator!r} cannot name a label file; "
                          "use letters, digits, '.', '_' or '-' (--annotator NAME)")
    stem = annotator if annotator.lower().startswith("analyst") else f"analyst-{annotator}"
    return Path(labels_dir) / f"{stem}.jsonl"


@dataclass(frozen=True)
class ImportSummary:
    """What one import did: labels added, already there with the same label (skipped), changed
    (with --relabel), rows left blank (no label yet), and rows whose label is unchanged but whose reason
    differs, skipped without --relabel (counted apart: "already imported" had hidden a reworded reason)."""

    added: int = 0
    unchanged: int = 0
    relabeled: int = 0
    blank: int = 0
    reason_changed: int = 0

    def describe(self) -> str:
        """One line for the terminal."""
        reworded = (f", {self.reason_changed} with a changed reason: import with --relabel to record "
                    f"{'it' if self.reason_changed == 1 else 'them'}") if self.reason_changed else ""
        return (f"{self.added} added, {self.relabeled} relabeled, {self.unchanged} already imported, "
                f"{self.blank} blank (no label yet){reworded}")


@contextmanager
def labels_locked(labels_dir: Path):
    """Hold the labels folder's lock (`<labels_dir>.lock` beside it, flock) while checking what is labeled and
    writing: two analysts saving at the same moment then see each other's labels, and two judgments of one item
    cannot both be written."""
    labels_dir = Path(labels_dir)
    labels_dir.mkdir(parents=True, exist_ok=True)
    with open(labels_dir.with_name(labels_dir.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits: a save or an import takes milliseconds
        yield


def accepted_labels(labels_dir: Path) -> dict[str, tuple[str, LabelRecord]]:
    """Every label already in `labels_dir`, validated across files: id -> (file:line, record).
    An empty or missing folder gives {}."""
    accepted: dict[str, tuple[str, LabelRecord]] = {}
    for existing in sorted(Path(labels_dir).glob("*.jsonl")):
        check_records(existing, parse_label_file(existing), accepted)
    return accepted


def read_filled_file(path: Path) -> list[tuple[int, LabelRecord]]:
    """The labeled lines of a filled export (or a plain label file), with their line numbers.

    Lines whose `label` is empty or null are not labeled yet and are skipped (`count_blank_rows`
    counts them); labels are read case-insensitively. Everything else is parse_label_file's: it
    reads a copy with the skipped lines blanked, so line numbers and its errors stay those of `path`."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig") as handle:  # a BOM read as text made a blank first row "missing field label"
            lines = [_labeled_line(line.rstrip("\n")) for line in handle]
    except FileNotFoundError:
        raise LabelError(path, None, "no such file; check the path given to --import") from None
    except UnicodeDecodeError:
        raise LabelError(path, None, "not UTF-8 text; save the file as UTF-8 and import it again") from None
    with tempfile.TemporaryDirectory(prefix="signals-label-") as tmp:
        copy = Path(tmp) / path.name
        copy.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        try:
            return parse_label_file(copy)
        except LabelError as exc:
            raise LabelError(path, exc.line, exc.reason) from None


def exported_for(path: Path) -> tuple[str | None, int | None]:
    """(the pack a filled export's rows were exported for, the first line naming it), or (None, None) for a
    file whose rows name none (an older export, a file written by hand). Rows naming two packs, and a `scenario`
    that is not a plain pack name (a list, '../x'), are errors naming the line."""
    pack, first = None, None
    try:
        for number, raw in json_rows(path):  # a line that is not a JSON object: read_filled_file reports it
            named = raw.get("scenario")
            if named is None or named == "":
                continue
            if not isinstance(named, str) or (problem := id_problem(named)):  # a list or '../x' named a folder
                why = problem if isinstance(named, str) else "it is not a text"
                raise LabelError(path, number, f"'scenario' is {json.dumps(named, ensure_ascii=False)[:60]}, not a "
                                 f"pack's name ({why}); it names the pack the row was exported for: correct it")
            if pack is not None and named != pack:
                raise LabelError(path, number, f"this row was exported for pack '{named}', line {first} for "
                                 f"'{pack}'; a filled file holds one pack's labels: split it")
            pack, first = pack or str(named), first or number
    except FileNotFoundError:
        raise LabelError(path, None, "no such file; check the path given to --import") from None
    return pack, first


def second_pass_line(path: Path) -> int | None:
    """The first line of `path` marked as a blind second pass (`export_second_pass`), or None."""
    try:
        return next((number for number, raw in json_rows(path) if raw.get(SECOND_PASS)), None)
    except (FileNotFoundError, IsADirectoryError):
        return None  # read_filled_file says so


def count_blank_rows(path: Path) -> int:
    """Rows of a filled export whose `label` is still empty or null."""
    blank = 0
    with Path(path).open(encoding="utf-8-sig", errors="replace") as handle:
        for line in handle:
            if line.strip() and not _labeled_line(line.rstrip("\n")):
                blank += 1
    return blank


def _labeled_line(line: str) -> str:
    """The line for parse_label_file: '' when its label is empty, the label lower-cased."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError:
        return line  # parse_label_file reports it with its line number
    if not isinstance(raw, dict) or "label" not in raw:
        return line
    label = raw["label"]
    if label is None or (isinstance(label, str) and not label.strip()):
        return ""
    if isinstance(label, str):
        raw["label"] = label.strip().lower()
        return json.dumps(raw)  # ASCII-only, so no character in it can split the line
    return line


def import_label_file(path: Path, labels_dir: Path, known_ids: KnownIds | None, annotator: str,
                      today: date | str | None = None, relabel: bool = False,
                      scenario_id: str | None = None) -> ImportSummary:
    """Validate a filled file as a whole, then add its new labels to the annotator's file.

    A line whose id already has the same label in `labels_dir` is skipped, so importing a file
    again (after filling in more rows) adds only the new rows. A line that changes a label is
    refused unless `relabel`: then the earlier line is rewritten in its own file with the new
    label and reason, `annotator` and `today` as who and when, and the old judgment kept under
    `previous`. Raises LabelError naming the file and line of the first problem (malformed JSON,
    an unknown label or id, an id twice in the file, a labeled row without a reason, a changed
    label without relabel); nothing is written from a file that fails, and one naming an id twice fails before
    anything is compared, with or without relabel. `scenario_id`, the pack `labels_dir` belongs
    to, is named in a conflict: the analyst sees which pack the file was checked against before any --relabel."""
    path, labels_dir = Path(path), Path(labels_dir)
    target = analyst_file(labels_dir, annotator)
    if line := second_pass_line(path):
        raise LabelError(path, line, "a blind second pass (exported with --second-pass) measures agreement and adds "
                         "no labels (imported, it would overwrite the first reader's); measure it with: "
                         + agreement_command(labels_dir, path))
    if folder := read_as_labels(path, labels_dir):
        raise LabelError(path, None, f"is already in the labels folder {folder}; keep filled exports "
                         "outside it and import them from there")
    records = read_filled_file(path)
    # one judgment per id in the file, checked before it is compared with the labels folder: with --relabel the first
    # row of a repeated id had been rewritten in place and the second appended, two labels for one id
    check_records(path, records, {})
    blank = count_blank_rows(path)
    if not records:
        return ImportSummary(blank=blank)
    with labels_locked(labels_dir):  # what is labeled is read and written under one lock (`labels_locked`)
        return _import_records(path, records, blank, labels_dir, target, known_ids, annotator, _day(today), relabel,
                               scenario_id)


def _import_records(path: Path, records: list, blank: int, labels_dir: Path, target: Path, known_ids: KnownIds | None,
                    annotator: str, stamp: str, relabel: bool, scenario_id: str | None = None) -> ImportSummary:
    """`import_label_file`'s checks against the labels already given, then its writes."""
    accepted = accepted_labels(labels_dir)
    in_pack = f" in pack {scenario_id}" if scenario_id else ""
    new, changed, unchanged, reworded = [], [], 0, 0
    for number, rec in records:  # each id once (`import_label_file` checked)
        if not rec.note.strip():
            raise LabelError(path, number, f"no reason for id {rec.id}: fill in 'note' with one line on what decides the label")
        earlier = accepted.get(rec.id)
        if earlier is None:
            new.append((number, rec))
        elif earlier[1].label == rec.label and rec.note.strip() == earlier[1].note.strip():
            unchanged += 1
        elif earlier[1].label == rec.label and not relabel:
            reworded += 1
        elif not relabel:
            raise LabelError(path, number, f"conflicting label ({earlier[1].label} vs {rec.label}) for id {rec.id}, "
                             f"already labeled{in_pack} at {earlier[0]}; import with --relabel to change it")
        else:
            changed.append((number, rec, earlier))
    check_records(path, new, {k: v for k, v in accepted.items() if k not in {r.id for _, r, _ in changed}}, known_ids)
    if changed:
        _rewrite_labels(changed, annotator, stamp)
    if new:
        _append(target, [replace(rec, note=rec.note.strip(), annotator=annotator, labeled_at=stamp) for _, rec in new])
    return ImportSummary(added=len(new), unchanged=unchanged, relabeled=len(changed), blank=blank,
                         reason_changed=reworded)


def _rewrite_labels(changed: list, annotator: str, stamp: str) -> None:
    """Rewrite each changed label's earlier line in its own file (atomically, file by file), the judgment it
    replaces kept under `previous` (and that one's own `previous` under it)."""
    by_file: dict[Path, dict[int, dict]] = {}
    for _, rec, (where, old) in changed:
        file, line = where.rsplit(":", 1)
        updated = asdict(replace(rec, source=old.source, note=rec.note.strip(), annotator=annotator, labeled_at=stamp))
        updated["previous"] = {"label": old.label, "note": old.note, "annotator": old.annotator, "labeled_at": old.labeled_at}
        by_file.setdefault(Path(file), {})[int(line)] = updated
    for file, lines in by_file.items():
        with file.open(encoding="utf-8-sig") as handle:  # lines as parse_label_file numbers them: not splitlines(),
            text = [line.rstrip("\n") for line in handle]  # which also splits at U+2028 inside a note
        for number, record in lines.items():
            earlier = json.loads(text[number - 1]).get("previous")
            if earlier:  # the judgments before that one, each under the next: a second change loses none
                record["previous"]["previous"] = earlier
            text[number - 1] = json.dumps(record, ensure_ascii=False)
        tmp = file.with_name(file.name + ".tmp")
        tmp.write_text("".join(line + "\n" for line in text), encoding="utf-8")
        os.replace(tmp, file)


def _day(today: date | str | None) -> str:
    if today is None:
        return date.today().isoformat()
    return today.isoformat() if isinstance(today, date) else str(today)


def _append(target: Path, records: Iterable[LabelRecord]) -> None:
    """Append records and flush them to disk; a file left without a final newline gets one first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    needs_newline = False
    if target.exists() and target.stat().st_size:
        with target.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            needs_newline = handle.read(1) != b"\n"
    with target.open("a", encoding="utf-8") as out:
        if needs_newline:
            out.write("\n")
        for rec in records:
            out.write(rec.to_json() + "\n")
        out.flush()
        os.fsync(out.fileno())


# ---------------------------------------------------------------- interactive

def describe(item: QueueItem, position: int, total: int) -> str:
    """The text shown for one item: title, source and link, the shortened summary and the start of the text (the
    guide reads title, summary and text), why it is in the queue, the model's call and its evidence."""
    a = item.article
    when = a.published.date().isoformat() if a.published else "undated"
    probs = " | ".join(f"{c} {item.probabilities.get(c, 0.0):.2f}" for c in LABELS)
    lines = [
        f"[{position}/{total}] {a.title or '(no title)'}",
        f"    {a.outlet or a.source} | {when} | {a.source}/{a.id}",
    ]
    if a.link:
        lines.append(f"    {a.link}")
    if a.summary:
        lines.append("    " + textwrap.shorten(a.summary, SUMMARY_CHARS, placeholder=" ..."))
    if a.text and a.text.strip() != a.summary.strip():
        lines.append("    text: " + textwrap.shorten(a.text, TEXT_CHARS, placeholder=" ..."))
    why = ("the model is unsure" if item.picked == "uncertain"
           else "a random pick outside the pack's relevance gate (none of its actors named: `none` unread)" if item.gated_out
           else "a random pick, to check the model where it is sure")
    lines.append(f"    model: {item.guess} ({probs}); in the queue as {why}")
    for sentence in item.evidence:
        lines.append("      - " + textwrap.shorten(sentence, SUMMARY_CHARS, placeholder=" ..."))
    return "\n".join(lines)


def label_interactively(
    items: Sequence[QueueItem],
    labels_dir: Path,
    annotator: str,
    ask: Callable[[str], str] = input,
    say: Callable[[str], None] = print,
    today: date | str | None = None,
) -> int:
    """Show each item and ask for a label and a one-line reason; returns the labels saved.

    Each label is appended to `<labels_dir>/analyst-<annotator>.jsonl` and flushed as soon
    as its reason is given, so quitting (q, end of input or Ctrl-C) loses nothing already
    answered; a Ctrl-C or SIGTERM is passed on after the count, so the command exits as stopped.
    The label files are read again before each item and before each save: an item someone else
    labeled meanwhile (another analyst on the same queue) is passed over, and an answer to one
    labeled while it was on screen is not saved, so two judgments never conflict in the files."""
    target = analyst_file(labels_dir, annotator)
    saved = 0

    def done() -> None:  # a quit before the first answer names no file: none was written
        say(f"{saved} label{'s' if saved != 1 else ''} saved to {target}" if saved else "no label saved")

    try:
        for n, item in enumerate(items, start=1):
            say(describe(item, n, len(items)))
            if earlier := accepted_labels(labels_dir).get(item.article.id):
                say(f"    already labeled at {earlier[0]}; passing over it")
                continue
            label = _ask_label(ask, say)
            if label == "quit":
                break
            if label == "skip":
                continue
            reason = _ask_reason(ask, say)
            if reason is None:
                break
            with labels_locked(labels_dir):
                earlier = accepted_labels(labels_dir).get(item.article.id)
                if not earlier:
                    _append(target, [LabelRecord(item.article.id, item.article.source, label, reason, annotator, _day(today))])
            if earlier:
                say(f"    labeled meanwhile at {earlier[0]} ({earlier[1].label}): your answer was not saved; "
                    "to change that label, use 'signals label --import FILE --relabel'")
                continue
            saved += 1
    except EOFError:
        say("")
    except KeyboardInterrupt:
        say("")
        done()
        raise
    done()
    return saved


def _ask_label(ask: Callable[[str], str], say: Callable[[str], None]) -> str:
    while True:
        answer = ask(PROMPT).strip().lower()
        if answer in ("s", "skip", "q", "quit"):
            return "skip" if answer.startswith("s") else "quit"
        if answer in KEYS:
            return KEYS[answer]
        if answer in LABELS:
            return answer
        say("    type b, a, c or n to label, s to skip, q to quit")


def _ask_reason(ask: Callable[[str], str], say: Callable[[str], None]) -> str | None:
    """The reason typed; None for q (quit without saving the label just chosen)."""
    while True:
        reason = " ".join(ask(REASON_PROMPT).split())
        if reason.lower() in ("q", "quit"):
            return None
        if reason:
            return reason
        say("    a reason is required: one line on what in the article decides the label")
