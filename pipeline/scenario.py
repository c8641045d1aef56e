"""Scenario packs: cases, priors, watchlist indicators and actors, read from TOML.

A pack lives in `labels/<scenario-id>/scenario.toml` (format in labels/README.md).
`load_scenario(path)` returns a `Scenario` or raises `ScenarioError` naming the
file and the field that is wrong.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .errors import InputError, ScenarioError
from .records import CASES, Article, GateCount
from .settings import read_utf8


PROBES = Path("probes") / "probes.jsonl"  # a pack's probe suite, in its folder


@dataclass(frozen=True)
class Case:
    name: str
    prior: float
    assumption: str = ""
    indicator: str = ""
    implication: str = ""
    definition: str = ""
    signals: tuple[str, ...] = ()

    def prototypes(self) -> list[str]:
        """The case's meaning as sentences: its definition, assumption, indicator and typical signals."""
        return [t for t in (self.definition, self.assumption, self.indicator, *self.signals) if t.strip()]


@dataclass(frozen=True)
class Actor:
    name: str
    kind: str
    code: str = ""
    aliases: tuple[str, ...] = ()

    def surface_forms(self) -> list[str]:
        return sorted({self.name, *self.aliases})


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    patterns: tuple[re.Pattern, ...]
    cases: tuple[str, ...]
    threshold: int = 1
    start: date | None = None
    deadline_days: int | None = None
    source: str = ""
    meaning: str = ""
    # `actors`: groups of scenario actor names; a match counts only in a sentence that mentions at
    # least one actor of every group (e.g. [["State Department", "Marco Rubio"], ["Pakistan"]]).
    actors: tuple[tuple[str, ...], ...] = ()
    requires: tuple[re.Pattern, ...] = ()  # one compiled alias pattern per group, built at load


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    description: str
    cases: tuple[Case, ...]
    actors: tuple[Actor, ...]
    indicators: tuple[Indicator, ...] = ()
    relevance_actors: tuple[str, ...] = ()
    folder: Path = field(default=Path("."))

    @property
    def priors(self) -> dict[str, float]:
        return {c.name: c.prior for c in self.cases}

    def prototypes(self) -> dict[str, list[str]]:
        """Each case's prototype texts (see `Case.prototypes`)."""
        return {c.name: c.prototypes() for c in self.cases}

    @property
    def labels_dir(self) -> Path:
        return self.folder / "labels"

    @property
    def probes_file(self) -> Path:
        """The pack's probe suite (it may have none): written articles with their labels, never trained on."""
        return self.folder / PROBES

    def probe_signals(self) -> dict[str, tuple[str, str]]:
        """The pack's probe suite (`probes/probes.jsonl`) as {id: (label, the typical signal or rule it shows)}; {}
        without one. Lines that do not read are left out: `signals train` checks the suite, this only names misses."""
        path = self.probes_file
        out: dict[str, tuple[str, str]] = {}
        if not path.is_file():
            return out
        for line in path.read_text(encoding="utf-8-sig", errors="replace").splitlines():
            try:
                row = json.loads(line)
                out[str(row["id"])] = (str(row["label"]), str(row.get("rule") or ""))
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def gate_count(self, scored: int = 0, passed: int = 0) -> GateCount:
        """Articles scored for this pack and how many passed its relevance gate, with what the gate is."""
        return GateCount(self.id, tuple(self.relevance_actors), str(self.folder / "scenario.toml"), scored, passed)


class Relevance:
    """A pack's relevance gate, a cheap test with no parsing: does an article mention one of its core actors
    (`relevance_actors`)? Here rather than in `nlp`, so that the read commands can ask it without loading spaCy."""

    def __init__(self, scenario: Scenario):
        wanted = set(scenario.relevance_actors)
        forms = [f for a in scenario.actors if a.name in wanted for f in a.surface_forms()]
        forms.sort(key=len, reverse=True)
        self.pattern = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in forms) + r")\b", re.I) if forms else None

    def __call__(self, article: Article) -> bool:
        return bool(self.pattern and self.pattern.search(article.body()))


def _shown(text: str) -> str:
    """A name for a message, in quotes, with each character a reader could not see or could take for another
    (not plain printable ASCII: a zero-width space, a bidi mark, a no-break space, a Cyrillic 'а', a combining
    accent) written as an escape and named: 'b\\u0430se' (U+0430 CYRILLIC SMALL LETTER A). A name with a hidden
    character then never reads like the right one."""
    odd = [ch for ch in dict.fromkeys(text) if not (ch.isascii() and ch.isprintable())]
    if not odd:
        return repr(text)
    named = ", ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}" for ch in odd)
    return f"{ascii(text)} ({named})"


def _refuse(path: Path, reason: str, at: tuple | None = None) -> ScenarioError:
    """The error for a refused pack: 'path: reason', located at (table, index, key) for `pack_problems`."""
    return ScenarioError(f"{path}: {reason}", reason=reason, at=at)


class _Problems:
    """What is wrong with one pack, in the order the reader finds it: each a located `ScenarioError`."""

    def __init__(self, path: Path):
        self.path, self.found = path, []

    def add(self, reason: str, at: tuple | None = None) -> None:
        self.found.append(_refuse(self.path, reason, at))


# Every key a pack may hold (labels/README.md): any other is a misspelling, refused rather than silently ignored.
KNOWN_KEYS = {
    "the file": {"scenario", "cases", "indicators", "actors"},
    "[scenario]": {"id", "title", "description", "seeds", "relevance_actors"},
    "case": {"name", "prior", "assumption", "indicator", "implication", "definition", "signals"},
    "indicator": {"id", "name", "patterns", "cases", "threshold", "start", "deadline_days", "source", "meaning", "actors"},
    "actor": {"name", "kind", "code", "aliases"},
}


def _known_keys(table: dict, kind: str, where: str, problems: _Problems, at: tuple | None = None) -> None:
    """Every key in `table` is one a pack may hold (`KNOWN_KEYS[kind]`)."""
    unknown = sorted(set(table) - KNOWN_KEYS[kind])
    if unknown:
        problems.add(f"{where} has unknown field(s) {', '.join(map(repr, unknown))}; "
                     f"expected some of {', '.join(sorted(KNOWN_KEYS[kind]))}", at)


MISSING = object()


def _need(table: dict, key: str, where: str, problems: _Problems, at: tuple | None = None):
    """table[key], or MISSING (and a problem) when the field is left out."""
    if key not in table:
        problems.add(f"{where} is missing the field '{key}'", at)
        return MISSING
    return table[key]


def _text(value, what: str, problems: _Problems, at: tuple | None, required: bool = False) -> str:
    """A text field: a string (not empty when `required`); otherwise a problem, and ''."""
    if not isinstance(value, str):
        problems.add(f"{what} is {value!r}; expected a text in quotes", at)
        return ""
    if required and not value.strip():
        problems.add(f"{what} is empty", at)
    return value


def _texts(value, what: str, problems: _Problems, at: tuple | None, empty: str | None = None,
           blank: str = "holds an empty text") -> tuple[str, ...]:
    """A list of texts, none of them empty (`blank` says why); `empty` (when given) is the problem with an empty list. A bare text
    is a problem, not a list of its letters (aliases = "Qatar" would have matched the word "a")."""
    if isinstance(value, str):
        problems.add(f"{what} must be a list of texts, e.g. [{value!r}]; a bare text would be read letter by letter", at)
        return ()
    if not isinstance(value, list):
        problems.add(f"{what} is {value!r}; expected a list of texts, e.g. ['one', 'another']", at)
        return ()
    if not value and empty:
        problems.add(f"{what} is empty; {empty}", at)
    for item in value:
        if not isinstance(item, str):
            problems.add(f"{what} holds {item!r}; expected texts in quotes", at)
            return ()
    if any(not item.strip() for item in value):
        problems.add(f"{what} {blank}", at)
    return tuple(item for item in value if item.strip())


# The actor kinds the parser knows (`nlp.KIND_TO_LABEL`, which maps each to a spaCy entity label).
ACTOR_KINDS = ("state", "place", "leader", "ministry", "armed_force", "organisation", "militant_group", "project")


def id_problem(scenario_id: str) -> str | None:
    """Why `scenario_id` cannot be a new pack's id, or None. A pack is found by its folder and its id must be that
    folder's name (`_read`), so the id is one plain folder name: `--id ../evil` had drafted a pack outside `--out`,
    and `--id "Pak Afghan/x"` failed on a folder that did not exist. A leading dot is refused too: a hidden folder."""
    if not scenario_id.strip():
        return "it is empty"
    separator = next((ch for ch in ("/", "\\") if ch in scenario_id), None)
    if separator:
        return f"it holds the path separator {separator!r}"
    if scenario_id.startswith("."):
        return "it starts with '.' (a hidden folder, or a step up like '..')"
    if scenario_id != scenario_id.strip():
        return "it starts or ends with a space"
    if not scenario_id.isprintable():
        return "it holds a character that is not printable (shown escaped)"
    return None


def _pack_file(path: Path) -> Path:
    path = Path(path)
    return path / "scenario.toml" if path.is_dir() else path


def _pack_text(file: Path) -> str:
    """The text of a pack's scenario.toml (`read_utf8`: a BOM dropped); one that is not UTF-8 is refused as
    'file:line: not UTF-8 text ...', the line `signals scenario check` prints too."""
    try:
        return read_utf8(file)
    except InputError as exc:
        raise ScenarioError(str(exc), reason=exc.reason) from None


def load_scenario(path: Path) -> Scenario:
    """Read a pack from a `scenario.toml` file or the folder holding one. A pack with anything wrong is
    refused with its first problem (and how many more `signals scenario check` lists)."""
    path = _pack_file(path)
    if not path.exists():
        raise ScenarioError(f"{path}: no scenario pack here; see labels/README.md for the format")
    text = _pack_text(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _refuse(path, f"not valid TOML: {exc}") from None
    todos = todo_lines(text)
    if todos:
        line, content = todos[0]
        raise _refuse(path, f"line {line} still has a TODO ({content}); a drafted pack is used only once every "
                            f"TODO is filled in (run 'signals scenario check {path.parent}')")
    pack, found = _read(raw, path)
    if found:
        first = _in_line_order(text, found)[0][1]
        if len(found) == 1:
            raise first
        raise ScenarioError(f"{first} ({len(found) - 1} more problem(s): run 'signals scenario check {path.parent}')",
                            reason=first.reason, at=first.at)
    return pack


def _tables(raw: dict, key: str, problems: _Problems) -> list[dict]:
    """The [[key]] tables of the file (none when it has none)."""
    tables = raw.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        problems.add(f"'{key}' must be a list of [[{key}]] tables, each with its fields below its header")
        return []
    return tables


# `Relevance` passes an article naming one of these actors; with none it passes nothing, ever (unlike a gate the news
# has not named yet, which `signals.gate_note` reports), so an empty or missing list is refused like an empty pattern list.
NO_GATE = ("name the actors (declared in [[actors]]) an article must mention to be classified: with none, no article "
           "passes the relevance gate and every one is `none`")


def _read(raw: dict, path: Path) -> tuple[Scenario | None, list[ScenarioError]]:
    """The pack in `raw` (read from `path`) and every problem found in it; the pack is None when any is."""
    problems = _Problems(path)
    _known_keys(raw, "the file", "the file", problems)
    head = _need(raw, "scenario", "the file", problems)
    has_head = isinstance(head, dict)
    if has_head:
        _known_keys(head, "[scenario]", "[scenario]", problems, ("scenario", None, None))
    elif head is not MISSING:
        problems.add("'scenario' must be a [scenario] table with its fields below its header")
    head = head if has_head else {}
    tables = {key: _tables(raw, key, problems) for key in ("cases", "indicators", "actors")}
    for kind, table in (("case", "cases"), ("indicator", "indicators"), ("actor", "actors")):
        for i, entry in enumerate(tables[table]):
            _known_keys(entry, kind, f"{kind} #{i + 1}", problems, (table, i, None))
    _need(raw, "cases", "the file", problems)
    cases = _cases(tables["cases"], problems)
    actors = tuple(_actor(a, i, problems) for i, a in enumerate(tables["actors"]))
    indicators = tuple(_indicator(t, i, problems, actors) for i, t in enumerate(tables["indicators"]))
    ids = [ind.id for ind in indicators]
    for i, ind in enumerate(indicators):
        if ind.id and ids.index(ind.id) != i:
            problems.add(f"indicator #{i + 1} repeats the id {ind.id!r} of indicator #{ids.index(ind.id) + 1}",
                         ("indicators", i, "id"))
    _unique_forms(actors, problems)
    known = {a.name for a in actors}
    relevance: tuple[str, ...] = ()
    if "relevance_actors" in head:
        relevance = _texts(head["relevance_actors"], "relevance_actors", problems, ("scenario", None, "relevance_actors"),
                           empty=NO_GATE)
    elif has_head:
        problems.add(f"[scenario] has no relevance_actors; {NO_GATE}", ("scenario", None, None))
    _texts(head.get("seeds", []), "seeds", problems, ("scenario", None, "seeds"))
    title = _text(head.get("title", ""), "title", problems, ("scenario", None, "title"))
    description = _text(head.get("description", ""), "description", problems, ("scenario", None, "description"))
    unknown = [name for name in relevance if name not in known]
    if unknown:
        problems.add(f"relevance_actors names unknown actors: {', '.join(map(_shown, unknown))}",
                     ("scenario", None, "relevance_actors"))
    scenario_id = _need(head, "id", "[scenario]", problems, ("scenario", None, None)) if has_head else MISSING
    if scenario_id is not MISSING:
        scenario_id = _text(scenario_id, "[scenario] id", problems, ("scenario", None, "id"), required=True)
    folder = path.absolute().parent.name  # the folder as named, not where a link points: packs are found by it
    if scenario_id is not MISSING and scenario_id != folder:
        # Settings, --scenario and the read commands find a pack by its folder; its signals are stored under its id.
        problems.add(f"id {_shown(scenario_id)} is not the folder's name {_shown(folder)}; a pack is found by its folder and "
                     "its signals are stored under its id, so they must be the same (rename one)",
                     ("scenario", None, "id"))
    if problems.found:
        return None, problems.found
    return Scenario(
        id=scenario_id,
        title=title,
        description=description.strip(),
        cases=cases,
        actors=actors,
        indicators=indicators,
        relevance_actors=relevance,
        folder=path.parent,
    ), []


def _cases(tables: list[dict], problems: _Problems) -> tuple[Case, ...]:
    """The cases, each field checked, then the three names and the priors as a whole."""
    cases, priors_known = [], True
    for i, c in enumerate(tables):
        where, at = f"case #{i + 1}", ("cases", i, None)
        name = _need(c, "name", where, problems, at)
        if name is not MISSING:
            name = _text(name, f"{where}'s name", problems, ("cases", i, "name"))
        prior = _need(c, "prior", where, problems, at)
        if prior is not MISSING:
            prior = _number(prior, f"{where}'s prior", problems, ("cases", i, "prior"))
        if prior is MISSING:
            priors_known = False
        elif not 0 <= prior <= 1:
            problems.add(f"case {name!r} has prior {prior:g}; a prior lies between 0 and 1", ("cases", i, "prior"))
        before = len(problems.found)
        texts = {key: _text(c.get(key, ""), f"{where}'s {key}", problems, ("cases", i, key))
                 for key in ("assumption", "indicator", "implication", "definition")}
        signals = _texts(c.get("signals", []), f"{where}'s signals", problems, ("cases", i, "signals"))
        case = Case(name=name if name is not MISSING else "", prior=prior if prior is not MISSING else 0.0,
                    signals=signals, **texts)
        if not case.prototypes() and len(problems.found) == before:
            problems.add(f"{where} ({case.name or 'unnamed'}) has no prototype text: give it a definition, assumption, "
                         "indicator or signals (zero-shot could never pick it, and training has no example of it)", at)
        cases.append(case)
    names = [c.name for c in cases]
    if tables and all(isinstance(c, dict) and "name" in c for c in tables) and sorted(names) != sorted(CASES):
        problems.add(f"cases must be exactly {', '.join(CASES)}; found {', '.join(map(_shown, names))}", ("cases", 0, "name"))
    total = sum(c.prior for c in cases)
    if tables and priors_known and abs(total - 1.0) > 1e-6:
        problems.add(f"case priors must sum to 1, they sum to {total:g}", ("cases", 0, "prior"))
    return tuple(cases)


def _actor(table: dict, i: int, problems: _Problems) -> Actor:
    where, at = f"actor #{i + 1}", ("actors", i, None)
    name = _need(table, "name", where, problems, at)
    name = "" if name is MISSING else _text(name, f"{where}'s name", problems, ("actors", i, "name"), required=True)
    kind = _need(table, "kind", where, problems, at)
    if kind is not MISSING and kind not in ACTOR_KINDS:
        shown = _shown(kind) if isinstance(kind, str) else repr(kind)
        problems.add(f"{where} ({name}) has unknown kind {shown}; use one of {', '.join(ACTOR_KINDS)}", ("actors", i, "kind"))
    return Actor(
        name=name,
        kind=kind if kind in ACTOR_KINDS else "",
        code=_text(table.get("code", ""), f"{where}'s code", problems, ("actors", i, "code")),
        aliases=_texts(table.get("aliases", []), f"{where}'s aliases", problems, ("actors", i, "aliases")),
    )


def _unique_forms(actors: tuple[Actor, ...], problems: _Problems) -> None:
    """Each name or alias (in any case) belongs to one actor: with two, which one a mention resolves to was undefined."""
    claimed: dict[str, tuple[int, Actor, str]] = {}
    for i, actor in enumerate(actors):
        mine: dict[str, tuple[str, str]] = {}
        for role, form in (("name", actor.name), *(("alias", alias) for alias in actor.aliases)):
            if form:
                mine.setdefault(form.lower(), (role, form))
        for key, (role, form) in mine.items():
            if key not in claimed:
                claimed[key] = (i, actor, role)
                continue
            j, other, other_role = claimed[key]
            if role == other_role == "name":
                reason = f"actor #{i + 1} repeats the name {form!r} of actor #{j + 1}; give each actor one [[actors]] entry"
            else:
                reason = (f"actor #{i + 1} ({actor.name}) has the {role} {form!r}, already the {other_role} of actor "
                          f"#{j + 1} ({other.name}); a name or alias belongs to one actor")
            problems.add(reason, ("actors", i, "name" if role == "name" else "aliases"))


def alias_pattern(aliases: list[str]) -> re.Pattern:
    """One word-bounded pattern for a set of aliases: short all-capital ones ("US", "IMF") match only
    in capitals, so the pronoun "us" is not the United States; the others match in any case."""
    parts = []
    for alias in sorted(set(aliases), key=len, reverse=True):
        body = re.escape(alias).replace(r"\ ", r"\s+")
        parts.append(body if alias.isupper() and len(alias.replace(".", "")) <= 4 else f"(?i:{body})")
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])")


def _required_actors(table: dict, where: str, problems: _Problems, actors: tuple[Actor, ...],
                     at: tuple) -> tuple[tuple[tuple[str, ...], ...], tuple[re.Pattern, ...]]:
    by_name = {a.name: a for a in actors}
    given = table.get("actors", [])
    if not isinstance(given, list) or not all(isinstance(g, list) and g and all(isinstance(n, str) for n in g)
                                              for g in given):
        names = [n for n in given if isinstance(n, str)] if isinstance(given, list) else []
        a, b = (names + [n for n in ("Pakistan", "Iran") if n not in names])[:2]  # the names given, if flat
        problems.add(f"{where}'s actors must be a list of groups of actor names, e.g. [[{a!r}, {b!r}]] (either of "
                     f"them in the sentence) or [[{a!r}], [{b!r}]] (both)", at)
        return (), ()
    groups = tuple(tuple(g) for g in given)
    unknown = [name for group in groups for name in group if name not in by_name]
    if unknown:
        problems.add(f"{where} requires unknown actors: {', '.join(map(_shown, unknown))}", at)
        return (), ()
    patterns = tuple(alias_pattern([alias for name in group for alias in (name, *by_name[name].aliases)]) for group in groups)
    return groups, patterns


def _indicator(table: dict, i: int, problems: _Problems, actors: tuple[Actor, ...] = ()) -> Indicator:
    where, at = f"indicator #{i + 1}", ("indicators", i, None)
    cases = _need(table, "cases", where, problems, at)
    cases = () if cases is MISSING else _texts(cases, f"{where}'s cases", problems, ("indicators", i, "cases"),
                                               empty="name the cases a firing speaks for, or it can never fire")
    bad = [c for c in cases if c not in CASES]
    if bad:
        problems.add(f"{where} names unknown cases: {', '.join(map(_shown, bad))}", ("indicators", i, "cases"))
    patterns, given = [], _need(table, "patterns", where, problems, at)
    if given is not MISSING:
        given = _texts(given, f"{where}'s patterns", problems, ("indicators", i, "patterns"),
                       empty="give at least one, or it can never fire",
                       blank="holds an empty pattern '', which matches every sentence")
    for p in (() if given is MISSING else given):
        try:
            patterns.append(re.compile(p, re.I))
        except re.error as exc:
            problems.add(f"{where} has a bad pattern: {exc}", ("indicators", i, "patterns"))
            continue
        if patterns[-1].search(""):
            problems.add(f"{where}'s pattern {p!r} matches an empty text, so it matches every sentence",
                         ("indicators", i, "patterns"))
    start = table.get("start")
    try:
        start = date.fromisoformat(str(start)) if start else None
    except ValueError:
        problems.add(f"{where} has start {start!r}; expected a date YYYY-MM-DD", ("indicators", i, "start"))
    groups, requires = _required_actors(table, where, problems, actors, ("indicators", i, "actors"))
    threshold = _whole(table.get("threshold", 1), f"{where}'s threshold (articles in a day)", problems,
                       ("indicators", i, "threshold"))
    deadline = table.get("deadline_days")
    if deadline is not None:
        deadline = _whole(deadline, f"{where}'s deadline_days", problems, ("indicators", i, "deadline_days"))
        if not table.get("start"):
            problems.add(f"{where} has deadline_days but no start; a deadline counts from its start day",
                         ("indicators", i, "deadline_days"))
    ind_id = _need(table, "id", where, problems, at)
    ind_id = "" if ind_id is MISSING else _text(ind_id, f"{where}'s id", problems, ("indicators", i, "id"), required=True)
    name = _need(table, "name", where, problems, at)
    name = "" if name is MISSING else _text(name, f"{where}'s name", problems, ("indicators", i, "name"), required=True)
    return Indicator(
        id=ind_id,
        name=name,
        patterns=tuple(patterns),
        cases=cases,
        threshold=threshold,
        start=start if isinstance(start, date) else None,
        deadline_days=deadline,
        source=_text(table.get("source", ""), f"{where}'s source", problems, ("indicators", i, "source")),
        meaning=_text(table.get("meaning", ""), f"{where}'s meaning", problems, ("indicators", i, "meaning")),
        actors=groups,
        requires=requires,
    )


def _whole(value, what: str, problems: _Problems, at: tuple) -> int:
    """A whole number of at least 1 (TOML gives it as an int); otherwise a problem, and 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.add(f"{what} is {value!r}; expected a whole number of at least 1", at)
        return 1
    return value


def _number(value, what: str, problems: _Problems, at: tuple):
    """The value as a float (TOML gives an int or a float); otherwise a problem, and MISSING."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.add(f"{what} is {value!r}; expected a number such as 0.3" + (" (without quotes)" if isinstance(value, str) else ""), at)
        return MISSING
    return float(value)


TODO = re.compile(r"\bTODO\b")


def todo_lines(text: str) -> list[tuple[int, str]]:
    """(line number, stripped line) of every line that still holds a TODO marker: what a drafted pack
    (`signals scenario init`) leaves for the analyst to fill in."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if TODO.search(line)]


TOML_POSITION = re.compile(r"\s*\(at line (\d+), column \d+\)")
TABLE_HEADER = re.compile(r"^\s*(\[\[?)\s*([\w.-]+)\s*\]\]?")


def locate(text: str, at: tuple | None) -> int | None:
    """The line of (table, index, key) in a pack's text: the key's line inside the index-th [[table]]
    (or the [table]), else the table's header line; None when it cannot be found."""
    if at is None:
        return None
    table, index, key = at
    seen, inside, header = -1, False, None
    for n, line in enumerate(text.splitlines(), start=1):
        match = TABLE_HEADER.match(line)
        if match:
            if inside:
                break
            if match.group(2) == table:
                seen += 1
                inside = index is None or seen == index
                header = n if inside else header
            continue
        if inside and key and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return n
    return header


def _in_line_order(text: str, found: list[ScenarioError]) -> list[tuple[int | None, ScenarioError]]:
    """Each problem with its line in `text`, by line (those without one last, in the order found)."""
    located = [(locate(text, exc.at), exc) for exc in found]
    return sorted(located, key=lambda pair: pair[0] if pair[0] is not None else float("inf"))


def pack_problems(path: Path) -> list[str]:
    """Everything `signals scenario check` reports, one 'file:line: reason' string per problem: a TOML
    syntax error, else every TODO left, then every schema error the loader finds (in line order; none on a
    line that still holds a TODO, which is what is wrong there); then the probe suite's first bad line, if it has
    one. Empty: the pack is usable."""
    file = _pack_file(path)
    if not file.exists():
        return [f"{file}: no scenario pack here; see labels/README.md for the format"]
    try:
        text = _pack_text(file)
    except ScenarioError as exc:
        return [str(exc)]
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = TOML_POSITION.search(str(exc))
        return [f"{file}:{line.group(1) if line else '?'}: not valid TOML: {TOML_POSITION.sub('', str(exc))}"]
    todos = todo_lines(text)
    problems = [f"{file}:{n}: TODO left: {content}" for n, content in todos]
    todo_at = {n for n, _ in todos}
    located = [(line, exc) for line, exc in _in_line_order(text, _read(raw, file)[1]) if line not in todo_at]
    return problems + [f"{file}:{line}: {exc.reason}" if line else str(exc) for line, exc in located] + \
        probe_problems(file.parent / PROBES)


def probe_problems(path: Path) -> list[str]:
    """The first bad line of a probe suite, read as `signals train` reads it (`files.written_articles`), as
    ['file:line: reason']; [] for a good suite or none. A label typed 'nonee' had passed `check` and stopped `train`."""
    from .files import written_articles  # here, not at the top: the read commands load packs without the feed reader

    try:
        written_articles(path)
    except InputError as exc:
        return [str(exc)]
    return []
