"""The records that pass between stages, defined once.

Every stage takes and returns these plain dataclasses; the store turns them
into rows. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from .errors import ErrorKind

CASES = ("base", "accelerated", "contraction")
LABELS = CASES + ("none",)


ZERO_SHOT = "zero-shot"  # the model-version prefix of predictions made from a pack's brief alone (no trained model)


def is_zero_shot(model_version: str | None) -> bool:
    """Whether predictions stored under this model version came from the zero-shot recipe."""
    return bool(model_version) and str(model_version).startswith(ZERO_SHOT)


@dataclass(frozen=True)
class Article:
    """One news item in the shared schema, plus where it came from."""

    id: str
    source: str
    outlet: str
    title: str
    summary: str
    text: str
    published: datetime | None
    link: str
    feed: str = ""

    def body(self) -> str:
        """Title, summary and text joined, summary dropped when the text repeats it."""
        parts = [self.title.strip()]
        summary, text = self.summary.strip(), self.text.strip()
        if summary and not text.startswith(summary[:80]):
            parts.append(summary)
        if text:
            parts.append(text)
        return "\n\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Entity:
    """A named entity; `actor` is the canonical scenario actor, or '' when none."""

    text: str
    label: str
    actor: str
    start_char: int
    end_char: int


@dataclass(frozen=True)
class Event:
    """Who did what to whom in one sentence, typed with a PLOVER event type."""

    type: str
    source: str
    target: str
    trigger: str
    sentence: str
    negated: bool = False
    sentence_index: int = 0
    coder: str = ""  # the coder's version, e.g. 'plover-v2+plover-model-v2@b09174d28d79'

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class NlpResult:
    """What the NLP stage learned about one article."""

    article_id: str
    relevant: bool
    entities: list[Entity] = field(default_factory=list)
    actor_sentences: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def actors(self) -> list[str]:
        return sorted({e.actor for e in self.entities if e.actor})


@dataclass(frozen=True)
class Prediction:
    """The classifier's call on one article for one scenario."""

    article_id: str
    scenario: str
    model_version: str
    label: str
    probabilities: dict[str, float]
    evidence: list[str]


@dataclass(frozen=True)
class FeedState:
    """What the store remembers about a polled feed: its validators for the next conditional GET, failures in
    a row, when to poll it next (None: due now), its last success and last error."""

    etag: str = ""
    last_modified: str = ""
    consecutive_failures: int = 0
    next_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str = ""


@dataclass(frozen=True)
class FeedOutcome:
    """The result of reading one feed or file: articles, or the reason it failed and whether that was transient."""

    name: str
    ok: bool
    articles: list[Article] = field(default_factory=list)
    error: str = ""
    not_modified: bool = False
    etag: str = ""
    last_modified: str = ""
    error_kind: ErrorKind | None = None  # set by the fetch for a failure; None counts as permanent
    retry_after: float | None = None  # seconds the server asked us to wait (Retry-After on a 429 or 503)
    # read only by recovering from XML that is not well-formed (a body cut short, a stray `&`): its articles are
    # kept, its validators are not, so the next poll fetches the whole feed
    damaged: bool = False

    @property
    def transient(self) -> bool:
        """A failure worth trying again (timeout, dropped connection, 5xx)."""
        return self.error_kind is ErrorKind.TRANSIENT


@dataclass(frozen=True)
class PageRead:
    """One article page read for its main text (the full-text stage): `chars` of main text found, or the
    reason there is none."""

    article_id: str
    url: str
    ok: bool
    chars: int = 0
    error: str = ""


@dataclass(frozen=True)
class FeedFailure:
    """A feed or file a run could not read, and why."""

    feed: str
    error: str


@dataclass(frozen=True)
class SkippedFeed:
    """A feed a run did not poll: polled less than 30 minutes ago, or backing off after failures in a row."""

    feed: str
    next_poll: datetime
    failures: int
    last_error: str = ""

    @property
    def why(self) -> str:
        """'polled recently' or 'backing off after N failures'."""
        if not self.failures:
            return "polled recently"
        return f"backing off after {self.failures} {'failure' if self.failures == 1 else 'failures'}"


@dataclass
class GateCount:
    """How many of the articles one watched pack scored in a run passed its relevance gate, with what the gate
    is, so that a gate that passes nothing can be named where it is written (`note`)."""

    scenario: str
    relevance_actors: tuple[str, ...]
    pack_file: str  # the pack's scenario.toml
    scored: int = 0
    passed: int = 0
    store_passed: bool = False  # after a run that passed none: the store holds articles the same gate passed

    def note(self) -> str:
        """One line when articles were scored and none passed the gate, else '': every one of them is `none`
        by the gate alone, which no signal, odds or queue would otherwise show. It tells the analyst to check the
        pack's relevance_actors only when nothing in the store says the gate works (`store_passed`): a small
        batch of off-topic news, in a store where the gate passed hundreds, is no fault of the pack."""
        if not self.scored or self.passed:
            return ""
        actors = ", ".join(self.relevance_actors) or "none declared"
        scored = ("the one article scored named no" if self.scored == 1
                  else f"none of the {self.scored} articles scored named a")
        said = f"pack '{self.scenario}': {scored} relevance actor ({actors})"
        if self.store_passed:
            return f"{said}: `none` by the gate, which has passed other articles in the store"
        return f"{said}; check relevance_actors in {self.pack_file}"


@dataclass
class RunSummary:
    """What one ingest run did. The job fills it in as it goes (the counts once the articles are stored,
    `predictions` after each committed chunk), so a caller stopped midway can still say what was stored."""

    feeds_ok: int = 0
    feeds_failed: int = 0
    articles_new: int = 0
    articles_seen: int = 0
    articles_updated: int = 0
    failures: list[FeedFailure] = field(default_factory=list)
    skipped: list[SkippedFeed] = field(default_factory=list)
    page_reads: list[PageRead] = field(default_factory=list)  # the full-text stage's reads (none when it is off)
    stories: dict[str, int] = field(default_factory=dict)  # `stories.update_stories`'s counts
    predictions: int = 0
    gates: dict[str, GateCount] = field(default_factory=dict)  # per watched pack: articles it scored, and passed its gate

    def gate_notes(self) -> list[str]:
        """`GateCount.note` of each pack whose gate passed none of the articles it scored."""
        return [note for count in self.gates.values() if (note := count.note())]

    @property
    def pages_read(self) -> int:
        return sum(r.ok for r in self.page_reads)

    @property
    def pages_failed(self) -> int:
        return sum(not r.ok for r in self.page_reads)
