"""The labeling queue on a tiny real store (tests/fixtures/labeling, see its README): queue order,
export and import, validation that writes nothing from a bad file, and the interactive loop."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import click
import pytest
from click.testing import Result

from pipeline.cli.app import UsageError
from pipeline.errors import ConfigError, InputError, LabelError, ModelError
from pipeline.files import read_jsonl
from pipeline.labeling import (
    PROMPT,
    REASON_PROMPT,
    ImportSummary,
    analyst_file,
    build_queue,
    export_queue,
    import_label_file,
    label_interactively,
)
from pipeline.labels import KnownIds, load_labels
from pipeline.records import NlpResult, Prediction
from pipeline.scenario import Relevance, load_scenario
from pipeline.settings import PROJECT_ROOT
from pipeline.store import Store
from signals_app import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "labeling"
SCENARIO = "iran-pakistan-2026"
IRAN_PACK = load_scenario(PROJECT_ROOT / "labels" / SCENARIO)
TODAY = date(2026, 5, 4)


def fixture_predictions() -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]


def build_store(path: Path) -> Path:
    with Store(path) as store:
        store.add_articles(read_jsonl(FIXTURES / "articles.jsonl", strict=True).articles)
        store.save_analysis([], [
            Prediction(p["id"], SCENARIO, p["model_version"], p["label"], p["probabilities"], p["evidence"])
            for p in fixture_predictions()
        ])
    return path


@pytest.fixture
def store(tmp_path):
    with Store(build_store(tmp_path / "signals.duckdb")) as store:
        yield store


@pytest.fixture
def labels_dir(tmp_path) -> Path:
    """A temporary labels folder holding one earlier label file (lab-5 is labeled)."""
    folder = tmp_path / "labels"
    folder.mkdir()
    shutil.copy(FIXTURES / "existing" / "round0.jsonl", folder)
    return folder


@pytest.fixture
def known_ids(store, tmp_path) -> KnownIds:
    ids = [r[0] for r in store.con.execute("SELECT id FROM articles").fetchall()]
    return KnownIds(tmp_path / "no-shared-data", ids)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------- the queue

def test_queue_orders_least_sure_first(store):
    items = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=20, random_share=0.0)
    expected = [p for p in fixture_predictions() if p["model_version"] == "v1" and p["id"] != "lab-5"]
    assert [i.article.id for i in items] == [p["id"] for p in sorted(expected, key=lambda p: p["margin"])]
    assert [i.margin for i in items] == pytest.approx([p["margin"] for p in sorted(expected, key=lambda p: p["margin"])])
    assert {i.picked for i in items} == {"uncertain"}


def test_queue_mixes_in_random_items(store):
    seen_random = set()
    for seed in range(30):
        items = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=4, random_share=0.25, seed=seed)
        ids = [i.article.id for i in items]
        assert ids[:3] == ["lab-1", "lab-2", "lab-3"]  # the three least sure, in order
        assert items[3].picked == "random" and ids[3] in {"lab-4", "lab-6", "lab-7", "lab-8"}
        seen_random.add(ids[3])
    assert len(seen_random) > 1  # really drawn at random
    again = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=4, random_share=0.25, seed=7)
    assert again == build_queue(store, SCENARIO, "v1", {"lab-5"}, size=4, random_share=0.25, seed=7)


def test_random_items_are_spread_through_the_queue(store):
    items = build_queue(store, SCENARIO, "v1", set(), size=6, random_share=0.34, seed=1)
    assert [i.picked for i in items] == ["uncertain", "uncertain", "random", "uncertain", "uncertain", "random"]
    assert [i.article.id for i in items if i.picked == "uncertain"] == ["lab-1", "lab-2", "lab-3", "lab-4"]


def test_labeled_and_unscored_articles_never_appear(store):
    labeled = {"lab-1", "lab-5", "lab-7"}
    for seed in range(10):
        for size in (1, 3, 20):
            ids = {i.article.id for i in build_queue(store, SCENARIO, "v1", labeled, size=size, seed=seed)}
            assert not ids & (labeled | {"lab-9", "lab-10"})
    assert build_queue(store, SCENARIO, "v1", {f"lab-{n}" for n in range(1, 9)}) == []
    assert build_queue(store, "another-scenario", "v1", set()) == []


def test_queue_items_carry_the_models_call(store):
    first = build_queue(store, SCENARIO, "v1", set(), size=1, random_share=0.0)[0]
    assert first.article.title.startswith("Iran and Pakistan officials meet")
    assert first.guess == "base"
    assert first.probabilities == {"base": 0.4, "accelerated": 0.12, "contraction": 0.38, "none": 0.1}
    assert first.evidence == ["Talks in Quetta went ahead on Tuesday.", "A shooting near the Taftan crossing."]


def test_bad_queue_parameters_are_refused(store):
    with pytest.raises(ValueError, match="size"):
        build_queue(store, SCENARIO, "v1", set(), size=0)
    with pytest.raises(ValueError, match="random_share"):
        build_queue(store, SCENARIO, "v1", set(), random_share=1.5)


def test_an_article_the_gate_kept_out_is_never_called_uncertain(store):
    """Trial F6: every article a pack's gate keeps out gets the model's fixed gate probabilities, so they tie at one
    margin; 8 of a 10-row queue of such rows were exported as "uncertain" (the model is unsure) though each was the
    same call. Such an article (its stored parse names no pack's relevance actor) comes in only as a random pick."""
    store.save_analysis([NlpResult("lab-1", False), NlpResult("lab-2", False)], [])  # parsed: no watched pack's gate let them in
    seen_random = set()
    for seed in range(30):
        items = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=4, random_share=0.25, seed=seed)
        assert [i.article.id for i in items[:3]] == ["lab-3", "lab-4", "lab-6"]  # the least sure of those that passed
        assert [i.picked for i in items] == ["uncertain", "uncertain", "uncertain", "random"]
        seen_random.add(items[3].article.id)
    assert {"lab-1", "lab-2"} & seen_random  # still labelable, as random picks
    store.save_analysis([NlpResult(f"lab-{n}", False) for n in (3, 4, 6, 7, 8)], [])  # none passed
    items = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=4, random_share=0.25, seed=1)
    assert len(items) == 4 and {i.picked for i in items} == {"random"}
    items = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=20, random_share=0.0)  # the whole store fits
    assert len(items) == 7 and {i.picked for i in items} == {"random"}


def test_with_several_packs_watched_the_packs_own_gate_decides(store):
    """A stored parse says only that an article named some watched pack's relevance actor: with several packs, the
    queue asks the pack's own gate of the stored text. The uncertain picks are the articles that name Iran or
    Pakistan (lab-1, lab-6), least sure first; the places left are random."""
    store.save_analysis([NlpResult(f"lab-{n}", True) for n in range(1, 9)], [])  # all parsed, for some pack
    items = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=4, random_share=0.25, seed=3, gate=Relevance(IRAN_PACK))
    assert [(i.article.id, i.picked) for i in items if i.picked == "uncertain"] == [("lab-1", "uncertain"), ("lab-6", "uncertain")]
    assert [i.picked for i in items] == ["uncertain", "random", "uncertain", "random"]
    assert {i.article.id for i in items if i.picked == "random"} <= {"lab-2", "lab-3", "lab-4", "lab-7", "lab-8"}
    without = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=4, random_share=0.25, seed=3)  # no gate: as parsed
    assert [i.article.id for i in without[:3]] == ["lab-1", "lab-2", "lab-3"]


# ---------------------------------------------------------------- export and import

def test_export_then_import_round_trips(store, labels_dir, known_ids, tmp_path):
    items = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=3, random_share=0.0)
    exported = tmp_path / "out" / "queue.jsonl"
    assert export_queue(items, exported) == 3
    lines = read_records(exported)
    assert list(lines[0]) == ["id", "source", "outlet", "published", "title", "summary", "text", "link", "picked",
                              "guess", "probabilities", "evidence", "label", "note"]
    assert lines[0]["link"].startswith("http://127.0.0.1/lab/")  # to judge it, an analyst may need the whole article
    assert lines[0]["id"] == "lab-1" and lines[0]["published"] == "2026-04-01T08:00:00"
    assert lines[0]["guess"] == "base" and lines[0]["label"] == "" and lines[0]["note"] == ""

    lines[0].update(label="Contraction ", note="the shooting is the headline")  # typed loosely by hand
    lines[2].update(label="accelerated", note="pipeline survey agreed")  # lines[1] left for later
    exported.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    assert import_label_file(exported, labels_dir, known_ids, "ana", TODAY) == ImportSummary(added=2, blank=1)
    written = read_records(labels_dir / "analyst-ana.jsonl")
    assert written == [
        {"id": "lab-1", "source": "fixture-lab", "label": "contraction", "note": "the shooting is the headline",
         "annotator": "ana", "labeled_at": "2026-05-04"},
        {"id": "lab-3", "source": "fixture-lab", "label": "accelerated", "note": "pipeline survey agreed",
         "annotator": "ana", "labeled_at": "2026-05-04"},
    ]
    labeled = {r.id for r in load_labels(labels_dir, known_ids)}
    assert labeled == {"lab-1", "lab-3", "lab-5"}
    assert "lab-2" in [i.article.id for i in build_queue(store, SCENARIO, "v1", labeled, random_share=0.0)]

    # fill some, import, fill more, import again: only the new row is added; a third import is a no-op
    lines[1].update(label="none", note="sports page")
    exported.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert import_label_file(exported, labels_dir, known_ids, "ana", TODAY) == ImportSummary(added=1, unchanged=2)
    before = snapshot(labels_dir)
    assert import_label_file(exported, labels_dir, known_ids, "ana", TODAY) == ImportSummary(unchanged=3)
    assert snapshot(labels_dir) == before
    assert [r["id"] for r in read_records(labels_dir / "analyst-ana.jsonl")] == ["lab-1", "lab-3", "lab-2"]


def test_a_changed_label_needs_relabel_and_records_who_and_when(labels_dir, known_ids, tmp_path):
    changed = tmp_path / "changed.jsonl"
    changed.write_text('{"id": "lab-5", "source": "fixture-lab", "label": "contraction", "note": "the talks collapsed"}\n',
                       encoding="utf-8")
    before = snapshot(labels_dir)
    with pytest.raises(LabelError, match=r"changed\.jsonl:1: conflicting label \(base vs contraction\).*--relabel"):
        import_label_file(changed, labels_dir, known_ids, "ana", TODAY)
    assert snapshot(labels_dir) == before
    assert import_label_file(changed, labels_dir, known_ids, "ana", TODAY, relabel=True) == ImportSummary(relabeled=1)
    [record] = read_records(labels_dir / "round0.jsonl")  # rewritten where it was, not duplicated elsewhere
    assert record["label"] == "contraction" and record["annotator"] == "ana" and record["labeled_at"] == "2026-05-04"
    assert record["note"] == "the talks collapsed"
    assert record["previous"] == {"label": "base", "note": "ceasefire extended through Pakistan",
                                  "annotator": "labeler-0", "labeled_at": "2026-04-20"}
    assert {r.id: r.label for r in load_labels(labels_dir, known_ids)} == {"lab-5": "contraction"}
    assert not (labels_dir / "analyst-ana.jsonl").exists()
    assert import_label_file(changed, labels_dir, known_ids, "ana", TODAY, relabel=True) == ImportSummary(unchanged=1)


@pytest.mark.parametrize("empty", ['"  "', "null"])
def test_a_labeled_row_without_a_reason_is_refused(empty, labels_dir, known_ids, tmp_path):
    path = tmp_path / "no-reason.jsonl"
    path.write_text('{"id": "lab-7", "source": "fixture-lab", "label": "none", "note": "sport"}\n'
                    f'{{"id": "lab-8", "source": "fixture-lab", "label": "none", "note": {empty}}}\n', encoding="utf-8")
    before = snapshot(labels_dir)
    with pytest.raises(LabelError, match=r"no-reason\.jsonl:2: no reason for id lab-8"):  # null was stored as "None"
        import_label_file(path, labels_dir, known_ids, "ana", TODAY)
    assert snapshot(labels_dir) == before


def test_a_file_saved_with_a_byte_order_mark_imports(labels_dir, known_ids, tmp_path):
    path = tmp_path / "excel.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + '{"id": "lab-7", "source": "fixture-lab", "label": "none", "note": "sport"}\r\n'.encode())
    assert import_label_file(path, labels_dir, known_ids, "ana", TODAY) == ImportSummary(added=1)


def test_a_bom_file_whose_first_row_is_blank_imports_like_the_same_file_without_it(labels_dir, known_ids, tmp_path):
    """Saved with a BOM (Notepad, Excel), a filled export whose first row was still blank was refused "line 1: missing
    field label": the BOM hid that row's JSON from the blank-row test (and its pack from `exported_for`), while the
    same rows without it imported with the blank row counted."""
    from pipeline.labeling import exported_for

    rows = (f'{{"id": "lab-7", "source": "fixture-lab", "label": "", "note": "", "scenario": "{SCENARIO}"}}\n'
            f'{{"id": "lab-8", "source": "fixture-lab", "label": "none", "note": "weather", "scenario": "{SCENARIO}"}}\n')
    with_bom = tmp_path / "excel.jsonl"
    with_bom.write_bytes(b"\xef\xbb\xbf" + rows.encode("utf-8"))
    assert exported_for(with_bom) == (SCENARIO, 1)
    assert import_label_file(with_bom, labels_dir, known_ids, "ana", TODAY) == ImportSummary(added=1, blank=1)
    assert [r["id"] for r in read_records(labels_dir / "analyst-ana.jsonl")] == ["lab-8"]
    plain = tmp_path / "plain.jsonl"
    plain.write_text(rows, encoding="utf-8")
    assert import_label_file(plain, labels_dir, known_ids, "ana", TODAY) == ImportSummary(unchanged=1, blank=1)


def test_a_label_must_name_the_source_its_article_is_stored_under(store, labels_dir, tmp_path):
    """A wrong `source` was accepted whenever the id was in the store, and broke training on every other store."""
    known = KnownIds(tmp_path / "no-shared-data", store.article_sources())
    path = tmp_path / "wrong-source.jsonl"
    path.write_text('{"id": "lab-7", "source": "dawn", "label": "none", "note": "sport"}\n', encoding="utf-8")
    with pytest.raises(LabelError, match=r"wrong-source\.jsonl:1: id lab-7 is in the store under source 'fixture-lab', not 'dawn'"):
        import_label_file(path, labels_dir, known, "ana", TODAY)
    path.write_text('{"id": "feed-only", "source": "feeds", "label": "none", "note": "sport"}\n', encoding="utf-8")
    with pytest.raises(LabelError, match="needs the store it was read into: give it with --db"):
        import_label_file(path, labels_dir, known, "ana", TODAY)


def test_relabeling_twice_keeps_every_earlier_judgment_and_a_corrected_reason_is_a_change(labels_dir, known_ids, tmp_path):
    path = tmp_path / "change.jsonl"
    for label, note, who in (("contraction", "the talks collapsed", "ana"), ("none", "not about the talks", "bo"),
                             ("none", "a market report, not about the talks", "bo")):
        path.write_text(json.dumps({"id": "lab-5", "source": "fixture-lab", "label": label, "note": note}) + "\n", encoding="utf-8")
        assert import_label_file(path, labels_dir, known_ids, who, TODAY, relabel=True) == ImportSummary(relabeled=1)
    [record] = read_records(labels_dir / "round0.jsonl")
    assert (record["label"], record["note"], record["annotator"]) == ("none", "a market report, not about the talks", "bo")
    chain = []
    while record := record.get("previous"):
        chain.append((record["label"], record["note"], record["annotator"]))
    assert chain == [("none", "not about the talks", "bo"), ("contraction", "the talks collapsed", "ana"),
                     ("base", "ceasefire extended through Pakistan", "labeler-0")]


def test_an_annotator_called_analyst_gets_no_doubled_file_name(tmp_path):
    assert analyst_file(tmp_path, "analyst").name == "analyst.jsonl"
    assert analyst_file(tmp_path, "maria").name == "analyst-maria.jsonl"


def test_import_plain_label_records_appends_to_the_analyst_file(labels_dir, known_ids, tmp_path):
    (labels_dir / "analyst-ana.jsonl").write_text(
        '{"id": "lab-6", "source": "fixture-lab", "label": "contraction", "note": "attack", "annotator": "ana", "labeled_at": "2026-04-27"}',
        encoding="utf-8",
    )  # written by hand, without a final newline
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"id": "lab-7", "source": "fixture-lab", "label": "none", "note": "sport"}\n\n'
                     '{"id": "lab-8", "source": "fixture-lab", "label": "none", "note": "weather"}\n', encoding="utf-8")
    assert import_label_file(plain, labels_dir, known_ids, "ana", TODAY).added == 2
    assert [r["id"] for r in read_records(labels_dir / "analyst-ana.jsonl")] == ["lab-6", "lab-7", "lab-8"]


def test_a_file_with_nothing_labeled_yet_imports_nothing(store, labels_dir, known_ids, tmp_path):
    exported = tmp_path / "queue.jsonl"
    export_queue(build_queue(store, SCENARIO, "v1", set(), size=2), exported)
    before = snapshot(labels_dir)
    assert import_label_file(exported, labels_dir, known_ids, "ana", TODAY) == ImportSummary(blank=2)
    assert snapshot(labels_dir) == before


@pytest.mark.parametrize("name, problem", [
    ("unknown-label", "unknown label 'escalation'"),
    ("unknown-id", "unknown id lab-404 for source 'fixture-lab'"),
    ("duplicate", "duplicate label for id lab-2, already labeled at"),
    ("conflict", "conflicting label (base vs contraction) for id lab-5, already labeled at"),
    ("malformed", "not valid JSON"),
])
def test_a_bad_line_fails_the_whole_file_and_writes_nothing(name, problem, labels_dir, known_ids):
    path = FIXTURES / "bad" / f"{name}.jsonl"
    before = snapshot(labels_dir)
    with pytest.raises(LabelError) as caught:
        import_label_file(path, labels_dir, known_ids, "ana", TODAY)
    assert str(caught.value).startswith(f"{path}:3: ")  # line 2, unlabeled, still counts
    assert problem in str(caught.value)
    assert snapshot(labels_dir) == before  # not even line 1 was written


def test_conflict_names_where_the_earlier_label_is(labels_dir, known_ids):
    with pytest.raises(LabelError, match=r"round0\.jsonl:1"):
        import_label_file(FIXTURES / "bad" / "conflict.jsonl", labels_dir, known_ids, "ana", TODAY)


def test_import_refuses_a_missing_file_a_file_inside_the_labels_folder_and_a_bad_annotator(labels_dir, known_ids, tmp_path):
    with pytest.raises(LabelError, match="no such file"):
        import_label_file(tmp_path / "missing.jsonl", labels_dir, known_ids, "ana", TODAY)
    with pytest.raises(LabelError, match="already in the labels folder"):
        import_label_file(labels_dir / "round0.jsonl", labels_dir, known_ids, "ana", TODAY)
    with pytest.raises(ConfigError, match="--annotator"):
        import_label_file(FIXTURES / "bad" / "duplicate.jsonl", labels_dir, known_ids, "../ana", TODAY)


def test_export_does_not_overwrite_filled_labels(store, tmp_path):
    items = build_queue(store, SCENARIO, "v1", set(), size=2)
    path = tmp_path / "queue.jsonl"
    export_queue(items, path)
    export_queue(items, path)  # nothing filled in yet: overwriting loses nothing
    lines = read_records(path)
    lines[0]["label"] = "none"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    with pytest.raises(InputError, match="already has labels filled in"):
        export_queue(items, path)
    assert read_records(path)[0]["label"] == "none"


def test_export_does_not_overwrite_a_filled_file_saved_with_a_byte_order_mark(project):
    """Trial B §4: a filled export saved with a BOM (Notepad, Excel), its first row filled in, was written over by the
    next `--export` ("3 items written"): the filled-in check read the first line as plain UTF-8 and missed it."""
    tmp_path, config, _ = project
    queue = tmp_path / "queue.jsonl"
    assert run(config, "label", "--size", "3", "--export", str(queue)).return_value == 0
    rows = read_records(queue)
    rows[0].update(label="none", note="my careful reason")
    queue.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8-sig")
    saved = queue.read_bytes()
    with pytest.raises(InputError, match="already has labels filled in; import it first"):
        run(config, "label", "--size", "3", "--export", str(queue))
    assert queue.read_bytes() == saved


# ---------------------------------------------------------------- interactive

class Script:
    """Answers prompts from a list; an exception in the list is raised instead of answered."""

    def __init__(self, answers, on_ask=None):
        self.answers, self.prompts, self.on_ask = list(answers), [], on_ask

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if self.on_ask:
            self.on_ask(len(self.prompts))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def test_interactive_loop_records_skips_requires_a_reason_and_quits(store, labels_dir):
    items = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=20, random_share=0.0)  # lab-1, lab-2, lab-3, ...
    target = labels_dir / "analyst-ana.jsonl"
    shown: list[str] = []

    def check_saved_as_we_go(n_prompts):
        if n_prompts == 6:  # the prompt for lab-2: lab-1's label is on disk already
            assert [r["id"] for r in read_records(target)] == ["lab-1"]

    ask = Script(["x", "b", "", "  ", "ceasefire talks  went ahead", "s", "c", "border shooting is the headline", "q"],
                 on_ask=check_saved_as_we_go)
    saved = label_interactively(items, labels_dir, "ana", ask=ask, say=shown.append, today=TODAY)

    assert saved == 2
    assert read_records(target) == [
        {"id": "lab-1", "source": "fixture-lab", "label": "base", "note": "ceasefire talks went ahead",
         "annotator": "ana", "labeled_at": "2026-05-04"},
        {"id": "lab-3", "source": "fixture-lab", "label": "contraction", "note": "border shooting is the headline",
         "annotator": "ana", "labeled_at": "2026-05-04"},
    ]
    assert ask.prompts == [PROMPT, PROMPT, REASON_PROMPT, REASON_PROMPT, REASON_PROMPT, PROMPT, PROMPT, REASON_PROMPT, PROMPT]
    text = "\n".join(shown)
    assert "[1/7] Iran and Pakistan officials meet as border guards trade fire" in text
    assert "model: base (base 0.40 | accelerated 0.12 | contraction 0.38 | none 0.10)" in text
    assert "- A shooting near the Taftan crossing." in text
    assert "type b, a, c or n" in text and "a reason is required" in text
    assert "Karachi stocks close flat" in text  # lab-4 was shown, then q
    assert load_labels(labels_dir)  # the file it wrote validates with the others


@pytest.mark.parametrize("interrupt", [EOFError(), KeyboardInterrupt(), "q"])
def test_leaving_midway_keeps_what_was_recorded(interrupt, store, labels_dir):
    items = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=20, random_share=0.0)
    ask = Script(["n", "stock market only", "a", interrupt])  # gone (or q) while asked for lab-2's reason
    shown: list[str] = []
    if isinstance(interrupt, KeyboardInterrupt):  # Ctrl-C or SIGTERM: passed on, so the command exits as stopped
        with pytest.raises(KeyboardInterrupt):
            label_interactively(items, labels_dir, "ana", ask=ask, say=shown.append, today=TODAY)
    else:  # q at the reason prompt quits without saving that label (it was saved with the reason "q")
        assert label_interactively(items, labels_dir, "ana", ask=ask, say=shown.append, today=TODAY) == 1
    assert [(r["id"], r["label"]) for r in read_records(labels_dir / "analyst-ana.jsonl")] == [("lab-1", "none")]
    assert shown[-1].startswith("1 label saved to ")


def test_an_answer_to_an_item_someone_labeled_while_it_was_on_screen_is_not_saved(store, labels_dir, known_ids):
    """Two analysts on the same queue: bo imports a label for lab-1 while it is on ana's screen. Ana's answer was
    saved too, and the two conflicting lines then stopped every label and train command for the whole team."""
    items = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=20, random_share=0.0)
    assert items[0].article.id == "lab-1"

    def bo_labels_lab_1(n_prompts):
        if n_prompts == 2:  # ana has chosen a label for lab-1 and is asked her reason
            (labels_dir / "analyst-bo.jsonl").write_text(
                '{"id": "lab-1", "source": "fixture-lab", "label": "contraction", "note": "shooting first", '
                '"annotator": "bo", "labeled_at": "2026-05-04"}\n', encoding="utf-8")

    shown: list[str] = []
    ask = Script(["b", "talks went ahead", "n", "traders only", "q"], on_ask=bo_labels_lab_1)
    assert label_interactively(items, labels_dir, "ana", ask=ask, say=shown.append, today=TODAY) == 1
    assert "labeled meanwhile at" in "\n".join(shown) and "(contraction): your answer was not saved" in "\n".join(shown)
    assert {r.id: r.label for r in load_labels(labels_dir, known_ids)} == {"lab-1": "contraction", "lab-2": "none",
                                                                          "lab-5": "base"}


def test_the_prompt_shows_the_link_the_text_and_why_the_item_is_queued(store, labels_dir):
    store.add_articles([replace(store.articles(["lab-4"])[0], text="Shares in the oil sector rose as traders bet on the talks. " * 3)])
    store.save_analysis([], [Prediction("lab-4", SCENARIO, "v1", "none", {"base": 0.1, "accelerated": 0.1,
                                                                          "contraction": 0.1, "none": 0.7}, [])])
    items = [i for i in build_queue(store, SCENARIO, "v1", set(), size=20, random_share=0.0) if i.article.id == "lab-4"]
    shown: list[str] = []
    label_interactively(items, labels_dir, "ana", ask=Script(["q"]), say=shown.append, today=TODAY)
    text = "\n".join(shown)
    assert "http://127.0.0.1/lab/4" in text
    assert "Traders waited for news from the talks." in text  # the summary
    assert "text: Shares in the oil sector rose" in text  # and the text: the guide reads all three
    assert "in the queue as the model is unsure" in text


def test_interactive_passes_over_an_item_labeled_meanwhile(store, labels_dir):
    items = build_queue(store, SCENARIO, "v1", set(), size=20, random_share=0.0)
    assert "lab-5" in [i.article.id for i in items]  # built without the labeled ids on purpose
    start = [i.article.id for i in items].index("lab-5")
    shown: list[str] = []
    ask = Script(["q"])
    label_interactively(items[start:], labels_dir, "ana", ask=ask, say=shown.append, today=TODAY)
    assert "already labeled at" in "\n".join(shown)
    assert not (labels_dir / "analyst-ana.jsonl").exists()
    assert shown[-1] == "no label saved"  # it had said "0 labels saved to …/analyst-ana.jsonl", a file never written


# ---------------------------------------------------------------- the command

@pytest.fixture
def project(tmp_path):
    """Settings in a TOML file: the fixture store, a labels folder with the real scenario pack, an
    active model in a registry (the file itself is never loaded by `label`), no shared data."""
    db = build_store(tmp_path / "signals.duckdb")
    labels_root = tmp_path / "labels"
    (labels_root / SCENARIO / "labels").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "labels" / SCENARIO / "scenario.toml", labels_root / SCENARIO)
    shutil.copy(FIXTURES / "existing" / "round0.jsonl", labels_root / SCENARIO / "labels")
    models = tmp_path / "models"
    models.mkdir()
    entry = {"version": "v1", "scenario": SCENARIO, "file": "x/model.joblib", "sha256": "", "created": "",
             "label_hash": "", "git_commit": "", "libraries": {}, "recipe": "", "metrics": {}, "status": "active"}
    (models / "registry.json").write_text(json.dumps({"models": [entry]}), encoding="utf-8")
    config = tmp_path / "signals.toml"
    config.write_text(f'db = "{db}"\nlabels_dir = "{labels_root}"\nmodels_dir = "{models}"\n'
                      f'shared_data = "{tmp_path / "no-shared-data"}"\n', encoding="utf-8")
    return tmp_path, config, labels_root / SCENARIO / "labels"


def run(config: Path, *argv: str) -> Result:
    return invoke("--config", config, *argv)


def test_label_command_exports_then_imports(project):
    tmp_path, config, labels_dir = project
    queue = tmp_path / "week19.jsonl"
    assert run(config, "label", "--size", "3", "--export", str(queue)).return_value == 0
    lines = read_records(queue)
    assert len(lines) == 3 and "lab-5" not in {line["id"] for line in lines}
    assert lines[0]["id"] == "lab-1"
    lines[0].update(label="contraction", note="shooting first")
    queue.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    with pytest.raises(ConfigError, match="--annotator NAME"):
        run(config, "label", "--import", str(queue))  # who is labeling must be said, not guessed
    result = run(config, "label", "--import", str(queue), "--annotator", "ana")
    assert result.return_value == 0
    assert "1 added, 0 relabeled, 0 already imported, 2 blank (no label yet)" in result.stdout
    with config.open("a", encoding="utf-8") as handle:
        handle.write('annotator = "ana"\n')
    result = run(config, "label", "--import", str(queue))  # the name from the settings; a no-op
    assert result.return_value == 0
    assert "0 added, 0 relabeled, 1 already imported, 2 blank" in result.stdout
    assert [r["id"] for r in read_records(labels_dir / "analyst-ana.jsonl")] == ["lab-1"]
    run(config, "label", "--size", "3", "--export", str(tmp_path / "week20.jsonl"))
    assert "lab-1" not in {line["id"] for line in read_records(tmp_path / "week20.jsonl")}


def test_an_interactive_session_ends_on_what_to_do_next(project):
    """Trial: `--import` said how many labels the pack still needs before 'signals train', or to retrain; labeling
    in the terminal ended on the count alone."""
    from click.testing import CliRunner

    from pipeline.cli import app

    tmp_path, config, labels_dir = project
    result = CliRunner().invoke(app, ["--config", str(config), "label", "--size", "2", "--annotator", "ana"],
                                input="c\nshooting at the crossing\nq\n", catch_exceptions=False, standalone_mode=False)
    assert result.return_value == 0
    lines = result.stdout.splitlines()
    assert lines[-2].endswith(f"> 1 label saved to {labels_dir / 'analyst-ana.jsonl'}")  # after the prompt q answered
    assert lines[-1] == f"2 labels in pack {SCENARIO}: label 48 more, then run 'signals train' (it trains from 50)"


def test_labels_the_pack_keeps_aside_are_never_queued_nor_trained_on(project):
    """Trial B §2: all 10 items of a queue had a reasoned label in the pack's `held-out-round6/` (read, and kept out
    of training by the team's decision): the analyst read them again, and importing the labels would have trained
    on them. Label records in any folder of the pack beside `labels/` count as read; rows without a label (an
    audit's notes) do not."""
    tmp_path, config, labels_dir = project
    held_out = labels_dir.parent / "held-out-round6"
    held_out.mkdir()
    (held_out / "round6-batch22.jsonl").write_text("".join(
        json.dumps({"id": i, "source": "fixture-lab", "label": label, "note": "read, held out"}) + "\n"
        for i, label in (("lab-1", "none"), ("lab-3", "contraction"))), encoding="utf-8")
    (labels_dir.parent / "agreement").mkdir()
    (labels_dir.parent / "agreement" / "audit.jsonl").write_text(
        json.dumps({"id": "lab-2", "recorded": "base", "decision": "base"}) + "\n", encoding="utf-8")
    queue = tmp_path / "queue.jsonl"
    assert run(config, "label", "--size", "20", "--export", str(queue)).return_value == 0
    queued = {r["id"] for r in read_records(queue)}
    assert "lab-2" in queued and not queued & {"lab-1", "lab-3", "lab-5"}
    assert {r.id for r in load_labels(labels_dir)} == {"lab-5"}  # still not labels to train on


def test_an_export_into_a_labels_folder_is_refused_before_anything_is_written(project):
    """Trial B §3: `label --export labels/<pack>/labels/queue.jsonl` wrote the blank queue there, where every *.jsonl
    is read as labels: label, train and the retrain flow all stopped at `queue.jsonl:1: missing field label`, and
    the import the export's line suggested was refused (the file was in the labels folder)."""
    tmp_path, config, labels_dir = project
    other_labels = add_other_pack(project, "")
    other_labels.mkdir()
    before = snapshot(labels_dir)
    for folder in (labels_dir, other_labels):
        for second_pass in ((), ("--second-pass",)):
            with pytest.raises(InputError) as refused:
                run(config, "label", "--export", str(folder / "queue.jsonl"), *second_pass)
            assert str(refused.value) == (f"{folder / 'queue.jsonl'}: is in the labels folder {folder}, where every *.jsonl "
                                          "is read as labels (its blank rows would stop 'signals label' and 'train'); "
                                          "export to a file outside it")
    assert snapshot(labels_dir) == before and list(other_labels.iterdir()) == []
    assert run(config, "label", "--size", "2", "--export", str(tmp_path / "queue.jsonl")).return_value == 0


def test_a_blind_second_pass_exports_labeled_items_and_gives_the_agreement(project):
    """Two analysts could not measure their agreement through the tool: the prompt and export always show the model's
    call, and the queue never offers a labeled item. A second pass exports labeled items blind."""
    import subprocess
    import sys

    tmp_path, config, labels_dir = project
    first = tmp_path / "first.jsonl"
    first.write_text("".join(json.dumps({"id": f"lab-{i}", "source": "fixture-lab", "label": label, "note": "read"}) + "\n"
                             for i, label in ((1, "base"), (2, "contraction"), (3, "base"), (4, "none"))), encoding="utf-8")
    assert run(config, "label", "--import", str(first), "--annotator", "ana").return_value == 0
    second = tmp_path / "second.jsonl"
    result = run(config, "label", "--second-pass", "--size", "4", "--export", str(second))
    assert result.return_value == 0 and "scripts/agreement.py" in result.stdout
    rows = read_records(second)
    assert len(rows) == 4 and {r["id"] for r in rows} <= {"lab-1", "lab-2", "lab-3", "lab-4", "lab-5"}
    assert all(r["label"] == "" and not {"guess", "probabilities", "evidence"} & set(r) for r in rows)  # blind
    given = {"lab-1": "base", "lab-2": "contraction", "lab-3": "base", "lab-4": "none", "lab-5": "base"}
    for row in rows:  # bo agrees with every first label but the first row's
        row.update(label=given[row["id"]], note="second reading")
    rows[0]["label"] = "accelerated"  # no first label is accelerated
    rows[-1]["label"] = ""  # not judged yet: left out
    second.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "agreement.py"), "--labels", str(labels_dir),
                           "--second", str(second)], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert (figures["n"], figures["agreement"]) == (3, round(2 / 3, 4))
    with pytest.raises(click.UsageError, match="--second-pass writes a file for a second analyst"):
        run(config, "label", "--second-pass")


def test_label_command_options(project):
    tmp_path, config, _ = project
    filled = tmp_path / "b.jsonl"
    filled.write_text("", encoding="utf-8")
    with pytest.raises(UsageError, match="--export and --import cannot be used together"):
        run(config, "label", "--export", tmp_path / "a.jsonl", "--import", filled)
    with pytest.raises(click.BadParameter, match="expected a whole number of at least 1"):
        run(config, "label", "--size", "0")
    with pytest.raises(click.UsageError, match="--relabel changes labels from a filled file: use it with --import FILE"):
        run(config, "label", "--relabel", "--export", tmp_path / "a.jsonl")  # was accepted and ignored
    (tmp_path / "models" / "registry.json").write_text('{"models": []}', encoding="utf-8")
    # no active model (a new pack): the queue comes from the predictions the store holds (zero-shot, for a new pack)
    assert run(config, "label", "--size", "2", "--export", str(tmp_path / "q.jsonl")).return_value == 0
    assert len(read_records(tmp_path / "q.jsonl")) == 2
    empty = tmp_path / "empty.duckdb"
    Store(empty).close()
    with pytest.raises(ModelError, match="no predictions for scenario iran-pakistan-2026 in the store yet; run 'signals import'"):
        run(config, "--db", str(empty), "label", "--export", str(tmp_path / "q2.jsonl"))


def test_a_relabel_keeps_a_file_whose_note_holds_a_line_separator_whole(labels_dir, known_ids, tmp_path):
    """Notes are written with ensure_ascii=False, so U+2028 stays raw in the file: the relabel read the file with
    splitlines(), which also splits there, and rewrote the wrong lines (a record cut in two, a label lost)."""
    (labels_dir / "analyst-ana.jsonl").write_text(
        json.dumps({"id": "lab-1", "source": "fixture-lab", "label": "base", "note": "talks\u2028went ahead"},
                   ensure_ascii=False) + "\n"
        + json.dumps({"id": "lab-2", "source": "fixture-lab", "label": "none", "note": "postponed"}) + "\n",
        encoding="utf-8")
    change = tmp_path / "change.jsonl"
    change.write_text(json.dumps({"id": "lab-2", "source": "fixture-lab", "label": "contraction", "note": "talks off"}) + "\n",
                      encoding="utf-8")
    assert import_label_file(change, labels_dir, known_ids, "bo", TODAY, relabel=True) == ImportSummary(relabeled=1)
    assert {r.id: (r.label, r.note) for r in load_labels(labels_dir, known_ids)} == {
        "lab-1": ("base", "talks\u2028went ahead"), "lab-2": ("contraction", "talks off"), "lab-5": ("base", "ceasefire extended through Pakistan")}


def test_a_save_waits_for_another_analysts_save_in_progress_and_sees_it(store, labels_dir, known_ids):
    """The re-read before a save left a window: bo's import could write between ana's check and ana's append. The
    check and the write now happen under the labels folder's lock, so ana waits for bo's write and then sees it."""
    import threading
    import time

    from pipeline.labeling import labels_locked

    items = build_queue(store, SCENARIO, "v1", {"lab-5"}, size=20, random_share=0.0)
    holding, bo = threading.Event(), None

    def bo_saves_slowly():
        with labels_locked(labels_dir):
            holding.set()
            time.sleep(0.5)  # ana's save comes in now, and must wait
            (labels_dir / "analyst-bo.jsonl").write_text(
                '{"id": "lab-1", "source": "fixture-lab", "label": "none", "note": "not about the talks"}\n', encoding="utf-8")

    def start_bo(n_prompts):
        nonlocal bo
        if n_prompts == 2:  # ana is giving her reason for lab-1; bo's write is already under way
            bo = threading.Thread(target=bo_saves_slowly)
            bo.start()
            holding.wait(5)

    shown: list[str] = []
    assert label_interactively(items, labels_dir, "ana", ask=Script(["b", "talks went ahead", "q"], on_ask=start_bo),
                               say=shown.append, today=TODAY) == 0
    bo.join(5)
    assert "labeled meanwhile at" in "\n".join(shown)
    assert {r.id: r.label for r in load_labels(labels_dir, known_ids)}["lab-1"] == "none"


def test_an_export_files_its_labels_in_its_own_pack_whatever_the_default_pack(project):
    """Exported with --scenario, imported with the command the export printed (no --scenario): the labels went to
    the default pack, and the conflict that followed advised --relabel, which rewrote that pack's labels."""
    tmp_path, config, labels_dir = project
    other = add_other_pack(project, 'scenario = "other-pack"').parent  # the default pack is another one
    queue = tmp_path / "queue.jsonl"
    exported = run(config, "label", "--scenario", SCENARIO, "--size", "2", "--export", str(queue))
    assert exported.stdout.endswith(f"then run 'signals label --import {queue}'\n")
    lines = read_records(queue)
    assert {line["scenario"] for line in lines} == {SCENARIO}
    lines[0].update(label="none", note="not about the scenario")
    queue.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    with pytest.raises(InputError, match=rf"{queue.name}:1: exported for pack '{SCENARIO}', not 'other-pack'; "
                                         rf"import it with --scenario {SCENARIO}"):
        run(config, "label", "--scenario", "other-pack", "--import", str(queue))
    result = run(config, "label", "--import", str(queue))
    assert result.return_value == 0
    assert f"new labels of pack {SCENARIO} in {labels_dir / 'analyst-ana.jsonl'}" in result.stdout
    assert f"then run 'signals train --scenario {SCENARIO}' (it trains from 50)" in result.stdout
    assert [r["id"] for r in read_records(labels_dir / "analyst-ana.jsonl")] == [lines[0]["id"]]
    assert not (other / "labels").exists()


def add_other_pack(project, setting: str) -> Path:
    """A second pack, "other-pack" (the shipped pack's cases under another id), and `setting` with the annotator
    added to the settings; returns its labels folder (not made yet: its first import makes it)."""
    tmp_path, config, labels_dir = project
    other = labels_dir.parent.parent / "other-pack"
    other.mkdir()
    (other / "scenario.toml").write_text((labels_dir.parent / "scenario.toml").read_text(encoding="utf-8").replace(
        f'id = "{SCENARIO}"', 'id = "other-pack"'), encoding="utf-8")
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f'{setting}\nannotator = "ana"\n')
    return other / "labels"


def watch_a_second_pack(project) -> Path:
    """Settings that watch the shipped pack and a second one, as a team with a second scenario has them."""
    return add_other_pack(project, f'scenarios = ["{SCENARIO}", "other-pack"]')


def test_a_file_naming_no_pack_is_refused_with_two_packs_watched_and_filed_in_the_pack_given(project):
    """A trial analyst's hand-written file for the second pack ({id, source, label, note}: no `scenario`) was checked
    against the default pack: refused as a conflict with one of its labels, and the advice, --relabel, rewrote the
    shipped pack's label with the other scenario's judgment."""
    tmp_path, config, labels_dir = project
    other_labels = watch_a_second_pack(project)
    hand = tmp_path / "border.jsonl"
    hand.write_text(json.dumps({"id": "lab-5", "source": "fixture-lab", "label": "contraction", "note": "border clash"}) + "\n"
                    + json.dumps({"id": "lab-1", "source": "fixture-lab", "label": "none", "note": "not about the border"})
                    + "\n", encoding="utf-8")
    before = snapshot(labels_dir)
    for relabel in ((), ("--relabel",)):
        with pytest.raises(InputError) as refused:
            run(config, "label", "--import", str(hand), *relabel)
        assert str(refused.value) == (f"{hand}: no row names its pack (no 'scenario' field) and 2 packs are watched "
                                      f"({SCENARIO}, other-pack); name the pack its labels are for: --scenario NAME")
    assert snapshot(labels_dir) == before and not other_labels.exists()

    with pytest.raises(LabelError) as conflict:  # meant for the shipped pack after all: the refusal names it
        run(config, "label", "--import", str(hand), "--scenario", SCENARIO)
    assert (f"{hand}:1: conflicting label (base vs contraction) for id lab-5, already labeled in pack {SCENARIO} at "
            f"{labels_dir / 'round0.jsonl'}:1; import with --relabel") in str(conflict.value)
    result = run(config, "label", "--import", str(hand), "--scenario", "other-pack")
    assert result.return_value == 0 and f"new labels of pack other-pack in {other_labels / 'analyst-ana.jsonl'}" in result.stdout
    assert [(r["id"], r["label"]) for r in read_records(other_labels / "analyst-ana.jsonl")] == [("lab-5", "contraction"),
                                                                                                   ("lab-1", "none")]
    assert snapshot(labels_dir) == before  # the shipped pack's labels are untouched


def test_a_second_pass_export_names_its_pack_and_is_never_filed_in_another(project):
    """The blind second pass was written without `scenario`, so a second analyst who imported it with `signals label
    --import` had it checked against, and filed in, the default pack: the other scenario's judgments landed there.
    Its rows name their pack; and import now refuses a second pass altogether (see the next test)."""
    tmp_path, config, labels_dir = project
    other_labels = watch_a_second_pack(project)
    first = tmp_path / "first.jsonl"
    first.write_text("".join(json.dumps({"id": f"lab-{i}", "source": "fixture-lab", "label": label, "note": "read"}) + "\n"
                             for i, label in ((1, "base"), (2, "contraction"))), encoding="utf-8")
    assert run(config, "label", "--import", str(first), "--scenario", "other-pack").return_value == 0
    before = snapshot(labels_dir)

    second = tmp_path / "second.jsonl"
    assert run(config, "label", "--second-pass", "--scenario", "other-pack", "--export", str(second)).return_value == 0
    rows = read_records(second)
    assert sorted(r["id"] for r in rows) == ["lab-1", "lab-2"] and {r["scenario"] for r in rows} == {"other-pack"}
    for row in rows:
        row.update(label="none", note="second reading")  # bo disagrees with both first labels
    second.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    other_before = snapshot(other_labels)
    with pytest.raises(LabelError, match=rf"a blind second pass .* --labels {re.escape(str(other_labels))} --second"):
        run(config, "label", "--import", str(second), "--annotator", "bo")
    assert snapshot(labels_dir) == before and snapshot(other_labels) == other_before  # nothing filed anywhere


def test_a_second_pass_gives_a_command_that_runs_anywhere_and_is_never_imported_as_labels(project):
    """Trial B §8: the second pass printed `python scripts/agreement.py …`, which fails outside the checkout (no
    scripts/) and with a plain python (no scikit-learn); run before any row was filled, agreement.py said "no labeled
    row names an item of the label set", as if the ids were wrong; and the export's docstring invited importing the
    filled file, which (with --relabel, as the first conflict advises) overwrites the first reader's labels."""
    import os
    import shlex
    import subprocess

    tmp_path, config, labels_dir = project
    analyst = tmp_path / "analyst"
    analyst.mkdir()
    second = analyst / "second.jsonl"
    result = run(config, "label", "--second-pass", "--size", "1", "--export", str(second))
    line = result.stdout.rstrip("\n")
    assert "\n" not in line and "do not --import it" in line
    command = shlex.split(line.split("then the agreement: ", 1)[1])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def agreement() -> subprocess.CompletedProcess:
        return subprocess.run(command, capture_output=True, text=True, cwd=analyst, env=env, timeout=120)

    done = agreement()  # from the analyst's folder, nothing filled in yet
    assert done.returncode == 1
    assert done.stderr.strip() == f"{second}: no row has a label yet (1 blank); fill in 'label' and 'note' first, then run this again"
    [row] = read_records(second)
    assert row["id"] == "lab-5" and row["second_pass"] is True
    row.update(label="contraction", note="second reading: the clash is the news")
    second.write_text(json.dumps(row) + "\n", encoding="utf-8")
    done = agreement()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["n"] == 1

    before = snapshot(labels_dir)
    for relabel in ((), ("--relabel",)):
        with pytest.raises(LabelError) as refused:
            run(config, "label", "--import", str(second), "--annotator", "bo", *relabel)
        assert str(refused.value).startswith(f"{second}:1: a blind second pass (exported with --second-pass) measures "
                                             "agreement and adds no labels")
        assert str(refused.value).endswith(shlex.join(command)) and "\n" not in str(refused.value)
    assert snapshot(labels_dir) == before


@pytest.mark.parametrize("second_label", ["base", "contraction"])
def test_a_file_naming_one_id_twice_is_refused_before_anything_is_written(second_label, project):
    """Trial B §1: `--import --relabel` with one id on two rows rewrote the first row's label in place, appended the
    second as a new label, then failed on its own recount: two labels for one id stopped every later label, import
    and train command until the file was edited by hand. The repeat is refused first, naming both lines."""
    tmp_path, config, labels_dir = project
    first = tmp_path / "a.jsonl"
    first.write_text(json.dumps({"id": "lab-1", "source": "fixture-lab", "label": "none", "note": "fuel update"}) + "\n",
                     encoding="utf-8")
    assert run(config, "label", "--import", str(first), "--annotator", "ana").return_value == 0
    twice = tmp_path / "b.jsonl"
    twice.write_text("".join(json.dumps({"id": "lab-1", "source": "fixture-lab", "label": label, "note": note}) + "\n"
                             for label, note in (("base", "correction A"), (second_label, "correction A again"))),
                     encoding="utf-8")
    before = snapshot(labels_dir)
    for relabel in (("--relabel",), ()):
        with pytest.raises(LabelError) as refused:
            run(config, "label", "--import", str(twice), "--annotator", "ana", *relabel)
        assert str(refused.value).startswith(f"{twice}:2: ") and f"already labeled at {twice}:1;" in str(refused.value)
        assert "\n" not in str(refused.value)
        assert snapshot(labels_dir) == before
    assert run(config, "label", "--size", "2", "--export", str(tmp_path / "q.jsonl")).return_value == 0  # labels whole


def test_a_pack_name_that_names_no_pack_is_refused_naming_the_file_and_line(project):
    """Trial B §7: a row whose `scenario` named a missing pack was refused as `labels/no-such-pack: no scenario pack
    here`, naming neither the file nor the row it came from; a list was shown as `labels/['iran-pakistan-2026']`,
    and `../labels/iran-pakistan-2026` was accepted and read as a path."""
    tmp_path, config, labels_dir = project
    root = labels_dir.parent.parent
    blank = {"id": "lab-7", "source": "fixture-lab", "label": "", "note": ""}
    row = {"id": "lab-8", "source": "fixture-lab", "label": "none", "note": "weather"}
    before = snapshot(labels_dir)
    for named, expected in [
        ("no-such-pack", f":2: this row was exported for pack 'no-such-pack', and {root} holds no pack of that name "
                         f"(it holds {SCENARIO}); correct its 'scenario' field"),
        ([SCENARIO], f':2: \'scenario\' is ["{SCENARIO}"], not a pack\'s name (it is not a text); it names the pack the '
                     "row was exported for: correct it"),
        (f"../labels/{SCENARIO}", f":2: 'scenario' is \"../labels/{SCENARIO}\", not a pack's name (it holds the path "
                                  "separator '/')"),
    ]:
        filled = tmp_path / "filled.jsonl"
        filled.write_text(json.dumps(blank) + "\n" + json.dumps(row | {"scenario": named}) + "\n", encoding="utf-8")
        for scenario in ((), ("--scenario", SCENARIO)):
            with pytest.raises((InputError, LabelError)) as refused:
                run(config, "label", "--import", str(filled), "--annotator", "ana", *scenario)
            assert str(refused.value).startswith(f"{filled}{expected}"), str(refused.value)
    assert snapshot(labels_dir) == before


def test_a_reworded_reason_without_relabel_is_counted_and_pointed_to_relabel(project):
    """Trial B §6: a row whose label was unchanged but whose reason was reworded, imported without --relabel, was
    counted "already imported": the stored reason stayed as it was, and nothing said the new one was dropped."""
    tmp_path, config, labels_dir = project
    filled = tmp_path / "filled.jsonl"
    rows = [{"id": "lab-1", "source": "fixture-lab", "label": "none", "note": "UAE rain: weather, unrelated"},
            {"id": "lab-2", "source": "fixture-lab", "label": "none", "note": "sport"}]
    filled.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert run(config, "label", "--import", str(filled), "--annotator", "ana").return_value == 0
    rows[0]["note"] = "UAE rain: weather, unrelated (reworded)"
    filled.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    before = snapshot(labels_dir)
    result = run(config, "label", "--import", str(filled), "--annotator", "ana")
    assert result.stdout == (f"{filled}: 0 added, 0 relabeled, 1 already imported, 0 blank (no label yet), "
                             "1 with a changed reason: import with --relabel to record it\n")
    assert snapshot(labels_dir) == before
    result = run(config, "label", "--import", str(filled), "--annotator", "ana", "--relabel")
    assert "0 added, 1 relabeled, 1 already imported, 0 blank (no label yet); " in result.stdout
    assert [r["note"] for r in read_records(labels_dir / "analyst-ana.jsonl")][0] == rows[0]["note"]


def test_the_import_summary_says_how_many_labels_a_pack_still_needs_to_train(project):
    """A trial pack had 30 labels after an import, which said "run 'signals train --scenario …' to retrain"; train
    then refused it (it needs 50). The summary names the count still missing, and asks for train from 50 on."""
    tmp_path, config, labels_dir = project
    filled = tmp_path / "filled.jsonl"
    filled.write_text(json.dumps({"id": "lab-1", "source": "fixture-lab", "label": "none", "note": "sport"}) + "\n",
                      encoding="utf-8")
    result = run(config, "label", "--import", str(filled), "--annotator", "ana")
    assert result.stdout.endswith("; 2 labels in pack iran-pakistan-2026: label 48 more, then run 'signals train' "
                                  "(it trains from 50)\n")  # round0's label and this one
    (labels_dir / "earlier.jsonl").write_text("".join(  # 47 more labels, as a team's earlier rounds
        json.dumps({"id": f"old-{n}", "source": "fixture-lab", "label": "none", "note": "read"}) + "\n" for n in range(47)),
        encoding="utf-8")
    filled.write_text(json.dumps({"id": "lab-2", "source": "fixture-lab", "label": "base", "note": "talks"}) + "\n",
                      encoding="utf-8")
    result = run(config, "label", "--import", str(filled), "--annotator", "ana")
    # 50 labels, but train also needs 10 articles of the cases among them (a review found "to retrain" said here)
    short = re.search(r"; (\d+) of the 50 labels in pack iran-pakistan-2026 are articles of its cases: label (\d+) more of "
                      r"them, then run 'signals train' \(it trains from 10\)\n$", result.stdout)
    assert short and int(short.group(1)) + int(short.group(2)) == 10 and int(short.group(1)) < 10, result.stdout
    (labels_dir / "earlier.jsonl").write_text("".join(
        json.dumps({"id": f"old-{n}", "source": "fixture-lab", "label": "base" if n < 10 else "none", "note": "read"}) + "\n"
        for n in range(47)), encoding="utf-8")
    filled.write_text(json.dumps({"id": "lab-3", "source": "fixture-lab", "label": "none", "note": "sport"}) + "\n",
                      encoding="utf-8")
    result = run(config, "label", "--import", str(filled), "--annotator", "ana")
    assert result.stdout.endswith("; run 'signals train' to retrain\n")  # 51 labels, 11 or more of them cases: enough


def test_the_agreement_line_is_valid_json_when_a_class_went_unused(tmp_path):
    """Neither pass labeled anything accelerated: its kappa is undefined, and the script's last line printed
    `"kappa": NaN`, which is not JSON (a strict reader refuses it). It is null, and the table says n/a."""
    import subprocess
    import sys

    def write(path: Path, labels: list[str]) -> Path:
        path.write_text("".join(json.dumps({"id": f"lab-{i}", "source": "fixture-lab", "label": label, "note": "read"})
                                + "\n" for i, label in enumerate(labels, start=1)), encoding="utf-8")
        return path

    first = write(tmp_path / "first.jsonl", ["base", "contraction", "none", "none"])
    second = write(tmp_path / "second.jsonl", ["base", "none", "none", "none"])
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "agreement.py"), "--first", str(first),
                           "--second", str(second)], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr

    def refuse(constant: str):
        raise ValueError(f"{constant} is not JSON")

    figures = json.loads(done.stdout.strip().splitlines()[-1], parse_constant=refuse)
    assert figures["per_class"]["accelerated"] == {"first": 0, "second": 0, "both": 0, "kappa": None}
    assert figures["per_class"]["base"]["kappa"] == 1.0 and figures["n"] == 4
    assert "| accelerated | 0 | 0 | 0 | n/a |" in done.stdout
