"""Draft a scenario pack from an analyst's written brief (`signals scenario init`).

The parser is deterministic: the same brief always gives the same TOML, byte for byte.
It reads what the seeds' format states plainly and leaves the rest to the analyst:

- the cases, their probabilities, key assumptions, 12-month indicators and structural
  implications, from a "Scenario Modeling" section (`Base Case — 50% Probability`,
  `Key Assumption: ...`);
- the watchlist entries, `- Name: Source — Meaning`, from a "Watchlist" section;
- sentences that ask the reader to watch or monitor something, as further indicators;
- dated tripwires: a sentence with a window such as "within the next sixty days",
  "within 30 days" or "next month" becomes an indicator with that `deadline_days`;
- the actors the brief names, resolved against the general gazetteer (pipeline/data/actors); those of its
  opening paragraph are suggested as the relevance gate, with a TODO to confirm them.

Whatever the brief cannot give (regular expressions, which cases an indicator speaks for,
the start date of a tripwire, a case's definition and typical signals, the cases
themselves when the brief has no Scenario Modeling section, the author's word on the drafted
relevance gate) is written as a `TODO:` value.
`load_scenario` refuses a pack while any TODO is left, and `pack_problems` lists them by line.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .events import load_gazetteer
from .records import CASES
from .scenario import Actor
from .settings import read_utf8

NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "twelve": 12, "fourteen": 14, "fifteen": 15, "eighteen": 18, "twenty": 20, "thirty": 30,
    "forty-five": 45, "sixty": 60, "ninety": 90, "a hundred": 100, "one hundred": 100,
}
UNIT_DAYS = {"day": 1, "week": 7, "month": 30}
WINDOW = re.compile(
    r"\bwithin (?:the (?:next|coming|first) )?(?P<count>\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
    + r")[- ](?P<unit>day|week|month)s?\b", re.I)
NEXT_WINDOW = re.compile(r"\b(?:next|the coming) (?P<unit>week|month)\b", re.I)  # "... next month": one unit
REFERS_BACK = re.compile(r"(?:this|these|that|those|such|it)\b", re.I)
WATCH = re.compile(r"\b(?:watch (?:for|the)|monitor)\b", re.I)
CASE_HEAD = re.compile(r"^(?P<name>\w+) Case\s*[—–-]+\s*(?P<percent>\d+(?:\.\d+)?)\s*% Probability\s*$", re.I)
CASE_FIELDS = {
    "assumption": re.compile(r"^Key Assumption:\s*(.+)$", re.I),
    "indicator": re.compile(r"^\d+-Month Indicator:\s*(.+)$", re.I),
    "implication": re.compile(r"^Structural Implication:\s*(.+)$", re.I),
}
WATCH_ENTRY = re.compile(r"^[-*•]\s*(?P<name>[^:]+):\s*(?P<source>.+?)\s+[—–]\s+(?P<meaning>.+)$")
DASH_START = re.compile(r"^[-*•|$]")
# A sentence ends at . ! or ? before a capital, but not after an initialism such as "U.S.".
SENTENCE_END = re.compile(r"(?<!\b[A-Z]\.[A-Z]\.)(?<=[.!?])\s+(?=[A-Z\"“‘'(])")


def sentences(text: str) -> list[str]:
    """The sentences of a brief's paragraph (one paragraph a line)."""
    return [s.strip() for line in text.splitlines() for s in SENTENCE_END.split(line) if s.strip()]


@dataclass
class Section:
    """A heading of the brief and the lines under it (the opening paragraphs have the heading '')."""

    heading: str
    lines: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class DraftIndicator:
    id: str
    name: str
    source: str
    meaning: str
    actors: list[str]
    deadline_days: int | None = None


@dataclass
class Draft:
    """Everything read from a brief, before it is written out as TOML."""

    brief: str
    description: str
    cases: dict[str, dict]  # case name -> prior, assumption, indicator, implication (empty: no Scenario Modeling)
    indicators: list[DraftIndicator]
    actors: list[Actor]
    relevance_actors: list[str]


def _is_heading(line: str) -> bool:
    """A short line that is not a sentence, a list item, a table row or a case header."""
    return (0 < len(line) <= 80 and line[-1] not in ".?!:;,\"”)]" and not DASH_START.match(line)
            and not CASE_HEAD.match(line) and not any(p.match(line) for p in CASE_FIELDS.values()))


def split_sections(text: str) -> list[Section]:
    sections = [Section("")]
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if _is_heading(line):
            sections.append(Section(line))
        else:
            sections[-1].lines.append(line)
    return sections


def _section(sections: list[Section], *words: str) -> Section | None:
    for s in sections:
        if s.heading and all(w in s.heading.lower() for w in words):
            return s
    return None


def parse_cases(section: Section | None) -> dict[str, dict]:
    """{case: {prior, assumption, indicator, implication}} from the Scenario Modeling lines; {} without them."""
    cases: dict[str, dict] = {}
    current = None
    for line in section.lines if section else ():
        head = CASE_HEAD.match(line)
        if head:
            current = head["name"].lower()
            cases[current] = {"prior": round(float(head["percent"]) / 100, 4)}
            continue
        for key, pattern in CASE_FIELDS.items():
            match = pattern.match(line)
            if match and current:
                cases[current][key] = match.group(1).strip()
    return {name: fields for name, fields in cases.items() if name in CASES}


def slug(text: str, words: int = 5) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    tokens = re.findall(r"[a-z0-9]+", plain.lower())
    return "-".join(tokens[:words]) or "indicator"


# ---------------------------------------------------------------- actors

def _mention_pattern(actor: Actor) -> re.Pattern:
    """The actor's surface forms as whole words (hyphenated compounds count: "Iran-Pakistan" names both);
    short all-capital forms ("US", "IMF") match only in capitals."""
    parts = []
    for form in sorted(set(actor.surface_forms()), key=len, reverse=True):
        body = re.escape(form).replace(r"\ ", r"\s+")
        parts.append(body if form.isupper() and len(form.replace(".", "")) <= 4 else f"(?i:{body})")
    return re.compile(r"(?<![\w.])(?:" + "|".join(parts) + r")(?!\w)")


class ActorFinder:
    """Which gazetteer actors a text names, and how often."""

    def __init__(self, gazetteer: tuple[Actor, ...]):
        self.actors = gazetteer
        self.patterns = [(a, _mention_pattern(a)) for a in gazetteer]

    def mentions(self, text: str) -> list[tuple[int, str]]:
        """(offset, actor name) of every mention; where two overlap the longer wins, so "Indian Ocean"
        names the ocean and not India."""
        spans = sorted(((m.start(), m.end(), a.name) for a, p in self.patterns for m in p.finditer(text)),
                       key=lambda s: (s[0] - s[1], s[0]))
        taken: list[tuple[int, int]] = []
        kept = []
        for start, end, name in spans:
            if all(end <= s or start >= e for s, e in taken):
                taken.append((start, end))
                kept.append((start, name))
        return sorted(kept)

    def counts(self, text: str) -> Counter:
        return Counter(name for _, name in self.mentions(text))

    def named(self, text: str) -> list[str]:
        """Actor names in order of first mention."""
        return list(dict.fromkeys(name for _, name in self.mentions(text)))


# ---------------------------------------------------------------- indicators

def watchlist_indicators(section: Section | None, finder: ActorFinder) -> list[DraftIndicator]:
    out = []
    for line in section.lines if section else ():
        entry = WATCH_ENTRY.match(line)
        if entry:
            name, source = entry["name"].strip(), entry["source"].strip()
            out.append(DraftIndicator(slug(name), name, source, entry["meaning"].strip(),
                                      finder.named(f"{name}. {source}")))
    return out


def _clause(sentence: str, match: re.Match) -> str:
    """The condition a tripwire sentence sets: the words before its window, without a leading 'If'."""
    head = sentence[:match.start()].strip(" ,;")
    head = re.sub(r"^(?:if|when|should)\s+", "", head, flags=re.I)
    return (head[:1].upper() + head[1:]) if head else sentence


def sentence_indicators(sections: list[Section], finder: ActorFinder, brief_name: str) -> list[DraftIndicator]:
    """Tripwires (a sentence with a dated window) and watch sentences, from every section but the watchlist."""
    out = []
    for section in sections:
        if section.heading.lower().startswith("watchlist"):
            continue
        where = f"brief {brief_name}" + (f", {section.heading}" if section.heading else ", opening")
        previous = ""
        for sentence in sentences(section.text()):
            window = WINDOW.search(sentence) or NEXT_WINDOW.search(sentence)
            if window:
                count = (window.groupdict().get("count") or "1").lower()
                days = (int(count) if count.isdigit() else NUMBER_WORDS[count]) * UNIT_DAYS[window["unit"].lower()]
                name = _clause(sentence, window)
                # "If this office is staffed ...": the sentence before says which office
                meaning = f"{previous} {sentence}" if REFERS_BACK.match(name) and previous else sentence
                out.append(DraftIndicator(f"tripwire-{days}d-{slug(name, 4)}", name, where, meaning,
                                          finder.named(meaning if meaning != sentence else name), deadline_days=days))
            elif WATCH.search(sentence):
                name = sentence[WATCH.search(sentence).start():].split(";")[0].rstrip(".")
                name = name[:1].upper() + name[1:]
                out.append(DraftIndicator(f"watch-{slug(WATCH.sub('', name), 4)}", name, where, sentence,
                                          finder.named(name)))
            previous = sentence
    return out


# ---------------------------------------------------------------- the draft

def draft_from_brief(text: str, brief_name: str, gazetteer: tuple[Actor, ...] | None = None) -> Draft:
    """Read a brief into a `Draft` (no TOML yet)."""
    finder = ActorFinder(gazetteer if gazetteer is not None else load_gazetteer())
    sections = split_sections(text)
    indicators = watchlist_indicators(_section(sections, "watchlist"), finder) + sentence_indicators(sections, finder, brief_name)
    seen: Counter = Counter()
    for ind in indicators:  # ids unique, in order
        seen[ind.id] += 1
        if seen[ind.id] > 1:
            ind.id = f"{ind.id}-{seen[ind.id]}"
    counts = finder.counts(text)
    actors = [a for a in finder.actors if a.name in counts]
    actors.sort(key=lambda a: (-counts[a.name], a.name))
    opening = sections[0].lines[0] if sections[0].lines else ""
    first_sentences = sentences(opening)[:1]
    return Draft(
        brief=brief_name,
        description=first_sentences[0] if first_sentences else "",
        cases=parse_cases(_section(sections, "scenario", "model")),
        indicators=indicators,
        actors=actors,
        relevance_actors=finder.named(opening),
    )


# The gate decides which articles the classifier reads at all, and a brief's opening paragraph names the countries
# most of the news names too (Pakistan, Pakistani or Islamabad: 1,827 of the 3,229 spnn_dawn_geo articles of
# 2026-02-15..04-14, the README's slice): the drafted gate is a suggestion the author confirms.
RELEVANCE_REVIEW = ("confirm the gate, then delete this item: drafted from the brief's opening paragraph; "
                    "a country named in most of the news keeps little out")


def _s(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def _list(values) -> str:
    return "[" + ", ".join(_s(v) for v in values) + "]"


def _todo(what: str) -> str:
    return _s(f"TODO: {what}")


def _case_lines(name: str, fields: dict) -> list[str]:
    if not fields:
        return ["[[cases]]", f"name = {_s(name)}",
                f"prior = {_todo('this case’s probability, a number; the three priors sum to 1')}",
                f"assumption = {_todo('the key assumption of this case')}",
                f"indicator = {_todo('its 12-month indicator')}",
                f"implication = {_todo('its structural implication')}",
                f"definition = {_todo('the case in one sentence, as a labeler applies it')}",
                f"signals = [{_todo('a typical development of this case, one plain sentence each')}]", ""]
    return ["[[cases]]", f"name = {_s(name)}", f"prior = {fields['prior']:g}",
            *(f"{key} = {_s(fields[key])}" if fields.get(key) else f"{key} = {_todo(f'the case’s {key}')}"
              for key in ("assumption", "indicator", "implication")),
            f"definition = {_todo('the case in one sentence, as a labeler applies it')}",
            f"signals = [{_todo('a typical development of this case, one plain sentence each')}]", ""]


def _indicator_lines(ind: DraftIndicator) -> list[str]:
    lines = ["[[indicators]]", f"id = {_s(ind.id)}", f"name = {_s(ind.name)}", f"source = {_s(ind.source)}",
             f"patterns = [{_todo('a regular expression an article sentence must match')}]"]
    if ind.actors:
        lines.append("actors = [" + ", ".join(_list([a]) for a in ind.actors) + "]  # each group must be named in the sentence")
    lines += [f"cases = [{_todo('the cases this indicator speaks for: base, accelerated, contraction')}]", "threshold = 1"]
    if ind.deadline_days is not None:
        lines += [f"start = {_todo('the day the window opens, YYYY-MM-DD (the brief’s date)')}",
                  f"deadline_days = {ind.deadline_days}"]
    return lines + [f"meaning = {_s(ind.meaning)}", ""]


def _actor_lines(actor: Actor) -> list[str]:
    return ["[[actors]]", f"name = {_s(actor.name)}", f"kind = {_s(actor.kind)}", f"code = {_s(actor.code)}",
            f"aliases = {_list(actor.aliases)}", ""]


def render_toml(draft: Draft, scenario_id: str) -> str:
    """The pack as TOML: one value a line, fixed order, so an analyst's edits diff cleanly."""
    lines = [f"# Scenario pack drafted by `signals scenario init` from {draft.brief}.",
             "# Values still to write are marked; fill them in, then `signals scenario check` this folder.",
             "# The format is in labels/README.md.", "",
             "[scenario]", f"id = {_s(scenario_id)}", f"title = {_todo('a short title for the scenario')}",
             f"description = {_s(draft.description) if draft.description else _todo('what the scenario is about')}",
             f"seeds = {_list([draft.brief])}",
             "# the relevance gate: an article naming none of these actors skips the parser and the classifier (it is none)",
             f"relevance_actors = {_list(draft.relevance_actors + [f'TODO: {RELEVANCE_REVIEW}'])}" if draft.relevance_actors
             else f"relevance_actors = [{_todo('the actors an article must name to matter')}]", ""]
    if not draft.cases:
        lines += ["# The brief has no Scenario Modeling section: the cases are to be written.", ""]
    for name in CASES:
        lines += _case_lines(name, draft.cases.get(name, {}))
    for ind in draft.indicators:
        lines += _indicator_lines(ind)
    lines += ["# Actors the brief names, from the general gazetteer (most mentioned first)."]
    for actor in draft.actors:
        lines += _actor_lines(actor)
    return "\n".join(lines).rstrip("\n") + "\n"


def init_pack(brief_path: Path, scenario_id: str) -> str:
    """The drafted pack's TOML for a brief file (read by `read_utf8`: a BOM is not part of the description, and a
    brief that is not UTF-8 is refused naming the file and line)."""
    brief_path = Path(brief_path)
    return render_toml(draft_from_brief(read_utf8(brief_path), brief_path.name), scenario_id)
