"""The jobs the CLI and the Prefect flows run, built from the stage functions.

`Runtime` holds what a job loads once (settings, scenario pack, spaCy
pipeline, active model). Each job is a short sequence of stage calls:

    ingest:   read sources -> store articles -> full text of stubs (when on) -> stories -> NLP + classify pending
              -> daily signals
    retrain:  labels -> texts -> NLP -> train + evaluate -> register (promote if better beyond the noise, then refit on every label)
    predict:  JSONL in -> NLP -> classify -> JSONL out (no store)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from . import classify, nlp as nlp_stage
from .errors import InputError, ModelError, ScenarioError
from .feeds import fetch_feed
from .files import expand_paths, read_jsonl, read_local, written_articles
from .fulltext import fill_full_text, is_stub
from .http import http_client
from .identity import is_url, url_scheme
from .labels import MIN_CASE_LABELS, MIN_LABELS, LabelRecord, known_ids, label_set_hash, load_labels, load_shared_articles
from .records import (CASES, LABELS, Article, FeedFailure, FeedOutcome, FeedState, GateCount, NlpResult, PageRead, Prediction,
                      RunSummary, SkippedFeed)
from .odds import refit_recall_source
from .registry import ModelEntry, Registry, file_sha256
from .scenario import Relevance, Scenario, load_scenario
from .settings import PROJECT_ROOT, Settings
from .store import Store, utcnow
from .stories import update_stories
from .text import clean_text

Progress = Callable[[int, int], None]
POLL_INTERVAL = timedelta(minutes=30)
MAX_BACKOFF = timedelta(hours=12)


@dataclass
class Runtime:
    """Everything a job loads once, for one scenario pack. Properties load lazily, so `signals trend` never
    loads spaCy. With several packs (`settings.scenarios`), `packs` holds one Runtime per pack; they borrow
    this one's spaCy pipeline and encoder (`shared`), so an ingest parses each article once."""

    settings: Settings
    shared: "Runtime | None" = None  # the runtime whose spaCy pipeline and encoder this pack's runtime uses
    gates: dict[str, GateCount] | None = None  # during an ingest, the summary's: what `classify` counts its gate into

    @cached_property
    def scenario(self) -> Scenario:
        folder = self.settings.scenario_dir
        if self.shared is not None and not (folder / "scenario.toml").exists():
            # another watched pack than the one asked for: the user never named it, so say why it is read at all
            where = self.settings.origin("scenarios")
            listed = where if where.startswith("SIGNALS_") else f"'scenarios' in {where}"
            raise ScenarioError(f"{folder}: no scenario pack here; pack '{self.settings.scenario}' is watched (listed in "
                                f"{listed}), and every command that parses news reads each watched pack: restore its "
                                "folder, or remove it from there")
        return load_scenario(folder)

    @cached_property
    def packs(self) -> list["Runtime"]:
        """One runtime per watched pack, in `settings.scenario_ids` order (this one for its own pack)."""
        if self.shared is not None:
            return self.shared.packs
        return [self if sid == self.settings.scenario else Runtime(self.settings.replace(scenario=sid), shared=self)
                for sid in self.settings.scenario_ids]

    @cached_property
    def actors(self):
        """The gazetteer with this pack's actors (what this pack's model features depend on)."""
        from .events import load_gazetteer, merge_actors

        return merge_actors(load_gazetteer(), self.scenario.actors)

    @cached_property
    def parser_key(self) -> str:
        """What a stored parse depends on, hashed: the spaCy model and its text cap, every watched pack's actors and
        gate (the entity ruler and the relevance test), the event rules and model. A re-score reuses a stored parse
        only under the same key (`stored_parses`): a pack added since, say, brings actors the old parse never knew."""
        import hashlib

        from .events import RULES_VERSION

        s = self.settings
        gates = sorted((pack.scenario.id, tuple(pack.scenario.relevance_actors)) for pack in self.packs)
        actors = sorted(repr(a) for a in self.nlp_actors)
        parts = repr((s.nlp_model, s.nlp_max_chars, gates, actors, RULES_VERSION, s.event_model))
        return hashlib.sha256(parts.encode("utf-8")).hexdigest()[:16]

    @cached_property
    def nlp_actors(self):
        """The gazetteer with every watched pack's actors: the one spaCy pipeline knows them all."""
        if self.shared is not None:
            return self.shared.nlp_actors
        from .events import load_gazetteer, merge_actors

        return merge_actors(load_gazetteer(), [a for pack in self.packs for a in pack.scenario.actors])

    @cached_property
    def nlp(self):
        return self.shared.nlp if self.shared else nlp_stage.build_nlp(self.nlp_actors, self.settings.nlp_model)

    @cached_property
    def index(self) -> nlp_stage.ActorIndex:
        return self.shared.index if self.shared else nlp_stage.ActorIndex(self.nlp_actors)

    @cached_property
    def relevance(self) -> Relevance:
        """This pack's gate: is an article about its scenario?"""
        return Relevance(self.scenario)

    def relevant_to_any(self, article: Article) -> bool:
        """What the NLP stage parses: articles relevant to at least one watched pack."""
        return any(pack.relevance(article) for pack in self.packs)

    @cached_property
    def extract_events(self):
        if self.shared:
            return self.shared.extract_events
        from .events import load_event_coder

        return load_event_coder(self.nlp, self.nlp_actors, model_version=self.settings.event_model)

    @cached_property
    def registry(self) -> Registry:
        return Registry(self.settings.models_dir)

    @cached_property
    def active_model(self) -> tuple[object, ModelEntry]:
        """The pack's promoted model; a pack nobody has trained yet classifies zero-shot from its brief."""
        if self.registry.active(self.scenario.id) is None:
            from .zeroshot import zero_shot_model

            return zero_shot_model(self.scenario, self.encoder)
        model, entry = self.registry.load_active(self.scenario.id)
        check_features(entry, feature_parts(self))
        return model, entry

    @cached_property
    def encoder(self):
        if self.shared:
            return self.shared.encoder
        from .encoder import load_encoder

        return load_encoder(self.settings.encoders_dir, self.settings.encoder)

    @cached_property
    def featurizer(self) -> classify.Featurizer:
        """The encoder with this pack's prototype texts (for training; a trained model carries its own)."""
        return classify.Featurizer.from_texts(self.encoder, self.scenario.prototypes())

    def gate(self, articles: Sequence[Article]) -> list[NlpResult]:
        """The relevance step alone (no parse): what the classifier needs when no NLP ran."""
        return [NlpResult(a.id, self.relevance(a)) for a in articles]

    def analyse(self, articles: Sequence[Article]) -> list[NlpResult]:
        """spaCy over the articles relevant to any watched pack (the rest get an empty, non-relevant result)."""
        s = self.settings
        return nlp_stage.analyse(
            self.nlp, articles, self.relevant_to_any, self.index, self.extract_events,
            max_chars=s.nlp_max_chars, batch_size=s.nlp_batch_size, n_process=s.nlp_processes,
        )

    def classify(self, articles: Sequence[Article], results: Sequence[NlpResult]) -> list[Prediction]:
        """This pack's predictions. An article parsed for another pack is still irrelevant to this one's gate.
        During an ingest (`gates` set) it counts the articles it scored and those that passed the gate."""
        model, entry = self.active_model
        own = [replace(r, relevant=r.relevant and self.relevance(a)) for a, r in zip(articles, results)]
        counts = (self.shared or self).gates
        if counts is not None:
            count = counts.setdefault(self.scenario.id, self.scenario.gate_count())
            count.scored += len(own)
            count.passed += sum(r.relevant for r in own)
        return classify.predict(model, entry.version, self.scenario.id, articles, own, self.encoder)


# ---------------------------------------------------------------- ingest

def local_sources(sources: Iterable[str]) -> tuple[list[Path], list[FeedOutcome]]:
    """The sources that are not http(s) URLs: (paths to read, failed outcomes for the unusable ones).

    A source written like a URL with another scheme (`htps://...`, `ftp://...`) is never read as a path:
    it fails, named as given. A path that does not exist fails with its name too (in `read_local`).
    """
    paths, bad = [], []
    for source in sources:
        if is_url(source):
            continue
        scheme = url_scheme(source)
        if "://" in source and scheme:
            bad.append(FeedOutcome(source, False, error=f"not an http(s) URL or a file: scheme '{scheme}' is not http or https"))
        else:
            paths.append(Path(source))
    return paths, bad


def due_feeds(store: Store, urls: Iterable[str], force: bool = False) -> list[tuple[str, FeedState]]:
    """The feeds whose next poll time has come (all of them with `force`), with their stored state."""
    now = utcnow()
    due = []
    for url in urls:
        state = store.feed_state(url)
        if force or not state.next_poll or state.next_poll <= now:
            due.append((url, state))
    return due


def record_fetch(store: Store, outcome: FeedOutcome) -> None:
    """Store a feed's outcome; after failures the next poll backs off exponentially (30 min .. 12 h), or waits as long
    as the server's Retry-After asks when that is longer."""
    failures = 0 if outcome.ok else store.feed_state(outcome.name).consecutive_failures + 1
    delay = min(POLL_INTERVAL * (2 ** failures), MAX_BACKOFF) if failures else POLL_INTERVAL
    if outcome.retry_after:  # the server's own Retry-After, when longer (bounded by the longest backoff)
        delay = max(delay, min(timedelta(seconds=outcome.retry_after), MAX_BACKOFF))
    store.record_feed(outcome, next_poll=utcnow() + delay)


Fetcher = Callable[[Settings, list[tuple[str, FeedState]]], Iterable[FeedOutcome]]
Reader = Callable[[Path], FeedOutcome]


def fetch_in_turn(settings: Settings, due: list[tuple[str, FeedState]]) -> Iterator[FeedOutcome]:
    """The plain fetcher: each due feed in turn over one HTTP client (a conditional GET with its stored
    etag and last-modified). The Prefect flow passes its own, which fetches hosts concurrently as tasks."""
    if not due:
        return
    with http_client(settings) as client:
        for url, state in due:
            yield fetch_feed(url, settings, client, state.etag, state.last_modified)


def read_sources(settings: Settings, store: Store, sources: Iterable[str], force: bool = False,
                 fetch: Fetcher = fetch_in_turn, read: Reader = read_local,
                 summary: RunSummary | None = None) -> list[FeedOutcome]:
    """Fetch due URLs with `fetch` and read local files with `read`; one outcome per feed or file. Each one's
    articles are stored (and counted into `summary`) as it comes in, and only then is its state recorded (its
    ETag, its next poll, backed off after failures): a run stopped between the two leaves the feed due with its
    old ETag, so the next run fetches it again, where recording first would skip it as polled and lose the articles."""
    sources = list(sources)
    outcomes = []
    due = due_feeds(store, [s for s in sources if is_url(s)], force)
    store.release()  # no store while waiting on the network
    for outcome in fetch(settings, due):
        store_outcome(store, outcome, summary)
        record_fetch(store, outcome)
        store.release()
        outcomes.append(outcome)
    paths, unusable = local_sources(sources)
    for outcome in unusable:
        store_outcome(store, outcome, summary)
        store.record_feed(outcome)
        outcomes.append(outcome)
    for path in expand_paths(paths):
        outcome = read(path)
        store_outcome(store, outcome, summary)
        store.record_feed(outcome)
        outcomes.append(outcome)
    store.release()
    return outcomes


def skipped_feeds(store: Store, urls: Iterable[str], force: bool = False) -> list[SkippedFeed]:
    """The feeds a run does not poll because of backoff."""
    if force:
        return []
    now, skipped = utcnow(), []
    for url in urls:
        state = store.feed_state(url)
        if state.next_poll and state.next_poll > now:
            skipped.append(SkippedFeed(url, state.next_poll, state.consecutive_failures, state.last_error))
    return skipped


def store_outcome(store: Store, outcome: FeedOutcome, summary: RunSummary | None = None) -> None:
    """Store the articles a feed or file gave (a failed JSONL file still gives its good lines), and count the
    feed and its articles into `summary` when given."""
    new, updated = store.add_articles(outcome.articles) if outcome.articles else (0, 0)
    if summary is None:
        return
    if outcome.ok:
        summary.feeds_ok += 1
    else:
        summary.feeds_failed += 1
        summary.failures.append(FeedFailure(outcome.name, outcome.error))
    summary.articles_new += new
    summary.articles_updated += updated
    summary.articles_seen += len(outcome.articles)


def store_outcomes(store: Store, outcomes: Sequence[FeedOutcome], summary: RunSummary) -> None:
    """`store_outcome` for each outcome."""
    for outcome in outcomes:
        store_outcome(store, outcome, summary)


def enrich_stored(settings: Settings, store: Store, outcomes: Sequence[FeedOutcome],
                  allow_private_hosts: bool = False) -> list[PageRead]:
    """The full-text stage, after storing and before NLP (off unless `settings.fetch_full_text`): the stored
    articles of this run's feeds that are stubs (`fulltext.is_stub`) and whose page was not read for their
    current content get their page's main text as their text (`Store.update_text`). Every read is recorded
    (`Store.record_page_reads`); a failed one leaves the article as stored. Returns the reads.
    Articles from local files are left as they are: their links are not fetched."""
    if not settings.fetch_full_text:
        return []
    ids = [a.id for outcome in outcomes if is_url(outcome.name) for a in outcome.articles]
    stubs = [a for a in store.articles_without_page_read(ids) if is_stub(a)] if ids else []
    if not stubs:
        return []
    store.release()  # no store while waiting on the network
    filled, reads = fill_full_text(stubs, settings, enabled=True, allow_private_hosts=allow_private_hosts)
    texts = {a.id: a.text for a in filled}
    for read in reads:
        if read.ok:
            store.update_text(read.article_id, texts[read.article_id])
    store.record_page_reads(reads)
    return reads


def pending_ids(rt: Runtime, store: Store) -> list[str]:
    """The stored articles some watched pack's active model (or zero-shot recipe) has not scored yet,
    oldest first: each is parsed once, then classified by every pack that lacks it."""
    seen, out = set(), []
    for pack in rt.packs:
        for article_id in store.pending_ids(pack.scenario.id, pack.active_model[1].version):
            if article_id not in seen:
                seen.add(article_id)
                out.append(article_id)
    return out


def classify_and_save(rt: Runtime, store: Store, articles: Sequence[Article], results: Sequence[NlpResult],
                      new_results: Sequence[NlpResult] | None = None) -> None:
    """Every pack's predictions for the parsed articles it has not scored, stored with the NLP results in one
    transaction (only `new_results`, when given: the others are the store's own)."""
    predictions = []
    for pack in rt.packs:
        todo = set(store.pending_ids_among(pack.scenario.id, pack.active_model[1].version, [a.id for a in articles]))
        mine = [(a, r) for a, r in zip(articles, results) if a.id in todo]
        if mine:
            predictions += pack.classify([a for a, _ in mine], [r for _, r in mine])
    store.save_analysis(results if new_results is None else new_results, predictions, rt.parser_key)


def stored_parses(rt: Runtime, store: Store, articles: Sequence[Article]) -> dict[str, NlpResult]:
    """The store's NLP results that a re-score can classify from instead of parsing again: made by the parser
    this runtime would use (`Runtime.parser_key`: same spaCy model and cap, packs' actors and gates, event coder),
    of an article parsed or needing no parse (relevant to no watched pack). A re-score after every promotion had
    run spaCy over the whole store again (on the 3,229-article slice: 100 s parsing, 13 s from the stored parses)."""
    stored = store.nlp_results([a.id for a in articles], rt.parser_key)
    return {a.id: stored[a.id] for a in articles
            if a.id in stored and (stored[a.id].relevant or not rt.relevant_to_any(a))}


def refresh_signals(rt: Runtime, store: Store, days: set | None, rescore_done: bool = True) -> None:
    """Each pack's daily signals for `days` (every day with an empty set, after a promotion).

    After a promotion the store is re-scored chunk by chunk, and a pack's signals still come from the model it
    replaced. Rebuilt from the chunks re-scored so far, they would hold only those chunks' days: `trend` and
    `odds` would lose the rest of the history for the whole re-score, and for good if it were stopped. So until
    the re-score is done (`rescore_done` false) such a pack's signals are left as they are: readers see the old
    model's signals whole, then the new model's whole."""
    for pack in rt.packs:
        version = pack.active_model[1].version
        if not rescore_done and store.signals_model_version(pack.scenario.id) not in (None, version):
            continue
        store.refresh_daily_signals(pack.scenario.id, version, days=days)


def process_pending(rt: Runtime, store: Store, chunk_size: int | None = None, progress: Progress | None = None) -> int:
    """NLP and classify every stored article a watched pack has not scored, chunk by chunk (each chunk one
    transaction), then refresh the daily signals of the days those articles were published on (every day
    after a promotion). An article the store has already parsed is classified from its stored parse
    (`stored_parses`). Returns the articles processed."""
    pending = pending_ids(rt, store)
    chunk_size = chunk_size or rt.settings.process_chunk_size
    done = 0
    for start in range(0, len(pending), chunk_size):
        articles = store.articles(pending[start : start + chunk_size])
        reused = stored_parses(rt, store, articles)
        store.release()  # readers may open the store while spaCy works
        parsed = rt.analyse([a for a in articles if a.id not in reused]) if len(reused) < len(articles) else []
        results = {**reused, **{r.article_id: r for r in parsed}}
        classify_and_save(rt, store, articles, [results[a.id] for a in articles], parsed)
        refresh_signals(rt, store, published_days(articles), rescore_done=False)  # readers see each chunk's signals
        done += len(articles)
        if progress:
            progress(done, len(pending))
    refresh_signals(rt, store, set())  # a re-scored pack's signals now follow the active model (a full refresh)
    return done


def published_days(articles: Iterable[Article]) -> set:
    """The days (dates) the dated articles were published on: what a batch of them touches in the daily signals."""
    return {a.published.date() for a in articles if a.published is not None}


def read_and_store(settings: Settings, store: Store, sources: Sequence[str], force: bool = False,
                   fetch: Fetcher = fetch_in_turn, read: Reader = read_local,
                   summary: RunSummary | None = None) -> RunSummary:
    """Everything before NLP: read the sources, store their articles, read the pages of stubs (when full text
    is on), group new articles into stories. Returns the run summary so far (`summary` filled in, when given)."""
    summary = RunSummary() if summary is None else summary
    summary.skipped = skipped_feeds(store, [s for s in sources if is_url(s)], force)
    outcomes = read_sources(settings, store, sources, force, fetch, read, summary)
    summary.page_reads = enrich_stored(settings, store, outcomes)
    summary.stories = update_stories(store)
    store.release()
    return summary


def ingest(rt: Runtime, sources: Sequence[str], force: bool = False, progress: Progress | None = None,
           summary: RunSummary | None = None, *, fetch: Fetcher = fetch_in_turn, read: Reader = read_local,
           process: Callable[..., int] = process_pending, kind: str = "ingest") -> RunSummary:
    """The one ingest job: read and store the sources, then NLP + classify what is pending (`process`),
    and record the run as `kind`. Returns the run summary. `signals import` calls it as it is; the Prefect
    flows pass their task versions of `fetch`, `read` and `process` (the Dask flow's `process` parses on Dask).

    `summary`, when given, is filled in as the job goes (the counts once the articles are stored,
    `predictions` after each committed chunk), so that a caller stopped by a signal can say what was stored.
    Its `gates` say, for every watched pack, how many articles it scored and how many of them passed its gate
    (`Runtime.classify` counts them): a gate that passes none (relevance actors no article names) makes every
    call `none`, which nothing else would show. When a pack's gate passed none of the run's articles, the store
    says whether it is the gate or only these articles: `store_passed` when the same model (whose version fixes
    the gate) has a stored call the gate did not make (`Store.gated_out_only` is 0; the run's own calls are stored).
    """
    started = utcnow()
    summary = RunSummary() if summary is None else summary

    def count(done: int, total: int) -> None:
        summary.predictions = done
        if progress:
            progress(done, total)

    for pack in rt.packs:  # every watched pack loads before anything is fetched: a broken one (a typo in a pattern)
        pack.scenario      # stops the job here, in one line, not after the articles are stored and left unclassified
    with Store(rt.settings.db, memory_limit=rt.settings.duckdb_memory_limit) as store:
        read_and_store(rt.settings, store, sources, force, fetch, read, summary)
        summary.gates = rt.gates = {pack.scenario.id: pack.scenario.gate_count() for pack in rt.packs}
        try:
            summary.predictions = process(rt, store, progress=count)
        finally:
            rt.gates = None
        for pack in rt.packs:
            gate = summary.gates[pack.scenario.id]
            if gate.scored and not gate.passed:
                gate.store_passed = store.gated_out_only(pack.scenario.id, pack.active_model[1].version) == 0
        store.record_run(kind, started, summary)
    return summary


# ---------------------------------------------------------------- predict

def predict_file(rt: Runtime, input_path: Path, output_path: Path) -> int:
    """Classify a JSONL file of articles into a JSONL file of predictions; one output line per input line."""
    articles = read_jsonl(Path(input_path), strict=True).articles
    results = rt.analyse(articles)
    predictions = rt.classify(articles, results)
    Path(output_path).parent.mkdir(parents=True, exist_ok=True)
    with Path(output_path).open("w", encoding="utf-8") as out:
        for p in predictions:
            out.write(json.dumps({"id": p.article_id, "label": p.label, "probabilities": p.probabilities,
                                  "evidence": p.evidence, "model_version": p.model_version}, ensure_ascii=False) + "\n")
    return len(predictions)


def events_file(rt: Runtime, input_path: Path, output_path: Path) -> int:
    """PLOVER events for each `{id, text}` line: `{id, events: [...]}`, each sentence's main event first.
    Every line is parsed (no relevance step: the caller chose these texts), after the cleaning every stored or
    predicted text gets (`text.clean_text`: markup, entities, control characters), so pasted feed text codes alike."""
    rows = []
    with Path(input_path).open("rb") as handle:  # decoded line by line, so a bad byte is named with its own line
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(input_path, number, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as "
                                 "UTF-8 and try again") from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(input_path, number, f"not valid JSON ({exc})") from None
            rows.append(_event_row(input_path, number, record))
    Path(output_path).parent.mkdir(parents=True, exist_ok=True)
    with Path(output_path).open("w", encoding="utf-8") as out:
        docs = rt.nlp.pipe((text for _, text in rows), batch_size=rt.settings.nlp_batch_size)
        for (item_id, _), doc in zip(rows, docs):
            events = [e.to_dict() for e in rt.extract_events(doc)]
            out.write(json.dumps({"id": item_id, "events": events}, ensure_ascii=False) + "\n")
    return len(rows)


def _event_row(input_path: Path, number: int, record) -> tuple[str, str]:
    """(id, cleaned text) of one `events --input` line. A null id or text had been coded as the word "None"."""
    if not isinstance(record, dict):
        raise InputError(input_path, number, "expected a JSON object with 'id' and 'text'")
    for key, kinds in (("id", (str, int)), ("text", (str,))):
        value = record.get(key)
        if key not in record or value is None:
            raise InputError(input_path, number, f"'{key}' is {'null' if key in record else 'missing'}; "
                             "each line needs an 'id' and a 'text'")
        if not isinstance(value, kinds) or isinstance(value, bool) or (key == "id" and not str(value).strip()):
            shown = json.dumps(value, ensure_ascii=False)
            raise InputError(input_path, number, f"'{key}' is {shown[:40]}, not a {'name' if key == 'id' else 'text'}")
    return str(record["id"]), clean_text(record["text"])


# ---------------------------------------------------------------- retrain

def training_set(rt: Runtime) -> tuple[list[LabelRecord], list[Article]]:
    """Validated labels and their articles (from ../shared/data or, failing that, the store)."""
    known = known_ids(rt.settings.shared_data, rt.settings.db)
    records = load_labels(rt.scenario.labels_dir, known)
    found = shared_articles_for(rt.settings.shared_data, records)
    missing = [r.id for r in records if r.id not in found]
    if missing and known.store_sources:
        with Store(rt.settings.db, read_only=True) as store:
            found.update({a.id: a for a in store.articles(missing)})
    kept = [r for r in records if r.id in found]
    return kept, [found[r.id] for r in kept]


def shared_articles_for(shared_data: Path | None, records: Iterable[LabelRecord]) -> dict[str, Article]:
    """The articles of ../shared/data that label records name, by id (records whose item is not there are left out)."""
    wanted: dict[str, set[str]] = {}
    for rec in records:
        wanted.setdefault(rec.source, set()).add(rec.id)
    return load_shared_articles(shared_data, wanted)


def load_probes(scenario) -> tuple[list[Article], list[str]]:
    """The pack's probe suite (`labels/<id>/probes/probes.jsonl`): written articles, never trained on
    (`files.written_articles`, the reader `signals scenario check` uses too)."""
    return written_articles(scenario.probes_file)


# 64 plain articles (16 a label) written from ../shared/LABELING.md and the briefs alone by two writers who saw
# neither the probe suite, the written examples, the labels nor any news item: a check of the probes' figures
# that no other file of the project shares a writer with. Never trained on; bench/classifier.py reports it.
BLIND_PROBES = PROJECT_ROOT / "bench" / "data" / "blind_probes_v1.jsonl"


def probe_check(rt: Runtime, model, path: Path | None = None) -> dict:
    """A model's probe results: accuracy, and right/total per label; on the pack's probe suite, or on the written
    articles of `path` (`BLIND_PROBES`)."""
    articles, labels = load_probes(rt.scenario) if path is None else written_articles(path)
    if not articles:
        return {}
    predictions = classify.predict(model, "probe", rt.scenario.id, articles, rt.gate(articles), rt.encoder)
    right = [p.label == y for p, y in zip(predictions, labels)]
    return {"accuracy": round(sum(right) / len(right), 4),
            "per_label": {c: [sum(r for r, y in zip(right, labels) if y == c), labels.count(c)] for c in sorted(set(labels))},
            "missed": {a.id: p.label for a, p, r in zip(articles, predictions, right) if not r},
            "suite": probe_suite(rt.scenario, path)}


def no_probe_suite(scenario) -> str:
    """"no probe suite (labels/NAME/probes/probes.jsonl)" for a pack whose suite is missing or empty, else "".
    Training says this where a probe score would stand: a pack without probes scores 0.0 against an active 0.0,
    which reads as every probe wrong when none was run. The path is the pack's from its labels folder, as the
    registry's `reason` is kept with the models and read on other machines."""
    if load_probes(scenario)[0]:
        return ""
    return f"no probe suite ({scenario.folder.parent.name}/{scenario.folder.name}/probes/probes.jsonl)"


def probe_suite(scenario, path: Path | None = None) -> str:
    """A short hash of the written articles a probe check reads (the pack's suite, or `path`): "" without them."""
    path = scenario.probes_file if path is None else path
    return file_sha256(path)[:16] if path.exists() else ""


def active_probes(rt: Runtime, active: ModelEntry) -> dict:
    """The active model's probe results on the pack's probe suite as it is now: those recorded when it was
    registered while the suite is unchanged, else measured again (a refresh compared a refit on the edited
    suite with the old model's score on the old one). None when the active model cannot run here (it does not
    load, or it loads and refuses this pipeline's encoders when it classifies): it has no probe figures here, and
    ones it recorded on another suite could keep the pack on a model no ingest can use."""
    recorded = (active.metrics or {}).get("probes") or {}
    if recorded.get("suite") == probe_suite(rt.scenario):
        return recorded
    try:
        return probe_check(rt, rt.registry.load(active))
    except ModelError:
        return {}


def feature_parts(rt: Runtime) -> dict[str, str]:
    """What a model's features depend on, one short hash per part: the recipe, the encoder's weights, the
    pack's prototype texts and its relevance gate (the actors and names it matches). A model records these
    when it is trained, and `Runtime.active_model` refuses one whose parts differ from the running pipeline.
    (spaCy, the event coder and the gazetteer feed the evidence sentences, not the features.)"""
    import hashlib

    def short(value: object) -> str:
        return hashlib.sha256(repr(value).encode("utf-8")).hexdigest()[:16]

    gate = sorted((a.name, a.surface_forms()) for a in rt.scenario.actors if a.name in set(rt.scenario.relevance_actors))
    return {"recipe": classify.RECIPE, "encoder": f"{rt.encoder.name}:{rt.encoder.fingerprint[:16]}",
            "prototypes": short(rt.scenario.prototypes()), "relevance": short(gate)}


def check_features(entry: ModelEntry, parts: dict[str, str]) -> None:
    """Refuse a model trained on features other than the running pipeline's (entries from before models
    recorded them are taken as they are)."""
    differ = [k for k, v in (entry.features or {}).items() if parts.get(k) != v]
    if differ:
        raise ModelError(f"model {entry.version}: the {', '.join(differ)} it was trained with differ from this "
                         f"pipeline's (pack '{entry.scenario}'); retrain it with 'signals train --scenario {entry.scenario}'")


def fingerprint(rt: Runtime, articles: Sequence[Article]) -> str:
    """What a training set's features depend on: the articles in their order, with their text, and
    `feature_parts`. Equal fingerprints mean equal features, row for row (the retrain flow caches on it). It had
    been the sorted label set: a renamed label file gave the same key for rows in another order (every cached
    row then belonged to another article), and an article edited in the store kept its old features."""
    import hashlib

    digest = hashlib.sha256(json.dumps(feature_parts(rt), sort_keys=True).encode("utf-8"))
    for a in articles:
        digest.update(json.dumps([a.id, a.source, a.outlet, a.title, a.summary, a.text,
                                  a.published.isoformat() if a.published else None, a.link]).encode("utf-8"))
    return digest.hexdigest()


PROBE_FLOOR = 0.80  # the per-case probe target (16 of 20); a promotion may not lose it on a case


NOTHING_NEW = ("no labeled item the active model has not trained on: label more articles (signals label) or "
               "correct a label (signals label --import FILE --relabel), then train")


class Unchanged(NamedTuple):
    """A retrain that trained nothing: the active model stays, and why."""

    active: ModelEntry
    reason: str


def retrain(rt: Runtime, progress: Progress | None = None) -> ModelEntry | Unchanged:
    """Train on the labels, evaluate, and register (see `fit_and_register`); `Unchanged`, training nothing,
    when there is nothing new to decide (`nothing_new`)."""
    records, articles = training_set(rt)
    check_enough_labels(rt.scenario, records)
    return nothing_new(rt, records, articles) or fit_and_register(rt, records, articles)


def nothing_new(rt: Runtime, records: Sequence[LabelRecord], articles: Sequence[Article]) -> Unchanged | None:
    """`Unchanged` when a retrain could only repeat a decision, so that it stops before it encodes, fits and saves
    a model to reject (the daily retrain kept a 3 MB rejected model a day; a pack whose first model was rejected too):
    - the active model has trained on every label as it stands (no label added or corrected since): a candidate
      could be judged on no item;
    - or the newest candidate since the active model was rejected on the same inputs (`training_inputs`: the
      labels, the articles' text, the features and the probe suite): the fit is deterministic, so it would be
      rejected again."""
    registry = rt.registry
    active = registry.active(rt.scenario.id)
    if active is not None:
        try:
            rt.active_model  # a model this pipeline cannot use (missing, changed, features of an edited brief) is replaced
        except ModelError:
            return None
        trained = registry.trained_labels(active)
        held = held_out_for(articles, active, trained, [r.label for r in records])
        if not any(held) and not removed_labels(trained, records):
            return Unchanged(active, NOTHING_NEW)
    entries = [e for e in registry.entries() if e.scenario == rt.scenario.id]
    newest = entries[-1] if entries else None
    if (newest is not None and newest.status == "rejected"
            and newest.metrics.get("training_inputs") == training_inputs(rt, records, articles)):
        # a pack whose first model was rejected keeps its zero-shot recipe, which stays as it is
        return Unchanged(active or rt.active_model[1], f"the labels, texts, features and probes are those of "
                         f"{newest.version}, which was rejected ({newest.reason}); label more articles or correct a "
                         "label, then train")
    return None


def removed_labels(trained: dict[str, str] | None, records: Sequence[LabelRecord]) -> int:
    """How many of the labels a model was fit on (`Registry.trained_labels`) are gone from the label files
    (0 when they are not known)."""
    return len(set(trained or {}) - {r.id for r in records})


def training_inputs(rt: Runtime, records: Sequence[LabelRecord], articles: Sequence[Article]) -> str:
    """One hash of everything a training decision reads: the labels, the articles' features (`fingerprint`)
    and the probe suite."""
    import hashlib

    probes = rt.scenario.probes_file
    parts = [label_set_hash(records), fingerprint(rt, articles), file_sha256(probes) if probes.exists() else ""]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def check_enough_labels(scenario: Scenario, records: Sequence[LabelRecord]) -> None:
    """A pack trains from `MIN_LABELS` labels of its articles on, `MIN_CASE_LABELS` of them cases; until then it
    classifies zero-shot. A model trained on labels that are nearly all `none` calls every article `none`, and the
    first model's comparison with the zero-shot recipe, on the few latest labels, cannot tell: mostly `none` too,
    they favour a model that never calls a case."""
    if len(records) < MIN_LABELS:
        raise InputError(scenario.labels_dir, None, f"{len(records)} usable labels for scenario '{scenario.id}'; "
                         f"it needs {MIN_LABELS} to train (until then it classifies zero-shot from its brief)")
    cases = sum(r.label != "none" for r in records)
    if cases < MIN_CASE_LABELS:
        raise InputError(scenario.labels_dir, None, f"{cases} of the {len(records)} usable labels for scenario "
                         f"'{scenario.id}' are articles of its cases ({', '.join(CASES)}); it needs {MIN_CASE_LABELS} to "
                         "train: with fewer, a model learns to call every article `none` (until then it classifies "
                         "zero-shot from its brief)")


def training_features(rt: Runtime, articles: Sequence[Article]):
    """The encoded training articles (`classify.article_frame`); the retrain flow caches them on `fingerprint`."""
    return classify.article_frame(articles, rt.featurizer)


def fit_and_register(rt: Runtime, records: Sequence[LabelRecord], articles: Sequence[Article], frame=None) -> ModelEntry:
    """Train, compare with the active model, and register.

    1. The candidate trains on what the active model trained on and is scored on the labeled items the
       active model never saw (`held_out_for`), so both models are judged on the same unseen items with the
       same training information; the first model holds out the latest labeled period.
    2. It becomes active only if its macro-F1 there is higher beyond the bootstrap noise (the 95% interval of
       the difference lies above zero) and it does no worse on the probe suite (`promotion_decision`).
    3. A promoted recipe is fit again on every label before it is saved, so the shipped model learns from the
       newest labels; it keeps the labels it was fit on (`Registry.trained_labels`), and the next candidate is judged
       on the labels it was not (new ones, of any date, and corrected ones).
    4. A refresh: when the active model is this pipeline's own recipe over the same features, the candidate
       would be the active model itself (same data, same deterministic fit), so there is nothing to compare.
       If analysts have labeled items it never saw, or taken out labels it was fit on (`removed_labels`), the
       recipe is refit on every label and promoted unless it does worse on the probes; its score on the new items
       is recorded as the candidate's holdout figure. Without this, a recipe once active would never learn another
       label, nor unlearn a removed one.
    5. Either way, the model that would ship (the refit) may not fall below `PROBE_FLOOR` on a case where the
       active model reaches it (`lost_probe_floors`): the floors the shipped model keeps stay kept. `none` is
       held by the probe accuracy overall (step 2) and by the comparison on real items, which scores `none` too.
    """
    labels = [r.label for r in records]
    relevant = [rt.relevance(a) for a in articles]
    frame = training_features(rt, articles) if frame is None else frame  # encoded once: candidate, comparison, refit
    registry = rt.registry
    active = registry.active(rt.scenario.id)
    trained = registry.trained_labels(active) if active is not None else None
    held = held_out_for(articles, active, trained, labels)
    removed = removed_labels(trained, records)
    model, metrics = classify.train_and_evaluate(articles, labels, relevant, rt.featurizer, rt.scenario.prototypes(),
                                                 time_split=None, frame=frame, held_out=held)
    metrics["probes"] = probe_check(rt, model)
    no_suite = no_probe_suite(rt.scenario)  # said instead of a probe score of 0.0 against 0.0
    promote, reason = True, "first model"
    if active is None and any(held):
        promote, reason = compare_with_zero_shot(rt, model, articles, labels, relevant, held, frame)
    refresh = active is not None and (any(held) or removed > 0) and is_same_recipe(rt, active)
    if refresh and any(held):
        reason = (f"refresh: the active recipe refit with {sum(held)} labeled items it never saw "
                  f"(macro-F1 {metrics['holdout']['macro_f1']:.4f} on them before the refit)")
    elif refresh:  # labels were taken out of the files, and nothing else changed: the model must unlearn them
        reason = f"refresh: the active recipe refit without the {removed} labels removed since it was fit"
    elif active is not None:
        promote, reason = compare_with_active(rt, model, articles, labels, relevant, held, metrics, frame, no_suite)
    refit = promote
    if refit:
        metrics["candidate_probes"] = metrics.pop("probes")
        if metrics.get("class_recall_source"):  # measured on the candidate: the refit below trains on those items too
            metrics["class_recall_source"] = refit_recall_source(metrics["class_recall_source"])
        model = classify.fit(articles, labels, relevant, rt.featurizer, rt.scenario.prototypes(), frame=frame)
        metrics["trained_through"] = max((a.published for a in articles if a.published), default=datetime.min).date().isoformat()
        metrics["probes"] = probe_check(rt, model)
    reference = active_probes(rt, active) if active is not None and (refresh or promote) else {}
    if refresh:
        promote, reason = refresh_decision(reason, metrics["probes"], reference, no_suite)
    if promote and active is not None:
        carry_recall(metrics, active)
        lost = lost_probe_floors(metrics["probes"], reference)
        if lost:
            promote, reason = False, f"{reason}; but the model to ship falls below the probe floor: {lost}"
    metrics["training_inputs"] = training_inputs(rt, records, articles)  # `nothing_new` compares the next retrain's
    fit_on = [(a.id, label) for a, label, h in zip(articles, labels, held) if refit or not h]  # the refit read every label
    entry = registry.save_candidate(model, rt.scenario.id, label_set_hash(records), classify.RECIPE, metrics,
                                    features=feature_parts(rt), trained_labels=fit_on)
    entry = registry.decide(entry, promote, reason)
    rt.__dict__.pop("active_model", None)
    return entry


def carry_recall(metrics: dict, active: ModelEntry) -> None:
    """Keep the active model's measured recall for each case the new model's held-out items cannot measure.

    A refresh is scored on the few items analysts labeled since the last training, and a class with fewer than 10
    of them has no recall (None). The odds hold a case without recall at its prior, so the first handful of new
    labels would freeze the odds of every case. The refit is the same recipe with a few more labels, so until the
    new items can measure a case, its recall is the active model's, and `class_recall_source` says so."""
    recall = dict(metrics.get("class_recall") or {})
    previous = (active.metrics or {}).get("class_recall") or {}
    carried = [c for c in CASES if recall.get(c) is None and previous.get(c) is not None]
    if not carried:
        return
    recall.update({c: previous[c] for c in carried})
    where = str(active.metrics.get("class_recall_source") or "its recorded recall").split("; ")[0]
    if "candidate_probes" in active.metrics:  # the active model was refit after its recall was measured
        where = refit_recall_source(where)
    metrics["class_recall"] = recall
    metrics["class_recall_source"] = (f"{metrics.get('class_recall_source', 'the new items')}; {', '.join(carried)} "
                                      f"carried over from {active.version} (measured on {where})")


def unseen_by(entry: ModelEntry, article: Article, trained: dict[str, str] | None = None, label: str | None = None) -> bool:
    """Whether the model of `entry` was trained without this article (labeled `label`). The labels it was fit on
    (`Registry.trained_labels`) say so exactly: a label added since, on an article of any date, was never seen,
    and neither was a label corrected since. Without them (a model saved before they were kept), a model fit on
    every label is taken to have seen every labeled article published up to its `trained_through` day; one
    trained on a time holdout never saw the items from its holdout's first day on; an older model (random
    holdout) never saw its hashed fifth."""
    if trained is not None:
        return article.id not in trained or (label is not None and trained[article.id] != label)
    through = entry.metrics.get("trained_through")
    if through:
        return article.published is not None and article.published.date() > date.fromisoformat(through)
    start = entry.metrics.get("holdout", {}).get("from")
    if start:
        return article.published is not None and article.published >= datetime.fromisoformat(start)
    return classify.in_holdout(article.id)


def is_same_recipe(rt: Runtime, active: ModelEntry) -> bool:
    """Whether the active model is this pipeline's recipe over the same features (`feature_parts`): then a
    candidate trained on what it trained on is the same model, and only a refresh can teach it new labels."""
    return active.recipe == classify.RECIPE and active.features == feature_parts(rt)


def lost_probe_floors(probes: dict, active_probes: dict) -> str:
    """The cases where the active model reaches `PROBE_FLOOR` and `probes` do not ("contraction 15/25 < 80%"),
    or "" when none are lost. The floor is the issue's per-case target (16 of 20 for each case); `tests/test_probes.py`
    holds the shipped model to it on the cases it reaches. `none` has no floor of its own: its 30 probes are
    written near-misses, and the comparison on real items (where `none` is most of the news) scores its
    precision and recall."""
    lost = []
    for label, (right, total) in sorted(active_probes.get("per_label", {}).items()):
        if label not in CASES:
            continue
        new_right, new_total = probes.get("per_label", {}).get(label, (0, total))
        if right / total >= PROBE_FLOOR and new_right / new_total < PROBE_FLOOR:
            lost.append(f"{label} {new_right}/{new_total} < {PROBE_FLOOR:.0%}")
    return ", ".join(lost)


def refresh_decision(reason: str, probes: dict, active_probes: dict, no_suite: str = "") -> tuple[bool, str]:
    """(promote?, why) for a refresh: the refit may not do worse on the probe suite than the model it replaces.
    For a pack without one, `no_suite` (`no_probe_suite`) stands in the reason where the scores would."""
    if no_suite:
        return True, f"{reason}; {no_suite}"
    new, old = probes.get("accuracy", 0.0), active_probes.get("accuracy", 0.0)
    if new < old:
        return False, f"{reason}; probes {new} < active {old}: not promoted"
    return True, f"{reason}; probes {new} >= active {old}"


def held_out_for(articles: Sequence[Article], active: ModelEntry | None, trained: dict[str, str] | None = None,
                 labels: Sequence[str] | None = None) -> list[bool]:
    """What a candidate leaves out of its training and is scored on: the labeled items the active model never saw
    (`unseen_by`, exactly when the labels it was fit on are known; so the candidate trains on what the active model
    trained on), or, for a scenario's first model, the latest labeled period (`classify.holdout_start`)."""
    if active is not None:
        labels = labels if labels is not None else [None] * len(articles)
        return [unseen_by(active, a, trained, label) for a, label in zip(articles, labels)]
    start = classify.holdout_start([a.published for a in articles])
    return [start is not None and a.published is not None and a.published >= start for a in articles]


def promotion_decision(y: Sequence[str], candidate: Sequence[str], active: Sequence[str], candidate_probes: float,
                       active_probes: float, no_suite: str = "") -> tuple[bool, str]:
    """Promote only if the candidate's macro-F1 is higher beyond the paired bootstrap noise (95% interval of the
    difference above zero) on the same items, and its probe accuracy is no lower. For a pack without a probe
    suite, `no_suite` (`no_probe_suite`) stands in the reason where the probe scores would."""
    if not len(y):
        return False, NOTHING_NEW
    diff = classify.bootstrap_macro_f1_difference(y, candidate, active)
    text = (f"macro-F1 difference {diff['difference']:+.4f} on {len(y)} items neither model trained on "
            f"(95% CI {diff['ci95'][0]:+.4f}..{diff['ci95'][1]:+.4f})")
    if candidate_probes < active_probes:
        return False, f"{text}; probes {candidate_probes} < active {active_probes}"
    if diff["ci95"][0] <= 0:
        return False, f"{text}: not better beyond bootstrap noise"
    return True, f"{text}; {no_suite or f'probes {candidate_probes} >= active {active_probes}'}"


def compare_with_zero_shot(rt: Runtime, model, articles, labels, relevant, held: Sequence[bool], frame=None) -> tuple[bool, str]:
    """(promote?, why) for a pack's first model: against the zero-shot recipe it replaces, on the latest labeled
    items it did not train on. Few labels make a small, noisy comparison, so the first model is not asked to be
    better beyond the noise, only not worse beyond it: it is calibrated on the pack's own news, which the
    zero-shot recipe is not, and every later model must then beat it outright."""
    from .zeroshot import zero_shot_model

    zero_shot, _ = zero_shot_model(rt.scenario, rt.encoder)
    return first_model_decision(held_items(labels, held), held_calls(rt, model, articles, relevant, held, frame),
                                held_calls(rt, zero_shot, articles, relevant, held))


def held_items(seq: Sequence, held: Sequence[bool]) -> list:
    """The items of `seq` that are held out."""
    return [x for x, h in zip(seq, held) if h]


def held_calls(rt: Runtime, model, articles, relevant, held: Sequence[bool], frame=None) -> list[str]:
    """The labels `model` gives the held-out articles. `frame`, the articles' features with this pipeline's
    prototypes, spares a candidate of this pipeline a second encoding; another model encodes with its own."""
    hold = [i for i, h in enumerate(held) if h]
    if not hold:
        return []
    rows = () if frame is None else (frame.iloc[hold].reset_index(drop=True),)
    probs = model.predict_proba(held_items(articles, held), held_items(relevant, held), rt.encoder, *rows)
    return [LABELS[j] for j in probs.argmax(axis=1)]


def first_model_decision(y: Sequence[str], candidate: Sequence[str], zero_shot: Sequence[str]) -> tuple[bool, str]:
    """Pure: (promote?, why) for a pack's first model against the zero-shot recipe on the same items: promoted
    unless it is worse beyond the paired bootstrap noise (95% interval of the difference below zero)."""
    diff = classify.bootstrap_macro_f1_difference(y, candidate, zero_shot)
    text = (f"first model: macro-F1 difference {diff['difference']:+.4f} to the zero-shot recipe on the {len(y)} "
            f"latest labeled items it did not train on (95% CI {diff['ci95'][0]:+.4f}..{diff['ci95'][1]:+.4f})")
    if diff["ci95"][1] < 0:
        return False, f"{text}: worse than the zero-shot recipe beyond the bootstrap noise"
    return True, text


def compare_with_active(rt: Runtime, model, articles, labels, relevant, held: Sequence[bool], metrics: dict,
                        frame=None, no_suite: str = "") -> tuple[bool, str]:
    """(promote?, why): the candidate against the active model on the held-out items and the probes. `frame`,
    the articles' features with this pipeline's prototypes, spares the candidate a second encoding; the active
    model encodes with its own prototypes."""
    try:
        active, _ = rt.registry.load_active(rt.scenario.id)
        if not isinstance(active, classify.ScenarioModel):
            raise ModelError("its recipe is not comparable")
        candidate_pred = held_calls(rt, model, articles, relevant, held, frame)
        active_pred = held_calls(rt, active, articles, relevant, held)
        # on today's suite; this is also what finds an active model that loads but cannot run here, when no item is held
        active_probes = probe_check(rt, active).get("accuracy", 0.0)
    except ModelError as exc:  # the active model cannot run with this code: any candidate replaces it
        return True, f"active model not comparable ({exc})"
    return promotion_decision(held_items(labels, held), candidate_pred, active_pred,
                              metrics.get("probes", {}).get("accuracy", 0.0), active_probes, no_suite)


