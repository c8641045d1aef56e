"""Labeled articles: load and validate label files, find the texts they refer to.

Label files are JSONL in `labels/<scenario>/labels/*.jsonl`, one record a line:
`{id, source, label, note, annotator, labeled_at}` (ids and judgments only; the
text is read from ../shared/data/<source>/items.jsonl or from the store).
Validation names the file and line of the first problem; `validate_label_file`
checks a file against the labels already accepted, so an import writes nothing
from a file that fails.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import LabelError
from .files import article_from_record
from .records import LABELS, Article

REQUIRED = ("id", "source", "label")
MIN_LABELS = 50  # below this a pack stays zero-shot: a model trained on fewer labels is noise (`signals train` refuses)
MIN_CASE_LABELS = 10  # of them articles of its cases (`classify.MIN_RECALL_SUPPORT`, what measuring a case's recall takes)


@dataclass(frozen=True)
class LabelRecord:
    id: str
    source: str
    label: str
    note: str = ""
    annotator: str = ""
    labeled_at: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def parse_label_file(path: Path) -> list[tuple[int, LabelRecord]]:
    """Records with their line numbers; raises LabelError on malformed JSON, missing fields or unknown labels."""
    out = []
    with Path(path).open(encoding="utf-8-sig") as handle:  # a BOM (Notepad, Excel) is not part of the JSON
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelError(path, number, f"not valid JSON ({exc.msg})") from None
            if not isinstance(raw, dict):
                raise LabelError(path, number, "expected a JSON object")
            missing = [k for k in REQUIRED if not raw.get(k)]
            if missing:
                raise LabelError(path, number, f"missing field {', '.join(missing)}")
            if raw["label"] not in LABELS:
                raise LabelError(path, number, f"unknown label {raw['label']!r} (expected one of {', '.join(LABELS)})")
            out.append((number, LabelRecord(
                id=str(raw["id"]), source=str(raw["source"]), label=raw["label"], note=_text(raw.get("note")),
                annotator=_text(raw.get("annotator")), labeled_at=_text(raw.get("labeled_at")),
            )))
    return out


def _text(value) -> str:
    """A text field as read: null (what editors and scripts write for "no value") is empty, not the word "None"."""
    return "" if value is None else str(value)


def check_records(
    path: Path,
    records: Sequence[tuple[int, LabelRecord]],
    accepted: dict[str, tuple[str, LabelRecord]],
    known_ids: "KnownIds | None" = None,
) -> None:
    """Raise on a duplicate or conflicting id (against `accepted` and within the file) or an unknown id.
    `accepted` maps id -> (where, record) and is extended in place only if the whole file passes."""
    seen = dict(accepted)
    for number, rec in records:
        if rec.id in seen:
            where, other = seen[rec.id]
            kind = "duplicate label" if other.label == rec.label else f"conflicting label ({other.label} vs {rec.label})"
            raise LabelError(path, number, f"{kind} for id {rec.id}, already labeled at {where}; keep one judgment: "
                             "remove or correct one of the two lines")
        if known_ids is not None and (problem := known_ids.problem(rec.source, rec.id)):
            raise LabelError(path, number, problem)
        seen[rec.id] = (f"{path}:{number}", rec)
    accepted.update(seen)


def load_labels(labels_dir: Path, known_ids: "KnownIds | None" = None) -> list[LabelRecord]:
    """All label records of a scenario, validated across files."""
    files = sorted(Path(labels_dir).glob("*.jsonl"))
    if not files:
        raise LabelError(labels_dir, None, "no label files (*.jsonl) here")
    accepted: dict[str, tuple[str, LabelRecord]] = {}
    for path in files:
        check_records(path, parse_label_file(path), accepted, known_ids)
    return [rec for _, rec in accepted.values()]


def json_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) for each line of `path` that reads as a JSON object, a BOM dropped (Notepad, Excel); the
    other lines are passed over, for the checks that only look for something (the reader that validates names them)."""
    with Path(path).open(encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                raw = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(raw, dict):
                yield number, raw


def labeled_aside(pack_folder: Path) -> set[str]:
    """Ids the pack's labelers have already judged in label records it keeps beside its training labels: every
    `*.jsonl` one folder down from the pack except `labels/` itself (`held-out-round6/`, read and not trained on;
    the blind second passes in `agreement/`). A row counts when it names an id and a label; other rows (audit
    notes, a line that is not JSON) are passed over: these files are never trained on, only kept out of the queue."""
    ids: set[str] = set()
    for path in sorted(Path(pack_folder).glob("*/*.jsonl")):
        if path.parent.name == "labels":
            continue
        ids.update(str(raw["id"]) for _, raw in json_rows(path) if raw.get("id") and raw.get("label"))
    return ids


def label_set_hash(records: Iterable[LabelRecord]) -> str:
    """A fingerprint of the judgments (id and label), independent of file order."""
    lines = sorted(f"{r.source}\t{r.id}\t{r.label}" for r in records)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


class KnownIds:
    """Which ids exist, per source: the shared data folders (when there are any), plus the articles in the store.
    `store_ids` maps each stored id to its source (`Store.article_sources`); a plain list of ids accepts any source."""

    def __init__(self, shared_data: Path | None, store_ids: Iterable[str] | Mapping[str, str] = ()):
        self.shared_data = Path(shared_data) if shared_data is not None else None
        self.store_sources = dict(store_ids) if isinstance(store_ids, Mapping) else dict.fromkeys(store_ids)
        self._by_source: dict[str, set[str]] = {}

    def problem(self, source: str, item_id: str) -> str | None:
        """Why a label's (source, id) names no known article, in one line; None when it names one."""
        if self._in_shared(source, item_id):
            return None
        if item_id in self.store_sources:
            stored = self.store_sources[item_id]
            if stored is None or stored == source:
                return None
            return f"id {item_id} is in the store under source {stored!r}, not {source!r}: the label's source names where its text is read from"
        return (f"unknown id {item_id} for source {source!r} (not in the shared data or the store; a label on an article read "
                "from a feed needs the store it was read into: give it with --db)")

    def _in_shared(self, source: str, item_id: str) -> bool:
        if self.shared_data is None:
            return False
        path = self.shared_data / source / "items.jsonl"
        if not path.exists():
            return False
        if source not in self._by_source:
            with path.open(encoding="utf-8") as handle:
                self._by_source[source] = {json.loads(line)["id"] for line in handle if line.strip()}
        return item_id in self._by_source[source]


def known_ids(shared_data: Path | None, db: Path) -> KnownIds:
    """The ids a label may name: the shared data's, and the articles of the store at `db` when there is one."""
    from .store import Store

    stored: dict[str, str] = {}
    if Path(db).exists():
        with Store(db, read_only=True) as store:
            stored = store.article_sources()
    return KnownIds(shared_data, stored)


def load_shared_articles(shared_data: Path | None, wanted: dict[str, set[str]]) -> dict[str, Article]:
    """Articles by id from <shared_data>/<source>/items.jsonl, for the ids wanted per source
    (none without a shared data folder: the caller then reads them from the store)."""
    found: dict[str, Article] = {}
    if shared_data is None:
        return found
    for source, ids in wanted.items():
        path = Path(shared_data) / source / "items.jsonl"
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                # cheap check on the raw line before parsing all of it
                head = line[:60]
                item_id = head.split('"id": "', 1)[-1].split('"', 1)[0] if '"id": "' in head else None
                if item_id is not None and item_id not in ids:
                    continue
                record = json.loads(line)
                if record["id"] in ids:
                    found[record["id"]] = article_from_record(record)
    return found
