"""Scenario packs: cases, priors, watchlist indicators and actors, read from TOML.

A pack lives in `labels/<scenario-id>/scenario.toml` (format in labels/README.md).
`load_scenario(path)` returns a `Scenario` or raises `ScenarioError` naming the
file and the field that is wrong.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .errors import ScenarioError
from .records import CASES


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


def _refuse(path: Path, reason: str, at: tuple | None = None) -> ScenarioError:
    """The error for a refused pack: 'path: reason', located at (table, index, key) for `pack_problems`."""
    return ScenarioError(f"{path}: {reason}", reason=reason, at=at)


# Every key a pack may hold (labels/README.md): any other is a misspelling, refused rather than silently ignored.
KNOWN_KEYS = {
    "the file": {"scenario", "cases", "indicators", "actors"},
    "[scenario]": {"id", "title", "description", "seeds", "relevance_actors"},
    "case": {"name", "prior", "assumption", "indicator", "implication", "definition", "signals"},
    "indicator": {"id", "name", "patterns", "cases", "threshold", "start", "deadline_days", "source", "meaning", "actors"},
    "actor": {"name", "kind", "code", "aliases"},
}


def _known_keys(table: dict, kind: str, where: str, path: Path, at: tuple | None = None) -> dict:
    """`table`, once every key in it is one a pack may hold (`KNOWN_KEYS[kind]`)."""
    unknown = sorted(set(table) - KNOWN_KEYS[kind])
    if unknown:
        raise _refuse(path, f"{where} has unknown field(s) {', '.join(map(repr, unknown))}; "
                            f"expected some of {', '.join(sorted(KNOWN_KEYS[kind]))}", at)
    return table


def _need(table: dict, key: str, where: str, path: Path, at: tuple | None = None):
    if key not in table:
        raise _refuse(path, f"{where} is missing the field '{key}'", at)
    return table[key]


def load_scenario(path: Path) -> Scenario:
    """Read a pack from a `scenario.toml` file or the folder holding one."""
    path = Path(path)
    if path.is_dir():
        path = path / "scenario.toml"
    if not path.exists():
        raise ScenarioError(f"{path}: no scenario pack here; see labels/README.md for the format")
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _refuse(path, f"not valid TOML: {exc}") from None
    todos = todo_lines(text)
    if todos:
        line, content = todos[0]
        raise _refuse(path, f"line {line} still has a TODO ({content}); a drafted pack is used only once every "
                            f"TODO is filled in (run 'signals scenario check {path.parent}')")
    _known_keys(raw, "the file", "the file", path)
    head = _known_keys(_need(raw, "scenario", "the file", path), "[scenario]", "[scenario]", path, ("scenario", None, None))
    for kind, table in (("case", "cases"), ("indicator", "indicators"), ("actor", "actors")):
        for i, entry in enumerate(raw.get(table, ())):
            _known_keys(entry, kind, f"{kind} #{i + 1}", path, (table, i, None))
    cases = tuple(
        Case(
            name=_need(c, "name", f"case #{i + 1}", path, ("cases", i, None)),
            prior=_number(_need(c, "prior", f"case #{i + 1}", path, ("cases", i, None)), f"case #{i + 1}'s prior", path,
                          ("cases", i, "prior")),
            assumption=c.get("assumption", ""),
            indicator=c.get("indicator", ""),
            implication=c.get("implication", ""),
            definition=c.get("definition", ""),
            signals=tuple(c.get("signals", ())),
        )
        for i, c in enumerate(_need(raw, "cases", "the file", path))
    )
    names = [c.name for c in cases]
    for i, case in enumerate(cases):
        if not 0 <= case.prior <= 1:
            raise _refuse(path, f"case {case.name!r} has prior {case.prior:g}; a prior lies between 0 and 1", ("cases", i, "prior"))
    if sorted(names) != sorted(CASES):
        raise _refuse(path, f"cases must be exactly {', '.join(CASES)}; found {', '.join(names)}", ("cases", 0, "name"))
    total = sum(c.prior for c in cases)
    if abs(total - 1.0) > 1e-6:
        raise _refuse(path, f"case priors must sum to 1, they sum to {total:g}", ("cases", 0, "prior"))
    actors = tuple(
        Actor(
            name=_need(a, "name", f"actor #{i + 1}", path, ("actors", i, None)),
            kind=_need(a, "kind", f"actor #{i + 1}", path, ("actors", i, None)),
            code=a.get("code", ""),
            aliases=tuple(a.get("aliases", ())),
        )
        for i, a in enumerate(raw.get("actors", ()))
    )
    indicators = tuple(_indicator(t, i, path, actors) for i, t in enumerate(raw.get("indicators", ())))
    ids = [ind.id for ind in indicators]
    for i, ind in enumerate(indicators):
        if ids.index(ind.id) != i:
            raise _refuse(path, f"indicator #{i + 1} repeats the id {ind.id!r} of indicator #{ids.index(ind.id) + 1}",
                          ("indicators", i, "id"))
    known = {a.name for a in actors}
    relevance = tuple(head.get("relevance_actors", ()))
    unknown = [name for name in relevance if name not in known]
    if unknown:
        raise _refuse(path, f"relevance_actors names unknown actors: {', '.join(unknown)}",
                      ("scenario", None, "relevance_actors"))
    return Scenario(
        id=_need(head, "id", "[scenario]", path, ("scenario", None, None)),
        title=head.get("title", ""),
        description=head.get("description", "").strip(),
        cases=cases,
        actors=actors,
        indicators=indicators,
        relevance_actors=relevance,
        folder=path.parent,
    )


def alias_pattern(aliases: list[str]) -> re.Pattern:
    """One word-bounded pattern for a set of aliases: short all-capital ones ("US", "IMF") match only
    in capitals, so the pronoun "us" is not the United States; the others match in any case."""
    parts = []
    for alias in sorted(set(aliases), key=len, reverse=True):
        body = re.escape(alias).replace(r"\ ", r"\s+")
        parts.append(body if alias.isupper() and len(alias.replace(".", "")) <= 4 else f"(?i:{body})")
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])")


def _required_actors(table: dict, where: str, path: Path, actors: tuple[Actor, ...],
                     at: tuple) -> tuple[tuple[tuple[str, ...], ...], tuple[re.Pattern, ...]]:
    by_name = {a.name: a for a in actors}
    groups = tuple(tuple(g) for g in table.get("actors", ()))
    unknown = [name for group in groups for name in group if name not in by_name]
    if unknown:
        raise _refuse(path, f"{where} requires unknown actors: {', '.join(unknown)}", at)
    patterns = tuple(alias_pattern([alias for name in group for alias in (name, *by_name[name].aliases)]) for group in groups)
    return groups, patterns


def _indicator(table: dict, i: int, path: Path, actors: tuple[Actor, ...] = ()) -> Indicator:
    where = f"indicator #{i + 1}"
    cases = tuple(_need(table, "cases", where, path, ("indicators", i, None)))
    bad = [c for c in cases if c not in CASES]
    if bad:
        raise _refuse(path, f"{where} names unknown cases: {', '.join(bad)}", ("indicators", i, "cases"))
    try:
        patterns = tuple(re.compile(p, re.I) for p in _need(table, "patterns", where, path, ("indicators", i, None)))
    except re.error as exc:
        raise _refuse(path, f"{where} has a bad pattern: {exc}", ("indicators", i, "patterns")) from None
    start = table.get("start")
    try:
        start = date.fromisoformat(str(start)) if start else None
    except ValueError:
        raise _refuse(path, f"{where} has start {start!r}; expected a date YYYY-MM-DD", ("indicators", i, "start")) from None
    groups, requires = _required_actors(table, where, path, actors, ("indicators", i, "actors"))
    threshold = _whole(table.get("threshold", 1), f"{where}'s threshold (articles in a day)", path, ("indicators", i, "threshold"))
    deadline = table.get("deadline_days")
    if deadline is not None:
        deadline = _whole(deadline, f"{where}'s deadline_days", path, ("indicators", i, "deadline_days"))
        if start is None:
            raise _refuse(path, f"{where} has deadline_days but no start; a deadline counts from its start day",
                          ("indicators", i, "deadline_days"))
    return Indicator(
        id=_need(table, "id", where, path, ("indicators", i, None)),
        name=_need(table, "name", where, path, ("indicators", i, None)),
        patterns=patterns,
        cases=cases,
        threshold=threshold,
        start=start,
        deadline_days=deadline,
        source=table.get("source", ""),
        meaning=table.get("meaning", ""),
        actors=groups,
        requires=requires,
    )


def _whole(value, what: str, path: Path, at: tuple) -> int:
    """A whole number of at least 1 (TOML gives it as an int), or the pack is refused."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _refuse(path, f"{what} is {value!r}; expected a whole number of at least 1", at)
    return value


def _number(value, what: str, path: Path, at: tuple) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _refuse(path, f"{what} is {value!r}; expected a number such as 0.3", at) from None


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


def pack_problems(path: Path) -> list[str]:
    """Everything `signals scenario check` reports, one 'file:line: reason' string per problem: a TOML
    syntax error, else every TODO left, else the first schema error the loader finds. Empty: the pack is usable."""
    path = Path(path)
    file = path / "scenario.toml" if path.is_dir() else path
    if not file.exists():
        return [f"{file}: no scenario pack here; see labels/README.md for the format"]
    text = file.read_text(encoding="utf-8")
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = TOML_POSITION.search(str(exc))
        return [f"{file}:{line.group(1) if line else '?'}: not valid TOML: {TOML_POSITION.sub('', str(exc))}"]
    todos = todo_lines(text)
    if todos:
        return [f"{file}:{n}: TODO left: {content}" for n, content in todos]
    try:
        load_scenario(file)
    except ScenarioError as exc:
        line = locate(text, exc.at)
        return [f"{file}:{line}: {exc.reason}" if line else str(exc)]
    return []
