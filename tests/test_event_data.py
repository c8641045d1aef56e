"""The read event files in bench/data hold together: every re-typing names a read sentence and the type it
replaces, and a stale re-typing is refused with its file and line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pipeline.events import PLOVER_TYPES

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

from train_event_model import CONVENTIONS_V1, SCENARIO_FILES, apply_conventions  # noqa: E402


def read_rows() -> list[dict]:
    """Rows as the train script keys them (file, `article_id:sentence_index`, gold), from the read files only."""
    rows = []
    for path in SCENARIO_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows.append({"file": path.name, "id": f"{row['article_id']}:{row['sentence_index']}", "gold": row["gold_type"]})
    return rows


def test_every_retyping_names_a_read_sentence_and_changes_its_type():
    rows = read_rows()
    changes = [json.loads(line) for line in CONVENTIONS_V1.read_text(encoding="utf-8").splitlines()]
    retyped = apply_conventions(rows, [CONVENTIONS_V1])
    moved = [(old, new) for old, new in zip(rows, retyped) if old["gold"] != new["gold"]]
    assert len(moved) == len(changes) > 0
    assert all(new["gold_read"] == old["gold"] for old, new in moved)
    for change in changes:
        assert change["gold_type"] != change["was"]
        assert change["gold_type"] in PLOVER_TYPES + ("NONE",)
        assert len(change["note"].split()) >= 2


def test_a_stale_retyping_is_an_error_naming_its_file_and_line(tmp_path):
    rows = read_rows()
    first = json.loads(CONVENTIONS_V1.read_text(encoding="utf-8").splitlines()[0])
    stale = tmp_path / "conventions.jsonl"
    stale.write_text(json.dumps(first) + "\n" + json.dumps(first) + "\n", encoding="utf-8")  # the second no longer applies
    with pytest.raises(ValueError, match=rf"conventions.jsonl:2: .* is {first['gold_type']}, not {first['was']}"):
        apply_conventions(rows, [stale])
    missing = tmp_path / "missing.jsonl"
    missing.write_text(json.dumps({**first, "sentence_index": 99999}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing.jsonl:1: no read sentence"):
        apply_conventions(rows, [missing])
    assert apply_conventions([r for r in rows if r["file"] != first["file"]], [missing])  # a left-out file is passed over
