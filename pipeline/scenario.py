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


def _need(table: dict, key: str, where: str, path: Path):
    if key not in table:
        raise ScenarioError(f"{path}: {where} is missing the field '{key}'")
    return table[key]


def load_scenario(path: Path) -> Scenario:
    """Read a pack from a `scenario.toml` file or the folder holding one."""
    path = Path(path)
    if path.is_dir():
        path = path / "scenario.toml"
    if not path.exists():
        raise ScenarioError(f"{path}: no scenario pack here; see labels/README.md for the format")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    head = _need(raw, "scenario", "the file", path)
    cases = tuple(
        Case(
            name=_need(c, "name", f"case #{i + 1}", path),
            prior=float(_need(c, "prior", f"case #{i + 1}", path)),
            assumption=c.get("assumption", ""),
            indicator=c.get("indicator", ""),
            implication=c.get("implication", ""),
            definition=c.get("definition", ""),
            signals=tuple(c.get("signals", ())),
        )
        for i, c in enumerate(_need(raw, "cases", "the file", path))
    )
    names = [c.name for c in cases]
    if sorted(names) != sorted(CASES):
        raise ScenarioError(f"{path}: cases must be exactly {', '.join(CASES)}; found {', '.join(names)}")
    total = sum(c.prior for c in cases)
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(f"{path}: case priors must sum to 1, they sum to {total:g}")
    actors = tuple(
        Actor(
            name=_need(a, "name", f"actor #{i + 1}", path),
            kind=_need(a, "kind", f"actor #{i + 1}", path),
            code=a.get("code", ""),
            aliases=tuple(a.get("aliases", ())),
        )
        for i, a in enumerate(raw.get("actors", ()))
    )
    indicators = tuple(_indicator(t, i, path, actors) for i, t in enumerate(raw.get("indicators", ())))
    known = {a.name for a in actors}
    relevance = tuple(head.get("relevance_actors", ()))
    unknown = [name for name in relevance if name not in known]
    if unknown:
        raise ScenarioError(f"{path}: relevance_actors names unknown actors: {', '.join(unknown)}")
    return Scenario(
        id=_need(head, "id", "[scenario]", path),
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


def _required_actors(table: dict, where: str, path: Path, actors: tuple[Actor, ...]) -> tuple[tuple[tuple[str, ...], ...], tuple[re.Pattern, ...]]:
    by_name = {a.name: a for a in actors}
    groups = tuple(tuple(g) for g in table.get("actors", ()))
    unknown = [name for group in groups for name in group if name not in by_name]
    if unknown:
        raise ScenarioError(f"{path}: {where} requires unknown actors: {', '.join(unknown)}")
    patterns = tuple(alias_pattern([alias for name in group for alias in (name, *by_name[name].aliases)]) for group in groups)
    return groups, patterns


def _indicator(table: dict, i: int, path: Path, actors: tuple[Actor, ...] = ()) -> Indicator:
    where = f"indicator #{i + 1}"
    cases = tuple(_need(table, "cases", where, path))
    bad = [c for c in cases if c not in CASES]
    if bad:
        raise ScenarioError(f"{path}: {where} names unknown cases: {', '.join(bad)}")
    try:
        patterns = tuple(re.compile(p, re.I) for p in _need(table, "patterns", where, path))
    except re.error as exc:
        raise ScenarioError(f"{path}: {where} has a bad pattern: {exc}") from None
    start = table.get("start")
    groups, requires = _required_actors(table, where, path, actors)
    return Indicator(
        id=_need(table, "id", where, path),
        name=_need(table, "name", where, path),
        patterns=patterns,
        cases=cases,
        threshold=int(table.get("threshold", 1)),
        start=date.fromisoformat(str(start)) if start else None,
        deadline_days=table.get("deadline_days"),
        source=table.get("source", ""),
        meaning=table.get("meaning", ""),
        actors=groups,
        requires=requires,
    )
